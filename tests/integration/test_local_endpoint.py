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
