"""Keys of the pynenc 0.1 access patterns: children, workflow members and their type index,
the time index of history, runner contexts and client data."""

from datetime import datetime
from typing import Any

from pynenc_dynamodb.table.schema.core import (
    DELIMITER,
    GSI1_PK,
    GSI1_SK,
    MAX_CLIENT_DATA_KEY_BYTES,
    MAX_ID_BYTES,
    SK,
    Key,
    Prefix,
    _app,
    _invocation_partition,
    _key,
    _shard,
    _workflow_partition,
    escape,
    shard_names,
    timestamp_component,
    unescape,
)


def hour_bucket(timestamp: datetime) -> str:
    """The UTC hour (``YYYY-MM-DDTHH``) a timestamp falls in; naive means UTC."""
    return timestamp_component(timestamp)[:13]


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
