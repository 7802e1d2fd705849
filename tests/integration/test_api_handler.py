"""The state API's Lambda handler, driven with real-shaped API Gateway HTTP API (payload
format 2.0) events against the local DynamoDB endpoint: every route class, payloads up to
the API's limit, logs and metrics."""

import base64
import io
import json
import os
from types import ModuleType
from typing import Any
from urllib.parse import unquote

import pytest

from pynenc_dynamodb.aws.dynamodb import DynamoDBClient
from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.local.endpoint import DEFAULT_BUCKET, LocalEndpointProcess
from pynenc_dynamodb.table import builders, schema
from tests.conftest import TABLE
from tests.helpers.api_events import call, listing, purge, seg


def test_invocation_result_and_exception(api: ModuleType, base: str) -> None:
    inv = f"{base}/invocations/{seg('inv#1/ü')}"
    assert call(api, "GET", inv)[0] == 404
    assert call(api, "PUT", inv, {"body": "serialized"})[0] == 200
    assert call(api, "GET", inv) == (200, {"body": "serialized"})
    for part in ("result", "exception"):
        assert call(api, "GET", f"{inv}/{part}")[0] == 404
        assert call(api, "PUT", f"{inv}/{part}", {"body": f"{part}!"})[0] == 200
        assert call(api, "GET", f"{inv}/{part}") == (200, {"body": f"{part}!"})


def test_history_pages_in_order(api: ModuleType, base: str) -> None:
    path = f"{base}/invocations/inv-1/history"
    for n in range(5):
        payload = {"body": f"h{n}", "timestamp": f"2024-01-01T00:00:0{n}+00:00"}
        assert call(api, "POST", path, payload)[0] == 201
    # A retried record (same record id) overwrites and never doubles.
    retried = {"body": "h5", "timestamp": "2024-01-01T00:00:05+00:00", "record_id": "r"}
    call(api, "POST", path, retried)
    call(api, "POST", path, retried)
    items, pages = listing(api, path, limit=2)
    assert items == [f"h{n}" for n in range(6)]
    assert pages >= 3


def test_workflow_data_and_deterministic_values(api: ModuleType, base: str) -> None:
    wf = f"{base}/workflows/{seg('wf#1/ü')}"
    for kind in ("data", "deterministic"):
        for key in ("stage", "a#b%c/d", ""):
            path = f"{wf}/{kind}/{seg(key)}"
            assert call(api, "GET", path)[0] == 404
            assert call(api, "PUT", path, {"body": f"{kind}:{key}"})[0] == 200
            assert call(api, "GET", path) == (200, {"body": f"{kind}:{key}"})


def test_sub_invocations(api: ModuleType, base: str) -> None:
    path = f"{base}/workflows/wf-1/sub-invocations"
    for sub in ["s1", "s2", "s3", "s2"]:
        assert call(api, "POST", path, {"sub_invocation_id": sub})[0] == 201
    items, _ = listing(api, path, limit=2)
    assert sorted(items) == ["s1", "s2", "s3"]


def test_workflow_runs_types_and_paging(api: ModuleType, base: str) -> None:
    for n in range(5):
        run = {"workflow_task_id": f"task#{n % 2}", "workflow_id": f"wf{n}", "body": f"run{n}"}
        run["timestamp"] = f"2024-01-01T00:00:0{n}+00:00"
        assert call(api, "POST", f"{base}/workflow-runs", run)[0] == 201
    assert listing(api, f"{base}/workflow-types", 1)[0] == ["task#0", "task#1"]
    runs, _ = listing(api, f"{base}/workflow-types/{seg('task#0')}/runs", 1)
    assert runs == ["run4", "run2", "run0"]  # newest first
    for limit in (1, 2, 3, 100):
        items, _ = listing(api, f"{base}/workflow-runs", limit)
        assert sorted(items) == [f"run{n}" for n in range(5)], limit


def test_app_info_and_purge(api: ModuleType, base: str) -> None:
    app_id = unquote(base.split("/")[2])
    info = json.dumps({"app_id": app_id, "module": "orders.app"})
    assert call(api, "GET", f"{base}/info")[0] == 404
    assert call(api, "PUT", f"{base}/info", {"body": info})[0] == 200
    assert call(api, "GET", f"{base}/info") == (200, {"body": info})
    infos, _ = listing(api, "/app-infos", 1000)
    assert info in infos
    # A worker allowed this app's routes cannot stand in for another app in the registry.
    spoof = json.dumps({"app_id": "billing", "module": "evil"})
    status, answer = call(api, "PUT", f"{base}/info", {"body": spoof})
    assert status == 400 and answer["error"]["code"] == "InvalidField"
    assert call(api, "GET", f"{base}/info") == (200, {"body": info})
    call(api, "PUT", f"{base}/invocations/i1", {"body": "x"})
    assert purge(api, base) >= 1
    assert call(api, "GET", f"{base}/invocations/i1")[0] == 404


