"""The single-table key schema: the only package that knows attribute names and builds keys.

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
    A#{app}#TG#C                {cond}                     trigger condition
    A#{app}#TG#L                {cond}                     cron last execution (conditional)
    A#{app}#TG#D                {trigger}                  trigger definition
    A#{app}#TG#K                {task}#{trigger}           trigger of a task
    A#{app}#TG#N                {cond}#{trigger}           trigger of a condition (definition)
    A#{app}#TG#S#NN(task)       {task}#{cond}              condition sourced from a task
    A#{app}#TG#V#NN(vc)         {vc}                       valid condition
    A#{app}#TG#R                {run}                      trigger-run claim (conditional)
    APPS                        {app}                      app info (shared registry)

    orchestrator (pynenc 0.1; ``schema.orchestration``):
    A#{app}#O#NN(inv)           {inv}#S                    status, owner, version, retries
    A#{app}#O#NN(inv)           {inv}#B / {inv}#G          blocking (waiters) / argument tokens
    A#{app}#OC#NN(call)         {call}#{inv}               registration of an invocation, by call
    A#{app}#OG#NN(task,arg)     {task}#{arg}#{digest}#{inv}  argument index (concurrency control)
    A#{app}#OP#NN(inv)          {ts}#{inv}                 auto-purge marker, by time
    A#{app}#OH#NN(runner)       {runner}                   runner heartbeat
    A#{app}#OK#NN(slot)         {task}[#{digest}]          running slot (running concurrency)

    gsi1pk = A#{app}#WT#{task}, gsi1sk = {ts}#{wf}   runs of a workflow type, by time
    gsi1pk = A#{app}#WI#NN(inv), gsi1sk = {type}#{wf}#{inv}   members, by workflow type
    gsi1pk = A#{app}#HT#{hour}#NN(inv), gsi1sk = {ts}#{inv}#{record}
        history records written in batches (``add_histories``), by UTC hour and time
    gsi1pk = A#{app}#OT#{task}#NN(inv), gsi1sk = {status}#{ts}#{inv}   statuses by task
    gsi1pk = A#{app}#OR#{task}#NN(inv), gsi1sk = {ts}#{inv}   registrations by task
    gsi2pk = A#{app}#OS#{status}#NN(inv), gsi2sk = {ts}#{inv}   statuses, app-wide
    gsi2pk = A#{app}#OA#NN(inv), gsi2sk = {ts}#{inv}   registrations, app-wide
    gsi2pk = A#{app}#OW#NN(inv), gsi2sk = {ts}#{inv}   waited invocations (blocking)

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

The trigger's partitions (``A#{app}#TG#...``, ``6 + 2 * SHARDS`` of them) are its own:
the state's purge never reads them and the trigger's purge reads only them.

Components are escaped (``%`` -> ``%25``, ``#`` -> ``%23``) so that any text id or key,
delimiter included, maps to exactly one key and prefixes never collide.
"""

