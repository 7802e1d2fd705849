"""Settings of the pynenc 0.1 client data stores: pynenc's own (sizes, cache) and the shared
DynamoDB ones, so one set of ``dynamodb_*`` settings configures the state backend and the
client data store alike."""

from pynenc.conf.config_client_data_store import ConfigClientDataStore

from pynenc_dynamodb.config_fields import ConfigDynamoDB, ConfigDynamoDBApi


class ConfigClientDataStoreDynamoDB(ConfigClientDataStore, ConfigDynamoDB):
    """
    Settings of :class:`~pynenc_dynamodb.DynamoDBClientDataStore`: pynenc's client data
    store settings (``min_size_to_cache`` and the others) and those of
    :class:`~pynenc_dynamodb.config_fields.ConfigDynamoDB`.

    Each can also be set as ``PYNENC__CONFIGCLIENTDATASTOREDYNAMODB__<SETTING>``.
    """


class ConfigClientDataStoreDynamoDBApi(ConfigClientDataStore, ConfigDynamoDBApi):
    """
    Settings of :class:`~pynenc_dynamodb.DynamoDBApiClientDataStore`: pynenc's client data
    store settings and those of :class:`~pynenc_dynamodb.config_fields.ConfigDynamoDBApi`.

    Each can also be set as ``PYNENC__CONFIGCLIENTDATASTOREDYNAMODBAPI__<SETTING>``.
    """
