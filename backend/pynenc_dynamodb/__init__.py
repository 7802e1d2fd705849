"""pynenc-dynamodb: pynenc's state backend on DynamoDB."""

from pynenc_dynamodb.api_backend import ConfigStateBackendDynamoDBApi, DynamoDBApiStateBackend
from pynenc_dynamodb.backend import DynamoDBStateBackend
from pynenc_dynamodb.conf import ConfigStateBackendDynamoDB
from pynenc_dynamodb.errors import (
    AsyncWriteError,
    ConfigurationError,
    DynamoDBRequestError,
    DynamoDBStateBackendError,
    InvalidKeyError,
    ItemTooLargeError,
    TableNotFoundError,
    TableSchemaError,
    UnrestoredTaskError,
)

__all__ = [
    "AsyncWriteError",
    "ConfigStateBackendDynamoDB",
    "ConfigStateBackendDynamoDBApi",
    "ConfigurationError",
    "DynamoDBApiStateBackend",
    "DynamoDBRequestError",
    "DynamoDBStateBackend",
    "DynamoDBStateBackendError",
    "InvalidKeyError",
    "ItemTooLargeError",
    "TableNotFoundError",
    "TableSchemaError",
    "UnrestoredTaskError",
]
