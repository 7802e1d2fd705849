"""Settings of the pynenc 0.1 components, read through pynenc's own configuration."""

from pynenc_dynamodb.plugin.conf.config_broker import ConfigBrokerSQS, ConfigSQS
from pynenc_dynamodb.plugin.conf.config_client_data_store import (
    ConfigClientDataStoreDynamoDB,
    ConfigClientDataStoreDynamoDBApi,
)
from pynenc_dynamodb.plugin.conf.config_orchestrator import ConfigOrchestratorDynamoDB
from pynenc_dynamodb.plugin.conf.config_runner import ConfigRunnerLambda
from pynenc_dynamodb.plugin.conf.config_state_backend import (
    ConfigStateBackendDynamoDB,
    ConfigStateBackendDynamoDBApi,
)
from pynenc_dynamodb.plugin.conf.config_trigger import ConfigTriggerDynamoDB

__all__ = [
    "ConfigBrokerSQS",
    "ConfigClientDataStoreDynamoDB",
    "ConfigClientDataStoreDynamoDBApi",
    "ConfigOrchestratorDynamoDB",
    "ConfigRunnerLambda",
    "ConfigSQS",
    "ConfigStateBackendDynamoDB",
    "ConfigStateBackendDynamoDBApi",
    "ConfigTriggerDynamoDB",
]
