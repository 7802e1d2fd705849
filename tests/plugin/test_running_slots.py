"""Running concurrency control on DynamoDB is atomic: threads, then spawned processes
(each with its own app and client), race to run the invocations of one TASK-limited task;
a running slot claimed by a conditional write lets at most one of them be RUNNING at any
time, and every invocation still runs. Nothing here depends on timing: the racers count
themselves from their authorization to SUCCESS, inside the slot's hold."""

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from pynenc.conf.config_task import ConcurrencyControlType
from pynenc.identifiers.invocation_id import InvocationId
from pynenc.invocation.status import InvocationStatus

from pynenc_dynamodb.local.endpoint import LocalEndpointProcess
from pynenc_dynamodb.table.orchestration import Registration
from pynenc_dynamodb.table.schema import orchestration as orch
from tests.conftest import TABLE, unique_app_id
from tests.helpers.orchestrator_race import build_app
from tests.helpers.running_slot_race import invocation, limited_task, race_process, run_all

INVOCATIONS = 8
THREADS = 4
PROCESSES = 3


def register(app, task, count: int) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    work = [(f"slot-{i}-{unique_app_id('inv')}", i) for i in range(count)]
    now = datetime.now(UTC)
    app.orchestrator.store.register(
        [
            Registration(
                inv, task.task_id.key, f"{task.task_id.key}#{inv}", "registered", None, now
            )
            for inv, _ in work
        ]
    )
    return work


def move(app, inv: str, *statuses: InvocationStatus, runner: str = "r") -> None:  # type: ignore[no-untyped-def]
    for status in statuses:
        app.orchestrator._atomic_status_transition(InvocationId(inv), status, runner)


def test_threads_racing_run_a_task_limited_task_one_at_a_time(
    endpoint: LocalEndpointProcess,
) -> None:
    app = build_app(unique_app_id("slots"), TABLE, endpoint.url)
    try:
        task = limited_task(app, ConcurrencyControlType.TASK)
        work = register(app, task, INVOCATIONS)
        active, peak = multiprocessing.Value("i", 0), multiprocessing.Value("i", 0)
        start = threading.Barrier(THREADS)

        def racer(n: int) -> list[str]:
            start.wait()
            return run_all(app, task, work, racer=f"thread-{n}", active=active, peak=peak)

        with ThreadPoolExecutor(THREADS) as pool:
            ran = [inv for done in pool.map(racer, range(THREADS)) for inv in done]
        assert peak.value == 1
        assert sorted(ran) == sorted(inv for inv, _ in work)  # each ran, once
    finally:
        app.orchestrator.purge()


def test_processes_racing_run_a_task_limited_task_one_at_a_time(
    endpoint: LocalEndpointProcess,
) -> None:
    app_id = unique_app_id("slots-p")
    app = build_app(app_id, TABLE, endpoint.url)
    try:
        work = register(app, limited_task(app, ConcurrencyControlType.TASK), INVOCATIONS)
        context = multiprocessing.get_context("spawn")
        active, peak = context.Value("i", 0), context.Value("i", 0)
        results = context.Queue()
        racers = [
            context.Process(
                target=race_process,
                kwargs={
                    "app_id": app_id,
                    "table": TABLE,
                    "endpoint_url": endpoint.url,
                    "work": work,
                    "racer": f"proc-{n}",
                    "active": active,
                    "peak": peak,
                    "results": results,
                },
            )
            for n in range(PROCESSES)
        ]
        for process in racers:
            process.start()
        ran = [inv for _ in racers for inv in results.get(timeout=300)]
        for process in racers:
            process.join()
        assert [process.exitcode for process in racers] == [0] * PROCESSES
        assert peak.value == 1
        assert sorted(ran) == sorted(inv for inv, _ in work)
    finally:
        app.orchestrator.purge()


