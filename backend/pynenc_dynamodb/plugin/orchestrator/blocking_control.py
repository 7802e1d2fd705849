"""Blocking control of :class:`~pynenc_dynamodb.DynamoDBOrchestrator`: items keyed by the
awaited invocation (who waits for it) and by the waiter (what it waits for), waited
invocations indexed in gsi2 by the time of their first wait."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pynenc.identifiers.invocation_id import InvocationId
from pynenc.invocation.status import InvocationStatus
from pynenc.orchestrator.base_orchestrator import BaseBlockingControl

from pynenc_dynamodb.plugin.orchestrator.final_statuses import FINAL_STATUSES, FinalStatuses
from pynenc_dynamodb.table.orchestration_runtime import OrchestrationStore

if TYPE_CHECKING:
    from pynenc.app import Pynenc


class DynamoDBBlockingControl(BaseBlockingControl):
    """Who waits for whom, in the orchestrator's items of the state table.

    :param Pynenc app: the app
    :param OrchestrationStore store: the orchestrator's store of the app
    :param tuple[float, float] poll_seconds: after a look that found nothing, how long to
        wait before the next one (``dynamodb_blocking_poll_seconds``), and how long while
        the broker found its queue empty (``dynamodb_blocking_idle_poll_seconds``)
    :param FinalStatuses final_statuses: the final statuses the orchestrator saw, which
        tell whether a finished invocation has waiters to release
    """

    def __init__(
        self,
        app: "Pynenc",
        store: OrchestrationStore,
        poll_seconds: tuple[float, float],
        final_statuses: FinalStatuses,
    ) -> None:
        self.app = app
        self.store = store
        self.poll_seconds, idle = poll_seconds
        self.idle_poll_seconds = max(idle, self.poll_seconds)
        self.final_statuses = final_statuses
        self._empty_look_at: float | None = None  # monotonic time of the last empty look

    def waiting_for_results(
        self, caller_invocation_id: "InvocationId", result_invocation_ids: list["InvocationId"]
    ) -> None:
        """Two UpdateItems per awaited invocation not final yet (its status flagged as
        waited, its waiters), one for the caller."""
        waited = [str(inv) for inv in result_invocation_ids]
        caller = str(caller_invocation_id)
        self.final_statuses.waited_here(caller)
        self.store.wait(caller, waited, datetime.now(UTC), FINAL_STATUSES)
        self._empty_look_at = None  # a wait of our own: the next look goes out

    def release_waiters(self, waited_invocation_id: "InvocationId") -> None:
        """One DeleteItem, then one UpdateItem per waiter it had; no request for an
        invocation whose final status shows no waiter and that waited for nothing here."""
        if self.final_statuses.nothing_to_release(str(waited_invocation_id)):
            return
        self.store.release(str(waited_invocation_id))

    def get_blocking_invocations(self, max_num_invocations: int) -> Iterator["InvocationId"]:
        """Awaited invocations that wait for nothing and can run, oldest wait first; none
        without a request for ``poll_seconds`` after a look that found none
        (``idle_poll_seconds`` while the broker finds its queue empty)."""
        if max_num_invocations <= 0 or self._quiet():
            return
        self._empty_look_at = time.monotonic()
        found = 0
        for invocation_id, status in self.store.blocking_candidates():
            if status is None or not InvocationStatus(status).is_available_for_run():
                continue
            self._empty_look_at = None  # found some: there may be more next time
            yield InvocationId(invocation_id)
            found += 1
            if found >= max_num_invocations:
                return

    def _quiet(self) -> bool:
        """Whether the last look found none too recently for another."""
        if self._empty_look_at is None:
            return False
        idle = getattr(self.app.broker, "queue_seen_empty", False) is True
        interval = self.idle_poll_seconds if idle else self.poll_seconds
        return time.monotonic() - self._empty_look_at < interval
