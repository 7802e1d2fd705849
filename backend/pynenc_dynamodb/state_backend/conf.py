"""Configuration of the DynamoDB state backend, read through pynenc's own configuration."""

from pynenc.conf.config_state_backend import ConfigStateBackend

from pynenc_dynamodb.config_fields import ConfigDynamoDB


class ConfigStateBackendDynamoDB(ConfigStateBackend, ConfigDynamoDB):
    """
    Settings of :class:`~pynenc_dynamodb.DynamoDBStateBackend`: pynenc's state backend
    settings and those of :class:`~pynenc_dynamodb.config_fields.ConfigDynamoDB`.

    Each can also be set as ``PYNENC__CONFIGSTATEBACKENDDYNAMODB__<SETTING>``.
    """
