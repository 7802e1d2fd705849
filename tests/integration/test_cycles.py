"""Cycle control on the process runners: a task that waits on a task that waits on it
fails its caller with pynenc's ``CycleDetectedError``, with our state backend as with
pynenc's ``RedisStateBackend`` (run beside it as the reference)."""

import json
import os
import signal
import subprocess
import sys
from typing import Any

import pytest

from pynenc_dynamodb.local.endpoint import LocalEndpointProcess, point_app_at
from tests.conftest import TABLE, unique_app_id
from tests.helpers.e2e_run import PROCESS_RUNNER_RACE, REDIS, ROOT

# The cycle holds three invocations at once (ping waits on pong, pong on the second
# ping, which is where the cycle is detected). These runners keep the slot of a waiting
# invocation, so with fewer than three slots (two on a 2-core machine) the second ping
# never starts and the run deadlocks, with any state backend.
SLOTS = {
    "ProcessRunner": {"PYNENC__MIN_PARALLEL_SLOTS": "3"},
    "PersistentProcessRunner": {"PYNENC__NUM_PROCESSES": "3"},
    "MultiThreadRunner": {},
}
BACKENDS = ["DynamoDBStateBackend", "RedisStateBackend"]
RUN_BOUND_SECONDS = 60


def cycle_env(runner: str, backend: str, url: str) -> dict[str, str]:
    state = (
        point_app_at(url, TABLE)
        if backend == "DynamoDBStateBackend"
        else {"PYNENC__STATE_BACKEND_CLS": backend}
    )
    return {
        **os.environ,
        **REDIS,
        **SLOTS[runner],
        **state,
        "PYNENC__RUNNER_CLS": runner,
        "PYNENC__LOGGING_LEVEL": "critical",
        "PYNENC__CYCLE_CONTROL": "true",
        "E2E_APP_ID": unique_app_id(f"cycle-{runner.lower()}"),
    }


def run_cycle(runner: str, backend: str, url: str) -> dict[str, Any]:
    """The outcome printed by ``tests.helpers.cycle_run``; the run is killed if it stalls."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.cycle_run", runner],
        cwd=ROOT,
        env=cycle_env(runner, backend, url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=RUN_BOUND_SECONDS)
    finally:
        if process.poll() is None:
            # The runner's workers are in the run's session: end them with it.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 0, err[-4000:]
    return dict(json.loads(out.strip().splitlines()[-1]))


@pytest.mark.e2e
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "runner",
    [
        pytest.param("ProcessRunner", marks=PROCESS_RUNNER_RACE),
        "PersistentProcessRunner",
        "MultiThreadRunner",
    ],
)
def test_cycle_fails_the_caller_with_cycle_detected_error(
    runner: str, backend: str, endpoint: LocalEndpointProcess
) -> None:
    outcome = run_cycle(runner, backend, endpoint.url)
    assert outcome.get("error") == "pynenc.exceptions.CycleDetectedError", outcome
    call_ids = outcome["call_ids"]
    assert isinstance(call_ids, list)
    tasks = sorted(call_id.split("#")[2] for call_id in call_ids)
    assert tasks == ["tests.helpers.cycle_app.ping", "tests.helpers.cycle_app.pong"], call_ids
