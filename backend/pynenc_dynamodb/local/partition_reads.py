"""Partition-local Query for moto's DynamoDB, installed in the embedded endpoint only.

moto answers every Query by listing and sorting the whole table before it keeps the items of
the asked partition, so each Query costs O(N log N) in the table's size and a long run (a
test session, a benchmark, a busy demo) slows down as its table grows; DynamoDB reads one
partition. Here a Query hands moto's own matching code only the candidates of the asked key:

- a base-table Query: the items of one partition (a dictionary lookup);
- an index Query: the items whose index partition attribute had the asked value when they
  were last written, from an index kept beside the table and checked again at read time.

moto still does all the matching, sorting, paging, filtering and projection on those
candidates, so its answers are unchanged; only the work to find them is.

The index is written where moto writes items: ``Table.put_item`` (puts, and the first write
of an UpdateItem on a new key) and after ``update_item``, which changes an item in place.
Entries are never trusted: a candidate must still be the table's item under its key and
still hold the asked value, so a deleted or changed item drops out at read time. Any other
way of changing a table (a transaction, a restore) marks its index stale, and the next index
Query rebuilds it from the table.
"""

import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

# The running Query's (attribute, value) conditions, set only while this thread is inside
# Table.query; None outside it, where all_items keeps moto's meaning.
_asked = threading.local()
# Index writes and rebuilds; writes are already one at a time (the endpoint's AtomicWrites).
_lock = threading.RLock()

IndexBuckets = dict[str, dict[DynamoType, dict[tuple[Any, Any], Item]]]


def _hash_attributes(table: Table) -> list[str]:
    return [
        key["AttributeName"]
        for index in table.global_indexes
        for key in index.schema
        if key["KeyType"] == "HASH"
    ]


def _items_of(table: Table) -> list[Item]:
    # list() of a dictionary is one step a concurrent write cannot interleave with.
    partitions: list[dict[DynamoType, Item]] = list(table.items.values())
    return [item for partition in partitions for item in list(partition.values())]


def _index_item(table: Table, buckets: IndexBuckets, item: Item) -> None:
    for name in buckets:
        value = item.attrs.get(name)
        if value is not None:
            buckets[name].setdefault(value, {})[(item.hash_key, item.range_key)] = item


def _buckets(table: Table) -> IndexBuckets:
    """The table's index, rebuilt from the table when missing or marked stale."""
    with _lock:
        buckets: IndexBuckets | None = getattr(table, "_index_buckets", None)
        if buckets is None:
            buckets = {name: {} for name in _hash_attributes(table)}
            for item in _items_of(table):
                _index_item(table, buckets, item)
            table._index_buckets = buckets  # type: ignore[attr-defined]
        return buckets


def _note_write(table: Table, item: Item | None) -> None:
    with _lock:
        buckets: IndexBuckets | None = getattr(table, "_index_buckets", None)
        if buckets is not None and item is not None:
            _index_item(table, buckets, item)


def _is_current(table: Table, item: Item) -> bool:
    partition: dict[Any, Item] = table.items.get(item.hash_key, {})
    return partition.get(item.range_key) is item


def _matches(item: Item, conditions: list[tuple[str, DynamoType]]) -> bool:
    attrs = item.attrs
    return all(name in attrs and attrs[name] == value for name, value in conditions)


def _candidates(table: Table, conditions: list[tuple[str, DynamoType]]) -> list[Item]:
    name, value = conditions[0]
    if name == table.hash_key_attr:
        partition: dict[Any, Item] = table.items.get(value, {})
        found = list(partition.values())
    else:
        buckets = _buckets(table)
        if name not in buckets:
            found = _items_of(table)
        else:
            with _lock:
                bucket = buckets[name].get(value, {})
                found = []
                for key, item in list(bucket.items()):
                    if _is_current(table, item) and _matches(item, [(name, value)]):
                        found.append(item)
                    else:  # deleted, replaced or moved to another value since it was indexed
                        del bucket[key]
    return [item for item in found if _matches(item, conditions)]


def _conditions(table: Table, hash_key: Any, named: dict[str, Any]) -> list[tuple[str, Any]]:
    asked = named.get("hash_key_conditions")
    if asked:
        return list(asked)
    if named.get("index_name") is None and hash_key is not None:
        return [(table.hash_key_attr, hash_key)]
    return []


def install() -> None:
    """Make moto's ``Table.query`` read only the asked key's candidates (idempotent)."""
    if getattr(Table, "_partition_reads", False):
        return
    original_query: Callable[..., Any] = Table.query
    original_all_items: Callable[[Table], list[Any]] = Table.all_items
    original_put: Callable[..., Item] = Table.put_item
    original_update: Callable[..., Item] = DynamoDBBackend.update_item
    original_transact: Callable[..., None] = DynamoDBBackend.transact_write_items
    positional = ["range_comparison", "range_objs", "limit", "exclusive_start_key"]
    positional += ["scan_index_forward", "projection_expressions", "index_name"]

    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        named = dict(zip(positional, args, strict=False)) | kwargs
        _asked.conditions = _conditions(self, hash_key, named) or None
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _asked.conditions = None

    def all_items(self: Table) -> list[Any]:
        conditions = getattr(_asked, "conditions", None)
        # Every table of the endpoint has a sort key; any other keeps moto's own path.
        if conditions is None or not self.range_key_attr:
            return original_all_items(self)
        return _candidates(self, conditions)

    def put_item(self: Table, *args: Any, **kwargs: Any) -> Item:
        item = original_put(self, *args, **kwargs)
        _note_write(self, item)
        return item

    def update_item(self: DynamoDBBackend, table_name: str, *args: Any, **kwargs: Any) -> Item:
        item = original_update(self, table_name, *args, **kwargs)
        _note_write(self.get_table(table_name), item)
        return item

    def transact_write_items(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> None:
        try:
            original_transact(self, *args, **kwargs)
        finally:
            with _lock:
                for table in self.tables.values():
                    table._index_buckets = None  # type: ignore[attr-defined]

    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    Table.put_item = put_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    Table._partition_reads = True  # type: ignore[attr-defined]
