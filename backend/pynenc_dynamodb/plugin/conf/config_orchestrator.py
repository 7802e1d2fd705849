"""Settings of the pynenc 0.1 orchestrator: pynenc's own and the shared DynamoDB ones."""

from cistell import ConfigField
from pynenc.conf.config_orchestrator import ConfigOrchestrator

from pynenc_dynamodb.config_fields import ConfigDynamoDB


class ConfigOrchestratorDynamoDB(ConfigOrchestrator, ConfigDynamoDB):
    """
    Settings of :class:`~pynenc_dynamodb.DynamoDBOrchestrator`: pynenc's orchestrator
    settings (``blocking_control``, ``auto_final_invocation_purge_hours``) and the table
    and connection settings of :class:`~pynenc_dynamodb.config_fields.ConfigDynamoDB`,
    under the same names as the state backend's, so one set configures both.

    Each can also be set as ``PYNENC__CONFIGORCHESTRATORDYNAMODB__<SETTING>``.

    :cvar ConfigField[int] dynamodb_transition_attempts:
        Conditional writes tried per status transition before
        ``InvocationStatusRaceConditionError``: a write loses only to another writer's
        transition of the same invocation, and is then decided again from the status the
        winner wrote.

    :cvar ConfigField[float] dynamodb_blocking_poll_seconds:
        After a look for blocking invocations (16 index Queries) that found none, a process
        looks again only this many seconds later, unless it registered a wait itself
        meanwhile. pynenc's runners look on every loop iteration; the look only gives
        awaited invocations priority (they are queued in the broker all the same), so
        waiting a second costs at most that second of priority. 0 looks every time.

    :cvar ConfigField[float] dynamodb_blocking_idle_poll_seconds:
        The same interval while the app's broker found its queue empty at this process's
        last receive (``SQSBroker``; other brokers do not say): every invocation that can
        run is then in flight with some runner already, so a look only finds one whose
        message was lost. The idle runner waits on SQS's long polling instead of polling
        DynamoDB. Never below ``dynamodb_blocking_poll_seconds``.

    :cvar ConfigField[int] dynamodb_heartbeat_ttl_seconds:
        A runner's heartbeat item expires (``expires_at``, the table's TTL attribute) this
        many seconds after its last heartbeat, so the ids of runners gone for good (each
        Lambda execution environment, each worker process) do not pile up. Listings
        ignore an expired item before DynamoDB deletes it; a runner is counted dead long
        before (``runner_considered_dead_after_minutes``). Keep it above that window and
        above the interval between heartbeats.
    """

    dynamodb_transition_attempts = ConfigField(5)
    dynamodb_blocking_poll_seconds = ConfigField(1.0)
    dynamodb_blocking_idle_poll_seconds = ConfigField(30.0)
    dynamodb_heartbeat_ttl_seconds = ConfigField(86400)
