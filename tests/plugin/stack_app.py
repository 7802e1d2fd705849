"""The app of the full-stack end-to-end test: built from ``PYNENC__`` variables (which the
test and its worker processes share), with a workflow, a failing task, a retried task, a
concurrency-limited task and a cron-triggered one."""

import os
import time
from pathlib import Path

from pynenc import ConcurrencyControlType, Pynenc
from pynenc.trigger import TriggerBuilder

app = Pynenc()


class TransientError(Exception):
    """Raised by :func:`flaky` on its first attempt."""


@app.task
def square(x: int) -> int:
    return x * x


@app.task
def sum_of_squares(n: int) -> int:
    """A workflow: one sub-invocation per square."""
    return sum(square.parallelize([(i,) for i in range(n)]).results)


@app.task
def fail(reason: str) -> None:
    raise ValueError(reason)


@app.task(retry_for=(TransientError,), max_retries=2)
def flaky(marker: str) -> str:
    """Fails once (whichever worker runs it first), then succeeds on its retry."""
    path = Path(os.environ["STACK_TEST_DIR"]) / marker
    if not path.exists():
        path.touch()
        raise TransientError(marker)
    return "recovered"


@app.task(running_concurrency=ConcurrencyControlType.TASK, reroute_on_concurrency_control=True)
def limited(i: int) -> tuple[float, float]:
    """At most one runs at a time, whichever worker takes it: returns its start and end."""
    start = time.time()
    time.sleep(0.3)
    return start, time.time()


@app.task(triggers=TriggerBuilder().on_cron("* * * * *"))
def tick() -> float:
    return time.time()
