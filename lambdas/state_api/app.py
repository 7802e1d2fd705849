"""The state API: every state-store operation of one app as an HTTP route.

API Gateway HTTP API (payload format 2.0) with AWS_IAM authorization calls :func:`handler`.
Bodies carry the serialized strings pynenc already produces; nothing here deserializes a
payload or imports user code. The routes are :data:`pynenc_dynamodb.api.routes.ROUTES`, the
table the client builds its paths from; each names its handler in :data:`HANDLERS`. A path
not spelled the one way that table spells it is a 400, so IAM policies naming paths hold.
Listings are paged behind HMAC-signed, expiring cursors bound to the path they were issued
for (:mod:`cursors`), and every answer stays within what Lambda can return (:mod:`answers`);
request parsing and limits live in :mod:`request_parsing`; the handlers of pynenc 0.1's
operations (batches, indexes, time ranges, runner contexts, client data) in
:mod:`index_handlers`. All are siblings of this module:
Lambda puts the function's code root on ``sys.path``, and the local server and the tests
put this folder there.

Environment: ``STATE_TABLE_NAME`` (required), ``CURSOR_SECRET_ARN`` (the Secrets Manager
secret holding the cursors' HMAC key, read once per execution environment; without it a
random per-process key is used and cursors only work within one process),
``PAYLOAD_BUCKET`` (S3 bucket for bodies too large for an item; without it such bodies are
a 413), ``STATE_TTL_SECONDS`` (0), ``STATE_PAGE_SIZE`` (100), ``MAX_BODY_BYTES`` (5 MiB),
``PURGE_STEP_ITEMS`` (2000), ``PURGE_STEP_SECONDS`` (10), ``AWS_ENDPOINT_URL_DYNAMODB`` /
``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL_SECRETS_MANAGER`` (local endpoints) and the
``POWERTOOLS_*`` variables.
"""

import json
import os
import secrets
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from answers import MAX_ANSWER_BYTES, error_response, ok, readable, single
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext
from cursors import CursorSigner, is_key
from index_handlers import IndexHandlers, Served
from request_parsing import ApiError, ident, page_limit, timestamp
from request_parsing import json_body as parse_json_body

from pynenc_dynamodb.api import pages, routes
from pynenc_dynamodb.aws.dynamodb import DynamoDBClient
from pynenc_dynamodb.aws.s3 import S3BlobStore
from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.errors import InvalidKeyError, ItemTooLargeError
from pynenc_dynamodb.table import schema
from pynenc_dynamodb.table.payloads import PayloadCodec, PayloadPolicy
from pynenc_dynamodb.table.store import DynamoDBStateStore

TABLE_NAME = os.environ.get("STATE_TABLE_NAME", "")
TTL_SECONDS = int(os.environ.get("STATE_TTL_SECONDS", "0"))
PAGE_SIZE = int(os.environ.get("STATE_PAGE_SIZE", "100"))
MAX_PAGE_SIZE = 1000
PAYLOAD_BUCKET = os.environ.get("PAYLOAD_BUCKET", "")
# A synchronous Lambda invocation takes at most 6 MB (6,291,456 bytes) of request payload,
# and that is the whole API Gateway event: the body as a JSON string (its quotes and
# backslashes escaped once more), the headers and the request context. 5 MiB of body leaves
# a megabyte for those; a larger request never reaches the function at all (API Gateway
# answers it with a bare error), so we refuse it here with a 413 that names this limit.
# Bodies beyond an item's 400 KB go to PAYLOAD_BUCKET (without it, a precise 413).
MAX_BODY_BYTES = int(os.environ.get("MAX_BODY_BYTES", str(5 * 1024 * 1024)))
# Purge deletes this many items (or one page of payload objects) per request, and starts
# no request past this many seconds: far inside API Gateway's 30 s.
PURGE_STEP_ITEMS = int(os.environ.get("PURGE_STEP_ITEMS", "2000"))
PURGE_STEP_SECONDS = float(os.environ.get("PURGE_STEP_SECONDS", "10"))

