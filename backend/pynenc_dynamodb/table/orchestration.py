"""The orchestrator's statuses in the state table, at the level of plain strings: the
pynenc adapter (``plugin/orchestrator``) decides what a transition may do, this module
writes it with a condition so that two writers can never both make it.

Per invocation: a status item (status, owner, version, task, call, retries), indexed by
task and status (gsi1) and by status (gsi2); a registration item in its call's partition,
indexed by task (gsi1) and app-wide (gsi2) by time; with concurrency control, one item per
argument value. See :mod:`pynenc_dynamodb.table.schema.orchestration` for the keys.
"""

import heapq
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from pynenc_dynamodb.aws.dynamodb import query_page
from pynenc_dynamodb.aws.per_process import PerProcess
from pynenc_dynamodb.errors import ConditionFailedError
from pynenc_dynamodb.table import builders, schema
from pynenc_dynamodb.table import orchestration_builders as ob
from pynenc_dynamodb.table.builders import Item
from pynenc_dynamodb.table.schema import orchestration as orch
from pynenc_dynamodb.table.store_core import StoreCore

KEEP_OWNER = ob.KEEP_OWNER
# The shard Queries of one listing go out together: two round trips instead of 16 in a
# row. 8 threads: botocore keeps 10 connections per client, and a pool wider than that
# would open and discard connections. A pool per process (threads do not survive a fork).
_FAN_OUT: PerProcess[ThreadPoolExecutor] = PerProcess(
    lambda: ThreadPoolExecutor(8, thread_name_prefix="pynenc-dynamodb-shards")
)


@dataclass(frozen=True)
class Registration:
    """A new invocation: what its status and registration items are built from."""

    invocation_id: str
    task_id: str
    call_id: str
    status: str
    owner: str | None
    timestamp: datetime


@dataclass(frozen=True)
class StatusRow:
    """A status item as stored."""

    invocation_id: str
    status: str
    owner: str | None
    timestamp: datetime
    version: int
    token: str | None
    waited: bool = False

    @classmethod
    def of(cls, item: Item) -> "StatusRow | None":
        """The row of a status item; ``None`` for a missing item or one with no status
        (a retry counter written before its registration)."""
        if not item or orch.STATUS not in item:
            return None
        owner = item.get(schema.OWNER)
        token = item.get(orch.TOKEN)
        return cls(
            invocation_id=orch.invocation_of_status_key(item[schema.SK]["S"]),
            status=item[orch.STATUS]["S"],
            owner=owner["S"] if owner else None,
            timestamp=orch.parse_time(item[orch.STATUS_TIME]["S"]),
            version=int(item[orch.VERSION]["N"]),
            token=token["S"] if token else None,
            waited=bool(item.get(orch.WAITED, {}).get("BOOL", False)),
        )