from pynenc_dynamodb.table.schema import orchestration
from pynenc_dynamodb.table.schema.core import (
    APPS_PARTITION,
    BODY,
    DELIMITER,
    DIGEST,
    ENCODING,
    EXPIRES_AT,
    GSI1,
    GSI1_PK,
    GSI1_SK,
    GSI2,
    GSI2_PK,
    GSI2_SK,
    MAX_APP_ID_BYTES,
    MAX_CLIENT_DATA_KEY_BYTES,
    MAX_DATA_KEY_BYTES,
    MAX_ID_BYTES,
    MAX_ITEM_BYTES,
    MAX_PARTITION_KEY_BYTES,
    MAX_SORT_KEY_BYTES,
    OBJECT_KEY,
    OWNER,
    PK,
    SHARDS,
    SK,
    Key,
    Prefix,
    as_utc,
    escape,
    shard_names,
    timestamp_component,
    unescape,
    validate_app_id,
)
from pynenc_dynamodb.table.schema.indexes import (
    child_key,
    children_prefix,
    client_data_key,
    client_data_partitions,
    history_index_invocation,
    history_index_keys,
    history_time_bounds,
    history_time_partition,
    history_time_partitions,
    hour_bucket,
    member_index_keys,
    member_index_partitions,
    member_key,
    member_type_prefix,
    members_prefix,
    runner_context_key,
    runner_contexts_partition,
    runner_id_of,
)
from pynenc_dynamodb.table.schema.objects import (
    client_data_object_prefix,
    object_key,
    payload_object_key,
    payload_object_prefix,
    trigger_object_prefix,
)
from pynenc_dynamodb.table.schema.state import (
    app_info_key,
    app_partitions,
    deterministic_value_key,
    exception_key,
    history_key,
    history_prefix,
    invocation_key,
    result_key,
    run_index_workflow,
    sub_invocation_key,
    sub_invocations_prefix,
    workflow_data_key,
    workflow_run_index_keys,
    workflow_run_key,
    workflow_runs_partition,
    workflow_type_key,
    workflow_type_key_of_runs_partition,
    workflow_types_partition,
)
from pynenc_dynamodb.table.schema.table import (
    table_definition,
)
from pynenc_dynamodb.table.schema.triggers import (
    CONDITION_IDS,
    LAST_EXECUTION,
    WRITER,
    condition_key,
    condition_trigger_key,
    condition_triggers_prefix,
    conditions_partition,
    cron_last_execution_key,
    linked_id_of,
    source_condition_key,
    source_conditions_prefix,
    task_trigger_key,
    task_triggers_prefix,
    trigger_key,
    trigger_partitions,
    trigger_run_claim_key,
    valid_condition_id_of,
    valid_condition_key,
    valid_condition_partitions,
)

__all__ = [
    "APPS_PARTITION",
    "BODY",
    "CONDITION_IDS",
    "DELIMITER",
    "DIGEST",
    "ENCODING",
    "EXPIRES_AT",
    "GSI1",
    "GSI1_PK",
    "GSI1_SK",
    "GSI2",
    "GSI2_PK",
    "GSI2_SK",
    "LAST_EXECUTION",
    "MAX_APP_ID_BYTES",
    "MAX_CLIENT_DATA_KEY_BYTES",
    "MAX_DATA_KEY_BYTES",
    "MAX_ID_BYTES",
    "MAX_ITEM_BYTES",
    "MAX_PARTITION_KEY_BYTES",
    "MAX_SORT_KEY_BYTES",
    "OBJECT_KEY",
    "OWNER",
    "PK",
    "SHARDS",
    "SK",
    "WRITER",
    "Key",
    "Prefix",
    "app_info_key",
    "app_partitions",
    "as_utc",
    "child_key",
    "children_prefix",
    "client_data_key",
    "client_data_object_prefix",
    "client_data_partitions",
    "condition_key",
    "condition_trigger_key",
    "condition_triggers_prefix",
    "conditions_partition",
    "cron_last_execution_key",
    "deterministic_value_key",
    "escape",
    "exception_key",
    "history_index_invocation",
    "history_index_keys",
    "history_key",
    "history_prefix",
    "history_time_bounds",
    "history_time_partition",
    "history_time_partitions",
    "hour_bucket",
    "invocation_key",
    "linked_id_of",
    "member_index_keys",
    "member_index_partitions",
    "member_key",
    "member_type_prefix",
    "members_prefix",
    "object_key",
    "orchestration",
    "payload_object_key",
    "payload_object_prefix",
    "result_key",
    "run_index_workflow",
    "runner_context_key",
    "runner_contexts_partition",
    "runner_id_of",
    "shard_names",
    "source_condition_key",
    "source_conditions_prefix",
    "sub_invocation_key",
    "sub_invocations_prefix",
    "table_definition",
    "task_trigger_key",
    "task_triggers_prefix",
    "timestamp_component",
    "trigger_key",
    "trigger_object_prefix",
    "trigger_partitions",
    "trigger_run_claim_key",
    "unescape",
    "valid_condition_id_of",
    "valid_condition_key",
    "valid_condition_partitions",
    "validate_app_id",
    "workflow_data_key",
    "workflow_run_index_keys",
    "workflow_run_key",
    "workflow_runs_partition",
    "workflow_type_key",
    "workflow_type_key_of_runs_partition",
    "workflow_types_partition",
]
