"""DynamoDBTrigger beyond pynenc's suite: one winner per cron slot and per trigger run however
many runners race (threads and processes, on the embedded endpoint), a lost answer never
loses a won claim, the requests each operation costs, and a purge that deletes only the
trigger's items of its app."""

import multiprocessing
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from pynenc import Pynenc, PynencBuilder
from pynenc.arguments import Arguments
from pynenc.identifiers.task_id import TaskId
from pynenc.trigger.arguments import create_argument_filter
from pynenc.trigger.arguments.argument_providers import StaticArgumentProvider
from pynenc.trigger.conditions import (
    CronCondition,
    EventCondition,
    EventContext,
    ResultContext,
    ValidCondition,
)
from pynenc.trigger.trigger_builder import TriggerBuilder
from pynenc.trigger.trigger_definitions import TriggerDefinition

from pynenc_dynamodb.errors import DynamoDBRequestError
from pynenc_dynamodb.local.endpoint import DEFAULT_BUCKET, LocalEndpointProcess
from pynenc_dynamodb.plugin.trigger import DynamoDBTrigger
from pynenc_dynamodb.table import builders, schema
from pynenc_dynamodb.table.triggers import TriggerStore
from tests.conftest import TABLE, unique_app_id
from tests.helpers import trigger_race

# Tasks are defined at module level (pynenc requires it); each test points them at its app.
_tasks_app = PynencBuilder().app_id("trigger-tests-tasks").build()


@_tasks_app.task
def watched() -> None:
    pass


@_tasks_app.task
def job(x: int) -> int:
    return x


SLOTS = 6
THREADS = 12
PROCESSES = 3
THREADS_PER_PROCESS = 4


@pytest.fixture
def make_racer_app(endpoint: LocalEndpointProcess) -> Iterator[Callable[..., Pynenc]]:
    """Apps on DynamoDBTrigger (state in DynamoDB too), purged when the test ends."""
    apps: list[Pynenc] = []

    def factory(app_id: str | None = None, bucket: str | None = None) -> Pynenc:
        app_id = app_id or unique_app_id("trg")
        app = trigger_race.racer_app(endpoint.url, TABLE, app_id, bucket)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.purge()


def _trigger(app: Pynenc) -> DynamoDBTrigger:
    assert isinstance(app.trigger, DynamoDBTrigger)
    return app.trigger


def _winners(outcomes: list[tuple[int, bool]]) -> Counter[int]:
    return Counter(slot for slot, won in outcomes if won)


# -- races: exactly one winner per slot --------------------------------------------------


@pytest.mark.parametrize("kind", ["cron", "claim"])
def test_threads_racing_on_the_same_slots_have_exactly_one_winner_each(
    endpoint: LocalEndpointProcess, make_racer_app: Callable[..., Pynenc], kind: str
) -> None:
    app = make_racer_app()
    barrier = threading.Barrier(THREADS)
    outcomes = trigger_race.race_threads(
        endpoint.url, TABLE, app.app_id, slots=SLOTS, threads=THREADS, barrier=barrier, kind=kind
    )
    assert len(outcomes) == SLOTS * THREADS
    assert _winners(outcomes) == dict.fromkeys(range(SLOTS), 1)
    if kind == "cron":
        # The stored last execution is the last slot's winner's time.
        last = _trigger(app).get_last_cron_execution(CronCondition(trigger_race.CRON).condition_id)
        assert last is not None and last.minute == SLOTS - 1


