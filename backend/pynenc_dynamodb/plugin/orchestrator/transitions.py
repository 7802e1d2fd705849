"""pynenc's status state machine as conditional writes: which current statuses a
transition may start from, who must own them, and what the new owner is, so the write
itself enforces the rules and two runners can never both make the same move."""

import uuid
from datetime import UTC, datetime

from pynenc.exceptions import InvocationStatusRaceConditionError
from pynenc.invocation.status import (
    InvocationStatus,
    InvocationStatusRecord,
    get_status_definition,
    status_record_transition,
)

from pynenc_dynamodb.errors import ConditionFailedError
from pynenc_dynamodb.table import orchestration_builders as ob
from pynenc_dynamodb.table.orchestration import KEEP_OWNER, OrchestrationStatuses, StatusRow


def sources(target: InvocationStatus, runner_id: str | None) -> tuple[list[str], list[str]]:
    """The statuses ``target`` may be reached from by ``runner_id``: freely, and only as
    the owner. Mirrors ``pynenc.invocation.status.status_record_transition``."""
    target_definition = get_status_definition(target)
    allowed = [s for s in InvocationStatus if s.can_transition_to(target)]
    if target_definition.overrides_ownership:
        return [s.value for s in allowed], []
    owned = [s.value for s in allowed if get_status_definition(s).requires_ownership]
    free = [s.value for s in allowed if not get_status_definition(s).requires_ownership]
    if target_definition.acquires_ownership and not runner_id:
        free = []  # pynenc refuses: acquiring ownership needs a runner
    return free, owned


def new_owner(target: InvocationStatus, runner_id: str | None) -> object:
    """The owner after a transition to ``target``: released, taken, or kept."""
    definition = get_status_definition(target)
    if definition.releases_ownership:
        return None
    if definition.acquires_ownership:
        return runner_id
    return KEEP_OWNER


def record_of(row: StatusRow) -> InvocationStatusRecord:
    return InvocationStatusRecord(InvocationStatus(row.status), row.owner, row.timestamp)


def atomic_transition(
    store: OrchestrationStatuses,
    invocation_id: str,
    target: InvocationStatus,
    runner_id: str | None,
    attempts: int,
) -> StatusRow:
    """Move ``invocation_id`` to ``target`` with conditional writes, no read first.

    The first write carries the whole rule as its condition (from which statuses, owned by
    whom). If it fails, DynamoDB answers with the item as it was: pynenc's own validation
    of that state raises the error pynenc would (transition, ownership), or, if the state
    does allow the move (a rule the condition cannot express), one write conditional on
    that item's version follows. A resent write that had been applied is recognised by
    its token.

    :return: the status item as written
    :raises KeyError: if the invocation is not registered
    :raises InvocationStatusError: as pynenc's validation decides
    """
    free, owned = sources(target, runner_id)
    last: StatusRow | None = None
    for _ in range(max(1, attempts)):
        token = uuid.uuid4().hex
        now = datetime.now(UTC)
        if free or (owned and runner_id is not None):
            try:
                return store.transition(
                    invocation_id,
                    status=target.value,
                    timestamp=now,
                    owner=new_owner(target, runner_id),
                    token=token,
                    condition=ob.status_condition(free, owned, runner_id),
                )
            except ConditionFailedError as failed:
                last = StatusRow.of(failed.item or {})
        else:
            # No current state allows it without a read: read, and let pynenc decide.
            last = store.status_row(invocation_id)
        if last is None:
            raise KeyError(f"Invocation {invocation_id} is not registered in the orchestrator")
        if last.token == token:
            return last  # our write was applied; its answer was lost
        decided = status_record_transition(record_of(last), target, runner_id)
        try:
            owner: object = decided.runner_id
            return store.transition(
                invocation_id,
                status=target.value,
                timestamp=now,
                owner=owner,
                token=token,
                condition=ob.version_condition(last.version),
            )
        except ConditionFailedError as failed:
            again = StatusRow.of(failed.item or {})
            if again is not None and again.token == token:
                return again
    current = record_of(last) if last else InvocationStatusRecord(target)
    raise InvocationStatusRaceConditionError(
        invocation_id, current, InvocationStatusRecord(target, runner_id), current
    )
