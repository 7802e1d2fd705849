"""The app the end-to-end runs execute. Its settings come from ``PYNENC__...`` variables
set by ``tests/e2e_run.py``, so spawned worker processes rebuild the same app."""

import os
from pathlib import Path

from pynenc import Pynenc
from pynenc.exceptions import RetryError

# No `import pynenc_dynamodb` here on purpose: the installed autoload hook must be enough
# for spawned workers to find DynamoDBStateBackend by name.

app = Pynenc(app_id=os.environ.get("E2E_APP_ID", "e2e-app"))


@app.task
def square(x: int) -> int:
    return x * x


@app.task
def fail(message: str) -> None:
    raise ValueError(message)


@app.task(max_retries=2)
def flaky(name: str) -> str:
    """Fails once, then succeeds: the marker file survives across worker processes."""
    marker = Path(os.environ["E2E_MARKER_DIR"]) / name
    if not marker.exists():
        marker.touch()
        raise RetryError(f"first attempt of {name}")
    return f"{name} ok"


@app.task(force_new_workflow=True)
def pipeline(values: list[int]) -> int:
    wf = pipeline.wf
    wf.set_data("stage", "squaring")
    run_id = wf.uuid()
    total = sum(square.parallelize([(v,) for v in values]).results)
    wf.set_data("stage", "done")
    wf.set_data("run_id", run_id)
    return total
