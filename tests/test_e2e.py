"""End to end: real pynenc runners (threads and processes) on moto's server over HTTP,
with pynenc's RedisBroker and RedisOrchestrator for the process runners."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pynenc import Pynenc
from pynenc.invocation.status import InvocationStatus

from pynenc_dynamodb.local import LocalEndpointProcess, point_app_at
from tests.conftest import TABLE, AppFactory, unique_app_id

ROOT = Path(__file__).resolve().parent.parent
REDIS = {
    "PYNENC__BROKER_CLS": "RedisBroker",
    "PYNENC__ORCHESTRATOR_CLS": "RedisOrchestrator",
    "PYNENC__REDIS_HOST": "127.0.0.1",
}
RUNNERS = {
    "ThreadRunner": {},
    "ProcessRunner": REDIS,
    "MultiThreadRunner": REDIS,
    "PersistentProcessRunner": REDIS,
}


def _run(runner: str, env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.e2e_run", runner],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.e2e
@pytest.mark.parametrize("runner", list(RUNNERS))
def test_workload_reads_back_from_dynamodb(
    runner: str, endpoint: LocalEndpointProcess, make_app: AppFactory, tmp_path: Path
) -> None:
    app_id = unique_app_id(f"e2e-{runner.lower()}")
    env = {
        **os.environ,
        **point_app_at(endpoint.url, TABLE),
        **RUNNERS[runner],
        "PYNENC__RUNNER_CLS": runner,
        "PYNENC__LOGGING_LEVEL": "warning",
        "E2E_APP_ID": app_id,
        "E2E_MARKER_DIR": str(tmp_path),
    }
    out = _run(runner, env)
    results, ids = out["results"], out["ids"]
    assert isinstance(results, dict) and isinstance(ids, dict)
    assert results == {
        "squares": [n * n for n in range(8)],
        "flaky": "flaky-1 ok",
        "pipeline": 14,
        "fail": "boom",
    }

    # A fresh app in this process sees only what the workers wrote to the table.
    reader: Pynenc = make_app(
        {
            "state_backend_cls": "DynamoDBStateBackend",
            "dynamodb_endpoint_url": endpoint.url,
            "dynamodb_table_name": TABLE,
        },
        app_id=app_id,
    )
    sb = reader.state_backend
    for invocation_id, value in zip(ids["squares"], results["squares"], strict=True):
        inv = sb.get_invocation(invocation_id)
        assert sb.get_result(inv) == value
        statuses = [h.status for h in sb.get_history(inv)]
        assert statuses[0] == InvocationStatus.REGISTERED
        assert statuses[-1] == InvocationStatus.SUCCESS

    failed = sb.get_invocation(ids["fail"])
    error = sb.get_exception(failed)
    assert type(error) is ValueError and error.args == ("boom",)
    assert sb.get_history(failed)[-1].status == InvocationStatus.FAILED

    flaky_statuses = [h.status for h in sb.get_history(sb.get_invocation(ids["flaky"]))]
    assert InvocationStatus.RETRY in flaky_statuses
    assert flaky_statuses[-1] == InvocationStatus.SUCCESS

    runs = [r for r in sb.get_all_workflows_runs() if r.workflow_id == ids["pipeline"]]
    assert len(runs) == 1 and runs[0].workflow_task_id == "tests.e2e_app.pipeline"
    assert sb.get_workflow_data(runs[0], "stage") == "done"
    assert isinstance(sb.get_workflow_data(runs[0], "run_id"), str)
    subs = set(sb.get_workflow_sub_invocations(ids["pipeline"]))
    assert len(subs) == 3
    assert sorted(sb.get_result(sb.get_invocation(s)) for s in subs) == [1, 4, 9]

    # Purging this app leaves nothing of it behind.
    sb.purge()
    assert list(sb.get_all_workflows()) == []
    assert sb.get_history(failed) == []


def test_endpoint_process_counts_requests(endpoint: LocalEndpointProcess) -> None:
    from pynenc_dynamodb.local import request_counts

    before = request_counts(endpoint.url)
    app = Pynenc(
        app_id=unique_app_id(),
        config_values={
            "state_backend_cls": "DynamoDBStateBackend",
            "dynamodb_endpoint_url": endpoint.url,
            "dynamodb_table_name": TABLE,
        },
    )
    after = request_counts(endpoint.url)
    # Registering the app: the table check, then one PutItem of its app info.
    assert (after - before) == {"DescribeTable": 1, "PutItem": 1}
    app.state_backend.purge()
