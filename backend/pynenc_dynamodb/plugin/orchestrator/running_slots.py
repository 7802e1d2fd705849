"""Atomic running concurrency control: a running slot per concurrency key.

pynenc 0.1 checks ``running_concurrency`` by looking for a RUNNING invocation and then
moving its own to RUNNING: two runners can both see none and both run. Here the check is
a conditional write instead: the invocation that moves to RUNNING first claims its slot
(the task's, or the task's and its key arguments'), and only the holder may run.

A slot records its holder and the token of the claim. The claim succeeds if the slot is
free or already the invocation's; if another holds it, the holder's status is read: a
PENDING or RUNNING holder keeps it (PENDING: it claimed and is about to run), any other
status means the holder left RUNNING without freeing it (its runner died, or another
process moved it on: recovery, kill), and the slot is taken over conditionally on the
token read, so a holder that claimed again in between keeps it. A holder frees its slot
when it leaves RUNNING in the process that claimed it (one conditional DeleteItem).
"""

import threading
import uuid
from typing import TYPE_CHECKING

from pynenc.conf.config_task import ConcurrencyControlType
from pynenc.invocation.status import InvocationStatus

from pynenc_dynamodb.table import schema
from pynenc_dynamodb.table.orchestration_runtime import OrchestrationStore
from pynenc_dynamodb.table.schema import orchestration as orch

if TYPE_CHECKING:
    from pynenc.invocation.dist_invocation import DistributedInvocation
    from pynenc.types import Params, Result

# The statuses in which a holder keeps its slot.
_HOLDING = frozenset({InvocationStatus.PENDING.value, InvocationStatus.RUNNING.value})
# Takeovers of a stale slot tried before giving up (each one lost to another claimant).
_TAKEOVER_ATTEMPTS = 3


class RunningSlots:
    """The running slots claimed and freed by one orchestrator (one process).

    :param OrchestrationStore store: the orchestrator's store
    """

    def __init__(self, store: OrchestrationStore) -> None:
        self.store = store
        # invocation id -> (slot key, claim token) of the slots this process holds
        self._held: dict[str, tuple[schema.Key, str]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def slot_of(invocation: "DistributedInvocation[Params, Result]", app_id: str) -> schema.Key:
        """The slot of an invocation. Its key arguments are pynenc's own
        (``call.serialized_args_for_concurrency_check``, ``None`` for a whole task), so
        the slot guards exactly what pynenc's check guards."""
        return orch.running_slot_key(
            app_id,
            invocation.task.task_id.key,
            invocation.call.serialized_args_for_concurrency_check,
        )

    def claim(self, invocation: "DistributedInvocation[Params, Result]") -> bool:
        """Claim the invocation's slot; ``False`` if another invocation holds it.

        :return: whether the invocation may move to RUNNING
        """
        if invocation.task.conf.running_concurrency == ConcurrencyControlType.DISABLED:
            return True
        invocation_id = str(invocation.invocation_id)
        slot = self.slot_of(invocation, self.store.app_id)
        token = uuid.uuid4().hex
        current = self.store.claim_running_slot(slot, invocation_id, token)
        takeovers = 0
        while current is not None:
            replacing: str | None = None  # the slot was freed in between: claim it anew
            if current.holder:
                holder = self.store.status_row(current.holder)
                if holder is not None and holder.status in _HOLDING:
                    invocation.task.logger.info(
                        "invocation:%s cannot run: invocation:%s holds its running slot (%s)",
                        invocation_id,
                        current.holder,
                        holder.status,
                    )
                    return False
                replacing = current.token
            if takeovers == _TAKEOVER_ATTEMPTS:
                return False
            takeovers += 1
            current = self.store.claim_running_slot(slot, invocation_id, token, replacing)
        with self._lock:
            self._held[invocation_id] = (slot, token)
        return True

    def left_running(self, invocation_id: str, status: InvocationStatus) -> None:
        """The invocation moved to ``status``: free its slot if it left RUNNING and this
        process holds it (nothing to do, no request, for every other invocation)."""
        if status == InvocationStatus.RUNNING:
            return
        with self._lock:
            held = self._held.pop(invocation_id, None)
        if held is not None:
            self.store.release_running_slot(*held)
