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
    """

    dynamodb_transition_attempts = ConfigField(5)
