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

from pynenc_dynamodb.table.orchestration_runtime import OrchestrationStore

if TYPE_CHECKING:
    from pynenc.app import Pynenc


class DynamoDBBlockingControl(BaseBlockingControl):
    """Who waits for whom, in the orchestrator's items of the state table.

    :param Pynenc app: the app
    :param OrchestrationStore store: the orchestrator's store of the app
    :param float poll_seconds: after a look that found nothing, how long to wait before
        the next one (``dynamodb_blocking_poll_seconds``)
    """

    def __init__(self, app: "Pynenc", store: OrchestrationStore, poll_seconds: float) -> None:
        self.app = app
        self.store = store
        self.poll_seconds = poll_seconds
        self._quiet_until = 0.0

    def waiting_for_results(
        self, caller_invocation_id: "InvocationId", result_invocation_ids: list["InvocationId"]
    ) -> None:
        """One UpdateItem per awaited invocation, one for the caller."""
        waited = [str(inv) for inv in result_invocation_ids]
        self.store.wait(str(caller_invocation_id), waited, datetime.now(UTC))
        self._quiet_until = 0.0  # a wait of our own: the next look goes out

    def release_waiters(self, waited_invocation_id: "InvocationId") -> None:
        """One DeleteItem, then one UpdateItem per waiter it had."""
        self.store.release(str(waited_invocation_id))

    def get_blocking_invocations(self, max_num_invocations: int) -> Iterator["InvocationId"]:
        """Awaited invocations that wait for nothing and can run, oldest wait first; none
        without a request for ``poll_seconds`` after a look that found none."""
        if max_num_invocations <= 0 or time.monotonic() < self._quiet_until:
            return
        self._quiet_until = time.monotonic() + self.poll_seconds
        found = 0
        for invocation_id, status in self.store.blocking_candidates():
            if status is None or not InvocationStatus(status).is_available_for_run():
                continue
            self._quiet_until = 0.0  # found some: there may be more next time
            yield InvocationId(invocation_id)
            found += 1
            if found >= max_num_invocations:
                return
