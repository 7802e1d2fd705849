"""The state API on loopback: HTTP requests become API Gateway HTTP API (payload 2.0)
events for the very handler that Lambda runs (``lambdas/state_api/app.py``).

API Gateway authorizes the deployed API with AWS_IAM and fills
``requestContext.authorizer.iam``; this server fills it from the access key of a SigV4
``Authorization`` header and does not verify the signature. It holds no authentication of
its own, which is why it only ever listens on loopback.
"""

import base64
import importlib.util
import os
import re
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from wsgiref.types import StartResponse, WSGIEnvironment

from pynenc_dynamodb.aws.settings import LOCAL_CREDENTIALS, LOCAL_REGION, resolve_session
from pynenc_dynamodb.local.endpoint import DEFAULT_BUCKET, CliProcess, LoopbackServer

HEALTH_PATH = "/_pynenc_dynamodb/health"
DEFAULT_API_PORT = 8766
HANDLER_ENV = "PYNENC_DYNAMODB_STATE_API_HANDLER"
LOCAL_ACCOUNT = "000000000000"
CURSOR_SECRET_NAME = "pynenc-state-api-cursor-key"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
_REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    500: "Internal Server Error",
}


def default_handler_path() -> Path:
    """``lambdas/state_api/app.py`` of the source tree, unless the environment names one."""
    configured = os.environ.get(HANDLER_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "lambdas" / "state_api" / "app.py"


def load_handler(path: Path, environment: dict[str, str]) -> Callable[..., dict[str, Any]]:
    """Import the handler module from ``path`` with ``environment`` set, as Lambda would."""
    if not path.is_file():
        raise FileNotFoundError(
            f"State API handler not found at {path}: run from a source checkout or set "
            f"{HANDLER_ENV} to lambdas/state_api/app.py."
        )
    os.environ.update(environment)
    # Lambda puts the function's code root on sys.path: the handler imports its siblings
    # (cursors, request_parsing) as top-level modules.
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location("pynenc_dynamodb_state_api", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the state API handler from {path}")
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler: Callable[..., dict[str, Any]] = module.handler
    return handler


class LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name = "pynenc-state-api-local"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = (
        f"arn:aws:lambda:us-east-1:{LOCAL_ACCOUNT}:function:pynenc-state-api-local"
    )
    log_group_name = "/aws/lambda/pynenc-state-api-local"
    log_stream_name = "local"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def iam_identity(authorization: str) -> dict[str, Any] | None:
    """What API Gateway puts in ``authorizer.iam`` for a SigV4-signed request."""
    if not authorization.startswith("AWS4-HMAC-SHA256"):
        return None
    match = _CREDENTIAL.search(authorization)
    if not match:
        return None
    key = match.group(1)
    return {
        "accessKey": key,
        "accountId": LOCAL_ACCOUNT,
        "callerId": key,
        "cognitoIdentity": None,
        "principalOrgId": None,
        "userArn": f"arn:aws:iam::{LOCAL_ACCOUNT}:user/{key}",
        "userId": key,
    }


def build_event(environ: WSGIEnvironment, body: bytes) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event for one WSGI request."""
    # The raw request line keeps percent-encoding; PATH_INFO has it decoded already.
    raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ["PATH_INFO"])
    parts = urlsplit(raw)
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = str(environ[key])
    query: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    now = time.time()
    context: dict[str, Any] = {
        "accountId": LOCAL_ACCOUNT,
        "apiId": "local",
        "domainName": headers.get("host", "127.0.0.1"),
        "domainPrefix": "local",
        "http": {
            "method": str(environ["REQUEST_METHOD"]),
            "path": parts.path,
            "protocol": str(environ.get("SERVER_PROTOCOL", "HTTP/1.1")),
            "sourceIp": str(environ.get("REMOTE_ADDR", "127.0.0.1")),
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": "ANY /{proxy+}",
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    identity = iam_identity(headers.get("authorization", ""))
    if identity is not None:
        context["authorizer"] = {"iam": identity}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "ANY /{proxy+}",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": headers,
        "requestContext": context,
        "pathParameters": {"proxy": parts.path.lstrip("/")},
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = query
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


class ApiServerApp:
    """WSGI application: one request at a time, like one Lambda execution environment.

    :param handler: the state API's Lambda handler
    """

    def __init__(self, handler: Callable[..., dict[str, Any]]) -> None:
        self.handler = handler
        # The resolver keeps the current event on itself: requests must not interleave.
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH:
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"ok": true}']
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        event = build_event(environ, body)
        with self._lock:
            response = self.handler(event, LambdaContext())
        status = int(response.get("statusCode", 200))
        payload = response.get("body") or ""
        data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
        headers = [(str(k), str(v)) for k, v in (response.get("headers") or {}).items()]
        start_response(f"{status} {_REASONS.get(status, 'Status')}", headers)
        return [data]


def create_cursor_secret(endpoint_url: str, name: str = CURSOR_SECRET_NAME) -> str:
    """Create (once) the cursors' HMAC key as a secret at a local endpoint, as the stack's
    ``CursorSecret``; return its ARN."""
    session, region = resolve_session(endpoint_url, "", "Secrets Manager", "AWS_REGION")
    client = session.client("secretsmanager", region_name=region, endpoint_url=endpoint_url)
    try:
        return str(client.describe_secret(SecretId=name)["ARN"])
    except client.exceptions.ResourceNotFoundException:
        created = client.create_secret(Name=name, SecretString=secrets.token_urlsafe(48))
        return str(created["ARN"])


def handler_environment(
    dynamodb_url: str, table_name: str, bucket: str = DEFAULT_BUCKET
) -> dict[str, str]:
    """The function's environment, as template.yaml sets it, for a local endpoint: its
    cursor key is a secret that this creates at that endpoint (moto serves Secrets Manager).

    :param bucket: the payload bucket; the embedded endpoint serves it (``create_table``)
    """
    from botocore.exceptions import BotoCoreError, ClientError

    environment = {
        "STATE_TABLE_NAME": table_name,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_url,
        "PAYLOAD_BUCKET": bucket,
        "POWERTOOLS_SERVICE_NAME": "pynenc-state-api",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    try:
        environment["CURSOR_SECRET_ARN"] = create_cursor_secret(dynamodb_url)
        environment["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = dynamodb_url
    except (BotoCoreError, ClientError):
        # An endpoint without Secrets Manager (not the embedded one): the handler signs
        # with a key of its own, which serves this one process, the server's whole life.
        pass
    # Powertools reads the secret through boto3's default chain: local values unless set.
    if not os.environ.get("AWS_ACCESS_KEY_ID"):
        environment["AWS_ACCESS_KEY_ID"], environment["AWS_SECRET_ACCESS_KEY"] = LOCAL_CREDENTIALS
    if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
        environment["AWS_DEFAULT_REGION"] = LOCAL_REGION
    # Quiet unless asked: one JSON line and one metrics blob per request drown the output.
    for name, value in {
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "PynencStateApi",
    }.items():
        environment[name] = os.environ.get(name, value)
    return environment


class LocalApiServer(LoopbackServer):
    """The state API on loopback, in a background thread of this process.

    :param dynamodb_url: the DynamoDB endpoint the handler uses (a local endpoint)
    :param table_name: the state table
    :param host: loopback address to listen on
    :param port: port; 0 picks a free one
    :param handler_path: the handler module; defaults to the source tree's
    :param bucket: the payload bucket at ``dynamodb_url`` for bodies beyond an item's size
    """

    def __init__(
        self,
        dynamodb_url: str,
        table_name: str,
        host: str = "127.0.0.1",
        port: int = 0,
        handler_path: Path | None = None,
        *,
        bucket: str = DEFAULT_BUCKET,
    ) -> None:
        handler = load_handler(
            handler_path or default_handler_path(),
            handler_environment(dynamodb_url, table_name, bucket),
        )
        super().__init__(ApiServerApp(handler), host, port)


class LocalApiProcess(CliProcess):
    """``pynenc-dynamodb api`` in a child process, for tests and demos.

    :param dynamodb_url: the local DynamoDB endpoint the API stores into
    :param table_name: the state table (created by the endpoint's owner)
    :param port: port; 0 picks a free one
    """

    def __init__(self, dynamodb_url: str, table_name: str, port: int = 0) -> None:
        arguments = ["api", "--table", table_name, "--dynamodb-url", dynamodb_url]
        super().__init__(arguments, port, HEALTH_PATH)
        self.dynamodb_url = dynamodb_url
        self.table_name = table_name


def point_app_at_api(url: str) -> dict[str, str]:
    """The environment variables that point a pynenc app at the state API at ``url``."""
    return {
        "PYNENC__STATE_BACKEND_CLS": "DynamoDBApiStateBackend",
        "PYNENC__DYNAMODB_API_URL": url,
    }
