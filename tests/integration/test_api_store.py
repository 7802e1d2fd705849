"""The HTTP state store: error translation, retries and lazy listings over the local API."""

import os
from typing import Any

import pytest

from pynenc_dynamodb.api.client import (
    ENVELOPE_BYTES,
    LAMBDA_PAYLOAD_BYTES,
    ApiSettings,
    ApiStateStore,
)
from pynenc_dynamodb.errors import (
    InvalidKeyError,
    ItemTooLargeError,
    RequestTooLargeError,
    StateApiError,
)
from tests.conftest import unique_app_id


def test_key_and_size_errors_come_back_as_the_stores_own(state_api: Any) -> None:
    store = ApiStateStore(ApiSettings(state_api.url), unique_app_id())
    with pytest.raises(InvalidKeyError) as info:
        store.put_invocation("x" * 600, "body")
    assert info.value.field == "invocation_id"
    # Runs never move to the payload bucket: beyond an item, the store's own error.
    with pytest.raises(ItemTooLargeError):
        store.put_workflow_run("task", "wf", os.urandom(350 * 1024).hex())
    assert store.get_invocation("x" * 10) is None


def test_large_bodies_go_through_the_payload_bucket(state_api: Any) -> None:
    store = ApiStateStore(ApiSettings(state_api.url), unique_app_id())
    body = os.urandom(1024 * 1024).hex()  # 2 MB, beyond any item even compressed
    store.put_result("inv", body)
    assert store.get_result("inv") == body
    assert store.purge() == 2  # the item and its object


def test_bodies_over_the_api_limit_are_a_clear_error(state_api: Any) -> None:
    store = ApiStateStore(ApiSettings(state_api.url), unique_app_id())
    # Within Lambda's event limit, beyond the API's 5 MiB body limit: the API's 413.
    with pytest.raises(RequestTooLargeError) as info:
        store.put_result("inv", "a" * (5 * 1024 * 1024 + 1))
    assert isinstance(info.value, ItemTooLargeError)
    assert info.value.status == 413
    assert info.value.limit == 5 * 1024 * 1024
    assert str(info.value.limit) in str(info.value)
    assert store.get_result("inv") is None
    # 3.4 MiB of request body, within the API's limit, but escaped once more into API
    # Gateway's event beyond Lambda's 6 MB: it would never reach the function, so it is
    # refused before sending.
    with pytest.raises(RequestTooLargeError) as info:
        store.put_result("inv", '"' * (1700 * 1024))
    assert info.value.limit == LAMBDA_PAYLOAD_BYTES - ENVELOPE_BYTES
    assert "event" in str(info.value)
    assert store.get_result("inv") is None


def test_listings_are_lazy_and_follow_cursors(state_api: Any) -> None:
    store = ApiStateStore(ApiSettings(state_api.url), unique_app_id())
    for n in range(250):  # more than one page of the API's default 100
        store.put_sub_invocation("wf", f"s{n:03d}")
    listing = store.sub_invocations("wf")
    assert next(listing) == "s000"
    assert sorted(listing) == [f"s{n:03d}" for n in range(1, 250)]
    assert store.purge() == 250


def test_connection_errors_are_retried_then_raised() -> None:
    import socket
    import threading

    # A server that accepts each connection and closes it unanswered, counting them.
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[int] = []

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            accepted.append(1)
            connection.close()

    threading.Thread(target=serve, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    store = ApiStateStore(ApiSettings(url, max_attempts=3, connect_timeout=0.5), "app")
    try:
        with pytest.raises(StateApiError) as info:
            store.get_invocation("inv")
    finally:
        listener.close()
    assert info.value.status == 0
    assert len(accepted) == 3


def test_throttled_requests_are_retried() -> None:
    """API Gateway answers 429 when its throttling limits are reached: retried, like 5xx."""
    import http.server
    import threading

    answers = [429, 503, 200]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status = answers.pop(0)
            body = b'{"body": "stored"}' if status == 200 else b'{"message": "Too Many"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        store = ApiStateStore(ApiSettings(url, max_attempts=3), "app")
        assert store.get_result("inv") == "stored"
        assert answers == []
    finally:
        server.shutdown()
