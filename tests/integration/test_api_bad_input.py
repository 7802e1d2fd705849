"""Bad input to the state API: a 4xx JSON error naming the problem, nothing written;
never a 500, whatever a client sends."""

import base64
import json
import os
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pynenc_dynamodb.local.api_server import LambdaContext
from tests.helpers.api_events import call, event, listing, raw_segment

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
        ("[" * 100_000 + "]" * 100_000, "MalformedJson", "JSON"),
        ('{"body": ' + "9" * 5000 + "}", "MalformedJson", "JSON"),
        ('{"body": "\\ud800"}', "InvalidField", "body"),
    ],
    ids=[
        "malformed",
        "not-object",
        "missing",
        "mistyped",
        "unknown",
        "not-utf8",
        "too-deep",
        "huge-int",
        "lone-surrogate",
    ],
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


@pytest.mark.parametrize(
    "when", ["yesterday", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]
)
def test_bad_history_timestamp_is_400(api: ModuleType, base: str, when: str) -> None:
    path = f"{base}/invocations/i/history"
    status, answer = call(api, "POST", path, {"body": "x", "timestamp": when})
    assert status == 400 and "timestamp" in answer["error"]["message"]
    assert listing(api, path, 10)[0] == []


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "²", "9" * 5000, "1.5"])
def test_bad_limits_are_400(api: ModuleType, base: str, limit: str) -> None:
    status, answer = call(api, "GET", f"{base}/workflow-types", query={"limit": limit})
    assert status == 400 and answer["error"]["code"] == "InvalidLimit"


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
