"""The SQS requests of the broker, as plain dicts built by pure functions.

Every message is one routing of one invocation: its body is the invocation id (pynenc's
ids are a few dozen bytes: SQS's limit on a message, 256 KiB, and on a batch's total are
never a concern). Each routing gets its own deduplication id, drawn once and kept when the
send is retried: two routings of one invocation are two messages (what pynenc expects of
``route_invocation`` twice), while a retried send whose first attempt did reach SQS is
dropped by SQS as a duplicate (deduplication interval: 5 minutes), so a retry never
doubles a routing.
"""

import itertools
import json
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from pynenc_dynamodb.errors import InvalidKeyError
from pynenc_dynamodb.table.builders import Request

# SQS's limits: entries per batch request, messages per receive, message groups' names.
BATCH_MAX = 10
RECEIVE_MAX = 10
WAIT_MAX_SECONDS = 20
VISIBILITY_MAX_SECONDS = 43_200
RETENTION_MIN_SECONDS = 60
RETENTION_MAX_SECONDS = 1_209_600
MAX_RECEIVE_COUNT_MAX = 1000
# Counted as pending: visible messages, and those received but not yet deleted, which in
# this broker are only being handed out (deleted before their id is returned) or were
# received by a process that died before deleting them and will come back.
COUNT_ATTRIBUTES = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")


@dataclass(frozen=True)
class Routing:
    """One message to send: an invocation id routed once.

    :param body: the invocation id
    :param group_id: its message group; messages of one group are delivered in order
    :param deduplication_id: unique to this routing, the same on every retry of its send
    """

    body: str
    group_id: str
    deduplication_id: str


class MessageGroups:
    """Hands out message group ids round-robin over ``count`` groups.

    One group keeps a strict FIFO order across the whole queue; more groups let more
    receivers work at once (SQS hands out a FIFO group's next message only once the
    previous one is deleted), with order kept within each group only. Each broker
    starts at a random group, so several producers spread their messages evenly.

    :param count: the ``sqs_message_groups`` setting
    """

    def __init__(self, count: int) -> None:
        self.count = count
        # itertools.count's next() is atomic under the GIL: safe across threads.
        self._next = itertools.count(random.randrange(count))

    def next_group(self) -> str:
        return f"g{next(self._next) % self.count}"


def check_body(invocation_id: str) -> str:
    """The invocation id as a message body.

    :raises InvalidKeyError: for an empty id or one with characters SQS refuses
    """
    if not isinstance(invocation_id, str) or not invocation_id:
        raise InvalidKeyError("invocation_id", "must be a non-empty string to be routed")
    for char in invocation_id:
        code = ord(char)
        if not (
            code in (0x9, 0xA, 0xD)
            or 0x20 <= code <= 0xD7FF
            or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF
        ):
            raise InvalidKeyError(
                "invocation_id", f"character U+{code:04X} cannot travel in an SQS message"
            )
    return invocation_id


def routings(invocation_ids: Sequence[str], groups: MessageGroups) -> list[Routing]:
    """One :class:`Routing` per id, in order; an id given twice is routed twice."""
    return [
        Routing(check_body(invocation_id), groups.next_group(), uuid.uuid4().hex)
        for invocation_id in invocation_ids
    ]


def _message(routing: Routing) -> Request:
    return {
        "MessageBody": routing.body,
        "MessageGroupId": routing.group_id,
        "MessageDeduplicationId": routing.deduplication_id,
    }


def send_message(queue_url: str, routing: Routing) -> Request:
    return {"QueueUrl": queue_url, **_message(routing)}


def batch_entry(entry_id: str, routing: Routing) -> Request:
    return {"Id": entry_id, **_message(routing)}


