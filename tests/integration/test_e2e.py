"""End to end: real pynenc runners (threads and processes) on moto's server over HTTP,
with pynenc's RedisBroker and RedisOrchestrator for the process runners."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pynenc import Pynenc
from pynenc.invocation.status import InvocationStatus

from pynenc_dynamodb.local.endpoint import LocalEndpointProcess
from tests.conftest import TABLE, AppFactory, store_endpoint_named, unique_app_id
from tests.helpers.e2e_run import PROCESS_RUNNER_RACE, RUNNERS, finish, runner_env, start

# Every runner on moto; the thread runner on dynalite too, which refuses what DynamoDB would.
RUNS = [
    pytest.param(runner, "moto", marks=[PROCESS_RUNNER_RACE] if runner == "ProcessRunner" else [])
    for runner in RUNNERS
] + [pytest.param("ThreadRunner", "dynalite")]


@pytest.mark.e2e
@pytest.mark.parametrize(("runner", "endpoint_name"), RUNS)
def test_workload_reads_back_from_dynamodb(
    runner: str,
    endpoint_name: str,
    make_app: AppFactory,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    store = store_endpoint_named(request, endpoint_name)
    app_id = unique_app_id(f"e2e-{runner.lower()}")
    env = runner_env(runner, store.url, TABLE, app_id, tmp_path)
    env["PYNENC__DYNAMODB_S3_ENDPOINT_URL"] = store.s3_url
    out = finish(start(runner, env))
    results, ids = out["results"], out["ids"]
    assert isinstance(results, dict) and isinstance(ids, dict)
    assert results == {
        "squares": [n * n for n in range(8)],
        "flaky": "flaky-1 ok",
        "pipeline": 14,
        "fail": "boom",
    }

    # A fresh app in this process sees only what the workers wrote to the table.
    reader: Pynenc = make_app(store.config(TABLE), app_id=app_id)
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
    assert len(runs) == 1 and runs[0].workflow_task_id == "tests.helpers.e2e_app.pipeline"
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
    from pynenc_dynamodb.local.endpoint import request_counts

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


AUTOLOAD_PROBE = """
import sys
from pynenc import Pynenc
app = Pynenc(app_id="autoload-probe", config_values={
    "state_backend_cls": "DynamoDBStateBackend",
    "dynamodb_endpoint_url": sys.argv[1],
    "dynamodb_table_name": sys.argv[2],
})
print(type(app.state_backend).__name__)
"""


@pytest.mark.parametrize("autoload", [True, False])
def test_installing_the_package_is_enough_to_find_the_backend(
    endpoint: LocalEndpointProcess, autoload: bool
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYNENC_DYNAMODB_NO_AUTOLOAD"}
    if not autoload:
        env["PYNENC_DYNAMODB_NO_AUTOLOAD"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", AUTOLOAD_PROBE, endpoint.url, TABLE],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if autoload:
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip().endswith("DynamoDBStateBackend")
    else:
        assert "Unknown subclass: DynamoDBStateBackend" in done.stderr
