"""Keys of pynenc 0.1's trigger component: conditions, trigger definitions and their links,
valid conditions, cron last executions and trigger-run claims.

Every partition is ``A#{app}#TG#...``: derived from the app id alone (purge empties exactly
:func:`trigger_partitions`) and never one of the state's partitions, so purging the trigger
keeps the state and purging the state keeps the trigger. The partitions written on the
runtime path (a task's status reports its source conditions, satisfied conditions are
recorded) are sharded; the others are written when tasks register their triggers, and by
the one runner that holds the atomic-service claim.
"""

from typing import Any, Final

from pynenc_dynamodb.table.schema.core import (
    MAX_ID_BYTES,
    MAX_SORT_KEY_BYTES,
    SK,
    Key,
    Prefix,
    _app,
    _key,
    _shard,
    escape,
    shard_names,
    unescape,
)

# Attributes of the conditional items: a cron condition's last execution (a fixed-width UTC
# timestamp), and the token of the write that set it or claimed a run, by which a writer
# recognises its own write when a retry finds the condition no longer holds.
LAST_EXECUTION: Final = "last"
WRITER: Final = "tok"
# The condition ids of a trigger, on its task link: what deleting the trigger must unlink.
CONDITION_IDS: Final = "cids"

# Kinds of trigger partitions (the text after ``TG#``).
_CONDITIONS = "C"
_CRON_LAST = "L"
_DEFINITIONS = "D"
_TASK_TRIGGERS = "K"
_CONDITION_TRIGGERS = "N"
_RUN_CLAIMS = "R"
_SOURCE_CONDITIONS = "S"
_VALID_CONDITIONS = "V"


def _partition(app_id: str, kind: str, shard: str | None = None) -> str:
    base = f"A#{_app(app_id)}#TG#{kind}"
    return f"{base}#{shard}" if shard is not None else base


def _condition(condition_id: str) -> str:
    return escape(condition_id, "condition_id", MAX_ID_BYTES)


def _task(task_key: str) -> str:
    return escape(task_key, "task_id", MAX_ID_BYTES)


def _trigger(trigger_id: str) -> str:
    return escape(trigger_id, "trigger_id", MAX_ID_BYTES)


def condition_key(app_id: str, condition_id: str) -> Key:
    """A registered condition (its JSON)."""
    return _key(_partition(app_id, _CONDITIONS), _condition(condition_id))


def conditions_partition(app_id: str) -> str:
    """Every condition of the app: one Query lists them."""
    return _partition(app_id, _CONDITIONS)


def cron_last_execution_key(app_id: str, condition_id: str) -> Key:
    """The last execution of a cron condition, apart from the condition itself: registering
    the condition again (every worker does at start) never resets it."""
    return _key(_partition(app_id, _CRON_LAST), _condition(condition_id))


def trigger_key(app_id: str, trigger_id: str) -> Key:
    """A trigger definition (its JSON)."""
    return _key(_partition(app_id, _DEFINITIONS), _trigger(trigger_id))


def task_trigger_key(app_id: str, task_key: str, trigger_id: str) -> Key:
    """A trigger of a task, listed by task when the task's definitions are replaced."""
    return _key(_partition(app_id, _TASK_TRIGGERS), f"{_task(task_key)}#{_trigger(trigger_id)}")


def task_triggers_prefix(app_id: str, task_key: str) -> Prefix:
    return Prefix(_partition(app_id, _TASK_TRIGGERS), f"{_task(task_key)}#")


def linked_id_of(key_or_item: dict[str, Any]) -> str:
    """The id after the first delimiter of a link's sort key: the trigger of a task link
    (``{task}#{trigger}``), the condition of a source link (``{task}#{cond}``)."""
    return unescape(str(key_or_item[SK]["S"]).partition("#")[2])


def condition_trigger_key(app_id: str, condition_id: str, trigger_id: str) -> Key:
    """A trigger that depends on a condition, listed by condition (with the definition)."""
    sk = f"{_condition(condition_id)}#{_trigger(trigger_id)}"
    return _key(_partition(app_id, _CONDITION_TRIGGERS), sk)


def condition_triggers_prefix(app_id: str, condition_id: str) -> Prefix:
    return Prefix(_partition(app_id, _CONDITION_TRIGGERS), f"{_condition(condition_id)}#")


def source_condition_key(app_id: str, task_key: str, condition_id: str) -> Key:
    """A condition sourced from a task (with the condition), in the task's shard: every
    status change of the task reads them."""
    task = _task(task_key)
    pk = _partition(app_id, _SOURCE_CONDITIONS, _shard(task))
    return _key(pk, f"{task}#{_condition(condition_id)}")


def source_conditions_prefix(app_id: str, task_key: str) -> Prefix:
    task = _task(task_key)
    return Prefix(_partition(app_id, _SOURCE_CONDITIONS, _shard(task)), f"{task}#")


def valid_condition_key(app_id: str, valid_condition_id: str) -> Key:
    """A satisfied condition waiting for the trigger loop, in its id's shard."""
    vc = escape(valid_condition_id, "valid_condition_id", MAX_SORT_KEY_BYTES)
    return _key(_partition(app_id, _VALID_CONDITIONS, _shard(vc)), vc)


def valid_condition_partitions(app_id: str) -> list[str]:
    """The ``SHARDS`` partitions of the valid conditions: the trigger loop reads them all."""
    return [_partition(app_id, _VALID_CONDITIONS, shard) for shard in shard_names()]


def valid_condition_id_of(key_or_item: dict[str, Any]) -> str:
    """The valid condition id of a valid condition's key (or item)."""
    return unescape(str(key_or_item[SK]["S"]))


def trigger_run_claim_key(app_id: str, trigger_run_id: str) -> Key:
    """The claim of one trigger run. One partition: only the runner holding the atomic
    service claims runs, one request at a time."""
    run = escape(trigger_run_id, "trigger_run_id", MAX_SORT_KEY_BYTES)
    return _key(_partition(app_id, _RUN_CLAIMS), run)


def trigger_partitions(app_id: str) -> list[str]:
    """Every partition that can hold a trigger item of ``app_id``: what purge empties."""
    single = [
        _CONDITIONS,
        _CRON_LAST,
        _DEFINITIONS,
        _TASK_TRIGGERS,
        _CONDITION_TRIGGERS,
        _RUN_CLAIMS,
    ]
    partitions = [_partition(app_id, kind) for kind in single]
    for kind in (_SOURCE_CONDITIONS, _VALID_CONDITIONS):
        partitions += [_partition(app_id, kind, shard) for shard in shard_names()]
    return partitions
