"""Capacity units of the requests a process sends, computed from item sizes.

moto's ``ConsumedCapacity`` is not DynamoDB's (it answers 1 unit for a 2.5 KB put and 0.5
for an update), so each request going through :class:`DynamoDBClient` is priced here with
DynamoDB's published on-demand rules, from the items it writes and the items it reads back:

- a write: 1 WRU per started KB of the larger of the item's old and new images (1 for a
  conditional write that fails, or a delete of nothing), plus, per GSI, 1 WRU per started KB
  of the index entry for every entry written and every entry removed (an update that moves
  an index key writes the new entry and deletes the old one: 2);
- a read: 1 RRU per started 4 KB (half for eventually consistent reads); a Query rounds the
  sum of what it reads once, a BatchGetItem each item; an empty read still costs the minimum.

Old images come from what this process saw (written, or read back): a put over an item
written by another process is priced as new. Requests count by what they touch: every
item of a lifecycle in the benchmark goes through this process.
"""

import math
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pynenc_dynamodb.aws import dynamodb
from pynenc_dynamodb.errors import ConditionFailedError
from pynenc_dynamodb.table import schema
from pynenc_dynamodb.table.builders import Item

INDEXES = ((schema.GSI1_PK, schema.GSI1_SK), (schema.GSI2_PK, schema.GSI2_SK))
KB, READ_BLOCK = 1024, 4096
# Partition kinds (``A#{app}#{kind}#...``) of the orchestrator's and the trigger's items
# and index entries; the others are the state backend's.
OTHER_KINDS = ("O", "OC", "OG", "OP", "OH", "OK", "OW", "OS", "OT", "OR", "OA", "TG")


def size_of(item: Item) -> int:
    """Bytes of an item as DynamoDB counts them: names plus values."""
    total = 0
    for name, value in item.items():
        total += len(name.encode()) + _value_size(value)
    return total


def _value_size(value: dict[str, Any]) -> int:
    if "S" in value:
        return len(value["S"].encode())
    if "N" in value:
        return (len(value["N"]) + 1) // 2 + 1
    if "B" in value:
        return len(value["B"])
    if "SS" in value:
        return sum(len(s.encode()) for s in value["SS"])
    if "BOOL" in value or "NULL" in value:
        return 1
    return 3  # lists and maps: their overhead; the plugin stores none in hot items


def _key_of(item: Item) -> tuple[str, str]:
    return item[schema.PK]["S"], item[schema.SK]["S"]


def _index_entry(item: Item | None, pk: str, sk: str) -> tuple[str, str] | None:
    if not item or pk not in item or sk not in item:
        return None
    return item[pk]["S"], item[sk]["S"]


def kind_of(pk: str) -> str:
    """The kind of a partition (``A#{app}#{kind}#...``), ``""`` for others (``APPS``)."""
    parts = pk.split("#")
    return parts[2] if len(parts) > 2 and parts[0] == "A" else ""


def is_state(pk: str) -> bool:
    """Whether a partition is the state backend's (not the orchestrator's or trigger's)."""
    return kind_of(pk) not in OTHER_KINDS