logger = Logger()
metrics = Metrics()
# Clients at module scope: one per execution environment, reused by every request.
SETTINGS = ClientSettings(endpoint_url=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB", ""))
CLIENT = DynamoDBClient(SETTINGS)
# Without AWS_ENDPOINT_URL_S3 the blob store uses the DynamoDB endpoint when that is
# loopback (the embedded endpoint serves S3 too), else boto3's own chain.
BLOBS = (
    S3BlobStore(SETTINGS, PAYLOAD_BUCKET, os.environ.get("AWS_ENDPOINT_URL_S3", ""))
    if PAYLOAD_BUCKET
    else None
)


def cursor_secret() -> bytes:
    """The cursors' HMAC key: the secret named by ``CURSOR_SECRET_ARN``, fetched (and
    cached) by Powertools at cold start; never an environment variable's plain value."""
    name = os.environ.get("CURSOR_SECRET_ARN", "")
    if not name:
        return secrets.token_bytes(32)
    value = parameters.get_secret(name)
    return value.encode() if isinstance(value, str) else bytes(value)


CURSORS = CursorSigner(cursor_secret())
app = APIGatewayHttpResolver()


# -- request parsing (the current event's, with this function's limits) -----------------


def json_body(**fields: Any) -> dict[str, Any]:
    """The request's JSON object with exactly ``fields``; 413 beyond :data:`MAX_BODY_BYTES`."""
    return parse_json_body(app.current_event, MAX_BODY_BYTES, **fields)


def readable_body() -> str:
    """The request's ``body``; 413 naming the limit unless one answer can return it."""
    return readable(str(json_body(body=str)["body"]))


def limit() -> int:
    return page_limit(app.current_event, PAGE_SIZE, MAX_PAGE_SIZE)


def decode_cursor(shape: Callable[[Any], bool] = is_key) -> Any:
    """The position of the request's ``cursor``; 400 unless this API issued it for this path."""
    cursor = app.current_event.get_query_string_value("cursor", "") or ""
    return CURSORS.decode(cursor, app.current_event.path, shape)


def budget() -> pages.Budget:
    # Room for the answer's own keys and its cursor.
    return pages.Budget(MAX_ANSWER_BYTES - 4096)


def listing(page: tuple[list[str], Any]) -> Response[str]:
    items, position = page
    return ok({"items": items, "next_cursor": CURSORS.encode(app.current_event.path, position)})


@lru_cache(maxsize=1024)
def store(app_id: str) -> DynamoDBStateStore:
    """The store of ``app_id``; kept per process so the table is described once per app.

    Bodies beyond an item's size go to :data:`BLOBS` when ``PAYLOAD_BUCKET`` is set.
    """
    return DynamoDBStateStore(
        client=CLIENT,
        table_name=TABLE_NAME,
        app_id=app_id,
        ttl_seconds=TTL_SECONDS,
        codec=PayloadCodec(app_id, PayloadPolicy(), BLOBS, bucket_setting="PAYLOAD_BUCKET"),
        # template.yaml deploys the table with TTL on: no DescribeTimeToLive per app.
        check_ttl=False,
    )


# -- the operations, by route name (pynenc_dynamodb.api.routes) --------------------------------
# Parameters arrive decoded from their one spelling; ids are validated by the store.


def put_invocation(app_id: str, invocation_id: str) -> Response[str]:
    store(app_id).put_invocation(invocation_id, readable_body())
    return ok({})


def get_invocation(app_id: str, invocation_id: str) -> Response[str]:
    return single(store(app_id).get_invocation(invocation_id))


def add_history(app_id: str, invocation_id: str) -> Response[str]:
    data = json_body(body=str, timestamp=str, record_id=str | None)
    when = timestamp(data["timestamp"])
    store(app_id).add_history(invocation_id, when, readable(data["body"]), data["record_id"])
    return ok({}, 201)


def get_history(app_id: str, invocation_id: str) -> Response[str]:
    s = store(app_id)
    return listing(pages.history_page(s, invocation_id, decode_cursor(), limit(), budget()))


def put_result(app_id: str, invocation_id: str) -> Response[str]:
    store(app_id).put_result(invocation_id, readable_body())
    return ok({})


def get_result(app_id: str, invocation_id: str) -> Response[str]:
    return single(store(app_id).get_result(invocation_id))


def put_exception(app_id: str, invocation_id: str) -> Response[str]:
    store(app_id).put_exception(invocation_id, readable_body())
    return ok({})


def get_exception(app_id: str, invocation_id: str) -> Response[str]:
    return single(store(app_id).get_exception(invocation_id))


def put_workflow_data(app_id: str, workflow_id: str, key: str) -> Response[str]:
    store(app_id).put_workflow_data(workflow_id, key, readable_body())
    return ok({})


def get_workflow_data(app_id: str, workflow_id: str, key: str) -> Response[str]:
    return single(store(app_id).get_workflow_data(workflow_id, key))


def put_deterministic_value(app_id: str, workflow_id: str, key: str) -> Response[str]:
    store(app_id).put_deterministic_value(workflow_id, key, readable_body())
    return ok({})


def get_deterministic_value(app_id: str, workflow_id: str, key: str) -> Response[str]:
    return single(store(app_id).get_deterministic_value(workflow_id, key))


def put_sub_invocation(app_id: str, workflow_id: str) -> Response[str]:
    sub = json_body(sub_invocation_id=str)["sub_invocation_id"]
    store(app_id).put_sub_invocation(workflow_id, sub)
    return ok({}, 201)


def sub_invocations(app_id: str, workflow_id: str) -> Response[str]:
    s = store(app_id)
    return listing(pages.sub_invocations_page(s, workflow_id, decode_cursor(), limit(), budget()))


def put_workflow_run(app_id: str) -> Response[str]:
    data = json_body(body=str, workflow_task_id=str, workflow_id=str, timestamp=str | None)
    body = readable(data["body"])
    when = timestamp(data["timestamp"]) if data["timestamp"] is not None else None
    store(app_id).put_workflow_run(data["workflow_task_id"], data["workflow_id"], body, when)
    return ok({}, 201)


def all_workflow_runs(app_id: str) -> Response[str]:
    start = decode_cursor(pages.is_runs_resume)
    return listing(pages.all_workflow_runs_page(store(app_id), start, limit(), budget()))


def workflow_types(app_id: str) -> Response[str]:
    return listing(pages.workflow_types_page(store(app_id), decode_cursor(), limit(), budget()))


def workflow_runs(app_id: str, task_id: str) -> Response[str]:
    s = store(app_id)
    return listing(pages.workflow_runs_page(s, task_id, decode_cursor(), limit(), budget()))


def put_app_info(app_id: str) -> Response[str]:
    body = readable_body()
    # The registry is shared by every app and read back by the app id inside the body: a
    # worker allowed /apps/orders/* must not be able to stand in for another app there.
    try:
        described = json.loads(body).get("app_id")
    except (ValueError, RecursionError, AttributeError):
        described = None
    if described != app_id:
        raise ApiError(400, "InvalidField", "Field 'body' must be app info JSON of this app.")
    store(app_id).put_app_info(app_id, body)
    return ok({})


def get_app_info(app_id: str) -> Response[str]:
    return single(store(app_id).get_app_info(app_id))


def all_app_infos() -> Response[str]:
    # Any valid app id reads the shared registry; the route itself is not app-scoped.
    return listing(pages.app_infos_page(store("pynenc"), decode_cursor(), limit(), budget()))


def purge(app_id: str) -> Response[str]:
    """One bounded step of the purge, resumed from the request's cursor; the client
    repeats it, following ``next_cursor``, until ``done``."""
    s = store(app_id)
    last = len(schema.app_partitions(s.app_id))
    start = decode_cursor(lambda v: type(v) is int and 0 <= v <= last) or 0
    deleted, position = s.purge_step(PURGE_STEP_ITEMS, PURGE_STEP_SECONDS, start)
    cursor = CURSORS.encode(app.current_event.path, position)
    return ok({"deleted": deleted, "done": position is None, "next_cursor": cursor})


INDEX = IndexHandlers(
    Served(
        event=lambda: app.current_event,
        json_body=json_body,
        limit=limit,
        cursors=CURSORS,
        budget=budget,
        store=store,
        purge_step=(PURGE_STEP_ITEMS, PURGE_STEP_SECONDS),
    )
)
HANDLERS: dict[str, Callable[..., Response[str]]] = {
    route.name: globals().get(route.name) or INDEX.handlers()[route.name] for route in routes.ROUTES
}


@app.route(".+", method=["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"])
def dispatch() -> Response[str]:
    """Route by :data:`pynenc_dynamodb.api.routes.ROUTES`: its one pattern per route serves
    the routing, the 405 answer and the metrics' route name."""
    method = app.current_event.http_method.upper()
    path = app.current_event.path
    bad = routes.non_canonical_segment(path)
    if bad is not None:
        raise ApiError(
            400,
            "NonCanonicalPath",
            f"Path segment {bad!r} is not spelled canonically: percent-encode exactly the "
            "bytes outside letters, digits and '-._~' (upper-case hex), and dot-only "
            "segments entirely.",
        )
    found = routes.match(method, path)
    if found is None:
        return unrouted(method, path)
    route, parameters_ = found
    return HANDLERS[route.name](**{name: ident(value) for name, value in parameters_.items()})


def unrouted(method: str, path: str) -> Response[str]:
    """405 naming the methods the path takes, or 404 when no route has this path."""
    allowed = routes.allowed_methods(path)
    if allowed:
        return error_response(
            405, "MethodNotAllowed", f"{method} is not allowed here; use {', '.join(allowed)}."
        )
    return error_response(404, "RouteNotFound", f"No route for {method} {path}.")


def route_name(method: str, path: str) -> str:
    found = routes.match(method, path)
    return found[0].key if found else "unmatched"


# -- errors --------------------------------------------------------------------------------


def on_api_error(exc: ApiError) -> Response[str]:
    return error_response(exc.status, exc.code, str(exc), **exc.extra)


def on_invalid_key(exc: InvalidKeyError) -> Response[str]:
    return error_response(400, "InvalidKey", str(exc), field=exc.field, problem=exc.problem)


def on_bad_encoding(exc: UnicodeDecodeError) -> Response[str]:
    return error_response(400, "InvalidKey", f"A path segment is not UTF-8 once decoded: {exc}")


def on_too_large(exc: ItemTooLargeError) -> Response[str]:
    return error_response(
        413, "ItemTooLarge", str(exc), field=exc.field, size=exc.size, limit=exc.limit
    )


def on_unexpected(exc: Exception) -> Response[str]:
    # Our fault or DynamoDB's, never the caller's: logged with its traceback, not echoed.
    logger.exception("Unhandled error")
    return error_response(500, "InternalError", "Internal error; see the function's logs.")


# Registered by call: Powertools' decorator is untyped.
app.exception_handler(ApiError)(on_api_error)
app.exception_handler(InvalidKeyError)(on_invalid_key)
app.exception_handler(UnicodeDecodeError)(on_bad_encoding)
app.exception_handler(ItemTooLargeError)(on_too_large)
app.exception_handler(Exception)(on_unexpected)


@app.not_found
def not_found(exc: Exception) -> Response[str]:
    # Methods the catch-all route does not take.
    return unrouted(app.current_event.http_method.upper(), app.current_event.path)


# -- entry point ---------------------------------------------------------------------------


def has_iam_identity(event: dict[str, Any]) -> bool:
    """API Gateway fills ``authorizer.iam`` for SigV4-authorized requests only."""
    context = event.get("requestContext") or {}
    iam = (context.get("authorizer") or {}).get("iam")
    return isinstance(iam, dict) and bool(iam.get("accessKey") or iam.get("userArn"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    http = (event.get("requestContext") or {}).get("http") or {}
    name = route_name(str(http.get("method", "")).upper(), str(event.get("rawPath", "")))
    started = time.perf_counter()
    requests_before = sum(CLIENT.request_counts.values())
    if not has_iam_identity(event):
        result = error_response(403, "Forbidden", "The request carries no IAM identity.")
        response: dict[str, Any] = {
            "statusCode": result.status_code,
            "headers": {"Content-Type": "application/json"},
            "body": result.body,
        }
    else:
        response = app.resolve(event, context)
    status = int(response.get("statusCode", 500))
    elapsed_ms = (time.perf_counter() - started) * 1000
    dynamodb_requests = sum(CLIENT.request_counts.values()) - requests_before
    # Powertools keeps dimensions across calls when metrics are disabled: start clean.
    metrics.clear_metrics()
    metrics.add_dimension(name="route", value=name)
    metrics.add_metric(name="requests", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="latency", unit=MetricUnit.Milliseconds, value=elapsed_ms)
    metrics.add_metric(name="dynamodb_requests", unit=MetricUnit.Count, value=dynamodb_requests)
    if status >= 400:
        metrics.add_metric(name=f"status_{status // 100}xx", unit=MetricUnit.Count, value=1)
    logger.info(
        "request served",
        extra={
            "route": name,
            "status": status,
            "latency_ms": round(elapsed_ms, 2),
            "dynamodb_requests": dynamodb_requests,
            "body_bytes": len(event.get("body") or ""),
        },
    )
    return response