def send_batches(queue_url: str, batch: Sequence[Routing]) -> list[Request]:
    """SendMessageBatch requests for ``batch``, in order: ceil(len / 10) of them."""
    return [
        {
            "QueueUrl": queue_url,
            "Entries": [
                batch_entry(str(index), routing)
                for index, routing in enumerate(batch[start : start + BATCH_MAX])
            ],
        }
        for start in range(0, len(batch), BATCH_MAX)
    ]


def receive(
    queue_url: str, max_messages: int, wait_seconds: int, visibility_seconds: int
) -> Request:
    """ReceiveMessage with long polling (``wait_seconds`` > 0 queries every SQS server;
    short polling samples some and may answer empty while messages wait).

    The receive request attempt id lets a retry after a lost answer get the same messages
    back instead of leaving them hidden until their visibility timeout ends.
    """
    return {
        "QueueUrl": queue_url,
        "MaxNumberOfMessages": max_messages,
        "WaitTimeSeconds": wait_seconds,
        "VisibilityTimeout": visibility_seconds,
        "ReceiveRequestAttemptId": uuid.uuid4().hex,
    }


def delete_message(queue_url: str, receipt_handle: str) -> Request:
    return {"QueueUrl": queue_url, "ReceiptHandle": receipt_handle}


def delete_batch(queue_url: str, receipt_handles: Sequence[str]) -> Request:
    """DeleteMessageBatch of up to 10 received messages."""
    if len(receipt_handles) > BATCH_MAX:
        raise ValueError(f"at most {BATCH_MAX} messages per DeleteMessageBatch")
    return {
        "QueueUrl": queue_url,
        "Entries": [
            {"Id": str(index), "ReceiptHandle": handle}
            for index, handle in enumerate(receipt_handles)
        ],
    }


def count_messages(queue_url: str) -> Request:
    return {"QueueUrl": queue_url, "AttributeNames": list(COUNT_ATTRIBUTES)}


def pending_count(attributes: dict[str, str]) -> int:
    """Messages not yet handed out, from a GetQueueAttributes answer."""
    return sum(int(attributes.get(name, 0)) for name in COUNT_ATTRIBUTES)


def queue_arn_request(queue_url: str) -> Request:
    return {"QueueUrl": queue_url, "AttributeNames": ["QueueArn"]}


def get_queue_url(name: str) -> Request:
    return {"QueueName": name}


def create_dead_letter_queue(name: str) -> Request:
    """The dead-letter queue: FIFO (a FIFO queue's must be), encrypted, kept 14 days."""
    return {
        "QueueName": name,
        "Attributes": {
            "FifoQueue": "true",
            "SqsManagedSseEnabled": "true",
            "MessageRetentionPeriod": str(RETENTION_MAX_SECONDS),
        },
    }


def create_queue(
    name: str,
    *,
    dead_letter_arn: str,
    max_receive_count: int,
    visibility_seconds: int,
    retention_seconds: int,
) -> Request:
    """The broker's queue: FIFO in high-throughput mode, encrypted, with its redrive policy.

    High-throughput mode (deduplication per message group, throughput limit per group)
    lifts the queue-wide limit of a plain FIFO queue; with one message group it changes
    nothing, since the per-group limit then applies anyway. Content-based deduplication
    stays off: it would merge two routings of one invocation into one message.
    """
    return {
        "QueueName": name,
        "Attributes": {
            "FifoQueue": "true",
            "ContentBasedDeduplication": "false",
            "DeduplicationScope": "messageGroup",
            "FifoThroughputLimit": "perMessageGroupId",
            "SqsManagedSseEnabled": "true",
            "VisibilityTimeout": str(visibility_seconds),
            "MessageRetentionPeriod": str(retention_seconds),
            "RedrivePolicy": redrive_policy(dead_letter_arn, max_receive_count),
        },
    }


def redrive_policy(dead_letter_arn: str, max_receive_count: int) -> str:
    """Messages received ``max_receive_count`` times without being deleted move to the
    dead-letter queue on their next receive."""
    policy = {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": max_receive_count}
    return json.dumps(policy)
