"""The pynenc 0.1 plugin (pynenc >= 0.1.1 only): state backends, client data stores, the
SQS broker, the trigger, their settings and the ``PynencBuilder().dynamodb(...)`` method,
over the same store layer as the 0.0.24 adapter (``pynenc_dynamodb.state_backend``)."""

from pynenc_dynamodb.plugin.broker import SQSBroker
from pynenc_dynamodb.plugin.client_data_store import (
    DynamoDBApiClientDataStore,
    DynamoDBClientDataStore,
)
from pynenc_dynamodb.plugin.conf import (
    ConfigBrokerSQS,
    ConfigClientDataStoreDynamoDB,
    ConfigClientDataStoreDynamoDBApi,
    ConfigOrchestratorDynamoDB,
    ConfigRunnerLambda,
    ConfigStateBackendDynamoDB,
    ConfigStateBackendDynamoDBApi,
    ConfigTriggerDynamoDB,
)
from pynenc_dynamodb.plugin.orchestrator import DynamoDBBlockingControl, DynamoDBOrchestrator
from pynenc_dynamodb.plugin.runner import LambdaRunner
from pynenc_dynamodb.plugin.state_backend import DynamoDBApiStateBackend, DynamoDBStateBackend
from pynenc_dynamodb.plugin.trigger import DynamoDBTrigger

__all__ = [
    "ConfigBrokerSQS",
    "ConfigClientDataStoreDynamoDB",
    "ConfigClientDataStoreDynamoDBApi",
    "ConfigOrchestratorDynamoDB",
    "ConfigRunnerLambda",
    "ConfigStateBackendDynamoDB",
    "ConfigStateBackendDynamoDBApi",
    "ConfigTriggerDynamoDB",
    "DynamoDBApiClientDataStore",
    "DynamoDBApiStateBackend",
    "DynamoDBBlockingControl",
    "DynamoDBClientDataStore",
    "DynamoDBOrchestrator",
    "DynamoDBStateBackend",
    "DynamoDBTrigger",
    "LambdaRunner",
    "SQSBroker",
]