@pytest.mark.parametrize("kind", ["cron", "claim"])
def test_processes_racing_on_the_same_slots_have_exactly_one_winner_each(
    endpoint: LocalEndpointProcess, make_racer_app: Callable[..., Pynenc], kind: str
) -> None:
    app = make_racer_app()
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(PROCESSES * THREADS_PER_PROCESS)
    results = spawn.Queue()
    processes = [
        spawn.Process(
            target=trigger_race.race_in_process,
            args=(results, endpoint.url, TABLE, app.app_id),
            kwargs={
                "slots": SLOTS,
                "threads": THREADS_PER_PROCESS,
                "barrier": barrier,
                "kind": kind,
                "first_racer": p * THREADS_PER_PROCESS,
            },
        )
        for p in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    try:
        reports = [results.get(timeout=300) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=60)
            if process.is_alive():
                process.kill()
    assert [status for status, _ in reports] == ["ok"] * PROCESSES, reports
    outcomes = [outcome for _, found in reports for outcome in found]
    assert len(outcomes) == SLOTS * PROCESSES * THREADS_PER_PROCESS
    assert _winners(outcomes) == dict.fromkeys(range(SLOTS), 1)


# -- conditional writes: semantics, and a lost answer ---------------------------------------


def test_last_cron_execution_is_set_once_when_unset_then_only_from_the_value_read(
    make_racer_app: Callable[..., Pynenc],
) -> None:
    trigger = _trigger(make_racer_app())
    first = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    second = datetime(2024, 1, 1, 12, 1, tzinfo=UTC)
    assert trigger.store_last_cron_execution("cron_x", first) is True
    # A runner that read "never executed" cannot overwrite what another stored meanwhile.
    assert trigger.store_last_cron_execution("cron_x", second) is False
    assert (
        trigger.store_last_cron_execution("cron_x", second, expected_last_execution=second) is False
    )
    assert (
        trigger.store_last_cron_execution("cron_x", second, expected_last_execution=first) is True
    )
    assert trigger.get_last_cron_execution("cron_x") == second
    # Registering the condition again (every worker does at start) keeps the last execution.
    trigger.reload_task_conditions()
    trigger._register_condition(CronCondition("* * * * *"))
    assert trigger.get_last_cron_execution("cron_x") == second


def test_a_claim_holds_until_it_expires_then_the_next_claimer_wins(
    make_racer_app: Callable[..., Pynenc],
) -> None:
    store = _trigger(make_racer_app()).store
    assert store.claim_trigger_run("run", 60, now=1_000.0) is True
    assert store.claim_trigger_run("run", 60, now=1_059.0) is False
    assert store.claim_trigger_run("other-run", 60, now=1_059.0) is True
    assert store.claim_trigger_run("run", 60, now=1_061.0) is True
    assert store.claim_trigger_run("run", 60, now=1_100.0) is False


@pytest.mark.parametrize("operation", ["cron", "claim"])
def test_a_conditional_write_applied_whose_answer_was_lost_is_still_won(
    make_racer_app: Callable[..., Pynenc], operation: str
) -> None:
    """DynamoDB applied the write but the answer never came back: the retry finds the item
    its first attempt wrote (same token) and reports the win, not a loss."""
    store = _trigger(make_racer_app()).store
    store.ensure_table()
    client = store.client
    real_send = client._send
    lost: list[str] = []

    def send_then_lose_answer(op: str, request: builders.Request) -> dict[str, Any]:
        response = real_send(op, request)
        if op == "PutItem" and not lost:
            lost.append(op)
            raise DynamoDBRequestError(op, "ConnectionError", "connection reset by peer")
        return response

    client._send = send_then_lose_answer  # type: ignore[method-assign]
    if operation == "cron":
        assert store.store_cron_last_execution("cron_y", "2024-01-01T12:00:00.000000Z", None)
    else:
        assert store.claim_trigger_run("run-lost-answer", 60)
    assert lost == ["PutItem"]
    assert client.request_counts["PutItem"] == 2
    # Another runner's identical write still loses.
    client._send = real_send  # type: ignore[method-assign]
    if operation == "cron":
        assert not store.store_cron_last_execution("cron_y", "2024-01-01T12:01:00.000000Z", None)
    else:
        assert not store.claim_trigger_run("run-lost-answer", 60)


# -- request economy -------------------------------------------------------------------------


def _requests(store: TriggerStore, action: Callable[[], object]) -> dict[str, int]:
    before = Counter(store.client.request_counts)
    action()
    return dict(Counter(store.client.request_counts) - before)


def _valid_conditions(count: int) -> list[ValidCondition]:
    condition = EventCondition("economy", create_argument_filter(None))
    return [
        ValidCondition(
            condition, EventContext(event_code="economy", payload={"n": n}, event_id=f"event-{n}")
        )
        for n in range(count)
    ]


def test_requests_per_operation(make_racer_app: Callable[..., Pynenc]) -> None:
    app = make_racer_app()
    trigger = _trigger(app)
    store = trigger.store
    store.ensure_table()
    valid = _valid_conditions(60)
    assert _requests(store, lambda: trigger.record_valid_conditions(valid)) == {"BatchWriteItem": 3}
    assert _requests(store, lambda: trigger.record_valid_conditions([])) == {}
    found: dict[str, ValidCondition] = {}
    assert _requests(store, lambda: found.update(trigger.get_valid_conditions())) == {
        "Query": schema.SHARDS
    }
    assert set(found) == {vc.valid_condition_id for vc in valid}
    assert _requests(store, lambda: trigger.clear_valid_conditions(valid)) == {"BatchWriteItem": 3}
    assert trigger.get_valid_conditions() == {}

    conditions = [CronCondition(f"{m} * * * *") for m in range(30)]
    definition = TriggerDefinition(
        TaskId("economy", "task"),
        [c.condition_id for c in conditions],
        argument_provider=StaticArgumentProvider({"x": 1}),
    )
    dto = definition.to_dto(app)
    # The definition, its task link and one link per condition: 32 writes.
    assert _requests(store, lambda: trigger.register_trigger(dto)) == {"BatchWriteItem": 2}
    assert _requests(store, lambda: trigger.get_trigger(dto.trigger_id)) == {"GetItem": 1}
    triggers: list[Any] = []
    assert _requests(
        store,
        lambda: triggers.extend(trigger.get_triggers_for_condition(conditions[7].condition_id)),
    ) == {"Query": 1}
    assert triggers == [dto]
    # One Query of the task's links, then 32 deletes.
    assert _requests(store, lambda: trigger.clean_task_trigger_definitions(definition.task_id)) == {
        "Query": 1,
        "BatchWriteItem": 2,
    }
    assert trigger.get_triggers_for_condition(conditions[7].condition_id) == []
    assert trigger.get_trigger(dto.trigger_id) is None
    assert _requests(store, lambda: trigger.clean_task_trigger_definitions(definition.task_id)) == {
        "Query": 1
    }

    cron = conditions[0]
    assert _requests(store, lambda: trigger.register_condition(cron)) == {"PutItem": 1}
    assert _requests(store, trigger._get_all_conditions) == {"Query": 1}
    now = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    assert _requests(store, lambda: trigger.get_last_cron_execution(cron.condition_id)) == {
        "GetItem": 1
    }
    assert _requests(store, lambda: trigger.store_last_cron_execution(cron.condition_id, now)) == {
        "PutItem": 1
    }
    assert _requests(store, lambda: trigger.claim_trigger_run("economy-run")) == {"PutItem": 1}


def test_a_task_status_reads_its_conditions_in_one_query(
    make_racer_app: Callable[..., Pynenc],
) -> None:
    app = make_racer_app()
    trigger = _trigger(app)
    trigger.register_task_triggers(job, TriggerBuilder().on_status(watched))
    store = trigger.store
    found: list[Any] = []
    assert _requests(
        store, lambda: found.extend(trigger.get_conditions_sourced_from_task(watched.task_id))
    ) == {"Query": 1}
    assert len(found) == 1
    assert trigger.get_conditions_sourced_from_task(watched.task_id, ResultContext) == []
    # Another runner, which never registered the condition itself, sees it too.
    other = _trigger(make_racer_app(app.app_id))
    assert [c.condition_id for c in other.get_conditions_sourced_from_task(watched.task_id)] == [
        found[0].condition_id
    ]


def test_a_source_link_without_its_condition_is_resolved_when_read(
    make_racer_app: Callable[..., Pynenc],
) -> None:
    trigger = _trigger(make_racer_app())
    condition = EventCondition("late", create_argument_filter(None))
    task = TaskId("module", "watched")
    trigger._register_source_task_condition(task, condition.condition_id)
    assert trigger.get_conditions_sourced_from_task(task) == []
    trigger._register_condition(condition)
    found = trigger.get_conditions_sourced_from_task(task)
    assert [c.condition_id for c in found] == [condition.condition_id]


# -- large bodies and purge ------------------------------------------------------------------


def test_a_large_body_goes_to_the_trigger_prefix_and_its_purge_deletes_it(
    make_racer_app: Callable[..., Pynenc],
) -> None:
    """pynenc moves large arguments and payloads to the client data store, so its trigger
    bodies stay small; a large one all the same (a long custom filter) goes to S3 under
    the trigger's own prefix, which only the trigger's purge deletes."""
    app = make_racer_app(bucket=DEFAULT_BUCKET)
    store = _trigger(app).store
    # 300 KB of random hex: about 150 KB compressed, beyond the 64 KB offload threshold.
    body = os.urandom(150_000).hex()
    store.put_valid_conditions([("large", body)])
    assert list(store.valid_conditions()) == [body]
    [item] = [
        item
        for pk in schema.valid_condition_partitions(app.app_id)
        for item in store._query(builders.query_partition(TABLE, pk, 100))
    ]
    assert item[schema.OBJECT_KEY]["S"].startswith(schema.trigger_object_prefix(app.app_id))
    assert store.purge_trigger() == 2  # the item, then its object
    assert list(store.valid_conditions()) == []


def test_purge_deletes_only_the_trigger_items_of_its_app(
    make_racer_app: Callable[..., Pynenc],
) -> None:
    mine, other = make_racer_app(), make_racer_app()
    job.app = mine
    invocation = job._call(Arguments(kwargs={"x": 1}))
    for app in (mine, other):
        trigger = _trigger(app)
        cron = CronCondition("5 * * * *")
        trigger.register_condition(cron)
        trigger.store_last_cron_execution(cron.condition_id, datetime(2024, 1, 1, tzinfo=UTC))
        trigger.record_valid_conditions(_valid_conditions(30))
        trigger.claim_trigger_run("a-run")
        definition = TriggerDefinition(TaskId("m", "f"), [cron.condition_id])
        trigger.register_trigger(definition.to_dto(app))
    _trigger(mine)._purge()

    store = _trigger(mine).store
    for pk in schema.trigger_partitions(mine.app_id):
        assert list(store._query(builders.query_partition(TABLE, pk, 100))) == []
    # The state of the same app is kept.
    assert mine.state_backend.get_invocation(invocation.invocation_id).invocation_id == (
        invocation.invocation_id
    )
    # Another app's trigger is untouched.
    kept = _trigger(other)
    assert len(kept.get_valid_conditions()) == 30
    assert kept.get_last_cron_execution(CronCondition("5 * * * *").condition_id) is not None
    assert kept.claim_trigger_run("a-run") is False
    assert len(kept._get_all_conditions()) == 1


def test_the_trigger_is_the_dynamodb_one_and_shares_the_state_settings(
    make_racer_app: Callable[..., Pynenc],
) -> None:
    app = make_racer_app()
    trigger = _trigger(app)
    assert trigger.store.table == TABLE
    assert trigger.store.app_id == app.app_id
    assert cast(Any, app.state_backend).store.client.settings == trigger.store.client.settings