class OrchestrationStatuses(StoreCore):
    """Statuses, registrations, retries and the argument index of one app."""

    required_indexes = frozenset({schema.GSI1, schema.GSI2})

    # -- shard fan-out ------------------------------------------------------------------

    def _first_pages(
        self, requests: list[builders.Request]
    ) -> list[tuple[list[Item], Item | None]]:
        """The first page of each Query (items, and the key to resume from), all sent
        together."""
        self.ensure_table()
        return list(_FAN_OUT.get().map(lambda r: query_page(self.client, r), requests))

    def _fan_out(self, requests: list[builders.Request]) -> list[Iterator[Item]]:
        """The items of each Query: the first pages fetched concurrently, the next ones
        lazily, in order, when a caller reads that far."""
        pages = self._first_pages(requests)
        return [
            self._rest(r, items, last) for r, (items, last) in zip(requests, pages, strict=True)
        ]

    def _rest(
        self, request: builders.Request, first: list[Item], last: Item | None
    ) -> Iterator[Item]:
        yield from (item for item in first if not builders.is_expired(item))
        if last is not None:
            yield from self._query({**request, "ExclusiveStartKey": last})

    def _count_all(self, requests: list[builders.Request]) -> int:
        self.ensure_table()
        return sum(_FAN_OUT.get().map(self.client.count, requests))

    # -- registration and transitions -----------------------------------------------

    def register(self, registrations: list[Registration]) -> None:
        """Register invocations not registered yet: one conditional PutItem each for the
        status, then their registrations in BatchWriteItems (idempotent)."""
        self.ensure_table()
        new: list[Item] = []
        for reg in registrations:
            item = {
                **orch.status_key(self.app_id, reg.invocation_id),
                **self._status_attributes(
                    reg.task_id, reg.invocation_id, reg.status, reg.timestamp
                ),
                orch.TASK: {"S": reg.task_id},
                orch.CALL: {"S": reg.call_id},
                orch.VERSION: {"N": "0"},
            }
            if reg.owner is not None:
                item[schema.OWNER] = {"S": reg.owner}
            try:
                self.client.put(ob.register_status(self.table, item))
            except ConditionFailedError:
                continue  # registered already: keep its status
            new.append(
                {
                    **orch.registration_key(self.app_id, reg.call_id, reg.invocation_id),
                    **orch.registration_index_keys(
                        self.app_id, reg.task_id, reg.invocation_id, reg.timestamp
                    ),
                }
            )
        self._write(new)

    def _status_attributes(
        self, task_id: str, invocation_id: str, status: str, timestamp: datetime
    ) -> Item:
        return {
            orch.STATUS: {"S": status},
            orch.STATUS_TIME: {"S": schema.timestamp_component(timestamp)},
            **orch.status_index_keys(self.app_id, task_id, invocation_id, status, timestamp),
        }

    def transition(
        self,
        invocation_id: str,
        *,
        status: str,
        timestamp: datetime,
        owner: object,
        token: str,
        condition: tuple[str, dict[str, str], dict[str, dict[str, str]]],
    ) -> StatusRow:
        """Move an invocation to ``status`` in one conditional UpdateItem.

        :param owner: the new owner, ``None`` to release, :data:`KEEP_OWNER` to keep it
        :param token: unique per attempt; the row written carries it
        :param condition: from :func:`.orchestration_builders.status_condition` or
            :func:`.orchestration_builders.version_condition`
        :raises ConditionFailedError: if the condition did not hold; its ``item`` is the
            status item as it was (``None`` if the invocation is not registered)
        """
        self.ensure_table()
        key = orch.status_key(self.app_id, invocation_id)
        index_keys = orch.status_change_index_keys(self.app_id, invocation_id, status, timestamp)
        request = ob.transition(
            self.table,
            key,
            status=status,
            status_time=schema.timestamp_component(timestamp),
            index_keys=index_keys,
            owner=owner,
            token=token,
            condition=condition,
        )
        row = StatusRow.of(self.client.update(request))
        if row is None:  # pragma: no cover - the condition requires a status
            raise ConditionFailedError("UpdateItem")
        return row

    def status_item(self, invocation_id: str) -> Item | None:
        """The invocation's status item as stored (one strongly consistent GetItem)."""
        self.ensure_table()
        key = orch.status_key(self.app_id, invocation_id)
        return self.client.get(builders.get_item(self.table, key))

    def status_row(self, invocation_id: str) -> StatusRow | None:
        return StatusRow.of(self.status_item(invocation_id) or {})

    # -- retries --------------------------------------------------------------------

    def add_retry(self, invocation_id: str) -> None:
        """One atomic ADD on the status item: concurrent increments never lose one."""
        self.ensure_table()
        key = orch.status_key(self.app_id, invocation_id)
        self.client.update(ob.add_to_number(self.table, key, orch.RETRIES))

    def retries(self, invocation_id: str) -> int:
        self.ensure_table()
        key = orch.status_key(self.app_id, invocation_id)
        item = self.client.get(ob.get_attributes(self.table, key, [orch.RETRIES])) or {}
        return int(item[orch.RETRIES]["N"]) if orch.RETRIES in item else 0

    # -- arguments of concurrency control ---------------------------------------------

    def index_arguments(self, invocation_id: str, task_id: str, arguments: dict[str, str]) -> None:
        """One item per argument value, each holding every token of the invocation (so a
        match on several arguments reads one of them), and the list of tokens beside the
        status; BatchWriteItems of 25."""
        tokens = sorted({orch.arg_token(key, value) for key, value in arguments.items()})
        if not tokens:
            return
        self.ensure_table()
        all_tokens = {orch.ARG_TOKENS: {"SS": tokens}}
        items: list[Item] = [
            {**orch.arg_key(self.app_id, task_id, token, invocation_id), **all_tokens}
            for token in tokens
        ]
        items.append(
            {
                **orch.args_record_key(self.app_id, invocation_id),
                **all_tokens,
                orch.TASK: {"S": task_id},
            }
        )
        self._write(items)

    def invocations_with_arguments(
        self, task_id: str, arguments: dict[str, str], statuses: list[str] | None
    ) -> Iterator[str]:
        """Invocations of ``task_id`` indexed with every one of ``arguments`` (and in one
        of ``statuses``): one Query of the first argument's partition, then the statuses
        of the matches, 100 per BatchGetItem. Strongly consistent."""
        tokens = {orch.arg_token(key, value) for key, value in arguments.items()}
        first = min(tokens)
        prefix = orch.arg_prefix(self.app_id, task_id, first)
        matches: list[str] = []
        for item in self._query(builders.query_prefix(self.table, prefix, self.page_size)):
            if tokens <= set(item.get(orch.ARG_TOKENS, {}).get("SS", [])):
                matches.append(orch.invocation_of_index_key(item[schema.SK]["S"]))
        yield from self.filter_by_status(matches, statuses)

    def filter_by_status(self, invocation_ids: list[str], statuses: list[str] | None) -> list[str]:
        """The registered ones of ``invocation_ids`` in one of ``statuses`` (any status for
        ``None``), in the order given; 100 statuses per BatchGetItem."""
        found = self._statuses(invocation_ids)
        wanted = set(statuses) if statuses is not None else None
        return [
            inv
            for inv in dict.fromkeys(invocation_ids)
            if inv in found and (wanted is None or found[inv] in wanted)
        ]

    def _statuses(self, invocation_ids: Iterable[str]) -> dict[str, str]:
        keys = [orch.status_key(self.app_id, inv) for inv in dict.fromkeys(invocation_ids)]
        if not keys:
            return {}
        self.ensure_table()
        found: dict[str, str] = {}
        for request in ob.batch_get_attributes(self.table, keys, [orch.STATUS]):
            for item in self.client.batch_get(request):
                if orch.STATUS in item:
                    found[orch.invocation_of_status_key(item[schema.SK]["S"])] = item[orch.STATUS][
                        "S"
                    ]
        return found

    # -- listings and counts: Queries of index shards, never a Scan ---------------------

    def _index_requests(
        self, task_id: str | None, statuses: list[str] | None, *, count: bool, newest: bool
    ) -> list[builders.Request]:
        """One Query per shard (and status) of the index partitions that hold the
        invocations of ``task_id`` (all tasks for ``None``) in ``statuses`` (any)."""
        size = self.page_size

        def query(index: str, pk: str, prefix: str = "") -> builders.Request:
            return ob.query_index(
                self.table, index, pk, size, sort_prefix=prefix, newest_first=newest, count=count
            )

        if task_id is not None and statuses:
            return [
                query(schema.GSI1, pk, orch.task_status_sort_prefix(status))
                for status in dict.fromkeys(statuses)
                for pk in orch.task_status_partitions(self.app_id, task_id)
            ]
        if task_id is not None:
            return [
                query(schema.GSI1, pk)
                for pk in orch.task_registration_partitions(self.app_id, task_id)
            ]
        if statuses:
            return [
                query(schema.GSI2, pk)
                for status in dict.fromkeys(statuses)
                for pk in orch.status_partitions(self.app_id, status)
            ]
        return [query(schema.GSI2, pk) for pk in orch.registration_partitions(self.app_id)]

    def count_invocations(self, task_id: str | None, statuses: list[str] | None) -> int:
        """Select=COUNT Queries, one per shard and status: 16 per status (or 16)."""
        return self._count_all(self._index_requests(task_id, statuses, count=True, newest=False))

    def invocation_ids(
        self, task_id: str | None, statuses: list[str] | None, limit: int, offset: int
    ) -> list[str]:
        """A page of invocation ids, newest first: by the time they entered their status
        when ``statuses`` are given, else by registration time. Each shard is read newest
        first, a page at a time, and merged; at most ``offset + limit`` keys per shard."""
        if limit <= 0:
            return []
        index_sort_key = schema.GSI1_SK if task_id is not None else schema.GSI2_SK
        requests = self._index_requests(task_id, statuses, count=False, newest=True)
        for request in requests:
            request["Limit"] = min(self.page_size, offset + limit)

        def stream(items: Iterator[Item]) -> Iterator[tuple[str, str]]:
            for item in items:
                sort_key = item[index_sort_key]["S"]
                yield orch.time_of_index_key(sort_key), orch.invocation_of_index_key(sort_key)

        merged = heapq.merge(*(stream(s) for s in self._fan_out(requests)), reverse=True)
        return [inv for _, inv in islice(merged, offset, offset + limit)]

    def task_invocation_ids(self, task_id: str, statuses: list[str] | None) -> Iterator[str]:
        """Every invocation of a task (in ``statuses``), shard by shard, lazily: a caller
        that stops at the first one reads one page."""
        requests = self._index_requests(task_id, statuses, count=False, newest=False)
        for items in self._fan_out(requests):
            for item in items:
                yield orch.invocation_of_index_key(item[schema.GSI1_SK]["S"])

    def call_invocation_ids(self, call_id: str) -> Iterator[str]:
        """Every invocation of a call: one Query of its partition (strongly consistent)."""
        prefix = orch.call_prefix(self.app_id, call_id)
        for item in self._query(builders.query_prefix(self.table, prefix, self.page_size)):
            yield orch.invocation_of_index_key(item[schema.SK]["S"])

    def invocations_in_status(
        self, status: str, before: datetime | None = None
    ) -> Iterator[tuple[str, str | None]]:
        """``(invocation id, owner)`` of the invocations in ``status`` (since before
        ``before``, if given), from gsi2's shards; the owner is projected there."""
        below = orch.time_upper_bound(before) if before is not None else ""
        requests = [
            ob.query_index(self.table, schema.GSI2, pk, self.page_size, below=below)
            for pk in orch.status_partitions(self.app_id, status)
        ]
        for items in self._fan_out(requests):
            for item in items:
                owner = item.get(schema.OWNER)
                inv = orch.invocation_of_index_key(item[schema.GSI2_SK]["S"])
                yield inv, owner["S"] if owner else None
