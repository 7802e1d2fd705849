"""Keys of the state every pynenc version stores: invocations, history, results, workflows,
the workflow type registry, app infos, and the partitions purge empties."""

from datetime import datetime

from pynenc_dynamodb.table.schema.core import (
    APPS_PARTITION,
    DELIMITER,
    GSI1_PK,
    GSI1_SK,
    MAX_DATA_KEY_BYTES,
    MAX_ID_BYTES,
    Key,
    Prefix,
    _app,
    _invocation_partition,
    _key,
    _workflow_partition,
    escape,
    shard_names,
    timestamp_component,
)


def invocation_key(app_id: str, invocation_id: str) -> Key:
    pk, inv = _invocation_partition(app_id, invocation_id)
    return _key(pk, f"{inv}#I")


def result_key(app_id: str, invocation_id: str) -> Key:
    pk, inv = _invocation_partition(app_id, invocation_id)
    return _key(pk, f"{inv}#R")


def exception_key(app_id: str, invocation_id: str) -> Key:
    pk, inv = _invocation_partition(app_id, invocation_id)
    return _key(pk, f"{inv}#E")


def history_key(app_id: str, invocation_id: str, timestamp: datetime, record_id: str) -> Key:
    """Key of one history record; ``record_id`` makes retried writes idempotent."""
    pk, inv = _invocation_partition(app_id, invocation_id)
    rec = escape(record_id, "history record id", MAX_ID_BYTES)
    return _key(pk, f"{inv}#H#{timestamp_component(timestamp)}#{rec}")


def history_prefix(app_id: str, invocation_id: str) -> Prefix:
    pk, inv = _invocation_partition(app_id, invocation_id)
    return Prefix(pk, f"{inv}#H#")


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
