"""Two tasks that wait on each other: with pynenc's cycle control the caller must get a
``CycleDetectedError``. Settings come from ``PYNENC__...`` variables (``tests/cycle_run.py``)."""

import os

from pynenc import Pynenc

app = Pynenc(app_id=os.environ.get("E2E_APP_ID", "cycle-app"))


@app.task
def ping(n: int) -> int:
    return pong(n).result


@app.task
def pong(n: int) -> int:
    return ping(n).result
