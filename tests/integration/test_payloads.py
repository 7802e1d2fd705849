"""Payloads of any size round-trip byte-identical; no item ever exceeds 400 KB; large
payloads live in S3 behind a digest checked on every read."""

import os
from typing import Any

import boto3
import pytest
from pynenc import Pynenc
from pynenc.arguments import Arguments
from pynenc.call import Call
from pynenc.invocation.dist_invocation import DistributedInvocation
from pynenc.task import Task
from pynenc.workflow import WorkflowIdentity

from pynenc_dynamodb import ItemTooLargeError
from pynenc_dynamodb.errors import PayloadError
from pynenc_dynamodb.local.endpoint import DEFAULT_BUCKET, LocalEndpointProcess
from pynenc_dynamodb.table import builders, schema
from tests.conftest import AppFactory
from tests.helpers import contract_tasks

MB = 1024 * 1024


def _invocation(app: Pynenc, value: object = 1) -> DistributedInvocation:
    task = Task(app, contract_tasks.echo.func, {})
    return DistributedInvocation(Call(task, Arguments({"value": value})), stored_in_backend=True)


def _raw_item(app: Pynenc, key: schema.Key) -> builders.Item:
    store = app.state_backend.store
    item = store.client.get(builders.get_item(store.table, key))
    assert item is not None
    return item


def _s3(endpoint: LocalEndpointProcess) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


@pytest.fixture
def app(make_app: AppFactory, dynamodb_config: dict[str, Any]) -> Pynenc:
    return make_app({**dynamodb_config, "serializer_cls": "PickleSerializer"})


@pytest.mark.parametrize(
    "size",
    [0, 1, 1023, 1024, 64 * 1024 - 1, 64 * 1024, 399 * 1024, 400 * 1024, 5 * MB, 50 * MB],
)
def test_random_bytes_round_trip_at_every_size(app: Pynenc, size: int) -> None:
    payload = os.urandom(size)  # incompressible: the worst case
    inv = _invocation(app)
    app.state_backend.set_result(inv, payload)
    assert app.state_backend.get_result(inv) == payload
    item = _raw_item(app, schema.result_key(app.app_id, inv.invocation_id))
    assert builders.item_size(item) < schema.MAX_ITEM_BYTES


def test_compressible_payload_is_stored_compressed(app: Pynenc) -> None:
    payload = "the same line again\n" * 20_000  # 400 KB of text
    inv = _invocation(app)
    app.state_backend.set_result(inv, payload)
    item = _raw_item(app, schema.result_key(app.app_id, inv.invocation_id))
    assert item[schema.ENCODING]["S"] == "z"
    assert builders.item_size(item) < 8 * 1024
    assert app.state_backend.get_result(inv) == payload


def test_small_payloads_stay_readable_text(app: Pynenc) -> None:
    inv = _invocation(app)
    app.state_backend.set_result(inv, "small")
    item = _raw_item(app, schema.result_key(app.app_id, inv.invocation_id))
    assert schema.ENCODING not in item and "S" in item[schema.BODY]


def test_large_arguments_exceptions_and_workflow_data(app: Pynenc) -> None:
    big = os.urandom(50 * MB)  # the README promises 50 MB for each of these
    inv = _invocation(app, value=big)
    app.state_backend.upsert_invocation(inv)
    assert app.state_backend.get_invocation(inv.invocation_id).arguments.kwargs == {"value": big}
    app.state_backend.set_exception(inv, ValueError(big))
    assert app.state_backend.get_exception(inv).args == (big,)
    wf = WorkflowIdentity("tests.helpers.contract_tasks.echo", "wf-big")
    app.state_backend.set_workflow_data(wf, "blob", big)
    assert app.state_backend.get_workflow_data(wf, "blob") == big


def test_tampered_object_is_detected(app: Pynenc, endpoint: LocalEndpointProcess) -> None:
    inv = _invocation(app)
    app.state_backend.set_result(inv, os.urandom(MB))
    item = _raw_item(app, schema.result_key(app.app_id, inv.invocation_id))
    key = item[schema.OBJECT_KEY]["S"]
    _s3(endpoint).put_object(Bucket=DEFAULT_BUCKET, Key=key, Body=b"not the payload")
    with pytest.raises(PayloadError, match="does not match its digest"):
        app.state_backend.get_result(inv)


def test_missing_object_is_an_error_not_data(app: Pynenc, endpoint: LocalEndpointProcess) -> None:
    inv = _invocation(app)
    app.state_backend.set_result(inv, os.urandom(MB))
    item = _raw_item(app, schema.result_key(app.app_id, inv.invocation_id))
    _s3(endpoint).delete_object(Bucket=DEFAULT_BUCKET, Key=item[schema.OBJECT_KEY]["S"])
    with pytest.raises(PayloadError, match="is missing"):
        app.state_backend.get_result(inv)


def test_purge_deletes_the_apps_objects_only(
    make_app: AppFactory, dynamodb_config: dict[str, Any], endpoint: LocalEndpointProcess
) -> None:
    config = {**dynamodb_config, "serializer_cls": "PickleSerializer"}
    a, b = make_app(config), make_app(config)
    for app in (a, b):
        app.state_backend.set_result(_invocation(app), os.urandom(MB))
    s3 = _s3(endpoint)

    def objects(app: Pynenc) -> int:
        prefix = schema.payload_object_prefix(app.app_id)
        listing = s3.list_objects_v2(Bucket=DEFAULT_BUCKET, Prefix=prefix)
        return int(listing.get("KeyCount", 0))

    assert objects(a) == objects(b) == 1
    a.state_backend.purge()
    assert objects(a) == 0
    assert objects(b) == 1


def test_without_a_bucket_large_payloads_are_rejected_and_nothing_written(
    make_app: AppFactory, dynamodb_config: dict[str, Any]
) -> None:
    config = {**dynamodb_config, "dynamodb_s3_bucket": "", "serializer_cls": "PickleSerializer"}
    app = make_app(config)
    inv = _invocation(app)
    with pytest.raises(ItemTooLargeError, match="dynamodb_s3_bucket"):
        app.state_backend.set_result(inv, os.urandom(500 * 1024))
    with pytest.raises(KeyError):
        app.state_backend.get_result(inv)
    # Compressible payloads beyond 400 KB still fit once compressed.
    app.state_backend.set_result(inv, b"a" * MB)
    assert app.state_backend.get_result(inv) == b"a" * MB
