"""Requests the orchestrator makes, counted by its client (not timed): one task lifecycle,
the concurrency-control lookups, counts and listings, heartbeats and recovery. The
figures are in docs/aws-stack.md ("DynamoDB orchestrator") and the README."""

from collections import Counter
from collections.abc import Iterator

import pytest
from pynenc import Pynenc
from pynenc.arguments import Arguments
from pynenc.call import Call
from pynenc.invocation import DistributedInvocation, InvocationStatus
from pynenc.runner.runner_context import RunnerContext

from pynenc_dynamodb.local.endpoint import LocalEndpointProcess
from pynenc_dynamodb.table import builders
from pynenc_dynamodb.table.schema import orchestration as schema
from tests.conftest import TABLE, unique_app_id
from tests.helpers.orchestrator_race import build_app

SHARDS = 16


@pytest.fixture
def app(endpoint: LocalEndpointProcess) -> Iterator[Pynenc]:
    built = build_app(unique_app_id("economy"), TABLE, endpoint.url)
    yield built
    built.purge()


def counted(app: Pynenc, action) -> Counter[str]:  # type: ignore[no-untyped-def]
    client = app.orchestrator.store.client
    before = Counter(client.request_counts)
    action()
    return Counter(client.request_counts) - before


def waiting_for(app: Pynenc, waiter: DistributedInvocation) -> list[str]:
    """What ``waiter``'s blocking item says it waits for."""
    store = app.orchestrator.store
    key = schema.blocking_key(store.app_id, str(waiter.invocation_id))
    item = store.client.get(builders.get_item(store.table, key)) or {}
    return sorted(item.get(schema.WAITING_FOR, {}).get("SS", []))


def add(x: int, y: int) -> int:
    return x + y


def test_a_task_lifecycle_is_five_orchestrator_writes(app: Pynenc) -> None:
    task = app.task(add)
    inv = DistributedInvocation.isolated(Call(task, Arguments({"x": 1, "y": 2})))
    ctx = RunnerContext.from_runner(app.runner)
    app.orchestrator.store.ensure_table()

    register = counted(app, lambda: app.orchestrator.register_new_invocations([inv]))
    assert register == Counter({"PutItem": 1, "BatchWriteItem": 1})

    pending = counted(
        app,
        lambda: app.orchestrator.set_invocation_status(
            inv.invocation_id, InvocationStatus.PENDING, ctx
        ),
    )
    running = counted(
        app,
        lambda: app.orchestrator.set_invocation_status(
            inv.invocation_id, InvocationStatus.RUNNING, ctx
        ),
    )
    assert pending == running == Counter({"UpdateItem": 1})

    # Final: the transition alone. Its answer shows nobody waited, so there are no
    # waiters to release; the final status's index entry is what auto purge finds; and
    # pynenc's trigger reading the status back is answered from memory.
    final = counted(app, lambda: app.orchestrator.set_invocation_result(inv, 3, ctx))
    assert final == Counter({"UpdateItem": 1})
    lifecycle = register + pending + running + final
    assert sum(lifecycle.values()) == 5
    assert app.orchestrator.get_invocation_status(inv.invocation_id) == InvocationStatus.SUCCESS


def test_a_waited_invocation_releases_its_waiters_when_final(app: Pynenc) -> None:
    task = app.task(add)
    parent, child, done = (
        DistributedInvocation.isolated(Call(task, Arguments({"x": i, "y": 0}))) for i in range(3)
    )
    ctx = RunnerContext.from_runner(app.runner)
    orch = app.orchestrator
    orch.register_new_invocations([parent, child, done])
    for inv in (child, done):
        orch.set_invocation_status(inv.invocation_id, InvocationStatus.PENDING, ctx)
        orch.set_invocation_status(inv.invocation_id, InvocationStatus.RUNNING, ctx)
    orch.set_invocation_result(done, 0, ctx)

    # A wait flags the waited status, adds the waiter, then records what the caller waits
    # for; an invocation already final is left out (nothing will release it).
    wait = counted(
        app,
        lambda: orch.waiting_for_results(
            parent.invocation_id, [child.invocation_id, done.invocation_id]
        ),
    )
    assert wait == Counter({"UpdateItem": 4})
    assert waiting_for(app, parent) == [str(child.invocation_id)]

    # The waited one's final transition shows the flag: its waiters are released.
    final = counted(app, lambda: orch.set_invocation_result(child, 1, ctx))
    assert final == Counter({"UpdateItem": 2, "DeleteItem": 1})
    assert waiting_for(app, parent) == []


