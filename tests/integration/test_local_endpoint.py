"""The embedded endpoint under concurrent requests: what the tests of the stack rely on
from it, whatever moto does in its threads."""

import threading
import uuid
from typing import Any

import boto3
from botocore.config import Config

from pynenc_dynamodb.local.endpoint import LocalEndpointProcess
from tests.conftest import TABLE

WRITERS = 4
READERS = 4
WRITES_EACH = 150


def plain_client(url: str) -> Any:
    """A boto3 client that never retries: an error of the endpoint reaches the test."""
    return boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def test_queries_beside_writes_never_fail(endpoint: LocalEndpointProcess) -> None:
    """moto walks the table's items for every Query; writes from other threads meanwhile
    must not make it fail."""
    prefix = f"endpoint-race-{uuid.uuid4().hex[:8]}"
    errors: list[BaseException] = []
    writing = threading.Event()
    writing.set()

    def write(n: int) -> None:
        client = plain_client(endpoint.url)
        try:
            for i in range(WRITES_EACH):
                key = {"pk": {"S": f"{prefix}#{n}#{i}"}, "sk": {"S": "x"}}
                client.put_item(TableName=TABLE, Item=key)
                client.delete_item(TableName=TABLE, Key=key)
        except BaseException as exc:
            errors.append(exc)

    def query() -> None:
        client = plain_client(endpoint.url)
        try:
            while writing.is_set():
                client.query(
                    TableName=TABLE,
                    KeyConditionExpression="pk = :pk",
                    ExpressionAttributeValues={":pk": {"S": f"{prefix}#0#0"}},
                )
        except BaseException as exc:
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    readers = [threading.Thread(target=query) for _ in range(READERS)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    writing.clear()
    for thread in readers:
        thread.join()
    assert errors == []


def test_a_long_poll_gets_the_group_message_freed_during_its_wait(
    endpoint: LocalEndpointProcess,
) -> None:
    """As on SQS: a receive that starts while the group's message is in flight hands out
    the group's next message once that one is deleted, within the same long poll."""
    sqs = boto3.client(
        "sqs",
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    url = sqs.create_queue(
        QueueName=f"long-poll-{uuid.uuid4().hex[:8]}.fifo",
        Attributes={"FifoQueue": "true"},
    )["QueueUrl"]

    def send(body: str) -> None:
        sqs.send_message(
            QueueUrl=url, MessageBody=body, MessageGroupId="g", MessageDeduplicationId=body
        )

    send("first")
    (held,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    send("second")
    received: list[dict[str, Any]] = []
    polling = threading.Thread(
        target=lambda: received.extend(
            sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=3).get(
                "Messages", []
            )
        )
    )
    polling.start()
    # The poll has begun while "first" is in flight; its delete frees the group.
    threading.Event().wait(0.5)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=held["ReceiptHandle"])
    polling.join()
    assert [message["Body"] for message in received] == ["second"]
    sqs.delete_queue(QueueUrl=url)
