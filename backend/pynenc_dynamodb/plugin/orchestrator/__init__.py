"""pynenc 0.1's orchestrator on DynamoDB, in the state table."""

from pynenc_dynamodb.plugin.orchestrator.blocking_control import DynamoDBBlockingControl
from pynenc_dynamodb.plugin.orchestrator.dynamodb_orchestrator import DynamoDBOrchestrator

__all__ = ["DynamoDBBlockingControl", "DynamoDBOrchestrator"]
