"""The tasks of the first-task benchmark; settings come from ``PYNENC__...`` variables, so
the runner's worker processes rebuild the same app."""

import os
import time

from pynenc import Pynenc

app = Pynenc(app_id=os.environ.get("FIRST_TASK_APP_ID", "first-task"))


@app.task
def noop() -> None:
    """No work: its latency is what the runner and the state backend add."""


@app.task
def sleep_half() -> float:
    time.sleep(0.5)
    return 0.5
