"""pynenc 0.1's client data store (large serialized arguments, results and exceptions,
kept apart and referenced by content hash) in the state table and its payload bucket.

With ``dynamodb_s3_bucket`` set, each value is an S3 object under the app's client data
prefix, checked against its digest on every read, and the item only points at it;
without one, the value stays in its item (compressed), up to DynamoDB's 400 KB.
"""

from functools import cached_property

from pynenc.client_data_store.base_client_data_store import BaseClientDataStore

from pynenc_dynamodb.api.client import ApiStateStore
from pynenc_dynamodb.config_fields import build_store
from pynenc_dynamodb.plugin.conf import (
    ConfigClientDataStoreDynamoDB,
    ConfigClientDataStoreDynamoDBApi,
)
from pynenc_dynamodb.store_contract import PluginStateStore
from pynenc_dynamodb.table.store import DynamoDBStateStore


class StoreBackedClientDataStore:
    """``_store``, ``_retrieve`` and ``_purge`` over :attr:`store`; mixed in before
    ``BaseClientDataStore``."""

    @property
    def store(self) -> PluginStateStore:
        raise NotImplementedError

    def _store(self, key: str, value: str) -> None:
        self.store.put_client_data(key, value)

    def _retrieve(self, key: str) -> str:
        value = self.store.get_client_data(key)
        if value is None:
            raise KeyError(f"Client data {key} not found")
        return value

    def _purge(self) -> None:
        self.store.purge_client_data()


class DynamoDBClientDataStore(StoreBackedClientDataStore, BaseClientDataStore):
    """
    Client data store in the DynamoDB table (and its S3 bucket) of
    :class:`~pynenc_dynamodb.DynamoDBStateBackend`, configured by the same settings
    (:class:`~pynenc_dynamodb.ConfigClientDataStoreDynamoDB`).

    :param Pynenc app: the pynenc app whose client data this store holds
    """

    @cached_property
    def conf(self) -> ConfigClientDataStoreDynamoDB:
        return ConfigClientDataStoreDynamoDB(
            config_values=self.app.config_values,
            config_filepath=self.app.config_filepath,
        )

    @cached_property
    def store(self) -> DynamoDBStateStore:
        return build_store(self.conf, self.app.app_id)


class DynamoDBApiClientDataStore(StoreBackedClientDataStore, BaseClientDataStore):
    """
    Client data store behind the state API, for workers on
    :class:`~pynenc_dynamodb.DynamoDBApiStateBackend`
    (:class:`~pynenc_dynamodb.ConfigClientDataStoreDynamoDBApi`).

    :param Pynenc app: the pynenc app whose client data this store holds
    """

    @cached_property
    def conf(self) -> ConfigClientDataStoreDynamoDBApi:
        return ConfigClientDataStoreDynamoDBApi(
            config_values=self.app.config_values,
            config_filepath=self.app.config_filepath,
        )

    @cached_property
    def store(self) -> ApiStateStore:
        return ApiStateStore(self.conf.api_settings(), self.app.app_id)
