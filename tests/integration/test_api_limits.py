"""Bounded work and bounded answers per request of the state API: the all-runs listing
makes a capped number of Queries, no empty workflow type is left behind, every answer
stays under Lambda's 6 MB response limit whatever the stored bodies, and a body that
could never be read back is refused when written."""

import base64
import json
import os
from datetime import UTC, datetime
from types import ModuleType
from typing import Any
from urllib.parse import unquote

from pynenc_dynamodb.api import pages as api_pages
from pynenc_dynamodb.api.client import ApiSettings, ApiStateStore
from pynenc_dynamodb.aws.dynamodb import DynamoDBClient
from pynenc_dynamodb.aws.s3 import S3BlobStore
from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.local.api_server import LambdaContext
from pynenc_dynamodb.local.endpoint import DEFAULT_BUCKET, LocalEndpointProcess
from pynenc_dynamodb.table import builders, schema
from pynenc_dynamodb.table.payloads import PayloadCodec, PayloadPolicy
from pynenc_dynamodb.table.store import DynamoDBStateStore
from tests.conftest import TABLE, unique_app_id
from tests.helpers.api_events import call, event, listing

# What Lambda can return: the runtime's JSON of the handler's answer.
LAMBDA_RESPONSE_BYTES = 6 * 1024 * 1024


def direct_store(endpoint: LocalEndpointProcess, app_id: str) -> DynamoDBStateStore:
    """The app's store past the API, with the payload bucket."""
    settings = ClientSettings(endpoint_url=endpoint.url)
    blobs = S3BlobStore(settings, DEFAULT_BUCKET)
    return DynamoDBStateStore(
        client=DynamoDBClient(settings),
        table_name=TABLE,
        app_id=app_id,
        codec=PayloadCodec(app_id, PayloadPolicy(), blobs),
    )


def raw_response(api: ModuleType, *args: Any, **kwargs: Any) -> tuple[dict[str, Any], int]:
    """The handler's answer, and its size as the Python 3.12 runtime returns it."""
    response = api.handler(event(*args, **kwargs), LambdaContext())
    return response, len(json.dumps(response, ensure_ascii=False).encode())


def test_all_runs_listing_caps_its_queries_per_request(
    api: ModuleType, base: str, endpoint: LocalEndpointProcess
) -> None:
    """Types with no run (written past the API) cost a Query each: at most
    MAX_QUERIES_PER_PAGE per request, the rest after the cursor."""
    app_id = unquote(base.removeprefix("/apps/"))
    client = DynamoDBClient(ClientSettings(endpoint_url=endpoint.url))
    empty = [schema.workflow_type_key(app_id, f"empty-{n:02d}") for n in range(30)]
    entries = [builders.build_item(key, key[schema.SK]["S"], None) for key in empty]
    for request in builders.batch_writes(TABLE, puts=entries):
        client.batch_write(request)
    run = {"workflow_task_id": "z-last", "workflow_id": "wf", "body": "the run"}
    assert call(api, "POST", f"{base}/workflow-runs", run)[0] == 201
    found: list[str] = []
    query: dict[str, str] = {"limit": "1"}
    for _ in range(40):
        before = sum(api.CLIENT.request_counts.values())
        status, answer = call(api, "GET", f"{base}/workflow-runs", query=query)
        assert status == 200, answer
        assert sum(api.CLIENT.request_counts.values()) - before <= api_pages.MAX_QUERIES_PER_PAGE
        found += answer["items"]
        if not answer["next_cursor"]:
            break
        query = {"limit": "1", "cursor": answer["next_cursor"]}
    assert found == ["the run"]


def test_reregistering_a_workflow_under_another_type_leaves_no_empty_type(
    state_api: Any, endpoint: LocalEndpointProcess
) -> None:
    for store in (
        ApiStateStore(ApiSettings(state_api.url), unique_app_id("types")),
        direct_store(endpoint, unique_app_id("types")),
    ):
        store.put_workflow_run("old-type", "wf-1", "run 1")
        store.put_workflow_run("new-type", "wf-1", "run 1 again")
        assert list(store.workflow_types()) == ["new-type"]
        assert list(store.all_workflow_runs()) == ["run 1 again"]
        # A type that still has another run keeps its entry.
        store.put_workflow_run("shared", "wf-2", "run 2")
        store.put_workflow_run("shared", "wf-3", "run 3")
        store.put_workflow_run("new-type", "wf-2", "run 2 again")
        assert sorted(store.workflow_types()) == ["new-type", "shared"]
        assert list(store.workflow_runs("shared")) == ["run 3"]
        store.purge()


