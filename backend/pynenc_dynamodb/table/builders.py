"""Pure builders of DynamoDB requests: plain dicts in, plain dicts out, no I/O.

Kept apart from :mod:`pynenc_dynamodb.aws.dynamodb` so that every request the backend makes can
be tested as data. Keys come from :mod:`pynenc_dynamodb.table.schema`; nothing here builds one.
"""

import time
from typing import Any, Final

from pynenc_dynamodb.errors import ItemTooLargeError
from pynenc_dynamodb.table import schema

Item = dict[str, dict[str, Any]]
Request = dict[str, Any]

BATCH_WRITE_LIMIT: Final = 25
BATCH_GET_LIMIT: Final = 100

# Named parts of the expressions; values are bound per request.
_NAMES: Final = {"#pk": schema.PK, "#sk": schema.SK}
_PARTITION_IS: Final = "#pk = :pk"
_SORT_BEGINS_WITH: Final = "begins_with(#sk, :prefix)"
_INDEX_PARTITION_IS: Final = "#gpk = :gpk"
_INDEX_NAMES: Final = {"#gpk": schema.GSI1_PK, "#gsk": schema.GSI1_SK}


def expiry(ttl_seconds: int, now: float | None = None) -> int | None:
    """The epoch second an item written now expires at, or ``None`` to keep it forever."""
    if ttl_seconds <= 0:
        return None
    return int(now if now is not None else time.time()) + ttl_seconds


def build_item(
    key: schema.Key,
    body: str | Item,
    expires_at: int | None,
    extra: schema.Key | None = None,
) -> Item:
    """An item: its key, its body (text, or attributes from
    :class:`~pynenc_dynamodb.table.payloads.PayloadCodec`), an optional expiry and extras."""
    body_attributes: Item = {schema.BODY: {"S": body}} if isinstance(body, str) else body
    item: Item = {**key, **body_attributes}
    if expires_at is not None:
        item[schema.EXPIRES_AT] = {"N": str(expires_at)}
    if extra:
        item.update(extra)
    return item


def item_size(item: Item) -> int:
    """Size of an item as DynamoDB counts it: names plus values, in UTF-8 bytes."""
    size = 0
    for name, value in item.items():
        size += len(name.encode("utf-8"))
        if "S" in value:
            size += len(value["S"].encode("utf-8"))
        elif "N" in value:
            # DynamoDB stores numbers in about one byte per two digits, plus one.
            size += (len(value["N"]) + 1) // 2 + 1
        elif "B" in value:
            size += len(value["B"])
    return size


def check_size(item: Item, what: str) -> Item:
    """Return ``item`` unchanged, or raise before anything is sent if it is too large."""
    size = item_size(item)
    if size > schema.MAX_ITEM_BYTES:
        raise ItemTooLargeError(what, size, schema.MAX_ITEM_BYTES)
    return item


def put_item(table: str, item: Item) -> Request:
    return {"TableName": table, "Item": item}


def put_item_returning_old(table: str, item: Item) -> Request:
    """A PutItem that answers with the item it replaced, if any."""
    return {"TableName": table, "Item": item, "ReturnValues": "ALL_OLD"}


def delete_item(table: str, key: schema.Key) -> Request:
    return {"TableName": table, "Key": key}


def get_item(table: str, key: schema.Key) -> Request:
    # Strongly consistent: a worker reads what another worker has just written.
    return {"TableName": table, "Key": key, "ConsistentRead": True}


def query_prefix(table: str, prefix: schema.Prefix, page_size: int) -> Request:
    """Items of one partition whose sort key starts with the prefix, oldest key first."""
    return {
        "TableName": table,
        "KeyConditionExpression": f"{_PARTITION_IS} AND {_SORT_BEGINS_WITH}",
        "ExpressionAttributeNames": dict(_NAMES),
        "ExpressionAttributeValues": {
            ":pk": {"S": prefix.pk},
            ":prefix": {"S": prefix.sk_prefix},
        },
        "ConsistentRead": True,
        "Limit": page_size,
    }


def query_partition(table: str, pk: str, page_size: int, keys_only: bool = False) -> Request:
    """Every item of one partition; ``keys_only`` fetches just the keys (for deletes)."""
    request: Request = {
        "TableName": table,
        "KeyConditionExpression": _PARTITION_IS,
        "ExpressionAttributeNames": {"#pk": schema.PK},
        "ExpressionAttributeValues": {":pk": {"S": pk}},
        "ConsistentRead": True,
        "Limit": page_size,
    }
    if keys_only:
        request["ProjectionExpression"] = "#pk, #sk"
        request["ExpressionAttributeNames"] = dict(_NAMES)
    return request


def query_index_newest_first(table: str, gsi_pk: str, page_size: int) -> Request:
    """Items of one GSI1 partition, newest sort key first (GSIs are eventually consistent)."""
    return {**query_index_prefix(table, gsi_pk, "", page_size), "ScanIndexForward": False}