class UnitMeter:
    """Write and read units of every DynamoDB request sent while :meth:`metering`, split
    into the state backend's items and the rest (orchestrator, trigger)."""

    def __init__(self) -> None:
        self.units: Counter[str] = Counter()
        self.queries: Counter[str] = Counter()  # Queries by partition kind
        self._images: dict[tuple[str, str], Item] = {}
        self._lock = threading.Lock()

    def _add(self, pk: str, write: float = 0.0, read: float = 0.0) -> None:
        part = "state" if is_state(pk) else "other"
        with self._lock:
            self.units[f"{part}.wru"] += write
            self.units[f"{part}.rru"] += read

    def _write(self, key: tuple[str, str], new: Item | None, failed: bool = False) -> None:
        with self._lock:
            old = self._images.get(key)
            if failed:
                pass
            elif new is None:
                self._images.pop(key, None)
            else:
                self._images[key] = new
        if failed:
            self._add(key[0], write=max(1, math.ceil(size_of(old or {}) / KB)))
            return
        units = max(1, math.ceil(max(size_of(old or {}), size_of(new or {})) / KB))
        for pk, sk in INDEXES:
            before, after = _index_entry(old, pk, sk), _index_entry(new, pk, sk)
            if after is not None:
                units += max(1, math.ceil(size_of(new or {}) / KB))
            if before is not None and before != after:
                units += 1
        self._add(key[0], write=units)

    def _read(self, items: list[Item], pk: str, consistent: bool, each: bool = False) -> None:
        with self._lock:
            for item in items:
                if schema.PK in item and schema.SK in item and len(item) > 2:
                    self._images.setdefault(_key_of(item), item)
        sizes = [size_of(item) for item in items] if each else [sum(map(size_of, items))]
        units = sum(max(1, math.ceil(size / READ_BLOCK)) for size in sizes or [0])
        self._add(pk, read=units if consistent else units / 2)

    def record(
        self, operation: str, request: dict[str, Any], answer: dict[str, Any] | None
    ) -> None:
        """Price one request from what it sent and what it was answered (``None``: its
        condition failed)."""
        if operation in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"):
            self._record_write(operation, request, answer)
        elif answer is not None:
            self._record_read(operation, request, answer)

    def _record_write(
        self, operation: str, request: dict[str, Any], answer: dict[str, Any] | None
    ) -> None:
        if operation == "BatchWriteItem":
            for writes in request["RequestItems"].values():
                for write in writes:
                    if "PutRequest" in write:
                        item = write["PutRequest"]["Item"]
                        self._write(_key_of(item), item)
                    else:
                        self._write(_key_of(write["DeleteRequest"]["Key"]), None)
            return
        key = _key_of(request.get("Item") or request["Key"])
        if answer is None:
            self._write(key, None, failed=True)
        elif operation == "PutItem":
            self._write(key, request["Item"])
        elif operation == "DeleteItem":
            self._write(key, None)
        else:
            new = answer.get("Attributes") or {**self._images.get(key, request["Key"])}
            self._write(key, {**request["Key"], **new})

    def _record_read(self, operation: str, request: dict[str, Any], answer: dict[str, Any]) -> None:
        if operation == "GetItem":
            found = [answer["Item"]] if answer.get("Item") else []
            pk = request["Key"][schema.PK]["S"]
            self._read(found, pk, bool(request.get("ConsistentRead")))
        elif operation == "Query":
            pk = next(iter(request["ExpressionAttributeValues"].values()))["S"]
            with self._lock:
                self.queries[kind_of(pk)] += 1
            items = list(answer.get("Items", []))
            if request.get("Select") == "COUNT":  # no items answered: about 100 bytes each
                items = [{"x": {"S": "x" * 100}}] * int(answer.get("Count", 0))
            self._read(items, pk, bool(request.get("ConsistentRead")))
        elif operation == "BatchGetItem":
            for table, reads in request["RequestItems"].items():
                found = list((answer.get("Responses") or {}).get(table, []))
                pk = reads["Keys"][0][schema.PK]["S"]
                self._read(found, pk, bool(reads.get("ConsistentRead")), each=True)

    @contextmanager
    def metering(self) -> Iterator["UnitMeter"]:
        """Price every request that goes through :class:`DynamoDBClient` meanwhile."""
        original = dynamodb.DynamoDBClient._send
        meter = self

        def send(client: Any, operation: str, request: dict[str, Any]) -> dict[str, Any]:
            try:
                answer = original(client, operation, request)
            except ConditionFailedError:
                meter.record(operation, request, None)
                raise
            meter.record(operation, request, answer)
            return answer

        dynamodb.DynamoDBClient._send = send  # type: ignore[method-assign]
        try:
            yield self
        finally:
            dynamodb.DynamoDBClient._send = original  # type: ignore[method-assign]
