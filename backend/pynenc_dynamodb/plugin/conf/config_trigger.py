"""Settings of the pynenc 0.1 trigger: pynenc's own (scheduler) and the shared DynamoDB ones,
so one set of ``dynamodb_*`` settings configures the state backend and the trigger alike."""

from pynenc.conf.config_trigger import ConfigTrigger

from pynenc_dynamodb.config_fields import ConfigDynamoDB


class ConfigTriggerDynamoDB(ConfigTrigger, ConfigDynamoDB):
    """
    Settings of :class:`~pynenc_dynamodb.plugin.trigger.DynamoDBTrigger`: pynenc's trigger
    settings (``scheduler_interval_seconds`` and the others) and those of
    :class:`~pynenc_dynamodb.config_fields.ConfigDynamoDB`.

    Each can also be set as ``PYNENC__CONFIGTRIGGERDYNAMODB__<SETTING>``.
    """
