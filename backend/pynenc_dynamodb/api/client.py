"""A state store that calls the state API (``lambdas/state_api``) over HTTPS.

Every request is SigV4-signed for ``execute-api`` with credentials from the standard chain,
so the API's AWS_IAM authorization decides which apps a worker may touch. Requests time out,
5xx answers and connection errors are retried with jittered backoff, and listings are lazy
iterators that follow the API's ``next_cursor``.
"""

import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from pynenc_dynamodb.api import routes
from pynenc_dynamodb.api.index_client import IndexOperations
from pynenc_dynamodb.aws.per_process import PerProcess
from pynenc_dynamodb.aws.retry import RetryPolicy, retry
from pynenc_dynamodb.aws.settings import is_loopback, resolve_session
from pynenc_dynamodb.errors import (
    ConfigurationError,
    InvalidKeyError,
    ItemTooLargeError,
    RequestTooLargeError,
    StateApiError,
)

logger = logging.getLogger(__name__)

SETTINGS_HINT = "PYNENC__CONFIGSTATEBACKENDDYNAMODBAPI__"
# A synchronous Lambda invocation takes at most 6 MB, and that is API Gateway's whole event:
# the body inside it is a JSON string, escaped once more, next to headers and the request
# context (ENVELOPE_BYTES is generous for those). A body that would not fit never reaches
# the function, so the API could not answer it with its own 413: we refuse it here.
LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024
ENVELOPE_BYTES = 64 * 1024


TOO_MANY_REQUESTS = 429


@dataclass(frozen=True)
class ApiSettings:
    """How to reach the state API.

    :param url: base URL of the API (the ``ApiUrl`` output of the stack)
    :param region: region the API is deployed in; empty means boto3's chain
    :param max_attempts: attempts per request, the first one included
    :param connect_timeout: seconds to wait for a connection
    :param read_timeout: seconds to wait for a response
    """

    url: str
    region: str = ""
    max_attempts: int = 5
    connect_timeout: float = 5.0
    read_timeout: float = 30.0


def check_event_size(method: str, path: str, body: bytes) -> None:
    """Refuse a body that, escaped into API Gateway's event, exceeds what Lambda accepts.

    :raises RequestTooLargeError: naming the event size and the limit; nothing is sent
    """
    limit = LAMBDA_PAYLOAD_BYTES - ENVELOPE_BYTES
    # Escaping at most doubles a body: only the largest ones are worth measuring.
    if len(body) * 2 <= limit:
        return
    in_event = len(json.dumps(body.decode("utf-8"), ensure_ascii=False).encode())
    if in_event > limit:
        raise RequestTooLargeError(
            method,
            path,
            in_event,
            limit,
            "Measured as escaped into the API Gateway event, which Lambda takes whole.",
        )


def _is_transient(exc: Exception) -> bool:
    """No answer, a 5xx or API Gateway's throttling: every route is safe to repeat."""
    return isinstance(exc, StateApiError) and (
        exc.status == 0 or exc.status >= 500 or exc.status == TOO_MANY_REQUESTS
    )


