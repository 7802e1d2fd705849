"""pynenc 0.1 broker on Amazon SQS (a FIFO queue per app)."""

from pynenc_dynamodb.plugin.broker.sqs_broker import SQSBroker

__all__ = ["SQSBroker"]
