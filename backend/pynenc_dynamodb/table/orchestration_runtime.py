"""The orchestrator's runtime items, at the level of plain strings: blocking (who waits for
whom), runner heartbeats and atomic service windows, auto-purge markers, and the purge of
every orchestrator item of an app."""

import contextlib
import heapq
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from pynenc_dynamodb.errors import ConditionFailedError
from pynenc_dynamodb.table import builders, schema
from pynenc_dynamodb.table import orchestration_builders as ob
from pynenc_dynamodb.table.builders import Item
from pynenc_dynamodb.table.orchestration import OrchestrationStatuses, StatusRow
from pynenc_dynamodb.table.schema import orchestration as orch

# Candidates checked per round of the blocking listing: one BatchGetItem of their items.
_BLOCKING_CHUNK = 50


@dataclass(frozen=True)
class RunnerRow:
    """A runner's heartbeat item."""

    runner_id: str
    created: float
    heartbeat: float
    can_run_atomic_service: bool
    service_start: datetime | None
    service_end: datetime | None


@dataclass(frozen=True)
class SlotRow:
    """A running slot as stored: the invocation holding it and the token of its claim."""

    holder: str
    token: str


class OrchestrationStore(OrchestrationStatuses):
    """Everything the orchestrator keeps for one app; see
    :class:`~pynenc_dynamodb.table.store_core.StoreCore` for its parameters."""

    # -- blocking control -----------------------------------------------------------

    def wait(
        self, waiter_id: str, waited_ids: list[str], now: datetime, final_statuses: list[str]
    ) -> list[str]:
        """``waiter_id`` waits for ``waited_ids``. Per waited invocation, one UpdateItem
        flags its status item as waited (so that its final transition knows whether there
        are waiters to release) unless it is final already, then one adds the waiter (and
        indexes it as waited from its first wait on); one more for the waiter. A waited
        invocation already final is left out: it will release nobody.

        :return: the waited invocations that were not final
        """
        waited = list(dict.fromkeys(waited_ids))
        if not waited:
            return []
        self.ensure_table()
        pending = []
        for waited_id in waited:
            status_key = orch.status_key(self.app_id, waited_id)
            try:
                self.client.update(ob.mark_waited(self.table, status_key, final_statuses))
            except ConditionFailedError as failed:
                row = StatusRow.of(failed.item or {})
                if row is not None and row.status in final_statuses:
                    continue
                # Not registered (yet): waited as before, released by a read-free delete.
            key = orch.blocking_key(self.app_id, waited_id)
            index = orch.waited_index_keys(self.app_id, waited_id, now)
            self.client.update(ob.add_waiter(self.table, key, waiter_id, index))
            pending.append(waited_id)
        if pending:
            key = orch.blocking_key(self.app_id, waiter_id)
            self.client.update(ob.add_waiting_for(self.table, key, pending))
        return pending

    def release(self, waited_id: str) -> list[str]:
        """``waited_id`` is done: delete its blocking item (one DeleteItem answering with
        its waiters) and take it out of what each waiter waits for.

        :return: the waiters that were waiting for it
        """
        self.ensure_table()
        key = orch.blocking_key(self.app_id, waited_id)
        old = self.client.delete(ob.delete_returning_old(self.table, key))
        waiters = sorted(old.get(orch.WAITERS, {}).get("SS", []))
        for waiter_id in waiters:
            waiter_key = orch.blocking_key(self.app_id, waiter_id)
            try:
                self.client.update(ob.remove_waiting_for(self.table, waiter_key, waited_id))
            except ConditionFailedError:
                continue  # the waiter is gone (finished, purged): nothing waits any more
        return waiters

    def blocking_candidates(self) -> Iterator[tuple[str, str | None]]:
        """``(invocation id, status)`` of the waited invocations that wait for nothing
        themselves, oldest wait first: gsi2's waited shards merged, then per chunk one
        BatchGetItem of their blocking and status items (status ``None``: unregistered)."""
        requests = [
            ob.query_index(self.table, schema.GSI2, pk, self.page_size)
            for pk in orch.waited_partitions(self.app_id)
        ]
        streams = [self._index_sort_keys(items) for items in self._fan_out(requests)]
        chunk: list[str] = []
        for _, invocation_id in heapq.merge(*streams):
            chunk.append(invocation_id)
            if len(chunk) == _BLOCKING_CHUNK:
                yield from self._not_waiting(chunk)
                chunk = []
        if chunk:
            yield from self._not_waiting(chunk)

    def _index_sort_keys(self, items: Iterator[Item]) -> Iterator[tuple[str, str]]:
        for item in items:
            sort_key = item[schema.GSI2_SK]["S"]
            yield orch.time_of_index_key(sort_key), orch.invocation_of_index_key(sort_key)

    def _not_waiting(self, invocation_ids: list[str]) -> Iterator[tuple[str, str | None]]:
        keys = [orch.blocking_key(self.app_id, inv) for inv in invocation_ids]
        keys += [orch.status_key(self.app_id, inv) for inv in invocation_ids]
        waiting: set[str] = set()
        statuses: dict[str, str] = {}
        attributes = [orch.WAITING_FOR, orch.STATUS]
        for request in ob.batch_get_attributes(self.table, keys, attributes):
            for item in self.client.batch_get(request):
                sort_key = item[schema.SK]["S"]
                if sort_key.endswith("#B") and item.get(orch.WAITING_FOR, {}).get("SS"):
                    waiting.add(orch.invocation_of_blocking_key(sort_key))
                elif orch.STATUS in item:
                    statuses[orch.invocation_of_status_key(sort_key)] = item[orch.STATUS]["S"]
        for inv in invocation_ids:
            if inv not in waiting:
                yield inv, statuses.get(inv)

    # -- runners ----------------------------------------------------------------------

    def heartbeat(
        self, runner_ids: list[str], now: float, can_run_atomic_service: bool, ttl_seconds: int
    ) -> None:
        """One UpdateItem per runner: its heartbeat and eligibility, its creation time
        kept from the first one, its expiry ``ttl_seconds`` from ``now``."""
        if not runner_ids:
            return
        self.ensure_table()
        expires_at = math.ceil(now) + ttl_seconds
        for runner_id in dict.fromkeys(runner_ids):
            key = orch.heartbeat_key(self.app_id, runner_id)
            request = ob.heartbeat(self.table, key, now, can_run_atomic_service, expires_at)
            self.client.update(request)

    def runners(self) -> list[RunnerRow]:
        """Every runner with a heartbeat, oldest first: one Query per shard. An item past
        its expiry is left out (the table's TTL deletes it up to days late)."""
        rows = []
        requests = [
            builders.query_partition(self.table, pk, self.page_size)
            for pk in orch.heartbeat_partitions(self.app_id)
        ]
        for items in self._fan_out(requests):
            for item in items:
                if orch.HEARTBEAT in item and orch.CREATED in item:
                    rows.append(_runner_row(item))
        return sorted(rows, key=lambda row: (row.created, row.runner_id))

    def record_atomic_service(self, runner_id: str, start: datetime, end: datetime) -> bool:
        """Record a runner's atomic service window, conditionally: only on a runner with a
        heartbeat, and never older than the one recorded.

        :return: whether it was recorded
        """
        self.ensure_table()
        key = orch.heartbeat_key(self.app_id, runner_id)
        request = ob.atomic_service_execution(
            self.table, key, schema.timestamp_component(start), schema.timestamp_component(end)
        )
        try:
            self.client.update(request)
        except ConditionFailedError:
            return False
        return True

    # -- auto purge and purge -----------------------------------------------------------

    def mark_for_purge(self, invocation_id: str, now: datetime) -> None:
        """One PutItem: a marker sorted by time in the invocation's purge shard."""
        self.ensure_table()
        key = orch.purge_marker_key(self.app_id, invocation_id, now)
        self.client.put(builders.put_item(self.table, builders.build_item(key, {}, None)))

    def marked_before(self, before: datetime) -> Iterator[tuple[str, schema.Key]]:
        """``(invocation id, marker key)`` of the markers older than ``before``: one
        Query per purge shard, a key range (no filter reads newer markers)."""
        bound = orch.time_upper_bound(before)
        requests = [
            ob.query_partition_below(self.table, pk, bound, self.page_size)
            for pk in orch.purge_marker_partitions(self.app_id)
        ]
        for items in self._fan_out(requests):
            for item in items:
                yield orch.invocation_of_index_key(item[schema.SK]["S"]), builders.key_of(item)

    def delete_invocations(self, invocation_ids: list[str], extra: list[schema.Key]) -> int:
        """Delete every orchestrator item of ``invocation_ids`` (status, registration,
        argument items, blocking) and the keys of ``extra``: one BatchGetItem per 50
        invocations to find their call and arguments, then BatchWriteItems of 25.

        :return: how many keys were deleted
        """
        ids = list(dict.fromkeys(invocation_ids))
        self.ensure_table()
        keys: list[schema.Key] = list(extra)
        for start in range(0, len(ids), 50):
            chunk = ids[start : start + 50]
            lookups = [orch.status_key(self.app_id, inv) for inv in chunk]
            lookups += [orch.args_record_key(self.app_id, inv) for inv in chunk]
            for request in ob.batch_get_attributes(
                self.table, lookups, [orch.TASK, orch.CALL, orch.ARG_TOKENS]
            ):
                for item in self.client.batch_get(request):
                    keys.extend(self._keys_found_from(item))
            for inv in chunk:
                keys.append(orch.status_key(self.app_id, inv))
                keys.append(orch.args_record_key(self.app_id, inv))
                keys.append(orch.blocking_key(self.app_id, inv))
        distinct = {(k[schema.PK]["S"], k[schema.SK]["S"]): k for k in keys}
        return self._delete(list(distinct.values()))

    def _keys_found_from(self, item: Item) -> list[schema.Key]:
        """The registration (from a status item) or argument items (from an args record)
        that an invocation's item points at."""
        sort_key = item[schema.SK]["S"]
        inv = orch.invocation_of_status_key(sort_key)
        if sort_key.endswith("#S") and orch.CALL in item:
            return [orch.registration_key(self.app_id, item[orch.CALL]["S"], inv)]
        if sort_key.endswith("#G") and orch.TASK in item:
            task = item[orch.TASK]["S"]
            tokens = item.get(orch.ARG_TOKENS, {}).get("SS", [])
            return [orch.arg_key(self.app_id, task, token, inv) for token in tokens]
        return []

    # -- running slots (running concurrency control) ----------------------------------

    def claim_running_slot(
        self, slot: schema.Key, holder: str, token: str, replacing: str | None = None
    ) -> SlotRow | None:
        """Claim ``slot`` for ``holder`` with one conditional PutItem (see
        :func:`~.orchestration_builders.claim_running_slot`).

        :return: ``None`` if ``holder`` has it now, else the slot as it is (its holder
            and token; ``SlotRow("", "")`` if it was freed in between)
        """
        self.ensure_table()
        try:
            self.client.put(ob.claim_running_slot(self.table, slot, holder, token, replacing))
        except ConditionFailedError as failed:
            item = failed.item or {}
            row = SlotRow(
                holder=item.get(orch.HOLDER, {}).get("S", ""),
                token=item.get(orch.TOKEN, {}).get("S", ""),
            )
            # A resent claim that had been applied meets its own token.
            return None if row.token == token else row
        return None

    def release_running_slot(self, slot: schema.Key, token: str) -> None:
        """Free ``slot`` if it is still the claim of ``token`` (one conditional
        DeleteItem; a slot claimed since by another stays)."""
        self.ensure_table()
        # A failed condition: freed already (a resent delete) or claimed by another since.
        with contextlib.suppress(ConditionFailedError):
            self.client.delete(ob.release_running_slot(self.table, slot, token))

    def purge_orchestration(self) -> int:
        """Delete every orchestrator item of the app, partition by partition (the state
        and the client data are kept).

        :return: how many items were deleted
        """
        requests = [
            builders.query_partition(self.table, pk, 1000, keys_only=True)
            for pk in orch.orchestrator_partitions(self.app_id)
        ]
        # Expired items are deleted too: unlike reads, a purge must not skip them.
        keys: list[schema.Key] = []
        for request, (items, last) in zip(requests, self._first_pages(requests), strict=True):
            keys.extend(builders.key_of(item) for item in items)
            if last is not None:
                more = self._query_all({**request, "ExclusiveStartKey": last})
                keys.extend(builders.key_of(item) for item in more)
        return self._delete(keys)


def _runner_row(item: Item) -> RunnerRow:
    def time_of(name: str) -> datetime | None:
        return orch.parse_time(item[name]["S"]) if name in item else None

    return RunnerRow(
        runner_id=schema.unescape(item[schema.SK]["S"]),
        created=float(item[orch.CREATED]["N"]),
        heartbeat=float(item[orch.HEARTBEAT]["N"]),
        can_run_atomic_service=bool(item.get(orch.ATOMIC, {}).get("BOOL", False)),
        service_start=time_of(orch.SERVICE_START),
        service_end=time_of(orch.SERVICE_END),
    )