def query_index_prefix(table: str, gsi_pk: str, sk_prefix: str, page_size: int) -> Request:
    """Items of one GSI1 partition whose index sort key starts with ``sk_prefix`` (all of
    them for ``""``), in index sort-key order."""
    request: Request = {
        "TableName": table,
        "IndexName": schema.GSI1,
        "KeyConditionExpression": _INDEX_PARTITION_IS,
        "ExpressionAttributeNames": {"#gpk": schema.GSI1_PK},
        "ExpressionAttributeValues": {":gpk": {"S": gsi_pk}},
        "Limit": page_size,
    }
    if sk_prefix:
        request["KeyConditionExpression"] += " AND begins_with(#gsk, :gprefix)"
        request["ExpressionAttributeNames"] = dict(_INDEX_NAMES)
        request["ExpressionAttributeValues"][":gprefix"] = {"S": sk_prefix}
    return request


def query_index_between(
    table: str, gsi_pk: str, low: str, high: str, page_size: int, *, keys_only: bool = False
) -> Request:
    """Items of one GSI1 partition with ``low <= index sort key <= high``, in order;
    ``keys_only`` fetches the index sort key and the expiry, not the body."""
    request: Request = {
        "TableName": table,
        "IndexName": schema.GSI1,
        "KeyConditionExpression": f"{_INDEX_PARTITION_IS} AND #gsk BETWEEN :low AND :high",
        "ExpressionAttributeNames": dict(_INDEX_NAMES),
        "ExpressionAttributeValues": {
            ":gpk": {"S": gsi_pk},
            ":low": {"S": low},
            ":high": {"S": high},
        },
        "Limit": page_size,
    }
    if keys_only:
        request["ProjectionExpression"] = "#gsk, #exp"
        request["ExpressionAttributeNames"]["#exp"] = schema.EXPIRES_AT
    return request


def with_index_sort_prefix(request: Request, sk_prefix: str) -> Request:
    """``request`` (a base-table Query) keeping only items whose GSI1 sort key starts with
    ``sk_prefix``: filtered by DynamoDB, read units still count every item read."""
    filtered = dict(request)
    filtered["FilterExpression"] = "begins_with(#gsk, :gprefix)"
    filtered["ExpressionAttributeNames"] = {
        **request["ExpressionAttributeNames"],
        "#gsk": schema.GSI1_SK,
    }
    filtered["ExpressionAttributeValues"] = {
        **request["ExpressionAttributeValues"],
        ":gprefix": {"S": sk_prefix},
    }
    return filtered


def batch_gets(table: str, keys: list[schema.Key]) -> list[Request]:
    """Strongly consistent BatchGetItem requests of at most 100 keys each (DynamoDB rejects
    more, and a key asked twice: ``keys`` must be distinct)."""
    return [
        {"RequestItems": {table: {"Keys": keys[i : i + BATCH_GET_LIMIT], "ConsistentRead": True}}}
        for i in range(0, len(keys), BATCH_GET_LIMIT)
    ]


def distinct_items(items: list[Item]) -> list[Item]:
    """``items`` with one item per key, the last one written for each (DynamoDB rejects a
    batch that writes one key twice), in the order each key first appears."""
    by_key: dict[tuple[str, str], Item] = {}
    for item in items:
        by_key[(item[schema.PK]["S"], item[schema.SK]["S"])] = item
    return list(by_key.values())


def batch_writes(
    table: str, puts: list[Item] | None = None, deletes: list[schema.Key] | None = None
) -> list[Request]:
    """BatchWriteItem requests of at most 25 writes each (DynamoDB rejects more)."""
    writes: list[Request] = [{"PutRequest": {"Item": item}} for item in puts or []]
    writes += [{"DeleteRequest": {"Key": key}} for key in deletes or []]
    return [
        {"RequestItems": {table: writes[i : i + BATCH_WRITE_LIMIT]}}
        for i in range(0, len(writes), BATCH_WRITE_LIMIT)
    ]


def is_expired(item: Item, now: float | None = None) -> bool:
    """Whether an item's time-to-live has passed; DynamoDB deletes such items lazily."""
    expires = item.get(schema.EXPIRES_AT)
    if expires is None:
        return False
    return int(expires["N"]) <= (now if now is not None else time.time())


def body_of(item: Item) -> str:
    return str(item[schema.BODY]["S"])


def key_of(item: Item) -> schema.Key:
    return {schema.PK: item[schema.PK], schema.SK: item[schema.SK]}


def resume_key(request: Request, item: Item) -> Item:
    """The ``ExclusiveStartKey`` that resumes ``request`` just after ``item``: the table's
    key, plus the index's key for a Query on an index."""
    key: Item = dict(key_of(item))
    if request.get("IndexName") == schema.GSI1:
        key[schema.GSI1_PK] = item[schema.GSI1_PK]
        key[schema.GSI1_SK] = item[schema.GSI1_SK]
    return key
