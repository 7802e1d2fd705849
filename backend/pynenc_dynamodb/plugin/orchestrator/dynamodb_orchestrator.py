"""``DynamoDBOrchestrator`` for pynenc 0.1: invocation statuses, concurrency control,
blocking, retries, heartbeats, recovery and auto purge in the state table.

Every status transition is one conditional UpdateItem (see :mod:`.transitions`): two
runners can never both move an invocation to RUNNING. Running concurrency control is a
conditional claim of a running slot (see :mod:`.running_slots`), not a look-then-run.
Every listing and count is a Query of a key or an index shard, never a Scan.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cached_property
from time import time
from typing import TYPE_CHECKING

from pynenc.identifiers.invocation_id import InvocationId
from pynenc.invocation.status import InvocationStatus, InvocationStatusRecord
from pynenc.orchestrator.atomic_service import ActiveRunnerInfo
from pynenc.orchestrator.base_orchestrator import BaseOrchestrator

from pynenc_dynamodb.config_fields import build_store
from pynenc_dynamodb.plugin.conf import ConfigOrchestratorDynamoDB
from pynenc_dynamodb.plugin.orchestrator.blocking_control import DynamoDBBlockingControl
from pynenc_dynamodb.plugin.orchestrator.final_statuses import FINAL_STATUSES, FinalStatuses
from pynenc_dynamodb.plugin.orchestrator.heartbeat_pacing import HeartbeatPacing
from pynenc_dynamodb.plugin.orchestrator.running_slots import RunningSlots
from pynenc_dynamodb.plugin.orchestrator.transitions import atomic_transition, record_of
from pynenc_dynamodb.table.orchestration import Registration
from pynenc_dynamodb.table.orchestration_runtime import OrchestrationStore
from pynenc_dynamodb.table.schema import Key

if TYPE_CHECKING:
    from pynenc.identifiers.call_id import CallId
    from pynenc.identifiers.task_id import TaskId
    from pynenc.invocation.dist_invocation import DistributedInvocation
    from pynenc.task import Task
    from pynenc.types import Params, Result

# Auto purge deletes in rounds of this many invocations.
_PURGE_ROUND = 200


def _values(statuses: "list[InvocationStatus] | None") -> list[str] | None:
    return [status.value for status in statuses] if statuses else None


class DynamoDBOrchestrator(BaseOrchestrator):
    """
    pynenc orchestrator that keeps invocation statuses, concurrency-control indexes,
    blocking, retries and runner heartbeats in the DynamoDB table of
    :class:`~pynenc_dynamodb.DynamoDBStateBackend`.

    Select it with ``orchestrator_cls="DynamoDBOrchestrator"``; it reads the same
    ``dynamodb_*`` settings (:class:`~pynenc_dynamodb.ConfigOrchestratorDynamoDB`).

    :param Pynenc app: the pynenc app whose invocations it orchestrates
    """

    @cached_property
    def conf(self) -> ConfigOrchestratorDynamoDB:
        return ConfigOrchestratorDynamoDB(
            config_values=self.app.config_values,
            config_filepath=self.app.config_filepath,
        )

    @cached_property
    def store(self) -> OrchestrationStore:
        return build_store(self.conf, self.app.app_id, OrchestrationStore)

    @cached_property
    def heartbeat_pacing(self) -> HeartbeatPacing:
        return HeartbeatPacing()

    @cached_property
    def final_statuses(self) -> FinalStatuses:
        return FinalStatuses()

    @cached_property
    def blocking_control(self) -> DynamoDBBlockingControl:
        return DynamoDBBlockingControl(
            self.app,
            self.store,
            (
                self.conf.dynamodb_blocking_poll_seconds,
                self.conf.dynamodb_blocking_idle_poll_seconds,
            ),
            self.final_statuses,
        )

    @cached_property
    def running_slots(self) -> RunningSlots:
        return RunningSlots(self.store)

    # -- registration and statuses --------------------------------------------------------

    def _register_new_invocations(
        self,
        invocations: list["DistributedInvocation[Params, Result]"],
        runner_id: str | None = None,
    ) -> InvocationStatusRecord:
        record = InvocationStatusRecord(InvocationStatus.REGISTERED, runner_id)
        self.store.register(
            [
                Registration(
                    invocation_id=str(invocation.invocation_id),
                    task_id=invocation.task.task_id.key,
                    call_id=invocation.call.call_id.key,
                    status=record.status.value,
                    owner=record.runner_id,
                    timestamp=record.timestamp,
                )
                for invocation in invocations
            ]
        )
        return record

    def _atomic_status_transition(
        self, invocation_id: "InvocationId", status: InvocationStatus, runner_id: str | None = None
    ) -> InvocationStatusRecord:
        attempts = self.conf.dynamodb_transition_attempts
        row = atomic_transition(self.store, str(invocation_id), status, runner_id, attempts)
        # pynenc's trigger reads a final status back at once: answered from memory.
        self.final_statuses.keep(row)
        self.running_slots.left_running(str(invocation_id), status)
        return record_of(row)

    def is_authorize_to_run_by_concurrency_control(
        self, invocation: "DistributedInvocation[Params, Result]"
    ) -> bool:
        """Claim the invocation's running slot (see :mod:`.running_slots`): pynenc calls
        this right before moving it to RUNNING, and only one invocation per slot can win,
        across runners and processes. No request for a task without running concurrency.

        An invocation moved to RUNNING without this call (a direct status transition)
        holds no slot: pynenc's own look at the running invocations, after the claim,
        still refuses to run beside it.
        """
        if not self.running_slots.claim(invocation):
            return False
        if super().is_authorize_to_run_by_concurrency_control(invocation):
            return True
        self.running_slots.left_running(str(invocation.invocation_id), InvocationStatus.PENDING)
        return False

    def get_invocation_status_record(self, invocation_id: "InvocationId") -> InvocationStatusRecord:
        """One strongly consistent GetItem, none for a final status this process saw."""
        row = self.final_statuses.get(str(invocation_id))
        if row is None:
            row = self.store.status_row(str(invocation_id))
            if row is None:
                raise KeyError(f"Invocation {invocation_id} is not registered in the orchestrator")
            self.final_statuses.keep(row)
        return record_of(row)

    def filter_by_status(
        self, invocation_ids: list["InvocationId"], status_filter: frozenset[InvocationStatus]
    ) -> list["InvocationId"]:
        if not invocation_ids or status_filter is None:
            return []
        ids = [str(inv) for inv in invocation_ids]
        kept = self.store.filter_by_status(ids, [s.value for s in status_filter])
        return [InvocationId(inv) for inv in kept]

    def increment_invocation_retries(self, invocation_id: "InvocationId") -> None:
        self.store.add_retry(str(invocation_id))

    def get_invocation_retries(self, invocation_id: "InvocationId") -> int:
        return self.store.retries(str(invocation_id))

    # -- lookups, listings, counts --------------------------------------------------------

    def index_arguments_for_concurrency_control(
        self, invocation: "DistributedInvocation[Params, Result]"
    ) -> None:
        self.store.index_arguments(
            str(invocation.invocation_id),
            invocation.task.task_id.key,
            dict(invocation.call.serialized_arguments),
        )

    def get_existing_invocations(
        self,
        task: "Task[Params, Result]",
        key_serialized_arguments: dict[str, str] | None = None,
        statuses: "list[InvocationStatus] | None" = None,
    ) -> Iterator["InvocationId"]:
        task_key = task.task_id.key
        if key_serialized_arguments:
            found = self.store.invocations_with_arguments(
                task_key, key_serialized_arguments, _values(statuses)
            )
        else:
            found = self.store.task_invocation_ids(task_key, _values(statuses))
        for invocation_id in found:
            yield InvocationId(invocation_id)

    def get_task_invocation_ids(self, task_id: "TaskId") -> Iterator["InvocationId"]:
        for invocation_id in self.store.task_invocation_ids(task_id.key, None):
            yield InvocationId(invocation_id)

    def get_call_invocation_ids(self, call_id: "CallId") -> Iterator["InvocationId"]:
        for invocation_id in self.store.call_invocation_ids(call_id.key):
            yield InvocationId(invocation_id)

    def get_invocation_ids_paginated(
        self,
        task_id: "TaskId | None" = None,
        statuses: "list[InvocationStatus] | None" = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list["InvocationId"]:
        task_key = task_id.key if task_id else None
        ids = self.store.invocation_ids(task_key, _values(statuses), limit, max(0, offset))
        return [InvocationId(inv) for inv in ids]

    def count_invocations(
        self, task_id: "TaskId | None" = None, statuses: "list[InvocationStatus] | None" = None
    ) -> int:
        return self.store.count_invocations(task_id.key if task_id else None, _values(statuses))

    # -- auto purge, purge --------------------------------------------------------------

    def set_up_invocation_auto_purge(self, invocation_id: "InvocationId") -> None:
        """No request for an invocation this process knows final (pynenc calls this right
        after the final transition): its final status's index entry (gsi2, by status and
        time) is what :meth:`auto_purge` finds. Any other gets a marker (one PutItem)."""
        if self.final_statuses.get(str(invocation_id)) is not None:
            return
        self.store.mark_for_purge(str(invocation_id), datetime.now(UTC))

    def auto_purge(self) -> None:
        """Delete the orchestrator's items of the invocations final, or marked for purge,
        for longer than ``auto_final_invocation_purge_hours`` (their state stays in the
        backend): one Query per final status and shard (a key range of gsi2), and one per
        marker shard."""
        hours = self.conf.auto_final_invocation_purge_hours
        before = datetime.now(UTC) - timedelta(hours=hours)
        found: dict[str, list[Key]] = {}  # invocation id -> its markers
        for status in FINAL_STATUSES:
            for invocation_id, _ in self.store.invocations_in_status(status, before):
                found.setdefault(invocation_id, [])
        for invocation_id, marker in self.store.marked_before(before):
            found.setdefault(invocation_id, []).append(marker)
        ids = list(found)
        for start in range(0, len(ids), _PURGE_ROUND):
            batch = ids[start : start + _PURGE_ROUND]
            for invocation_id in batch:
                self.release_waiters(InvocationId(invocation_id))
            self.store.delete_invocations(batch, [key for inv in batch for key in found[inv]])
            self.final_statuses.forget(batch)

    def purge(self) -> None:
        self.final_statuses.forget()
        self.heartbeat_pacing.forget()
        self.store.purge_orchestration()

    # -- runners, recovery, atomic services ---------------------------------------------

    def register_runner_heartbeats(
        self, runner_ids: list[str], can_run_atomic_service: bool = False
    ) -> None:
        """One UpdateItem per runner, unless this process wrote the same runner's heartbeat
        within a twentieth of ``runner_considered_dead_after_minutes`` (see
        :mod:`.heartbeat_pacing`)."""
        now = time()
        window = self.app.conf.runner_considered_dead_after_minutes * 60
        due = self.heartbeat_pacing.due(runner_ids, can_run_atomic_service, now, window)
        ttl = self.conf.dynamodb_heartbeat_ttl_seconds
        try:
            self.store.heartbeat(due, now, can_run_atomic_service, ttl)
        except Exception:
            self.heartbeat_pacing.forget(due)
            raise

    def _get_active_runners(
        self, timeout_seconds: float, can_run_atomic_service: bool | None = None
    ) -> list[ActiveRunnerInfo]:
        cutoff = time() - timeout_seconds
        return [
            ActiveRunnerInfo(
                runner_id=row.runner_id,
                creation_time=datetime.fromtimestamp(row.created, tz=UTC),
                last_heartbeat=datetime.fromtimestamp(row.heartbeat, tz=UTC),
                allow_to_run_atomic_service=row.can_run_atomic_service,
                last_service_start=row.service_start,
                last_service_end=row.service_end,
            )
            for row in self.store.runners()
            if row.heartbeat >= cutoff
            and (
                can_run_atomic_service is None
                or row.can_run_atomic_service == can_run_atomic_service
            )
        ]

    def record_atomic_service_execution(
        self, runner_id: str, start_time: datetime, end_time: datetime
    ) -> None:
        self.store.record_atomic_service(runner_id, start_time, end_time)

    def get_pending_invocations_for_recovery(self) -> Iterator["InvocationId"]:
        before = datetime.now(UTC) - timedelta(seconds=self.app.conf.max_pending_seconds)
        for invocation_id, _ in self.store.invocations_in_status(
            InvocationStatus.PENDING.value, before
        ):
            yield InvocationId(invocation_id)

    def _get_running_invocations_for_recovery(
        self, timeout_seconds: float
    ) -> Iterator["InvocationId"]:
        cutoff = time() - timeout_seconds
        active = {row.runner_id for row in self.store.runners() if row.heartbeat >= cutoff}
        for invocation_id, owner in self.store.invocations_in_status(
            InvocationStatus.RUNNING.value
        ):
            if owner and owner not in active:
                yield InvocationId(invocation_id)