def test_of_two_invocations_checked_before_either_runs_only_one_may_run(
    endpoint: LocalEndpointProcess,
) -> None:
    """The interleaving pynenc's look-then-run check lets through (both see no RUNNING
    invocation): the slot authorizes the first only."""
    app = build_app(unique_app_id("slots-i"), TABLE, endpoint.url)
    try:
        task = limited_task(app, ConcurrencyControlType.TASK)
        (first, _), (second, _) = register(app, task, 2)
        authorize = app.orchestrator.is_authorize_to_run_by_concurrency_control
        move(app, first, InvocationStatus.PENDING)
        move(app, second, InvocationStatus.PENDING)
        assert authorize(invocation(task, first, 0))
        assert not authorize(invocation(task, second, 1))
        move(app, first, InvocationStatus.RUNNING, InvocationStatus.RETRY)  # frees it
        assert authorize(invocation(task, second, 1))
    finally:
        app.orchestrator.purge()


def test_arguments_limited_invocations_with_different_arguments_run_together(
    endpoint: LocalEndpointProcess,
) -> None:
    app = build_app(unique_app_id("slots-a"), TABLE, endpoint.url)
    try:
        task = limited_task(app, ConcurrencyControlType.ARGUMENTS)
        (one, _), (two, _), (same, _) = register(app, task, 3)
        authorize = app.orchestrator.is_authorize_to_run_by_concurrency_control
        move(app, one, InvocationStatus.PENDING)
        assert authorize(invocation(task, one, 1))
        move(app, one, InvocationStatus.RUNNING)
        assert authorize(invocation(task, two, 2))  # other arguments: its own slot
        assert not authorize(invocation(task, same, 1))  # same arguments: one's slot
        move(app, one, InvocationStatus.SUCCESS)  # frees one's slot
        assert authorize(invocation(task, same, 1))
    finally:
        app.orchestrator.purge()


def test_a_slot_left_by_a_holder_no_longer_running_is_taken_over(
    endpoint: LocalEndpointProcess,
) -> None:
    """A holder moved out of RUNNING by another process (recovery of a dead runner) never
    freed its slot: the next claimant reads the holder's status and takes the slot over;
    a PENDING holder (about to run) keeps it."""
    app = build_app(unique_app_id("slots-s"), TABLE, endpoint.url)
    other = build_app(app.app_id, TABLE, endpoint.url)  # another process's orchestrator
    try:
        task = limited_task(app, ConcurrencyControlType.TASK)
        (dead, _), (next_one, _) = register(app, task, 2)
        authorize = app.orchestrator.is_authorize_to_run_by_concurrency_control
        move(app, dead, InvocationStatus.PENDING)
        assert authorize(invocation(task, dead, 0))
        assert not other.orchestrator.is_authorize_to_run_by_concurrency_control(
            invocation(task, next_one, 1)
        )  # its holder is PENDING: about to run
        move(app, dead, InvocationStatus.RUNNING)
        move(other, dead, InvocationStatus.RUNNING_RECOVERY, runner="recovery")
        assert other.orchestrator.is_authorize_to_run_by_concurrency_control(
            invocation(task, next_one, 1)
        )
        slot = orch.running_slot_key(app.app_id, task.task_id.key, None)
        item = app.orchestrator.store.client.get({"TableName": TABLE, "Key": slot})
        assert item is not None and item[orch.HOLDER]["S"] == next_one
    finally:
        app.orchestrator.purge()


def test_tasks_without_running_concurrency_send_no_request(
    endpoint: LocalEndpointProcess,
) -> None:
    app = build_app(unique_app_id("slots-d"), TABLE, endpoint.url)
    try:
        task = limited_task(app, ConcurrencyControlType.DISABLED)
        ((inv, n),) = register(app, task, 1)
        move(app, inv, InvocationStatus.PENDING)
        counts = app.orchestrator.store.client.request_counts
        before = dict(counts)
        assert app.orchestrator.is_authorize_to_run_by_concurrency_control(invocation(task, inv, n))
        move(app, inv, InvocationStatus.RUNNING, InvocationStatus.SUCCESS)
        assert dict(counts) == {**before, "UpdateItem": before.get("UpdateItem", 0) + 2}
    finally:
        app.orchestrator.purge()