def test_reads_are_one_request_or_one_query_per_shard(app: Pynenc) -> None:
    task = app.task(add)
    invs = [
        DistributedInvocation.isolated(Call(task, Arguments({"x": i, "y": 0}))) for i in range(3)
    ]
    app.orchestrator.register_new_invocations(invs)
    for inv in invs:
        app.orchestrator.index_arguments_for_concurrency_control(inv)
    orch = app.orchestrator
    first = invs[0].invocation_id

    assert counted(app, lambda: orch.get_invocation_status(first)) == Counter({"GetItem": 1})
    assert counted(app, lambda: orch.increment_invocation_retries(first)) == Counter(
        {"UpdateItem": 1}
    )
    assert counted(app, lambda: orch.get_invocation_retries(first)) == Counter({"GetItem": 1})
    ids = [inv.invocation_id for inv in invs]
    assert counted(
        app, lambda: orch.filter_by_status(ids, frozenset({InvocationStatus.REGISTERED}))
    ) == Counter({"BatchGetItem": 1})
    # By arguments: one Query of one argument's partition, then the matches' statuses.
    by_args = counted(
        app,
        lambda: list(
            orch.get_existing_invocations(task, {"x": "1"}, [InvocationStatus.REGISTERED])
        ),
    )
    assert by_args == Counter({"Query": 1, "BatchGetItem": 1})
    found = orch.get_existing_invocations(task, {"x": "1"}, [InvocationStatus.REGISTERED])
    assert list(found) == [invs[1].invocation_id]
    # By task and status, counts and pages: one Query (Select=COUNT for counts) per shard.
    registered = [InvocationStatus.REGISTERED]
    by_task = counted(app, lambda: list(orch.get_existing_invocations(task, statuses=registered)))
    assert by_task == Counter({"Query": SHARDS})
    two = [InvocationStatus.REGISTERED, InvocationStatus.RUNNING]
    assert counted(app, lambda: orch.count_invocations(statuses=two)) == Counter(
        {"Query": 2 * SHARDS}
    )
    assert counted(app, orch.count_invocations) == Counter({"Query": SHARDS})
    assert counted(app, lambda: orch.get_invocation_ids_paginated(limit=2)) == Counter(
        {"Query": SHARDS}
    )
    call_id = invs[0].call.call_id
    assert counted(app, lambda: list(orch.get_call_invocation_ids(call_id))) == Counter(
        {"Query": 1}
    )


def test_runners_recovery_and_blocking_are_queries_per_shard(app: Pynenc) -> None:
    orch = app.orchestrator
    orch.store.ensure_table()
    assert counted(app, lambda: orch.register_runner_heartbeats(["a", "b"])) == Counter(
        {"UpdateItem": 2}
    )
    assert counted(app, orch.get_active_runners) == Counter({"Query": SHARDS})
    assert counted(app, lambda: list(orch.get_pending_invocations_for_recovery())) == Counter(
        {"Query": SHARDS}
    )
    assert counted(app, lambda: list(orch.get_running_invocations_for_recovery())) == Counter(
        {"Query": 2 * SHARDS}
    )
    assert counted(app, lambda: list(orch.get_blocking_invocations(5))) == Counter(
        {"Query": SHARDS}
    )
    # Auto purge reads the final statuses' index partitions (3 final statuses) and the
    # markers of invocations set up for purge before they were final.
    assert counted(app, orch.auto_purge) == Counter({"Query": 4 * SHARDS})


def test_an_idle_runner_waits_on_sqs_rather_than_polling_dynamodb(
    stack_app_instance: Pynenc,
) -> None:
    app = stack_app_instance
    orch = app.orchestrator
    store_client = orch.store.client

    def looks() -> int:
        before = store_client.request_counts["Query"]
        list(orch.get_blocking_invocations(5))
        return store_client.request_counts["Query"] - before

    assert looks() == SHARDS  # the first look goes out, and finds none
    assert looks() == 0  # within dynamodb_blocking_poll_seconds of an empty look
    # Once a receive found the queue empty, the look waits the idle interval instead.
    assert app.broker.retrieve_invocation() is None
    assert app.broker.queue_seen_empty
    orch.blocking_control._empty_look_at -= orch.conf.dynamodb_blocking_poll_seconds
    assert looks() == 0
    orch.blocking_control._empty_look_at -= orch.conf.dynamodb_blocking_idle_poll_seconds
    assert looks() == SHARDS
    # A wait registered by this process sends the next look at once.
    task = app.task(add)
    parent, child = (
        DistributedInvocation.isolated(Call(task, Arguments({"x": i, "y": 0}))) for i in range(2)
    )
    orch.register_new_invocations([parent, child])
    orch.waiting_for_results(parent.invocation_id, [child.invocation_id])
    assert list(orch.get_blocking_invocations(5)) == [child.invocation_id]
