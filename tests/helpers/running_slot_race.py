"""One racer of tests/plugin/test_running_slots.py, run in a thread or a spawned process:
what pynenc's runner does with the invocations it retrieves (PENDING, the running
concurrency check, RUNNING, SUCCESS; REROUTED when refused), until every one is done.
``active`` counts the racers between authorization and SUCCESS, ``peak`` keeps its maximum."""

import time
from types import SimpleNamespace
from typing import Any

from pynenc.arguments import Arguments
from pynenc.call import Call
from pynenc.conf.config_task import ConcurrencyControlType
from pynenc.exceptions import InvocationStatusError
from pynenc.identifiers.invocation_id import InvocationId
from pynenc.invocation.status import InvocationStatus

from tests.helpers.orchestrator_race import build_app


def limited(n: int) -> int:
    return n


def limited_task(app: Any, concurrency: ConcurrencyControlType) -> Any:
    """``limited`` as a task of ``app`` whose running concurrency (and, since pynenc takes
    the key arguments from it, registration concurrency) is ``concurrency``."""
    options = {"running_concurrency": concurrency, "registration_concurrency": concurrency}
    return app.task(**options)(limited)


def invocation(task: Any, invocation_id: str, n: int) -> Any:
    """What the orchestrator's running concurrency check reads of an invocation."""
    call = Call(task, Arguments({"n": n}))
    return SimpleNamespace(invocation_id=InvocationId(invocation_id), task=task, call=call)


def run_all(
    app: Any, task: Any, work: list[tuple[str, int]], *, racer: str, active: Any, peak: Any
) -> list[str]:
    """Run every invocation of ``work`` (id, argument) that this racer gets first.

    :return: the ids this racer ran
    """
    orchestrator = app.orchestrator
    ran: list[str] = []
    left = dict(work)
    while left:
        for inv, n in list(left.items()):
            inv_id = InvocationId(inv)
            if orchestrator.get_invocation_status(inv_id) == InvocationStatus.SUCCESS:
                del left[inv]
                continue
            try:
                orchestrator._atomic_status_transition(inv_id, InvocationStatus.PENDING, racer)
            except InvocationStatusError:
                continue  # another racer has it
            if not orchestrator.is_authorize_to_run_by_concurrency_control(
                invocation(task, inv, n)
            ):
                orchestrator._atomic_status_transition(inv_id, InvocationStatus.REROUTED, racer)
                continue
            # Counted from its authorization on: the RUNNING time, and the window before
            # it in which pynenc's own check lets a second invocation through.
            with active.get_lock():
                active.value += 1
                peak.value = max(peak.value, active.value)
            time.sleep(0.01)  # a runner slow to start it
            orchestrator._atomic_status_transition(inv_id, InvocationStatus.RUNNING, racer)
            time.sleep(0.01)  # a task that takes a while
            with active.get_lock():
                active.value -= 1
            orchestrator._atomic_status_transition(inv_id, InvocationStatus.SUCCESS, racer)
            ran.append(inv)
    return ran


def race_process(
    *,
    app_id: str,
    table: str,
    endpoint_url: str,
    work: list[tuple[str, int]],
    racer: str,
    active: Any,
    peak: Any,
    results: Any,
) -> None:
    """:func:`run_all` in a spawned process with its own app; its ids go to ``results``."""
    app = build_app(app_id, table, endpoint_url)
    task = limited_task(app, ConcurrencyControlType.TASK)
    results.put(run_all(app, task, work, racer=racer, active=active, peak=peak))
