"""The one retry policy of pynenc-dynamodb: jittered exponential backoff over rounds.

Every request this package sends is safe to repeat (whole-item puts under deterministic
keys, reads, deletes, content-addressed uploads), so whatever fails transiently (DynamoDB
throttling, 5xx, dropped connections, unprocessed batch items, API Gateway's 429) goes
through :func:`retry` with a :class:`RetryPolicy`; only *what* is retryable differs.
"""

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How many rounds, and how long to wait between them.

    The wait before round ``n + 1`` is drawn uniformly from ``[0, min(max_delay,
    base_delay * 2**n)]`` ("full jitter"): many workers throttled at once spread out
    instead of retrying in lockstep.

    :param attempts: rounds in all, the first included; at least 1
    :param base_delay: seconds the backoff doubles from
    :param max_delay: seconds no single wait exceeds
    """

    attempts: int
    base_delay: float = 0.05
    max_delay: float = 5.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be >= 1, got {self.attempts}")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed round ``attempt`` (1-based)."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


def retry(
    send: Callable[[], T],
    policy: RetryPolicy,
    retryable: Callable[[Exception], bool],
    describe: str,
    *,
    on_retry: Callable[[Exception], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``send`` until it returns, retrying what ``retryable`` accepts.

    :param send: one round; returns the result or raises
    :param policy: rounds and backoff
    :param retryable: whether a raised error is worth another round
    :param describe: what is sent, for the log line of each retry
    :param on_retry: told of each error that is retried (e.g. to count it)
    :param sleep: waits between rounds; injectable for tests
    :raises Exception: what the last round raised, or the first error not retryable
    """
    for attempt in range(1, policy.attempts + 1):
        try:
            return send()
        except Exception as exc:
            if attempt == policy.attempts or not retryable(exc):
                raise
            if on_retry is not None:
                on_retry(exc)
            logger.warning(
                "%s failed (%s), round %d of %d: retrying",
                describe,
                # Our errors carry the AWS code or HTTP status; the rest their class.
                getattr(exc, "code", None) or type(exc).__name__,
                attempt,
                policy.attempts,
            )
            sleep(policy.delay(attempt))
    raise AssertionError("unreachable: the last round returns or raises")  # pragma: no cover
