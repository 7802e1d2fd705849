"""The single-table key schema: the only module that knows attribute names and builds keys.

Layout (``{x}`` is an escaped component, ``NN`` a two-digit shard)::

    pk                          sk                         what
    A#{app}#I#NN                {inv}#I                    invocation (serialized)
    A#{app}#I#NN                {inv}#H#{ts}#{record}      one status history record
    A#{app}#I#NN                {inv}#R / {inv}#E          result / exception
    A#{app}#I#NN                {parent}#C#{child}         child of an invocation
    A#{app}#W#NN                {wf}#M#{inv}               member of a workflow (indexed)
    A#{app}#W#NN                {wf}#D#{key}               workflow data value
    A#{app}#W#NN                {wf}#V#{key}               deterministic value
    A#{app}#W#NN                {wf}#S#{sub}               sub-invocation of a workflow
    A#{app}#W#NN                {wf}#RUN                   workflow run (indexed by gsi1)
    A#{app}#T                   {task}                     workflow type registry
    A#{app}#RC                  {runner}                   runner context
    A#{app}#C#NN                {key}                      client data value
    APPS                        {app}                      app info (shared registry)

    gsi1pk = A#{app}#WT#{task}, gsi1sk = {ts}#{wf}   runs of a workflow type, by time
    gsi1pk = A#{app}#WI#NN(inv), gsi1sk = {type}#{wf}#{inv}   members, by workflow type
    gsi1pk = A#{app}#HT#{hour}#NN(inv), gsi1sk = {ts}#{inv}#{record}
        history records written in batches (``add_histories``), by UTC hour and time

``NN(x)`` is the shard of ``x``; ``{hour}`` is ``YYYY-MM-DDTHH`` in UTC. The time index
spreads one hour's records over ``SHARDS`` index partitions, so a busy hour is not held to
one partition's write rate; a range read merges the shards of each hour in time order.

Why shards: every item of an app lives in one of ``2 * SHARDS + 2`` partitions that can be
derived from the app id alone, so ``purge`` queries exactly those partitions. It needs no
full-table Scan (whose cost follows the whole table) and no extra index over every item
(which would double the write cost of every task). Sharding by a stable hash spreads one
app's writes over many partitions, so a busy app is not held to one partition's throughput.
Client data (pynenc's client data store) lives in ``SHARDS`` partitions of its own, and its
objects under an S3 prefix of their own: pynenc purges that store apart from the state.

Components are escaped (``%`` -> ``%25``, ``#`` -> ``%23``) so that any text id or key,
delimiter included, maps to exactly one key and prefixes never collide.
"""

import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

from pynenc_dynamodb.errors import InvalidKeyError

PK: Final = "pk"
SK: Final = "sk"
BODY: Final = "body"
# How the body is stored: absent = text in BODY; see pynenc_dynamodb.table.payloads.
ENCODING: Final = "enc"
OBJECT_KEY: Final = "obj"
DIGEST: Final = "sha256"
EXPIRES_AT: Final = "expires_at"
GSI1: Final = "gsi1"
GSI1_PK: Final = "gsi1pk"
GSI1_SK: Final = "gsi1sk"

DELIMITER: Final = "#"
SHARDS: Final = 16
APPS_PARTITION: Final = "APPS"

# DynamoDB limits, in bytes of UTF-8.
MAX_PARTITION_KEY_BYTES: Final = 2048
MAX_SORT_KEY_BYTES: Final = 1024
MAX_ITEM_BYTES: Final = 400 * 1024
# Per-component limits chosen so that every composed key stays within DynamoDB's limits.
MAX_APP_ID_BYTES: Final = 200
MAX_ID_BYTES: Final = 400
MAX_DATA_KEY_BYTES: Final = 500
# Client data keys share the sort key with nothing else: the whole sort-key limit.
MAX_CLIENT_DATA_KEY_BYTES: Final = MAX_SORT_KEY_BYTES
_ESCAPED: Final = re.compile("%(23|25)")

Key = dict[str, dict[str, str]]


@dataclass(frozen=True)
class Prefix:
    """A partition and a sort-key prefix: what a ``begins_with`` query needs."""

    pk: str
    sk_prefix: str


