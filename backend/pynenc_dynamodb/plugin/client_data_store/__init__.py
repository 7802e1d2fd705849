"""pynenc 0.1 client data stores over a store: the table directly, or the state API."""

from pynenc_dynamodb.plugin.client_data_store.dynamodb_client_data_store import (
    DynamoDBApiClientDataStore,
    DynamoDBClientDataStore,
)

__all__ = ["DynamoDBApiClientDataStore", "DynamoDBClientDataStore"]
