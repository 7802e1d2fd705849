"""Keys of the orchestrator (pynenc 0.1): invocation statuses, registrations, argument
index, blocking, auto-purge markers and runner heartbeats.

Every base-table partition here is derived from the app id alone
(:func:`orchestrator_partitions`), so the orchestrator's purge enumerates them without a
Scan and without touching the state's partitions. Index partitions are sharded 16 ways by
the invocation (or runner) id so that no index partition holds a hot app to one
partition's write rate.
"""

import hashlib
from datetime import UTC, datetime
from typing import Final

from pynenc_dynamodb.table.schema.core import (
    DELIMITER,
    GSI1_PK,
    GSI1_SK,
    GSI2_PK,
    GSI2_SK,
    MAX_DATA_KEY_BYTES,
    MAX_ID_BYTES,
    Key,
    Prefix,
    _app,
    _key,
    _shard,
    escape,
    shard_names,
    timestamp_component,
    unescape,
)

# Attributes of the orchestrator's items (their keys aside).
STATUS: Final = "st"
STATUS_TIME: Final = "sts"
VERSION: Final = "ver"
TOKEN: Final = "tok"
TASK: Final = "task"
CALL: Final = "call"
RETRIES: Final = "rt"
ARG_TOKENS: Final = "args"
WAITERS: Final = "by"
WAITING_FOR: Final = "for"
# On a status item: some invocation registered a wait for it before it became final.
WAITED: Final = "wtd"
CREATED: Final = "cr"
HEARTBEAT: Final = "hb"
ATOMIC: Final = "atomic"
SERVICE_START: Final = "ss"
SERVICE_END: Final = "se"
HOLDER: Final = "hold"
_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"
# Sorts after the delimiter: ``{ts}$`` bounds every key ``{ts}#...`` from above.
_AFTER: Final = "$"


def _inv(invocation_id: str) -> str:
    return escape(invocation_id, "invocation_id", MAX_ID_BYTES)


def _orchestration_partition(app_id: str, invocation_id: str) -> tuple[str, str]:
    inv = _inv(invocation_id)
    return f"A#{_app(app_id)}#O#{_shard(inv)}", inv


def _sharded(app_id: str, kind: str) -> list[str]:
    app = _app(app_id)
    return [f"A#{app}#{kind}#{shard}" for shard in shard_names()]


def parse_time(component: str) -> datetime:
    """The UTC datetime of a :func:`~.core.timestamp_component`."""
    return datetime.strptime(component, _TIME_FORMAT).replace(tzinfo=UTC)


def time_upper_bound(timestamp: datetime) -> str:
    """An index sort key above every ``{ts}#...`` key with ``ts <= timestamp``."""
    return f"{timestamp_component(timestamp)}{_AFTER}"


# -- statuses -------------------------------------------------------------------------


def status_key(app_id: str, invocation_id: str) -> Key:
    """The status item of an invocation: status, owner, version, task, call, retries."""
    pk, inv = _orchestration_partition(app_id, invocation_id)
    return _key(pk, f"{inv}#S")


def invocation_of_status_key(sort_key: str) -> str:
    """The invocation id of a status item's sort key (``{inv}#S``)."""
    return unescape(sort_key.rsplit(DELIMITER, 1)[0])


def status_index_keys(
    app_id: str, task_id: str, invocation_id: str, status: str, timestamp: datetime
) -> Key:
    """Index attributes of a status item in ``status`` since ``timestamp``: gsi1 by task
    then status, gsi2 by status; both sharded by invocation, ordered by time."""
    inv = _inv(invocation_id)
    return {
        GSI1_PK: {"S": f"{task_status_partition_prefix(app_id, task_id)}{_shard(inv)}"},
        **status_change_index_keys(app_id, invocation_id, status, timestamp),
    }