def escape(value: Any, field: str, limit: int, allow_empty: bool = False) -> str:
    """Validate one key component and escape the delimiter in it.

    :param value: the id or key given by the caller
    :param field: its name, used in the error message
    :param limit: maximum size in bytes after escaping
    :param allow_empty: whether the empty string is a valid value
    :raises InvalidKeyError: if the value is not text, empty, not valid UTF-8 or too long
    """
    if not isinstance(value, str):
        raise InvalidKeyError(field, f"expected text, got {type(value).__name__}")
    if not value and not allow_empty:
        raise InvalidKeyError(field, "must not be empty")
    escaped = value.replace("%", "%25").replace(DELIMITER, "%23")
    try:
        size = len(escaped.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise InvalidKeyError(
            field, f"is not valid Unicode text ({exc.reason} at position {exc.start})"
        ) from exc
    if size > limit:
        raise InvalidKeyError(
            field,
            f"is {size} bytes once '%' and '{DELIMITER}' are escaped; the limit is {limit} bytes",
        )
    return escaped


def unescape(escaped: str) -> str:
    """The id or key that :func:`escape` turned into ``escaped``."""
    return _ESCAPED.sub(lambda m: DELIMITER if m.group(1) == "23" else "%", escaped)


def _app(app_id: str) -> str:
    return escape(app_id, "app_id", MAX_APP_ID_BYTES)


def _shard(escaped_id: str) -> str:
    return f"{zlib.crc32(escaped_id.encode('utf-8')) % SHARDS:02d}"


def _key(pk: str, sk: str) -> Key:
    return {PK: {"S": pk}, SK: {"S": sk}}


def _invocation_partition(
    app_id: str, invocation_id: str, field: str = "invocation_id"
) -> tuple[str, str]:
    inv = escape(invocation_id, field, MAX_ID_BYTES)
    return f"A#{_app(app_id)}#I#{_shard(inv)}", inv


def _workflow_partition(app_id: str, workflow_id: str) -> tuple[str, str]:
    wf = escape(workflow_id, "workflow_id", MAX_ID_BYTES)
    return f"A#{_app(app_id)}#W#{_shard(wf)}", wf


def shard_names() -> list[str]:
    """The shards, as they appear in keys: ``"00"`` to ``"15"``."""
    return [f"{n:02d}" for n in range(SHARDS)]


def validate_app_id(app_id: str) -> None:
    """Raise :class:`InvalidKeyError` if ``app_id`` cannot be stored."""
    _app(app_id)


def invocation_key(app_id: str, invocation_id: str) -> Key:
    pk, inv = _invocation_partition(app_id, invocation_id)
    return _key(pk, f"{inv}#I")


def result_key(app_id: str, invocation_id: str) -> Key:
    pk, inv = _invocation_partition(app_id, invocation_id)
    return _key(pk, f"{inv}#R")


def exception_key(app_id: str, invocation_id: str) -> Key:
    pk, inv = _invocation_partition(app_id, invocation_id)
    return _key(pk, f"{inv}#E")


def timestamp_component(timestamp: datetime) -> str:
    """A fixed-width UTC timestamp, so that sort keys order by time."""
    return as_utc(timestamp).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def history_key(app_id: str, invocation_id: str, timestamp: datetime, record_id: str) -> Key:
    """Key of one history record; ``record_id`` makes retried writes idempotent."""
    pk, inv = _invocation_partition(app_id, invocation_id)
    rec = escape(record_id, "history record id", MAX_ID_BYTES)
    return _key(pk, f"{inv}#H#{timestamp_component(timestamp)}#{rec}")


def hour_bucket(timestamp: datetime) -> str:
    """The UTC hour (``YYYY-MM-DDTHH``) a timestamp falls in; naive means UTC."""
    return timestamp_component(timestamp)[:13]


def as_utc(timestamp: datetime) -> datetime:
    """``timestamp`` in UTC; a naive one is taken to be UTC already."""
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    return timestamp.astimezone(UTC)


def history_index_keys(app_id: str, invocation_id: str, timestamp: datetime, record_id: str) -> Key:
    """GSI attributes of a time-indexed history record: its hour bucket and shard, then
    its time, so a range read is a Query per (hour, shard) in time order."""
    inv = escape(invocation_id, "invocation_id", MAX_ID_BYTES)
    rec = escape(record_id, "history record id", MAX_ID_BYTES)
    ts = timestamp_component(timestamp)
    return {
        GSI1_PK: {"S": history_time_partition(app_id, hour_bucket(timestamp), _shard(inv))},
        GSI1_SK: {"S": f"{ts}#{inv}#{rec}"},
    }


def history_time_partition(app_id: str, bucket: str, shard: str) -> str:
    """The GSI partition of one hour bucket's shard (``shard`` as ``"00"`` to ``"15"``)."""
    return f"A#{_app(app_id)}#HT#{bucket}#{shard}"


def history_time_partitions(app_id: str, bucket: str) -> list[str]:
    """The ``SHARDS`` GSI partitions of one hour bucket, shard order."""
    return [history_time_partition(app_id, bucket, shard) for shard in shard_names()]


def history_time_bounds(start: datetime, end: datetime) -> tuple[str, str]:
    """GSI sort-key bounds (for ``BETWEEN``) of the records with ``start <= ts <= end``.

    A sort key is ``{ts}#...``: every key of time ``end`` sorts before ``{end}$``
    (``$`` follows the delimiter ``#``), and no key equals it.
    """
    return timestamp_component(start), f"{timestamp_component(end)}$"


def history_index_invocation(index_sort_key: str) -> str:
    """The invocation id of a time-indexed history record's GSI sort key."""
    return unescape(index_sort_key.split(DELIMITER)[1])


def history_prefix(app_id: str, invocation_id: str) -> Prefix:
    pk, inv = _invocation_partition(app_id, invocation_id)
    return Prefix(pk, f"{inv}#H#")


def child_key(app_id: str, parent_id: str, child_id: str) -> Key:
    """A child invocation, in its parent's partition."""
    pk, parent = _invocation_partition(app_id, parent_id, "parent_id")
    return _key(pk, f"{parent}#C#{escape(child_id, 'invocation_id', MAX_ID_BYTES)}")


def children_prefix(app_id: str, parent_id: str) -> Prefix:
    pk, parent = _invocation_partition(app_id, parent_id, "parent_id")
    return Prefix(pk, f"{parent}#C#")


def member_key(app_id: str, workflow_id: str, invocation_id: str) -> Key:
    """An invocation of a workflow, in the workflow's partition."""
    pk, wf = _workflow_partition(app_id, workflow_id)
    return _key(pk, f"{wf}#M#{escape(invocation_id, 'invocation_id', MAX_ID_BYTES)}")


def members_prefix(app_id: str, workflow_id: str) -> Prefix:
    pk, wf = _workflow_partition(app_id, workflow_id)
    return Prefix(pk, f"{wf}#M#")


def member_index_keys(app_id: str, workflow_id: str, workflow_type: str, invocation_id: str) -> Key:
    """GSI attributes of a member item: sharded by invocation, sorted by workflow type."""
    inv = escape(invocation_id, "invocation_id", MAX_ID_BYTES)
    wf = escape(workflow_id, "workflow_id", MAX_ID_BYTES)
    return {
        GSI1_PK: {"S": f"A#{_app(app_id)}#WI#{_shard(inv)}"},
        GSI1_SK: {"S": f"{member_type_prefix(workflow_type)}{wf}#{inv}"},
    }


def member_type_prefix(workflow_type: str) -> str:
    """GSI sort-key prefix of the members of every workflow of one type."""
    return f"{escape(workflow_type, 'workflow_type', MAX_ID_BYTES)}#"


def member_index_partitions(app_id: str) -> list[str]:
    """The ``SHARDS`` GSI partitions holding every member of the app."""
    app = _app(app_id)
    return [f"A#{app}#WI#{shard}" for shard in shard_names()]


def runner_context_key(app_id: str, runner_id: str) -> Key:
    return _key(runner_contexts_partition(app_id), escape(runner_id, "runner_id", MAX_ID_BYTES))


def runner_contexts_partition(app_id: str) -> str:
    return f"A#{_app(app_id)}#RC"


def runner_id_of(key_or_item: dict[str, Any]) -> str:
    """The runner id of a runner context's key (or item)."""
    return unescape(str(key_or_item[SK]["S"]))


def client_data_key(app_id: str, key: str) -> Key:
    k = escape(key, "client data key", MAX_CLIENT_DATA_KEY_BYTES)
    return _key(f"A#{_app(app_id)}#C#{_shard(k)}", k)


def client_data_partitions(app_id: str) -> list[str]:
    """Every partition of the app's client data: what ``purge_client_data`` empties."""
    app = _app(app_id)
    return [f"A#{app}#C#{shard}" for shard in shard_names()]


def workflow_data_key(app_id: str, workflow_id: str, key: str) -> Key:
    pk, wf = _workflow_partition(app_id, workflow_id)
    return _key(pk, f"{wf}#D#{escape(key, 'workflow data key', MAX_DATA_KEY_BYTES, True)}")


def deterministic_value_key(app_id: str, workflow_id: str, key: str) -> Key:
    pk, wf = _workflow_partition(app_id, workflow_id)
    k = escape(key, "deterministic value key", MAX_DATA_KEY_BYTES, True)
    return _key(pk, f"{wf}#V#{k}")


def sub_invocation_key(app_id: str, workflow_id: str, sub_invocation_id: str) -> Key:
    pk, wf = _workflow_partition(app_id, workflow_id)
    sub = escape(sub_invocation_id, "sub_invocation_id", MAX_ID_BYTES)
    return _key(pk, f"{wf}#S#{sub}")


def sub_invocations_prefix(app_id: str, workflow_id: str) -> Prefix:
    pk, wf = _workflow_partition(app_id, workflow_id)
    return Prefix(pk, f"{wf}#S#")


def workflow_run_key(app_id: str, workflow_id: str) -> Key:
    pk, wf = _workflow_partition(app_id, workflow_id)
    return _key(pk, f"{wf}#RUN")


def workflow_run_index_keys(
    app_id: str, workflow_task_id: str, workflow_id: str, timestamp: datetime
) -> Key:
    """GSI attributes of a run item: listed by type, ordered by the time it was stored."""
    wf = escape(workflow_id, "workflow_id", MAX_ID_BYTES)
    return {
        GSI1_PK: {"S": workflow_runs_partition(app_id, workflow_task_id)},
        GSI1_SK: {"S": f"{timestamp_component(timestamp)}#{wf}"},
    }


def workflow_runs_partition(app_id: str, workflow_task_id: str) -> str:
    task = escape(workflow_task_id, "workflow_task_id", MAX_ID_BYTES)
    return f"A#{_app(app_id)}#WT#{task}"


def workflow_type_key(app_id: str, workflow_task_id: str) -> Key:
    task = escape(workflow_task_id, "workflow_task_id", MAX_ID_BYTES)
    return _key(workflow_types_partition(app_id), task)


def workflow_type_key_of_runs_partition(app_id: str, runs_partition: str) -> Key | None:
    """The registry key of the type whose runs live in GSI partition ``runs_partition``."""
    prefix = f"A#{_app(app_id)}#WT#"
    if not runs_partition.startswith(prefix):
        return None
    return _key(workflow_types_partition(app_id), runs_partition[len(prefix) :])


def run_index_workflow(index_sort_key: str) -> str:
    """The escaped workflow id of a run's GSI sort key (``{ts}#{wf}``)."""
    return index_sort_key.partition(DELIMITER)[2]


def workflow_types_partition(app_id: str) -> str:
    return f"A#{_app(app_id)}#T"


def app_info_key(app_id: str) -> Key:
    return _key(APPS_PARTITION, _app(app_id))


def app_partitions(app_id: str) -> list[str]:
    """Every partition that can hold a state item of ``app_id``: what purge must empty.

    Client data is not state: see :func:`client_data_partitions`.
    """
    app = _app(app_id)
    shards = shard_names()
    invocations = [f"A#{app}#I#{s}" for s in shards]
    return invocations + [f"A#{app}#W#{s}" for s in shards] + [f"A#{app}#T", f"A#{app}#RC"]


def payload_object_prefix(app_id: str) -> str:
    """S3 prefix of every payload object of ``app_id``: what purge deletes.

    Quoted whole (``/`` included), so one app's prefix is never a prefix of another's.
    """
    validate_app_id(app_id)
    return f"pynenc/{quote(app_id, safe='')}/"


def client_data_object_prefix(app_id: str) -> str:
    """S3 prefix of the app's client data objects: apart from its payloads, so each purge
    deletes only its own (``pynenc-client-data/`` never starts with ``pynenc/``)."""
    validate_app_id(app_id)
    return f"pynenc-client-data/{quote(app_id, safe='')}/"


def object_key(prefix: str, digest: str) -> str:
    """S3 key of a payload under ``prefix``, addressed by its content: a retried upload
    rewrites the same object, and a reader never meets a half-written one (the item is
    written after it)."""
    return f"{prefix}{digest}"


def payload_object_key(app_id: str, digest: str) -> str:
    return object_key(payload_object_prefix(app_id), digest)


def table_definition(table_name: str) -> dict[str, Any]:
    """The CreateTable request of the state table; ``template.yaml`` must match it."""
    return {
        "TableName": table_name,
        "AttributeDefinitions": [
            {"AttributeName": PK, "AttributeType": "S"},
            {"AttributeName": SK, "AttributeType": "S"},
            {"AttributeName": GSI1_PK, "AttributeType": "S"},
            {"AttributeName": GSI1_SK, "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": PK, "KeyType": "HASH"},
            {"AttributeName": SK, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": GSI1,
                "KeySchema": [
                    {"AttributeName": GSI1_PK, "KeyType": "HASH"},
                    {"AttributeName": GSI1_SK, "KeyType": "RANGE"},
                ],
                # Listing runs reads the body (the run's identity), its encoding and expiry
                # from the index alone; the rest of the item is not copied.
                "Projection": {
                    "ProjectionType": "INCLUDE",
                    "NonKeyAttributes": [BODY, ENCODING, EXPIRES_AT],
                },
            }
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