def test_listing_pages_stop_before_lambdas_response_limit(api: ModuleType, base: str) -> None:
    path = f"{base}/invocations/big/history"
    # Incompressible 1.4 MB records (they go to the payload bucket): 8 of them, 11 MB.
    bodies = [base64.b64encode(os.urandom(1024 * 1024)).decode() for _ in range(8)]
    for n, body in enumerate(bodies):
        record = {"body": body, "timestamp": f"2024-01-01T00:00:0{n}+00:00"}
        assert call(api, "POST", path, record)[0] == 201
    read: list[str] = []
    query = {"limit": "100"}
    pages = 0
    while True:
        response, size = raw_response(api, "GET", path, query=query)
        assert response["statusCode"] == 200
        assert size < LAMBDA_RESPONSE_BYTES, size
        answer = json.loads(response["body"])
        read += answer["items"]
        pages += 1
        if not answer["next_cursor"]:
            break
        query = {"limit": "100", "cursor": answer["next_cursor"]}
    assert read == bodies
    assert pages >= 2


def test_answers_carry_text_without_ascii_escapes(api: ModuleType, base: str) -> None:
    path = f"{base}/invocations/unicode/result"
    call(api, "PUT", path, {"body": "résumé 東京"})
    response, _ = raw_response(api, "GET", path)
    assert "résumé 東京" in response["body"]


def test_a_body_that_no_answer_could_return_is_refused_when_written(
    api: ModuleType, base: str
) -> None:
    """4 MB of request (within the 5 MiB body limit) whose answer, escaped once more by
    the runtime, would be 8 MB: 413 naming the limit, nothing written."""
    path = f"{base}/invocations/quotes/result"
    raw = json.dumps({"body": '"' * 2_000_000}, ensure_ascii=False)
    assert len(raw) < api.MAX_BODY_BYTES
    status, answer = call(api, "PUT", path, raw_body=raw)
    assert status == 413, answer
    assert answer["error"]["code"] == "BodyTooLarge"
    assert answer["error"]["limit"] == api.MAX_ANSWER_BYTES
    assert str(api.MAX_ANSWER_BYTES) in answer["error"]["message"]
    assert call(api, "GET", path)[0] == 404
    status, answer = call(
        api,
        "POST",
        f"{base}/invocations/quotes/history",
        raw_body=json.dumps({"body": '"' * 2_000_000, "timestamp": "2024-01-01T00:00:00"}),
    )
    assert status == 413, answer
    assert listing(api, f"{base}/invocations/quotes/history", 10)[0] == []


def test_a_body_stored_past_the_api_too_large_to_answer_is_a_4xx(
    api: ModuleType, base: str, endpoint: LocalEndpointProcess
) -> None:
    """The direct backend stores 7 MB; the API refuses to answer it rather than fail."""
    app_id = unquote(base.removeprefix("/apps/"))
    store = direct_store(endpoint, app_id)
    huge = base64.b64encode(os.urandom(5 * 1024 * 1024 + 300_000)).decode()
    store.put_result("huge", huge)
    store.add_history("huge", datetime(2024, 1, 1, tzinfo=UTC), huge, "r1")
    for path in (f"{base}/invocations/huge/result", f"{base}/invocations/huge/history"):
        response, size = raw_response(api, "GET", path)
        assert response["statusCode"] == 413, response["body"][:300]
        assert size < LAMBDA_RESPONSE_BYTES
        error = json.loads(response["body"])["error"]
        assert error["code"] == "ItemTooLarge" and error["limit"] <= api.MAX_ANSWER_BYTES
        assert str(error["limit"]) in error["message"] and "answer" in error["message"]