def status_change_index_keys(
    app_id: str, invocation_id: str, status: str, timestamp: datetime
) -> Key:
    """The index attributes a transition rewrites (gsi1pk, the task, never changes)."""
    inv = _inv(invocation_id)
    st = escape(status, "status", MAX_ID_BYTES)
    ts = timestamp_component(timestamp)
    return {
        GSI1_SK: {"S": f"{st}#{ts}#{inv}"},
        GSI2_PK: {"S": f"A#{_app(app_id)}#OS#{st}#{_shard(inv)}"},
        GSI2_SK: {"S": f"{ts}#{inv}"},
    }


def task_status_partition_prefix(app_id: str, task_id: str) -> str:
    return f"A#{_app(app_id)}#OT#{escape(task_id, 'task_id', MAX_ID_BYTES)}#"


def task_status_partitions(app_id: str, task_id: str) -> list[str]:
    """gsi1 partitions of one task's statuses; sort keys ``{status}#{ts}#{inv}``."""
    prefix = task_status_partition_prefix(app_id, task_id)
    return [f"{prefix}{shard}" for shard in shard_names()]


def task_status_sort_prefix(status: str) -> str:
    return f"{escape(status, 'status', MAX_ID_BYTES)}#"


def status_partitions(app_id: str, status: str) -> list[str]:
    """gsi2 partitions of the app's invocations in ``status``; sort keys ``{ts}#{inv}``."""
    return _sharded(app_id, f"OS#{escape(status, 'status', MAX_ID_BYTES)}")


def invocation_of_index_key(index_sort_key: str) -> str:
    """The invocation id ending an index sort key (``...#{inv}``)."""
    return unescape(index_sort_key.rsplit(DELIMITER, 1)[1])


def time_of_index_key(index_sort_key: str) -> str:
    """The time component of an index sort key (``{ts}#{inv}`` or ``{st}#{ts}#{inv}``)."""
    parts = index_sort_key.split(DELIMITER)
    return parts[-2]


# -- registrations: by call (base table), by task and app-wide by time (indexes) ------


def registration_key(app_id: str, call_id: str, invocation_id: str) -> Key:
    """The registration item of an invocation, in its call's partition."""
    call = escape(call_id, "call_id", MAX_ID_BYTES)
    return _key(f"A#{_app(app_id)}#OC#{_shard(call)}", f"{call}#{_inv(invocation_id)}")


def call_prefix(app_id: str, call_id: str) -> Prefix:
    call = escape(call_id, "call_id", MAX_ID_BYTES)
    return Prefix(f"A#{_app(app_id)}#OC#{_shard(call)}", f"{call}#")


def registration_index_keys(
    app_id: str, task_id: str, invocation_id: str, timestamp: datetime
) -> Key:
    """Index attributes of a registration: gsi1 by task, gsi2 app-wide, by time."""
    inv = _inv(invocation_id)
    sort_key = f"{timestamp_component(timestamp)}#{inv}"
    return {
        GSI1_PK: {"S": f"{task_registration_partition_prefix(app_id, task_id)}{_shard(inv)}"},
        GSI1_SK: {"S": sort_key},
        GSI2_PK: {"S": f"A#{_app(app_id)}#OA#{_shard(inv)}"},
        GSI2_SK: {"S": sort_key},
    }


def task_registration_partition_prefix(app_id: str, task_id: str) -> str:
    return f"A#{_app(app_id)}#OR#{escape(task_id, 'task_id', MAX_ID_BYTES)}#"


def task_registration_partitions(app_id: str, task_id: str) -> list[str]:
    """gsi1 partitions of one task's registrations, by time."""
    prefix = task_registration_partition_prefix(app_id, task_id)
    return [f"{prefix}{shard}" for shard in shard_names()]


def registration_partitions(app_id: str) -> list[str]:
    """gsi2 partitions of every registration of the app, by time."""
    return _sharded(app_id, "OA")


# -- arguments of concurrency control ---------------------------------------------------


def arg_token(key: str, serialized_value: str) -> str:
    """One argument as a token: its escaped name and the digest of its serialized value
    (values can be large; the digest keeps keys short and fixed in size)."""
    name = escape(key, "argument name", MAX_DATA_KEY_BYTES)
    digest = hashlib.sha256(serialized_value.encode("utf-8")).hexdigest()[:40]
    return f"{name}#{digest}"


