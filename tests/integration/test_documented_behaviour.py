"""What the README promises and no other test module holds: exceptions pynenc cannot
rebuild, the app registry, resent batch writes, failed background writes, payload
thresholds at their exact byte, TTL from table creation to every read."""

import logging
import random
import time
import uuid
import zlib
from typing import Any

import boto3
import pytest
from pynenc import Pynenc
from pynenc.arguments import Arguments
from pynenc.call import Call
from pynenc.invocation.dist_invocation import DistributedInvocation
from pynenc.invocation.status import InvocationStatus
from pynenc.task import Task
from pynenc.workflow import WorkflowIdentity

from pynenc_dynamodb import (
    DynamoDBApiStateBackend,
    DynamoDBStateBackend,
    UnrestoredTaskError,
)
from pynenc_dynamodb.aws.dynamodb import DynamoDBClient
from pynenc_dynamodb.aws.retry import RetryPolicy
from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.errors import AsyncWriteError, ConfigurationError, DynamoDBRequestError
from pynenc_dynamodb.local.endpoint import LocalEndpointProcess
from pynenc_dynamodb.table import builders, schema
from pynenc_dynamodb.table import store as store_module
from tests.conftest import TABLE, AppFactory, unique_app_id
from tests.helpers import contract_tasks
from tests.helpers.faults import FaultInjector

BACKENDS = ["DynamoDBStateBackend", "DynamoDBApiStateBackend"]


class PaymentDeclinedError(Exception):
    """An exception class of the user's, which pynenc's JsonSerializer cannot rebuild."""


def _invocation(app: Pynenc, invocation_id: str | None = None) -> DistributedInvocation:
    task = Task(app, contract_tasks.add.func, {})
    call = Call(task, Arguments({"x": 1, "y": 2}))
    return DistributedInvocation(call, invocation_id=invocation_id, stored_in_backend=True)


def _raw(endpoint: LocalEndpointProcess) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


@pytest.fixture(params=BACKENDS)
def backend_config(
    request: pytest.FixtureRequest, dynamodb_config: dict[str, Any]
) -> dict[str, Any]:
    if request.param == "DynamoDBApiStateBackend":
        return dict(request.getfixturevalue("api_config"))
    return dynamodb_config


# -- exceptions -----------------------------------------------------------------------------


@pytest.mark.parametrize("serializer", ["JsonSerializer", "PickleSerializer"])
def test_user_exception_classes_come_back_readable_or_rebuilt(
    make_app: AppFactory, backend_config: dict[str, Any], serializer: str
) -> None:
    app = make_app({**backend_config, "serializer_cls": serializer})
    inv = _invocation(app)
    app.state_backend.set_exception(inv, PaymentDeclinedError("card declined", 402))
    restored = app.state_backend.get_exception(inv)
    if serializer == "PickleSerializer":
        assert type(restored) is PaymentDeclinedError
        assert restored.args == ("card declined", 402)
    else:
        assert type(restored) is UnrestoredTaskError
        assert str(restored).startswith("PaymentDeclinedError: ")
        assert "card declined" in str(restored)


# -- the app registry -----------------------------------------------------------------------


def test_unregistered_app_info_is_a_value_error(
    make_app: AppFactory, backend_config: dict[str, Any], endpoint: LocalEndpointProcess
) -> None:
    app = make_app(backend_config)
    # pynenc registers every app when it starts: remove the entry as an unknown app has none.
    _raw(endpoint).delete_item(TableName=TABLE, Key=schema.app_info_key(app.app_id))
    with pytest.raises(ValueError, match=f"No app info found for app_id '{app.app_id}'"):
        app.state_backend.get_app_info()