def raw_item(endpoint: LocalEndpointProcess, key: dict[str, Any]) -> dict[str, Any] | None:
    """The item at ``key`` as the table holds it, read past the store."""
    client = DynamoDBClient(ClientSettings(endpoint_url=endpoint.url))
    return client.get(builders.get_item(TABLE, key))


def test_large_body_round_trips_through_the_payload_bucket(
    api: ModuleType, base: str, endpoint: LocalEndpointProcess
) -> None:
    """3 MB that no compression shrinks: the item holds a pointer, the bucket the body."""
    app_id = unquote(base.removeprefix("/apps/"))
    path = f"{base}/invocations/big/result"
    body = base64.b64encode(os.urandom(3 * 1024 * 1024 * 3 // 4)).decode()
    assert len(body) > 3_000_000
    assert call(api, "PUT", path, {"body": body}) == (200, {})
    assert call(api, "GET", path) == (200, {"body": body})
    item = raw_item(endpoint, schema.result_key(app_id, "big"))
    assert item is not None
    assert schema.BODY not in item
    # Base64 of random bytes still deflates to about 3/4: zlib pays, the object is packed.
    assert item[schema.ENCODING]["S"] in ("s3", "s3z")
    digest = item[schema.DIGEST]["S"]
    assert item[schema.OBJECT_KEY]["S"] == schema.payload_object_key(app_id, digest)
    head = api.BLOBS.client.head_object(Bucket=DEFAULT_BUCKET, Key=item[schema.OBJECT_KEY]["S"])
    assert head["ContentLength"] > 2_000_000
    # Purging the app removes its objects too.
    purge(api, base)
    s3 = api.BLOBS.client
    listed = s3.list_objects_v2(Bucket=DEFAULT_BUCKET, Prefix=schema.payload_object_prefix(app_id))
    assert listed.get("KeyCount", 0) == 0


def test_body_over_the_limit_is_413_naming_it(
    api: ModuleType, base: str, endpoint: LocalEndpointProcess
) -> None:
    path = f"{base}/invocations/big"
    status, answer = call(api, "PUT", path, {"body": "x" * (api.MAX_BODY_BYTES + 1)})
    assert status == 413, answer
    assert answer["error"]["code"] == "BodyTooLarge"
    assert answer["error"]["limit"] == api.MAX_BODY_BYTES
    assert answer["error"]["size"] > api.MAX_BODY_BYTES
    assert str(api.MAX_BODY_BYTES) in answer["error"]["message"]
    assert call(api, "GET", path)[0] == 404
    app_id = unquote(base.removeprefix("/apps/"))
    assert raw_item(endpoint, schema.invocation_key(app_id, "big")) is None
    listed = api.BLOBS.client.list_objects_v2(
        Bucket=DEFAULT_BUCKET, Prefix=schema.payload_object_prefix(app_id)
    )
    assert listed.get("KeyCount", 0) == 0


def test_workflow_run_beyond_an_item_is_413_naming_the_limit(api: ModuleType, base: str) -> None:
    """Runs are read through the index, so they never move to S3: the store's own 413."""
    incompressible = base64.b64encode(os.urandom(600 * 1024)).decode()
    run = {"workflow_task_id": "t", "workflow_id": "w", "body": incompressible}
    status, answer = call(api, "POST", f"{base}/workflow-runs", run)
    assert status == 413, answer
    assert answer["error"]["code"] == "ItemTooLarge"
    assert answer["error"]["limit"] <= 400 * 1024
    assert str(answer["error"]["limit"]) in answer["error"]["message"]
    assert listing(api, f"{base}/workflow-runs", 10)[0] == []


def test_logs_and_metrics_name_the_route_never_the_payload(
    api: ModuleType, base: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The logger's handler kept the stdout of import time: give it a buffer of our own.
    log_stream = io.StringIO()
    previous = api.logger.registered_handler.setStream(log_stream)
    capsys.readouterr()
    try:
        call(api, "PUT", f"{base}/invocations/i", {"body": "secret-payload-123"})
    finally:
        api.logger.registered_handler.setStream(previous)
    output = log_stream.getvalue() + capsys.readouterr().out
    lines = [json.loads(line) for line in output.splitlines() if line]
    assert lines, "expected a log line and a metrics blob"
    assert all("secret-payload-123" not in json.dumps(line) for line in lines)
    log = next(line for line in lines if line.get("message") == "request served")
    assert log["route"] == "PUT /apps/{app_id}/invocations/{invocation_id}"
    assert log["status"] == 200 and log["dynamodb_requests"] >= 1
    assert log["correlation_id"]
    emf = next(line for line in lines if "_aws" in line)
    assert emf["route"] == log["route"]
    names = {m["Name"] for m in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {"requests", "latency", "dynamodb_requests"} <= names