class ApiStateStore(IndexOperations):
    """:class:`~pynenc_dynamodb.state_backend.adapter.StateStore` over the state API, for one
    app, with pynenc 0.1's operations (:class:`~pynenc_dynamodb.api.index_client.IndexOperations`).

    :param settings: how to reach the API
    :param app_id: the app whose state this store reads and writes
    """

    def __init__(self, settings: ApiSettings, app_id: str) -> None:
        if not settings.url:
            raise ConfigurationError(
                f"No state API URL: set dynamodb_api_url ({SETTINGS_HINT}DYNAMODB_API_URL) "
                "to the ApiUrl output of the deployed stack, or to `pynenc-dynamodb api`."
            )
        self.settings = settings
        self.app_id = app_id
        self.base = settings.url.rstrip("/")
        self.local = is_loopback(self.base)
        self._pool: PerProcess[urllib3.PoolManager] = PerProcess(self._new_pool)
        self._signer: tuple[Any, str] | None = None
        self.policy = RetryPolicy(attempts=settings.max_attempts, base_delay=0.1)

    def __getstate__(self) -> dict[str, Any]:
        # Pickled into spawned workers: they open their own connections.
        return {"settings": self.settings, "app_id": self.app_id}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["settings"], state["app_id"])  # type: ignore[misc]

    # -- transport ----------------------------------------------------------------------

    def _new_pool(self) -> urllib3.PoolManager:
        timeout = urllib3.Timeout(
            connect=self.settings.connect_timeout, read=self.settings.read_timeout
        )
        return urllib3.PoolManager(timeout=timeout, retries=False)

    def _connections(self) -> urllib3.PoolManager:
        return self._pool.get()

    def _credentials(self) -> tuple[Any, str]:
        """Credentials and region to sign with, looked up once per store."""
        if self._signer is None:
            session, region = resolve_session(
                self.base,
                self.settings.region,
                "the state API",
                f"dynamodb_api_region ({SETTINGS_HINT}DYNAMODB_API_REGION)",
            )
            self._signer = (session.get_credentials(), region)
        return self._signer

    def _send_once(self, method: str, url: str, body: bytes | None) -> urllib3.BaseHTTPResponse:
        credentials, region = self._credentials()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        request = AWSRequest(method=method, url=url, data=body or b"", headers=headers)
        # Frozen per request: refreshable role credentials rotate under long-lived workers.
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
        return self._connections().request(
            method, url, body=body, headers=dict(request.headers.items()), redirect=False
        )

    def request(
        self,
        method: str,
        path: str,
        payload: dict[str, Any] | None = None,
        query: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Send one request, retrying 429 (API Gateway throttling), 5xx answers and
        connection errors: every route is safe to repeat.

        :return: the status and the decoded JSON answer; 404 ``NotFound`` is returned,
            every other 4xx is raised
        :raises InvalidKeyError: if an id or key breaks the key rules
        :raises ItemTooLargeError: if a value is too large to store
        :raises RequestTooLargeError: if the body is beyond the API's request limit
        :raises StateApiError: for any other refusal, or after the last attempt
        """
        url = self.base + path + ("?" + urlencode(query) if query else "")
        body = json.dumps(payload).encode() if payload is not None else None
        if body is not None:
            check_event_size(method, path, body)

        def send() -> tuple[int, dict[str, Any]]:
            try:
                response = self._send_once(method, url, body)
            except urllib3.exceptions.HTTPError as exc:
                raise StateApiError(method, path, 0, type(exc).__name__, str(exc)) from exc
            status = response.status
            return status, self._answer(method, path, status, response.data, len(body or b""))

        return retry(send, self.policy, _is_transient, f"State API {method} {path}")

    def _answer(
        self, method: str, path: str, status: int, data: bytes, size: int = 0
    ) -> dict[str, Any]:
        try:
            answer = json.loads(data) if data else {}
        except ValueError:
            answer = {"error": {"code": "NotJson", "message": data[:200].decode(errors="replace")}}
        if not isinstance(answer, dict):
            answer = {}
        if status < 400:
            return answer
        error = answer.get("error") or {}
        code = str(error.get("code", "Unknown"))
        message = str(error.get("message", answer.get("message", "")))
        if status == 404 and code == "NotFound":
            return answer
        if code == "InvalidKey" and "field" in error:
            raise InvalidKeyError(str(error["field"]), str(error.get("problem", message)))
        if status == 413 and code != "ItemTooLarge":
            # Ours names the limit; API Gateway's own (a body past its quota) does not.
            raise RequestTooLargeError(
                method,
                path,
                int(error.get("size") or size),
                int(error.get("limit") or 0),
                message,
            )
        if code == "ItemTooLarge":
            raise ItemTooLargeError(
                str(error.get("field", "value")), int(error["size"]), int(error["limit"])
            )
        raise StateApiError(method, path, status, code, message)

    def _get_body(self, path: str) -> str | None:
        status, answer = self.request("GET", path)
        return None if status == 404 else str(answer["body"])

    def _list(self, path: str, query: dict[str, str] | None = None) -> Iterator[str]:
        """Items of a listing, fetching the next page only when the caller needs it.

        :param query: the listing's filters, sent with every page
        """
        cursor = ""
        while True:
            page = {**(query or {}), **({"cursor": cursor} if cursor else {})}
            _, answer = self.request("GET", path, query=page or None)
            yield from (str(item) for item in answer.get("items", []))
            cursor = answer.get("next_cursor") or ""
            if not cursor:
                return

    def _path(self, name: str, **parameters: str) -> str:
        """The path of operation ``name`` of this app, from the API's route table."""
        return routes.path(name, app_id=self.app_id, **parameters)

    # -- the StateStore operations ------------------------------------------------------

    def _put(self, name: str, body: str, **parameters: str) -> None:
        self.request(routes.BY_NAME[name].method, self._path(name, **parameters), {"body": body})

    def put_invocation(self, invocation_id: str, body: str) -> None:
        self._put("put_invocation", body, invocation_id=invocation_id)

    def get_invocation(self, invocation_id: str) -> str | None:
        return self._get_body(self._path("get_invocation", invocation_id=invocation_id))

    def add_history(
        self, invocation_id: str, timestamp: datetime, body: str, record_id: str | None = None
    ) -> None:
        # The record id is chosen here, so a retried request overwrites and never doubles.
        payload = {
            "body": body,
            "timestamp": timestamp.isoformat(),
            "record_id": record_id or uuid.uuid4().hex,
        }
        self.request("POST", self._path("add_history", invocation_id=invocation_id), payload)

    def get_history(self, invocation_id: str) -> Iterator[str]:
        return self._list(self._path("get_history", invocation_id=invocation_id))

    def put_result(self, invocation_id: str, body: str) -> None:
        self._put("put_result", body, invocation_id=invocation_id)

    def get_result(self, invocation_id: str) -> str | None:
        return self._get_body(self._path("get_result", invocation_id=invocation_id))

    def put_exception(self, invocation_id: str, body: str) -> None:
        self._put("put_exception", body, invocation_id=invocation_id)

    def get_exception(self, invocation_id: str) -> str | None:
        return self._get_body(self._path("get_exception", invocation_id=invocation_id))

    def put_workflow_data(self, workflow_id: str, key: str, body: str) -> None:
        self._put("put_workflow_data", body, workflow_id=workflow_id, key=key)

    def get_workflow_data(self, workflow_id: str, key: str) -> str | None:
        return self._get_body(self._path("get_workflow_data", workflow_id=workflow_id, key=key))

    def put_deterministic_value(self, workflow_id: str, key: str, body: str) -> None:
        self._put("put_deterministic_value", body, workflow_id=workflow_id, key=key)

    def get_deterministic_value(self, workflow_id: str, key: str) -> str | None:
        path = self._path("get_deterministic_value", workflow_id=workflow_id, key=key)
        return self._get_body(path)

    def put_app_info(self, app_id: str, body: str) -> None:
        path = routes.path("put_app_info", app_id=app_id)
        self.request("PUT", path, {"body": body})

    def get_app_info(self, app_id: str) -> str | None:
        return self._get_body(routes.path("get_app_info", app_id=app_id))

    def all_app_infos(self) -> Iterator[str]:
        return self._list(routes.path("all_app_infos"))

    def put_sub_invocation(self, workflow_id: str, sub_invocation_id: str) -> None:
        path = self._path("put_sub_invocation", workflow_id=workflow_id)
        self.request("POST", path, {"sub_invocation_id": sub_invocation_id})

    def sub_invocations(self, workflow_id: str) -> Iterator[str]:
        return self._list(self._path("sub_invocations", workflow_id=workflow_id))

    def put_workflow_run(
        self,
        workflow_task_id: str,
        workflow_id: str,
        body: str,
        timestamp: datetime | None = None,
    ) -> None:
        payload = {
            "workflow_task_id": workflow_task_id,
            "workflow_id": workflow_id,
            "body": body,
            "timestamp": (timestamp or datetime.now(UTC)).isoformat(),
        }
        self.request("POST", self._path("put_workflow_run"), payload)

    def workflow_types(self) -> Iterator[str]:
        return self._list(self._path("workflow_types"))

    def workflow_runs(self, workflow_task_id: str) -> Iterator[str]:
        return self._list(self._path("workflow_runs", task_id=workflow_task_id))

    def all_workflow_runs(self) -> Iterator[str]:
        return self._list(self._path("all_workflow_runs"))

    def purge(self) -> int:
        """Delete the app's items and payload objects, one bounded request at a time.

        :return: how many items and objects were deleted
        """
        return self._purge_steps(self._path("purge"))

    def _purge_steps(self, path: str) -> int:
        """Repeat the bounded DELETE at ``path``, following its cursor, until ``done``."""
        deleted = 0
        cursor = ""
        while True:
            _, answer = self.request("DELETE", path, query={"cursor": cursor} if cursor else None)
            deleted += int(answer.get("deleted", 0))
            cursor = answer.get("next_cursor") or ""
            if answer.get("done", True) or not cursor:
                return deleted