def arg_prefix(app_id: str, task_id: str, token: str) -> Prefix:
    """The invocations of one task with one argument value: one partition, one prefix."""
    task = escape(task_id, "task_id", MAX_ID_BYTES)
    value = f"{task}#{token}"
    return Prefix(f"A#{_app(app_id)}#OG#{_shard(value)}", f"{value}#")


def arg_key(app_id: str, task_id: str, token: str, invocation_id: str) -> Key:
    prefix = arg_prefix(app_id, task_id, token)
    return _key(prefix.pk, f"{prefix.sk_prefix}{_inv(invocation_id)}")


def args_record_key(app_id: str, invocation_id: str) -> Key:
    """The tokens an invocation was indexed under, kept beside its status item so that
    its argument items can be deleted without a search."""
    pk, inv = _orchestration_partition(app_id, invocation_id)
    return _key(pk, f"{inv}#G")


# -- blocking control -------------------------------------------------------------------


def blocking_key(app_id: str, invocation_id: str) -> Key:
    """The blocking item of an invocation: who waits for it, what it waits for."""
    pk, inv = _orchestration_partition(app_id, invocation_id)
    return _key(pk, f"{inv}#B")


def invocation_of_blocking_key(sort_key: str) -> str:
    return unescape(sort_key.rsplit(DELIMITER, 1)[0])


def waited_index_keys(app_id: str, invocation_id: str, timestamp: datetime) -> Key:
    """gsi2 attributes of a waited invocation: oldest wait first, sharded."""
    inv = _inv(invocation_id)
    return {
        GSI2_PK: {"S": f"A#{_app(app_id)}#OW#{_shard(inv)}"},
        GSI2_SK: {"S": f"{timestamp_component(timestamp)}#{inv}"},
    }


def waited_partitions(app_id: str) -> list[str]:
    return _sharded(app_id, "OW")


# -- auto purge, heartbeats, purge ------------------------------------------------------


def purge_marker_key(app_id: str, invocation_id: str, timestamp: datetime) -> Key:
    """A marker: purge the invocation's orchestration items after ``timestamp`` + the
    configured delay; sorted by time in its shard, so old markers are a key range."""
    inv = _inv(invocation_id)
    return _key(f"A#{_app(app_id)}#OP#{_shard(inv)}", f"{timestamp_component(timestamp)}#{inv}")


def purge_marker_partitions(app_id: str) -> list[str]:
    return _sharded(app_id, "OP")


# -- running concurrency control: one slot per concurrency key ---------------------------


def running_slot_key(app_id: str, task_id: str, key_arguments: dict[str, str] | None) -> Key:
    """The running slot of a task (``key_arguments`` ``None``: one for the whole task) or of
    one task and value of its key arguments: the invocation holding it is the only one of
    them allowed to be RUNNING. The arguments are digested (values can be large)."""
    task = escape(task_id, "task_id", MAX_ID_BYTES)
    slot = task
    if key_arguments is not None:
        tokens = "#".join(arg_token(k, v) for k, v in sorted(key_arguments.items()))
        digest = hashlib.sha256(tokens.encode("utf-8")).hexdigest()[:40]
        slot = f"{task}#{digest}"
    return _key(f"A#{_app(app_id)}#OK#{_shard(slot)}", slot)


def heartbeat_key(app_id: str, runner_id: str) -> Key:
    runner = escape(runner_id, "runner_id", MAX_ID_BYTES)
    return _key(f"A#{_app(app_id)}#OH#{_shard(runner)}", runner)


def heartbeat_partitions(app_id: str) -> list[str]:
    return _sharded(app_id, "OH")


def orchestrator_partitions(app_id: str) -> list[str]:
    """Every base-table partition of the app's orchestrator items: what its purge empties
    (none of them is a state partition, so purging either keeps the other)."""
    kinds = ("O", "OC", "OG", "OP", "OH", "OK")
    return [pk for kind in kinds for pk in _sharded(app_id, kind)]
