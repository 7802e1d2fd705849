"""An item's pointer to its payload object is data like any other: a pointer to another
app's object raises PayloadError and never returns that object's data."""

import os
from typing import Any

import pytest

from pynenc_dynamodb.aws.dynamodb import DynamoDBClient
from pynenc_dynamodb.aws.s3 import S3BlobStore
from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.errors import PayloadError
from pynenc_dynamodb.local.endpoint import DEFAULT_BUCKET, LocalEndpointProcess
from pynenc_dynamodb.table import builders, schema
from pynenc_dynamodb.table.payloads import PayloadCodec, PayloadPolicy
from pynenc_dynamodb.table.store import DynamoDBStateStore
from tests.conftest import TABLE, unique_app_id


class CountingBlobs(S3BlobStore):
    """The payload bucket, counting the objects read."""

    reads: list[str]

    def get(self, key: str) -> bytes:
        self.reads.append(key)
        return super().get(key)


def test_a_pointer_to_another_apps_object_is_never_followed(
    endpoint: LocalEndpointProcess,
) -> None:
    settings = ClientSettings(endpoint_url=endpoint.url)
    client = DynamoDBClient(settings)
    blobs = CountingBlobs(settings, DEFAULT_BUCKET)
    blobs.reads = []

    def store(app_id: str) -> DynamoDBStateStore:
        codec = PayloadCodec(app_id, PayloadPolicy(), blobs)
        return DynamoDBStateStore(client=client, table_name=TABLE, app_id=app_id, codec=codec)

    victim, attacker = store(unique_app_id("victim")), store(unique_app_id("attacker"))
    secret = os.urandom(200 * 1024).hex()
    victim.put_result("inv", secret)
    item = client.get(builders.get_item(TABLE, schema.result_key(victim.app_id, "inv")))
    assert item is not None and item[schema.OBJECT_KEY]["S"].startswith(
        schema.payload_object_prefix(victim.app_id)
    )
    # The attacker's item points at the victim's object, digest and all.
    pointer: dict[str, Any] = {k: v for k, v in item.items() if k not in (schema.PK, schema.SK)}
    forged = {**schema.result_key(attacker.app_id, "inv"), **pointer}
    client.put(builders.put_item(TABLE, forged))
    blobs.reads.clear()
    with pytest.raises(PayloadError) as info:
        attacker.get_result("inv")
    assert "prefix" in str(info.value)
    assert blobs.reads == []
    assert victim.get_result("inv") == secret
    victim.purge()
    attacker.purge()
