"""Runner heartbeats: paced (pynenc's process runners report every child on every loop
iteration), and expiring: each heartbeat item carries ``expires_at`` (the table's TTL
attribute), so the ids of runners gone for good (Lambda execution environments, worker
processes) do not pile up; DynamoDB deletes expired items up to days late, and until then
the orchestrator treats them as gone."""

import time
from collections.abc import Iterator

import pytest
from pynenc import Pynenc
from pynenc.arguments import Arguments
from pynenc.call import Call
from pynenc.invocation import DistributedInvocation, InvocationStatus
from pynenc.runner.runner_context import RunnerContext

from pynenc_dynamodb.local.endpoint import LocalEndpointProcess
from pynenc_dynamodb.table import builders
from pynenc_dynamodb.table.schema import EXPIRES_AT
from pynenc_dynamodb.table.schema import orchestration as orch
from tests.conftest import TABLE, unique_app_id
from tests.helpers.orchestrator_race import build_app


@pytest.fixture
def app(endpoint: LocalEndpointProcess) -> Iterator[Pynenc]:
    built = build_app(unique_app_id("heartbeat-ttl"), TABLE, endpoint.url)
    yield built
    built.purge()


def add(x: int, y: int) -> int:
    return x + y


def heartbeat_item(app: Pynenc, runner_id: str) -> dict[str, dict[str, str]] | None:
    store = app.orchestrator.store
    key = orch.heartbeat_key(store.app_id, runner_id)
    return store.client.get(builders.get_item(store.table, key))


def expire(app: Pynenc, runner_id: str) -> None:
    """What time does to an item whose runner stopped heartbeating: past its expiry, and
    still in the table (DynamoDB's TTL deletes it later)."""
    store = app.orchestrator.store
    key = orch.heartbeat_key(store.app_id, runner_id)
    store.client.update(
        {
            "TableName": store.table,
            "Key": key,
            "UpdateExpression": "SET #exp = :past",
            "ExpressionAttributeNames": {"#exp": EXPIRES_AT},
            "ExpressionAttributeValues": {":past": {"N": str(int(time.time()) - 1)}},
        }
    )


def test_each_heartbeat_pushes_the_items_expiry_on(app: Pynenc) -> None:
    ttl = app.orchestrator.conf.dynamodb_heartbeat_ttl_seconds
    before = time.time()
    app.orchestrator.register_runner_heartbeats(["runner-a"])
    item = heartbeat_item(app, "runner-a")
    assert item is not None
    expires = int(item[EXPIRES_AT]["N"])
    assert before + ttl <= expires <= time.time() + ttl + 1


def test_an_expired_heartbeat_not_yet_deleted_is_a_gone_runner(app: Pynenc) -> None:
    orchestrator = app.orchestrator
    orchestrator.register_runner_heartbeats(["gone", "live"], can_run_atomic_service=True)
    task = app.task(add)
    inv = DistributedInvocation.isolated(Call(task, Arguments({"x": 1, "y": 2})))
    gone = RunnerContext(runner_cls="ThreadRunner", runner_id="gone")
    orchestrator.register_new_invocations([inv])
    orchestrator.set_invocation_status(inv.invocation_id, InvocationStatus.PENDING, gone)
    orchestrator.set_invocation_status(inv.invocation_id, InvocationStatus.RUNNING, gone)
    assert [r.runner_id for r in orchestrator.get_active_runners()] == ["gone", "live"]
    assert list(orchestrator.get_running_invocations_for_recovery()) == []

    expire(app, "gone")

    assert heartbeat_item(app, "gone") is not None  # still stored
    assert [r.runner_id for r in orchestrator.get_active_runners()] == ["live"]
    assert [r.runner_id for r in orchestrator.get_active_runners(True)] == ["live"]
    # Its running invocation belongs to a runner that is gone: it is recovered.
    assert list(orchestrator.get_running_invocations_for_recovery()) == [inv.invocation_id]
    # A heartbeat of the same id again from its own process (a runner that was only
    # late) brings it back.
    own_process = build_app(app.app_id, TABLE, app.orchestrator.conf.dynamodb_endpoint_url)
    own_process.orchestrator.register_runner_heartbeats(["gone"])
    assert {r.runner_id for r in orchestrator.get_active_runners()} == {"gone", "live"}


def test_a_process_writes_a_runners_heartbeat_once_per_twentieth_of_the_dead_window(
    app: Pynenc,
) -> None:
    orchestrator = app.orchestrator
    client = orchestrator.store.client
    before = client.request_counts["UpdateItem"]
    for _ in range(10):  # a MultiThreadRunner's loop reporting its children
        orchestrator.register_runner_heartbeats(["child-1", "child-2"])
    assert client.request_counts["UpdateItem"] - before == 2
    # A change of eligibility is written at once.
    orchestrator.register_runner_heartbeats(["child-1"], can_run_atomic_service=True)
    assert client.request_counts["UpdateItem"] - before == 3
    assert {r.runner_id for r in orchestrator.get_active_runners(True)} == {"child-1"}
    # With a dead window of 0.6 s, the same runner is written again after 30 ms.
    app.conf.runner_considered_dead_after_minutes = 0.01
    time.sleep(0.05)
    orchestrator.register_runner_heartbeats(["child-2"])
    assert client.request_counts["UpdateItem"] - before == 4