def test_all_app_infos_lists_every_app_of_the_table(
    make_app: AppFactory,
    backend_config: dict[str, Any],
    endpoint: LocalEndpointProcess,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Static in pynenc's API: read from the environment, not from an app.
    monkeypatch.setenv("PYNENC__DYNAMODB_ENDPOINT_URL", endpoint.url)
    monkeypatch.setenv("PYNENC__DYNAMODB_TABLE_NAME", TABLE)
    api = backend_config["state_backend_cls"] == "DynamoDBApiStateBackend"
    if api:
        monkeypatch.setenv("PYNENC__DYNAMODB_API_URL", backend_config["dynamodb_api_url"])
    a = make_app({**backend_config, "serializer_cls": "PickleSerializer"})
    b = make_app(backend_config)
    b.state_backend.purge()  # the registry entry outlives a purge
    backend_cls = DynamoDBApiStateBackend if api else DynamoDBStateBackend
    infos = backend_cls.get_all_app_infos()
    assert infos[a.app_id].app_id == a.app_id
    assert infos[a.app_id].config_values == a.config_values
    assert infos[b.app_id].config_values == b.config_values


# -- batch writes ---------------------------------------------------------------------------


class _PartialBatches:
    """A boto3 stand-in whose first answer leaves one write unprocessed."""

    def __init__(self, unprocessed_rounds: int) -> None:
        self.requests: list[dict[str, Any]] = []
        self.unprocessed_rounds = unprocessed_rounds

    def batch_write_item(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        if len(self.requests) > self.unprocessed_rounds:
            return {"UnprocessedItems": {}}
        writes = request["RequestItems"]["t"]
        return {"UnprocessedItems": {"t": writes[-1:]}}


def _writes(n: int) -> dict[str, Any]:
    keys = [schema.sub_invocation_key("a", "wf", f"s{i}") for i in range(n)]
    return {"RequestItems": {"t": [{"DeleteRequest": {"Key": k}} for k in keys]}}


def test_unprocessed_batch_writes_are_resent_alone() -> None:
    fake = _PartialBatches(unprocessed_rounds=2)
    client = DynamoDBClient(ClientSettings(), factory=lambda _: fake)
    client.batch_write(_writes(3))
    last = _writes(3)["RequestItems"]["t"][-1:]
    assert [r["RequestItems"]["t"] for r in fake.requests] == [
        _writes(3)["RequestItems"]["t"],
        last,
        last,
    ]


def test_writes_still_unprocessed_are_raised_after_the_last_round() -> None:
    fake = _PartialBatches(unprocessed_rounds=100)
    client = DynamoDBClient(ClientSettings(), factory=lambda _: fake)
    client.batch_policy = RetryPolicy(attempts=3, base_delay=0.001)
    with pytest.raises(DynamoDBRequestError, match="1 writes still unprocessed"):
        client.batch_write(_writes(2))
    assert len(fake.requests) == 3


# -- background history writes --------------------------------------------------------------


def test_a_failed_background_write_is_logged_then_raised_by_wait(
    make_app: AppFactory, dynamodb_config: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(dynamodb_config)
    inv = _invocation(app)
    app.state_backend.upsert_invocation(inv)  # the table is checked before faults start
    injector = FaultInjector(1.0, kinds=("validation",))
    injector.install(app.state_backend.store.client.boto3_client)
    with caplog.at_level(logging.ERROR, logger="pynenc_dynamodb.state_backend.adapter"):
        app.state_backend.add_history(inv, InvocationStatus.REGISTERED)
        for thread in app.state_backend.invocation_threads[inv.invocation_id]:
            thread.join()
    injector.rate = 0.0
    [record] = [r for r in caplog.records if r.name == "pynenc_dynamodb.state_backend.adapter"]
    assert record.levelno == logging.ERROR
    assert inv.invocation_id in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is DynamoDBRequestError
    assert injector.requests == 1  # a client mistake is not retried
    with pytest.raises(AsyncWriteError, match=inv.invocation_id) as info:
        app.state_backend.wait_for_invocation_async_operations(inv.invocation_id)
    cause = info.value.__cause__
    assert isinstance(cause, DynamoDBRequestError) and cause.code == "ValidationException"
    assert app.state_backend.get_history(inv) == []


# -- payload thresholds ---------------------------------------------------------------------


def _text_compressing_to(size: int) -> str:
    """ASCII text whose zlib level-6 stream is exactly ``size`` bytes (and saves > 10 %)."""
    letters = random.Random(size).choices("abcdefghijklmnopqrstuvwxyz0123456789", k=2 * size)
    text = "".join(letters)
    low, high = size, 2 * size
    while low < high:  # the shortest prefix compressing to at least ``size`` bytes
        mid = (low + high) // 2
        if len(zlib.compress(text[:mid].encode(), 6)) < size:
            low = mid + 1
        else:
            high = mid
    for end in range(low, low + 64):
        if len(zlib.compress(text[:end].encode(), 6)) == size:
            return text[:end]
    raise AssertionError(f"no prefix compresses to {size} bytes")


def _encoding_of(app: Pynenc, body: str) -> str:
    store = app.state_backend.store
    invocation_id = uuid.uuid4().hex
    store.put_result(invocation_id, body)
    item = store.client.get(
        builders.get_item(store.table, schema.result_key(app.app_id, invocation_id))
    )
    assert item is not None
    assert store.get_result(invocation_id) == body
    return str(item.get(schema.ENCODING, {}).get("S", "text"))


def test_payloads_are_placed_by_the_documented_thresholds(
    make_app: AppFactory, dynamodb_config: dict[str, Any]
) -> None:
    app = make_app(dynamodb_config)
    # Compressed from 1,024 bytes (dynamodb_compress_min_bytes) when it saves a tenth.
    assert _encoding_of(app, "a" * 1023) == "text"
    assert _encoding_of(app, "a" * 1024) == "z"
    # To the bucket from 65,536 encoded bytes (dynamodb_offload_min_bytes).
    assert _encoding_of(app, _text_compressing_to(65_535)) == "z"
    assert _encoding_of(app, _text_compressing_to(65_536)) == "s3z"


def test_uncompressed_payloads_are_offloaded_at_the_same_byte(
    make_app: AppFactory, dynamodb_config: dict[str, Any]
) -> None:
    app = make_app({**dynamodb_config, "dynamodb_compress_min_bytes": 10**9})
    assert _encoding_of(app, "a" * 65_535) == "text"
    assert _encoding_of(app, "a" * 65_536) == "s3"


# -- retention ------------------------------------------------------------------------------


def test_a_created_table_has_time_to_live_on_expires_at(
    make_app: AppFactory, dynamodb_config: dict[str, Any], endpoint: LocalEndpointProcess
) -> None:
    table = f"ttl-{uuid.uuid4().hex[:12]}"
    make_app({**dynamodb_config, "dynamodb_table_name": table, "dynamodb_create_table": True})
    ttl = _raw(endpoint).describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_every_kind_of_expired_item_reads_as_absent(
    make_app: AppFactory, dynamodb_config: dict[str, Any]
) -> None:
    app = make_app({**dynamodb_config, "dynamodb_ttl_seconds": 3600})
    sb = app.state_backend
    store = sb.store
    inv = _invocation(app, "inv-ttl")
    wf = WorkflowIdentity("tests.helpers.contract_tasks.add", "wf-ttl")
    sb.upsert_invocation(inv)
    sb.add_history(inv, InvocationStatus.REGISTERED)
    sb.wait_for_invocation_async_operations(inv.invocation_id)
    sb.set_result(inv, 7)
    sb.set_exception(inv, ValueError("x"))
    sb.set_workflow_data(wf, "k", 1)
    sb.set_workflow_deterministic_value(wf, "k", 2)
    sb.store_workflow_sub_invocation("wf-ttl", "inv-ttl")
    sb.store_workflow_run(wf)

    # DynamoDB deletes expired items lazily (moto never does): rewrite every item of the
    # app as expired, keys and bodies unchanged, as a table holds them after their time.
    expired = str(int(time.time()) - 1)
    items = [
        item
        for pk in schema.app_partitions(app.app_id)
        for item in store.client.query(builders.query_partition(store.table, pk, 100))
    ]
    assert len(items) == 9  # one of each kind, the run's type registry entry included
    for item in items:
        store.client.put(
            builders.put_item(store.table, {**item, schema.EXPIRES_AT: {"N": expired}})
        )

    with pytest.raises(KeyError):
        sb.get_invocation(inv.invocation_id)
    assert sb.get_history(inv) == []
    with pytest.raises(KeyError):
        sb.get_result(inv)
    with pytest.raises(KeyError):
        sb.get_exception(inv)
    assert sb.get_workflow_data(wf, "k", "default") == "default"
    assert sb.get_workflow_deterministic_value(wf, "k") is None
    assert list(sb.get_workflow_sub_invocations("wf-ttl")) == []
    assert list(sb.get_workflow_runs(wf.workflow_task_id)) == []
    assert list(sb.get_all_workflows()) == []
    assert list(sb.get_all_workflows_runs()) == []
    # The registry entry of the app carries no expiry: pynenc registers an app only once.
    assert sb.get_app_info().app_id == app.app_id


def test_a_payload_whose_object_cannot_be_written_leaves_no_item(
    dynamodb_config: dict[str, Any],
) -> None:
    """The object goes before the item that points at it: no reader meets a dead pointer."""
    bucket = f"missing-{uuid.uuid4().hex[:8]}"
    # Not from make_app: its purge would fail on the missing bucket; nothing is left to purge.
    app = Pynenc(
        app_id=unique_app_id(), config_values={**dynamodb_config, "dynamodb_s3_bucket": bucket}
    )
    store = app.state_backend.store
    before = store.client.request_counts["PutItem"]
    with pytest.raises(ConfigurationError, match=f"{bucket}.*dynamodb_s3_bucket"):
        store.put_result("inv-orphan", "a" * 65_536 + random.randbytes(65_536).hex())
    assert store.client.request_counts["PutItem"] == before
    assert store.get_result("inv-orphan") is None


def test_a_workflow_type_lives_as_long_as_its_last_run(
    make_app: AppFactory, dynamodb_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app({**dynamodb_config, "dynamodb_ttl_seconds": 3600})
    sb = app.state_backend
    store = sb.store
    task = "tests.helpers.contract_tasks.add"
    type_key = schema.workflow_type_key(app.app_id, task)

    def expires_at(key: schema.Key) -> int:
        item = store.client.get(builders.get_item(store.table, key))
        assert item is not None
        return int(item[schema.EXPIRES_AT]["N"])

    sb.store_workflow_run(WorkflowIdentity(task, "wf-first"))
    before = store.client.request_counts["PutItem"]
    sb.store_workflow_run(WorkflowIdentity(task, "wf-second"))
    # Within the refresh window the entry is not written again: one PutItem, the run's...
    assert store.client.request_counts["PutItem"] - before == 1
    # ...and the entry outlives the run stored meanwhile.
    assert expires_at(type_key) >= expires_at(schema.workflow_run_key(app.app_id, "wf-second"))

    registry = store.client.get(builders.get_item(store.table, type_key))
    assert registry is not None
    expired = {**registry, schema.EXPIRES_AT: {"N": str(int(time.time()) - 1)}}
    store.client.put(builders.put_item(store.table, expired))
    assert list(sb.get_all_workflows()) == []
    # Once the window has passed, the next run writes the entry again.
    monkeypatch.setattr(store_module, "REGISTRY_REFRESH_SECONDS", 0)
    sb.store_workflow_run(WorkflowIdentity(task, "wf-third"))
    assert list(sb.get_all_workflows()) == [task]
