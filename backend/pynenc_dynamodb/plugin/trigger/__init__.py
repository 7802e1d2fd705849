"""pynenc 0.1 trigger component in the state table."""

from pynenc_dynamodb.plugin.trigger.dynamodb_trigger import DynamoDBTrigger

__all__ = ["DynamoDBTrigger"]
