"""pynenc-dynamodb: pynenc's state backend on DynamoDB."""

from importlib.util import find_spec

from pynenc_dynamodb.errors import (
    AsyncWriteError,
    ConfigurationError,
    DynamoDBRequestError,
    DynamoDBStateBackendError,
    InvalidKeyError,
    ItemTooLargeError,
    PayloadError,
    QueueNotFoundError,
    RequestTooLargeError,
    StateApiError,
    TableNotFoundError,
    TableSchemaError,
    UnrestoredTaskError,
)
from pynenc_dynamodb.pynenc_version import PYNENC_01

# Importing the backends registers them with pynenc. The state API's Lambda function uses
# the store alone and ships without pynenc: a smaller package and a faster cold start.
if PYNENC_01:
    from pynenc_dynamodb.plugin import (
        ConfigBrokerSQS,
        ConfigClientDataStoreDynamoDB,
        ConfigClientDataStoreDynamoDBApi,
        ConfigOrchestratorDynamoDB,
        ConfigRunnerLambda,
        ConfigStateBackendDynamoDB,
        ConfigStateBackendDynamoDBApi,
        ConfigTriggerDynamoDB,
        DynamoDBApiClientDataStore,
        DynamoDBApiStateBackend,
        DynamoDBClientDataStore,
        DynamoDBOrchestrator,
        DynamoDBStateBackend,
        DynamoDBTrigger,
        LambdaRunner,
        SQSBroker,
    )
elif find_spec("pynenc") is not None:
    from pynenc_dynamodb.state_backend.api import (
        ConfigStateBackendDynamoDBApi,
        DynamoDBApiStateBackend,
    )
    from pynenc_dynamodb.state_backend.conf import ConfigStateBackendDynamoDB
    from pynenc_dynamodb.state_backend.dynamodb import DynamoDBStateBackend
    from pynenc_dynamodb.state_backend.warmup import install as _install_warm_up

    _install_warm_up()

__all__ = [
    "PYNENC_01",
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
    "PayloadError",
    "QueueNotFoundError",
    "RequestTooLargeError",
    "StateApiError",
    "TableNotFoundError",
    "TableSchemaError",
    "UnrestoredTaskError",
]
if PYNENC_01:
    __all__ += [
        "ConfigBrokerSQS",
        "ConfigClientDataStoreDynamoDB",
        "ConfigClientDataStoreDynamoDBApi",
        "ConfigOrchestratorDynamoDB",
        "ConfigRunnerLambda",
        "ConfigTriggerDynamoDB",
        "DynamoDBApiClientDataStore",
        "DynamoDBClientDataStore",
        "DynamoDBOrchestrator",
        "DynamoDBTrigger",
        "LambdaRunner",
        "SQSBroker",
    ]
