"""The one retry policy: rounds, what is retried, and the jittered backoff between rounds."""

import pytest

from pynenc_dynamodb.aws.retry import RetryPolicy, retry


class Flaky:
    """Raises each of ``failures`` in turn, then returns ``"done"``."""

    def __init__(self, failures: list[Exception]) -> None:
        self.failures = list(failures)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


def transient(exc: Exception) -> bool:
    return isinstance(exc, TimeoutError)


def test_retries_what_is_retryable_until_success() -> None:
    send = Flaky([TimeoutError("1"), TimeoutError("2")])
    waits: list[float] = []
    retried: list[Exception] = []
    result = retry(
        send, RetryPolicy(5), transient, "op", on_retry=retried.append, sleep=waits.append
    )
    assert result == "done"
    assert send.calls == 3
    assert [str(e) for e in retried] == ["1", "2"]
    assert len(waits) == 2


def test_the_last_round_raises_its_own_error() -> None:
    send = Flaky([TimeoutError(str(n)) for n in range(10)])
    waits: list[float] = []
    with pytest.raises(TimeoutError, match=r"^3$"):
        retry(send, RetryPolicy(4), transient, "op", sleep=waits.append)
    assert send.calls == 4
    assert len(waits) == 3


def test_an_error_that_is_not_retryable_is_raised_at_once() -> None:
    send = Flaky([ValueError("bad input")])
    waits: list[float] = []
    with pytest.raises(ValueError, match="bad input"):
        retry(send, RetryPolicy(5), transient, "op", sleep=waits.append)
    assert send.calls == 1
    assert waits == []


def test_one_attempt_means_no_retry() -> None:
    send = Flaky([TimeoutError("once")])
    with pytest.raises(TimeoutError):
        retry(send, RetryPolicy(1), transient, "op", sleep=lambda _: None)
    assert send.calls == 1


def test_backoff_is_full_jitter_doubling_up_to_the_cap() -> None:
    policy = RetryPolicy(attempts=20, base_delay=0.05, max_delay=1.0)
    for attempt in range(1, 12):
        bound = min(1.0, 0.05 * 2**attempt)
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(0 <= d <= bound for d in delays)
        # Spread over the whole window, not a fixed wait.
        assert max(delays) > bound / 2
        assert min(delays) < bound / 2


def test_a_policy_needs_one_round_at_least() -> None:
    with pytest.raises(ValueError, match="attempts must be >= 1"):
        RetryPolicy(attempts=0)
