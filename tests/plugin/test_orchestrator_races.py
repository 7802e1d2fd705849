"""Two runners can never both move one invocation to RUNNING: many threads, then several
processes (each with its own app and DynamoDB client), race for the same invocations on
the embedded endpoint, and each invocation has exactly one winner. The transitions are
conditional writes; nothing here depends on timing."""

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from pynenc.exceptions import InvocationStatusError, InvocationStatusRaceConditionError
from pynenc.identifiers.invocation_id import InvocationId
from pynenc.invocation.status import InvocationStatus

from pynenc_dynamodb.local.endpoint import LocalEndpointProcess
from pynenc_dynamodb.table.orchestration import Registration
from tests.conftest import TABLE, unique_app_id
from tests.helpers.orchestrator_race import build_app, claim, race

IDS = 16
THREADS = 12
PROCESSES = 3


def register(app, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    ids = [f"race-{i}-{unique_app_id('inv')}" for i in range(count)]
    now = datetime.now(UTC)
    app.orchestrator.store.register(
        [
            Registration(inv, "tests.race", f"tests.race#{inv}", "registered", None, now)
            for inv in ids
        ]
    )
    return ids


def test_threads_racing_for_the_same_invocations_have_one_winner_each(
    endpoint: LocalEndpointProcess,
) -> None:
    app = build_app(unique_app_id("race"), TABLE, endpoint.url)
    try:
        ids = register(app, IDS)
        start = threading.Barrier(THREADS)

        def runner(n: int) -> list[str]:
            start.wait()
            return [inv for inv in ids if claim(app, inv, f"thread-runner-{n}")]

        with ThreadPoolExecutor(THREADS) as pool:
            won = [inv for wins in pool.map(runner, range(THREADS)) for inv in wins]
        assert sorted(won) == sorted(ids)  # every id once: one winner each
        for inv in ids:
            record = app.orchestrator.get_invocation_status_record(InvocationId(inv))
            assert record.status == InvocationStatus.RUNNING
            assert record.runner_id is not None
            assert record.runner_id.startswith("thread-runner-")
    finally:
        app.orchestrator.purge()


def test_processes_racing_for_the_same_invocations_have_one_winner_each(
    endpoint: LocalEndpointProcess,
) -> None:
    app_id = unique_app_id("race-p")
    app = build_app(app_id, TABLE, endpoint.url)
    try:
        ids = register(app, IDS)
        context = multiprocessing.get_context("spawn")
        with context.Pool(PROCESSES) as pool:
            args = [
                (app_id, TABLE, endpoint.url, ids, f"process-runner-{n}") for n in range(PROCESSES)
            ]
            won = [inv for wins in pool.starmap(race, args) for inv in wins]
        assert sorted(won) == sorted(ids)
        owners = {
            app.orchestrator.get_invocation_status_record(InvocationId(i)).runner_id for i in ids
        }
        assert owners <= {f"process-runner-{n}" for n in range(PROCESSES)}
    finally:
        app.orchestrator.purge()


def test_racing_final_transitions_write_one_final_status(endpoint: LocalEndpointProcess) -> None:
    """The owner's SUCCESS and a recovery's RUNNING_RECOVERY race: exactly one applies,
    and the loser gets pynenc's error, not a silent overwrite."""
    app = build_app(unique_app_id("race-f"), TABLE, endpoint.url)
    try:
        ids = register(app, 8)
        for inv in ids:
            claim(app, inv, "owner")
        start = threading.Barrier(2)

        def move(target: InvocationStatus, runner: str) -> list[str]:
            start.wait()
            moved = []
            for inv in ids:
                try:
                    app.orchestrator._atomic_status_transition(InvocationId(inv), target, runner)
                    moved.append(inv)
                except InvocationStatusError:
                    continue
            return moved

        with ThreadPoolExecutor(2) as pool:
            success = pool.submit(move, InvocationStatus.SUCCESS, "owner")
            recovery = pool.submit(move, InvocationStatus.RUNNING_RECOVERY, "recoverer")
            done, recovered = success.result(), recovery.result()
        assert sorted(done + recovered) == sorted(ids)
        for inv in ids:
            status = app.orchestrator.get_invocation_status(InvocationId(inv))
            expected = (
                InvocationStatus.SUCCESS if inv in done else InvocationStatus.RUNNING_RECOVERY
            )
            assert status == expected
    finally:
        app.orchestrator.purge()


def test_a_lost_answer_of_an_applied_transition_is_not_an_error(
    endpoint: LocalEndpointProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transition whose write was applied but whose answer was lost is resent by the
    retries; the resent write fails its condition, and its token shows it was ours."""
    app = build_app(unique_app_id("race-l"), TABLE, endpoint.url)
    try:
        (inv,) = register(app, 1)
        client = app.orchestrator.store.client
        send = client._send
        lost = {"done": False}

        def lose_first_answer(operation: str, request: dict) -> dict:  # type: ignore[type-arg]
            answer = send(operation, request)
            if operation == "UpdateItem" and not lost["done"]:
                lost["done"] = True
                from pynenc_dynamodb.errors import DynamoDBRequestError

                raise DynamoDBRequestError(operation, "ConnectionError", "answer lost")
            return answer

        monkeypatch.setattr(client, "_send", lose_first_answer)
        record = app.orchestrator._atomic_status_transition(
            InvocationId(inv), InvocationStatus.PENDING, "runner"
        )
        assert record.status == InvocationStatus.PENDING
        assert record.runner_id == "runner"
        assert lost["done"]
    finally:
        app.orchestrator.purge()


def test_an_unregistered_invocation_is_a_key_error(endpoint: LocalEndpointProcess) -> None:
    app = build_app(unique_app_id("race-k"), TABLE, endpoint.url)
    with pytest.raises(KeyError):
        app.orchestrator._atomic_status_transition(
            InvocationId("never-registered"), InvocationStatus.PENDING, "runner"
        )
    assert not issubclass(InvocationStatusRaceConditionError, KeyError)
