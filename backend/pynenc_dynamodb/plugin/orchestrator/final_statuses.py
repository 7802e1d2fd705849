"""What one orchestrator (one process) knows without asking the table again: the final
status of invocations it wrote or read, and the invocations that waited in this process.

A final status (SUCCESS, FAILED, CONCURRENCY_CONTROLLED_FINAL) has no transition out of
it, so once this process has seen one it holds until the orchestrator's items are purged.
Its ``waited`` flag is final too: a wait is flagged only while the waited invocation is not
final (a conditional write), so the final row tells whether anyone may wait for it.
"""

import threading
from collections import OrderedDict

from pynenc.invocation.status import InvocationStatus

from pynenc_dynamodb.table.orchestration import StatusRow

# Final statuses kept per orchestrator, least recently used dropped first.
FINAL_STATUS_CACHE_SIZE = 4096

FINAL_STATUSES: list[str] = [status.value for status in InvocationStatus if status.is_final()]


class FinalStatuses:
    """Final status rows by invocation id, and this process's waiters; thread-safe."""

    def __init__(self, size: int = FINAL_STATUS_CACHE_SIZE) -> None:
        self._rows: OrderedDict[str, StatusRow] = OrderedDict()
        self._waiters: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, invocation_id: str) -> StatusRow | None:
        with self._lock:
            row = self._rows.get(invocation_id)
            if row is not None:
                self._rows.move_to_end(invocation_id)
            return row

    def keep(self, row: StatusRow | None) -> None:
        """Keep ``row`` if its status is final (other statuses may change elsewhere)."""
        if row is None or row.status not in FINAL_STATUSES:
            return
        with self._lock:
            self._rows[row.invocation_id] = row
            self._rows.move_to_end(row.invocation_id)
            while len(self._rows) > self._size:
                self._rows.popitem(last=False)

    def waited_here(self, invocation_id: str) -> None:
        """``invocation_id`` registered a wait in this process: it has a blocking item."""
        with self._lock:
            self._waiters[invocation_id] = None
            while len(self._waiters) > self._size:
                self._waiters.popitem(last=False)

    def nothing_to_release(self, invocation_id: str) -> bool:
        """Whether the invocation is known final, never waited for, and never waited for
        anything in this process: then it has no blocking item to delete."""
        with self._lock:
            row = self._rows.get(invocation_id)
            if row is None or row.waited:
                return False
            return invocation_id not in self._waiters

    def forget(self, invocation_ids: list[str] | None = None) -> None:
        """Drop ``invocation_ids`` (every one for ``None``): their items were purged."""
        with self._lock:
            if invocation_ids is None:
                self._rows.clear()
                self._waiters.clear()
                return
            for invocation_id in invocation_ids:
                self._rows.pop(invocation_id, None)
                self._waiters.pop(invocation_id, None)
