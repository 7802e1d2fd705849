"""Settings of the pynenc 0.1 state backends: pynenc's own and the shared DynamoDB ones."""

from pynenc.conf.config_state_backend import ConfigStateBackend

from pynenc_dynamodb.config_fields import ConfigDynamoDB, ConfigDynamoDBApi


class ConfigStateBackendDynamoDB(ConfigStateBackend, ConfigDynamoDB):
    """
    Settings of :class:`~pynenc_dynamodb.DynamoDBStateBackend`: pynenc's state backend
    settings and those of :class:`~pynenc_dynamodb.config_fields.ConfigDynamoDB`.

    Each can also be set as ``PYNENC__CONFIGSTATEBACKENDDYNAMODB__<SETTING>``.
    """


class ConfigStateBackendDynamoDBApi(ConfigStateBackend, ConfigDynamoDBApi):
    """
    Settings of :class:`~pynenc_dynamodb.DynamoDBApiStateBackend`: pynenc's state backend
    settings and those of :class:`~pynenc_dynamodb.config_fields.ConfigDynamoDBApi`.

    Each can also be set as ``PYNENC__CONFIGSTATEBACKENDDYNAMODBAPI__<SETTING>``.
    """
