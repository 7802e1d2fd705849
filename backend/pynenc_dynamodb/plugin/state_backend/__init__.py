"""pynenc 0.1 state backends over a store: the table directly, or the state API."""

from pynenc_dynamodb.plugin.state_backend.api_state_backend import DynamoDBApiStateBackend
from pynenc_dynamodb.plugin.state_backend.dynamodb_state_backend import DynamoDBStateBackend

__all__ = ["DynamoDBApiStateBackend", "DynamoDBStateBackend"]
