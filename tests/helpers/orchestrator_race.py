"""One racer of tests/plugin/test_orchestrator_races.py, run in a spawned process: the
same invocations, claimed by this process's runners through its own app and client."""

from pynenc import PynencBuilder
from pynenc.exceptions import InvocationStatusError
from pynenc.identifiers.invocation_id import InvocationId
from pynenc.invocation.status import InvocationStatus


def build_app(app_id: str, table: str, endpoint_url: str):  # type: ignore[no-untyped-def]
    """An app of ``app_id`` whose state and orchestrator are in ``table`` (the broker stays
    pynenc's memory one: these tests route nothing)."""
    builder = PynencBuilder().app_id(app_id)
    builder = builder.dynamodb(table=table, endpoint_url=endpoint_url, state_only=True)
    return builder.custom_config(orchestrator_cls="DynamoDBOrchestrator").build()


def claim(app, invocation_id: str, runner_id: str) -> bool:  # type: ignore[no-untyped-def]
    """What a runner does with an invocation it retrieved: PENDING, then RUNNING.

    :return: whether this runner moved it to RUNNING
    """
    orchestrator = app.orchestrator
    inv = InvocationId(invocation_id)
    try:
        orchestrator._atomic_status_transition(inv, InvocationStatus.PENDING, runner_id)
        orchestrator._atomic_status_transition(inv, InvocationStatus.RUNNING, runner_id)
    except InvocationStatusError:
        return False
    return True


def race(app_id: str, table: str, endpoint_url: str, ids: list[str], racer: str) -> list[str]:
    """Claim every id of ``ids`` as runner ``racer``; the ids this process won."""
    app = build_app(app_id, table, endpoint_url)
    return [inv for inv in ids if claim(app, inv, racer)]
