"""pynenc on AWS with no Redis: SQS broker, DynamoDB orchestrator, trigger and state, run
by three worker processes at once (``ProcessRunner``, ``PersistentProcessRunner`` and
``MultiThreadRunner``) on the embedded endpoint, then everything read back.

pynenc's Redis settings point at a port nothing listens on, while a Redis server does run
on these machines: a component that reached for Redis would fail the run.
"""

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pynenc.invocation import InvocationStatus

from pynenc_dynamodb.local.endpoint import DEFAULT_BUCKET, LocalEndpointProcess
from tests.conftest import TABLE, unique_app_id

ROOT = Path(__file__).resolve().parents[2]
RUNNERS = ("ProcessRunner", "PersistentProcessRunner", "MultiThreadRunner")
COMPONENTS = {
    "BROKER_CLS": "SQSBroker",
    "ORCHESTRATOR_CLS": "DynamoDBOrchestrator",
    "TRIGGER_CLS": "DynamoDBTrigger",
    "STATE_BACKEND_CLS": "DynamoDBStateBackend",
    "CLIENT_DATA_STORE_CLS": "DynamoDBClientDataStore",
}
# A cron slot is a minute: the first tick comes within two of the workers' start.
CRON_WAIT_SECONDS = 150


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def stack_env(
    endpoint: LocalEndpointProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    settings = {
        **COMPONENTS,
        "APP_ID": unique_app_id("stack"),
        "DYNAMODB_TABLE_NAME": TABLE,
        "DYNAMODB_ENDPOINT_URL": endpoint.url,
        "DYNAMODB_S3_BUCKET": DEFAULT_BUCKET,
        "SQS_CREATE_QUEUE": "True",
        "SQS_MESSAGE_GROUPS": "4",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": str(_closed_port()),
        "LOGGING_LEVEL": "warning",
        "RUNNER_LOOP_SLEEP_TIME_SEC": "0.05",
        "INVOCATION_WAIT_RESULTS_SLEEP_TIME_SEC": "0.05",
        "ATOMIC_SERVICE_INTERVAL_MINUTES": "0.05",
    }
    env = {f"PYNENC__{name}": value for name, value in settings.items()}
    env["STACK_TEST_DIR"] = str(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return {**os.environ, **env, "PYTHONPATH": str(ROOT)}


@pytest.fixture
def workers(stack_env: dict[str, str]) -> Iterator[list[subprocess.Popen[bytes]]]:
    """One worker process per runner class, all serving the same app."""
    processes = []
    for runner in RUNNERS:
        env = {**stack_env, "PYNENC__RUNNER_CLS": runner}
        code = "from tests.plugin.stack_app import app; app.runner.run()"
        processes.append(subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT))
    yield processes
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.e2e
def test_the_whole_stack_runs_on_aws_services_with_no_redis(
    stack_env: dict[str, str], workers: list[subprocess.Popen[bytes]]
) -> None:
    from tests.plugin import stack_app

    app = stack_app.app
    kinds = [app.broker, app.orchestrator, app.trigger, app.state_backend, app.client_data_store]
    names = [type(component).__name__ for component in kinds]
    assert names == [COMPONENTS[k] for k in COMPONENTS]
    assert not any("Redis" in name for name in names)

    workflow = stack_app.sum_of_squares(5)
    failing = stack_app.fail("boom")
    retried = stack_app.flaky("once")
    limited = [stack_app.limited(i) for i in range(4)]

    assert workflow.result == sum(i * i for i in range(5))
    with pytest.raises(ValueError, match="boom"):
        _ = failing.result
    assert retried.result == "recovered"
    spans = sorted(invocation.result for invocation in limited)
    # Concurrency control by task: no two runs of `limited` overlapped, on any worker.
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))

    # The cron trigger fires once per slot, however many runners race for it.
    deadline = time.time() + CRON_WAIT_SECONDS
    ticks: list[str] = []
    while time.time() < deadline and not ticks:
        ticks = list(app.orchestrator.get_task_invocation_ids(stack_app.tick.task_id))
        time.sleep(1)
    assert ticks, "the cron trigger never fired"
    time.sleep(3)  # a second claim of the same slot would have landed by now
    slots = [
        int(app.state_backend.get_history(tick)[0].timestamp.timestamp() // 60)
        for tick in app.orchestrator.get_task_invocation_ids(stack_app.tick.task_id)
    ]
    assert len(slots) == len(set(slots)), f"a cron slot fired twice: {slots}"

    # Read back from the table and the queue's side: statuses, history, results.
    orchestrator = app.orchestrator
    children = list(app.state_backend.get_child_invocations(workflow.invocation_id))
    assert len(children) == 5
    for invocation_id in [workflow.invocation_id, *children, retried.invocation_id]:
        assert orchestrator.get_invocation_status(invocation_id) == InvocationStatus.SUCCESS
    assert orchestrator.get_invocation_status(failing.invocation_id) == InvocationStatus.FAILED
    assert orchestrator.get_invocation_retries(retried.invocation_id) == 1
    history = [r.status_record.status for r in app.state_backend.get_history(retried.invocation_id)]
    assert InvocationStatus.RETRY in history
    assert history[-1] == InvocationStatus.SUCCESS
    runners = {
        r.runner_context_id
        for invocation in [workflow.invocation_id, *children, *(i.invocation_id for i in limited)]
        for r in app.state_backend.get_history(invocation)
    }
    assert len(runners) > 1
    for process in workers:
        assert process.poll() is None, "a worker died during the run"
