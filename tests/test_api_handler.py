"""The state API's Lambda handler, driven with real-shaped API Gateway HTTP API (payload
format 2.0) events against the local DynamoDB endpoint: every route class, and every kind of
bad input answered with a 4xx JSON error and nothing written."""

import base64
import importlib.util
import io
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote, unquote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pynenc_dynamodb import builders, schema
from pynenc_dynamodb.api_server import LambdaContext
from pynenc_dynamodb.client import ClientSettings, DynamoDBClient
from pynenc_dynamodb.local import DEFAULT_BUCKET, LocalEndpointProcess
from tests.conftest import TABLE

HANDLER = Path(__file__).resolve().parents[1] / "lambdas" / "state_api" / "app.py"


@pytest.fixture(scope="module")
def api(endpoint: LocalEndpointProcess) -> Iterator[ModuleType]:
    """The handler module, imported with the function's environment as Lambda would."""
    environment = {
        "STATE_TABLE_NAME": TABLE,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint.url,
        "PAYLOAD_BUCKET": DEFAULT_BUCKET,
        "CURSOR_SECRET": "test-secret",
        "POWERTOOLS_SERVICE_NAME": "pynenc-state-api",
        "POWERTOOLS_METRICS_NAMESPACE": "PynencStateApiTests",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    with pytest.MonkeyPatch.context() as env:
        env.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
        for name, value in environment.items():
            env.setenv(name, value)
        # As Lambda does with the code root: the handler imports its sibling modules.
        env.syspath_prepend(str(HANDLER.parent))
        spec = importlib.util.spec_from_file_location("state_api_under_test", HANDLER)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module


def seg(value: str) -> str:
    return quote(value, safe="")


def event(
    method: str,
    path: str,
    body: Any = None,
    *,
    query: dict[str, str] | None = None,
    iam: bool = True,
    raw_body: str | None = None,
) -> dict[str, Any]:
    """An HTTP API payload 2.0 event, shaped as API Gateway sends it to the function."""
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "api-id",
        "domainName": "api-id.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "api-id",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1",
            "userAgent": "pytest",
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": "ANY /{proxy+}",
        "stage": "$default",
        "time": "12/Mar/2024:19:03:58 +0000",
        "timeEpoch": 1710270238000,
    }
    if iam:
        context["authorizer"] = {
            "iam": {
                "accessKey": "AKIAEXAMPLE",
                "accountId": "123456789012",
                "callerId": "AIDAEXAMPLE",
                "cognitoIdentity": None,
                "principalOrgId": None,
                "userArn": "arn:aws:iam::123456789012:user/worker",
                "userId": "AIDAEXAMPLE",
            }
        }
    result: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "ANY /{proxy+}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": {"content-type": "application/json", "host": context["domainName"]},
        "requestContext": context,
        "pathParameters": {"proxy": path.lstrip("/")},
        "isBase64Encoded": False,
    }
    if query:
        result["queryStringParameters"] = dict(query)
    if text is not None:
        result["body"] = text
    return result


def call(api: ModuleType, *args: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    response = api.handler(event(*args, **kwargs), LambdaContext())
    return int(response["statusCode"]), json.loads(response["body"] or "{}")


@pytest.fixture
def base(api: ModuleType) -> Iterator[str]:
    """The path prefix of a fresh app (with delimiter and unicode), purged afterwards."""
    app_id = f"app#{uuid.uuid4().hex[:8]}/ü"
    yield f"/apps/{seg(app_id)}"
    call(api, "DELETE", f"/apps/{seg(app_id)}")


def listing(api: ModuleType, path: str, limit: int) -> tuple[list[str], int]:
    """Every item of a listing, following next_cursor; and how many pages it took."""
    items: list[str] = []
    query = {"limit": str(limit)}
    for pages in range(1, 100):
        status, answer = call(api, "GET", path, query=query)
        assert status == 200, answer
        items += answer["items"]
        if not answer["next_cursor"]:
            return items, pages
        query = {"limit": str(limit), "cursor": answer["next_cursor"]}
    raise AssertionError("the listing never ended")


# -- every route class ---------------------------------------------------------------------


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
    assert call(api, "GET", f"{base}/info")[0] == 404
    assert call(api, "PUT", f"{base}/info", {"body": "info!"})[0] == 200
    assert call(api, "GET", f"{base}/info") == (200, {"body": "info!"})
    infos, _ = listing(api, "/app-infos", 1000)
    assert "info!" in infos
    call(api, "PUT", f"{base}/invocations/i1", {"body": "x"})
    status, answer = call(api, "DELETE", base)
    assert status == 200 and answer["deleted"] >= 1
    assert call(api, "GET", f"{base}/invocations/i1")[0] == 404


# -- bad input: 4xx JSON naming the problem, nothing written --------------------------------


@pytest.mark.parametrize(
    ("raw", "code", "names"),
    [
        ("{not json", "MalformedJson", "JSON"),
        ('["body"]', "MalformedJson", "object"),
        ("{}", "MissingField", "body"),
        ('{"body": 5}', "InvalidField", "body"),
        ('{"body": "x", "extra": 1}', "UnknownField", "extra"),
        (base64.b64encode(b"\xff\xfe").decode(), "MalformedJson", "JSON"),
    ],
    ids=["malformed", "not-object", "missing", "mistyped", "unknown", "not-utf8"],
)
def test_bad_bodies_are_400(api: ModuleType, base: str, raw: str, code: str, names: str) -> None:
    path = f"{base}/invocations/bad"
    ev = event("PUT", path, raw_body=raw)
    # The last case arrives base64-encoded, as API Gateway sends non-text bodies.
    ev["isBase64Encoded"] = code == "MalformedJson" and names == "JSON" and "{" not in raw
    response = api.handler(ev, LambdaContext())
    answer = json.loads(response["body"])
    assert response["statusCode"] == 400, answer
    assert answer["error"]["code"] == code
    assert names in answer["error"]["message"]
    assert call(api, "GET", path)[0] == 404


def test_bad_history_timestamp_is_400(api: ModuleType, base: str) -> None:
    path = f"{base}/invocations/i/history"
    status, answer = call(api, "POST", path, {"body": "x", "timestamp": "yesterday"})
    assert status == 400 and "timestamp" in answer["error"]["message"]
    assert listing(api, path, 10)[0] == []


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
    call(api, "DELETE", base)
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


@pytest.mark.parametrize(
    "path",
    [
        "/apps/{long}/invocations/i",
        "/apps/a/invocations/{long}",
        "/apps/a/workflows/w/data/{long}",
        "/apps/a/invocations/%FF%FE",
    ],
    ids=["app-id", "invocation-id", "data-key", "not-utf8"],
)
def test_ids_breaking_key_rules_are_400(api: ModuleType, path: str) -> None:
    path = path.format(long="x" * 600)
    status, answer = call(api, "PUT", path, {"body": "x"})
    assert status == 400, answer
    assert answer["error"]["code"] == "InvalidKey"
    status, answer = call(api, "GET", path)
    assert status == 400, answer


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nowhere", 404, "RouteNotFound"),
        ("GET", "/apps/a/invocations/i/unknown", 404, "RouteNotFound"),
        ("POST", "/apps/a/invocations/i", 405, "MethodNotAllowed"),
        ("PATCH", "/apps/a/info", 405, "MethodNotAllowed"),
    ],
)
def test_unknown_routes_and_methods(
    api: ModuleType, method: str, path: str, status: int, code: str
) -> None:
    got, answer = call(api, method, path, {"body": "x"})
    assert (got, answer["error"]["code"]) == (status, code)


