"""pynenc-dynamodb: pynenc's state backend on DynamoDB."""

from importlib.util import find_spec

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

# Importing the backends registers them with pynenc. The state API's Lambda function uses
# the store alone and ships without pynenc: a smaller package and a faster cold start.
if find_spec("pynenc") is not None:
    from pynenc_dynamodb.api_backend import (
        ConfigStateBackendDynamoDBApi,
        DynamoDBApiStateBackend,
    )
    from pynenc_dynamodb.backend import DynamoDBStateBackend
    from pynenc_dynamodb.conf import ConfigStateBackendDynamoDB
    from pynenc_dynamodb.warmup import install as _install_warm_up

    _install_warm_up()

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