@pytest.mark.parametrize("authorizer", [None, {}, {"iam": {}}, {"iam": "x"}])
def test_requests_without_iam_identity_are_403(api: ModuleType, base: str, authorizer: Any) -> None:
    ev = event("PUT", f"{base}/invocations/i", {"body": "x"}, iam=False)
    if authorizer is not None:
        ev["requestContext"]["authorizer"] = authorizer
    response = api.handler(ev, LambdaContext())
    assert response["statusCode"] == 403
    assert json.loads(response["body"])["error"]["code"] == "Forbidden"
    assert call(api, "GET", f"{base}/invocations/i")[0] == 404


def test_tampered_or_foreign_cursors_are_400(api: ModuleType, base: str) -> None:
    path = f"{base}/workflows/w/sub-invocations"
    for sub in ["s1", "s2", "s3"]:
        call(api, "POST", path, {"sub_invocation_id": sub})
    status, answer = call(api, "GET", path, query={"limit": "1"})
    cursor = answer["next_cursor"]
    assert status == 200 and cursor
    encoded, _, signature = cursor.partition(".")
    payload = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    payload["p"] = "/apps/other/workflows/w/sub-invocations"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    bad = [
        cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB"),  # signature changed
        f"{forged}.{signature}",  # payload changed
        "garbage",
        "!!!.???",
    ]
    for cursor_value in bad:
        got, answer = call(api, "GET", path, query={"cursor": cursor_value})
        assert got == 400 and answer["error"]["code"] == "InvalidCursor", cursor_value
    # A valid cursor of this app, replayed on another app's (or another workflow's) path.
    for other in [
        "/apps/other/workflows/w/sub-invocations",
        f"{base}/workflows/w2/sub-invocations",
    ]:
        got, answer = call(api, "GET", other, query={"cursor": cursor})
        assert got == 400 and answer["error"]["code"] == "InvalidCursor"
    assert call(api, "GET", path, query={"limit": "0"})[0] == 400
    assert call(api, "GET", path, query={"limit": "many"})[0] == 400


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
    assert log["route"] == "PUT /apps/<app_id>/invocations/<invocation_id>"
    assert log["status"] == 200 and log["dynamodb_requests"] >= 1
    assert log["correlation_id"]
    emf = next(line for line in lines if "_aws" in line)
    assert emf["route"] == log["route"]
    names = {m["Name"] for m in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {"requests", "latency", "dynamodb_requests"} <= names


# -- property-based: whatever a client sends, a 2xx that stores exactly or a 4xx -------------

SEGMENTS = st.one_of(
    st.text(st.characters(codec=None), max_size=30),
    st.text(st.sampled_from(["#", "%", "/", "?", "é", " ", "\x00", "a", "."]), max_size=12),
    st.text(min_size=395, max_size=420),
)
BODIES = st.one_of(
    st.text(max_size=200).map(lambda text: json.dumps({"body": text})),
    st.text(max_size=60),  # anything at all, valid JSON or not
    st.dictionaries(st.text(max_size=8), st.one_of(st.none(), st.integers(), st.text())).map(
        json.dumps
    ),
)


def raw_segment(value: str) -> str:
    """Percent-encoded bytes of ``value``, lone surrogates included (invalid UTF-8)."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


@settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(workflow_id=SEGMENTS, key=SEGMENTS, body=BODIES)
def test_any_request_is_stored_exactly_or_refused_with_a_4xx(
    api: ModuleType, base: str, workflow_id: str, key: str, body: str
) -> None:
    path = f"{base}/workflows/{raw_segment(workflow_id)}/data/{raw_segment(key)}"
    status, answer = call(api, "PUT", path, raw_body=body)
    assert status < 500, answer
    if status >= 400:
        assert answer["error"]["code"] and answer["error"]["message"]
        return
    assert status == 200
    got_status, got = call(api, "GET", path)
    assert got_status == 200, got
    assert got == {"body": json.loads(body)["body"]}
