"""Listing cursors: whatever a caller puts in ``cursor``, a 400, never a 500; cursors
expire; their key is read from Secrets Manager, never from the environment."""

import base64
import json
import os
import sys
import time
from types import ModuleType
from typing import Any

import boto3
import pytest

from pynenc_dynamodb.local.endpoint import LocalEndpointProcess
from tests.helpers.api_events import call


def signed(api: ModuleType, payload: bytes) -> str:
    """A cursor that carries ``payload`` under this API's own valid signature."""
    encoded = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{encoded}.{api.CURSORS._sign(payload)}"


def signed_json(api: ModuleType, path: str, position: Any, **extra: Any) -> str:
    data = {"p": path, "t": int(time.time()), "k": position, **extra}
    return signed(api, json.dumps(data).encode())


@pytest.mark.parametrize("listing", ["sub-invocations", "workflow-runs"])
def test_no_cursor_is_a_500(api: ModuleType, base: str, listing: str) -> None:
    path = (
        f"{base}/workflows/w/sub-invocations"
        if listing == "sub-invocations"
        else (f"{base}/workflow-runs")
    )
    cursors = [
        "é",
        "ü.ü",
        "abc.é",
        "%%%.!!!",
        "A",
        "A" * 20_000,
        signed(api, b"\xff\xfe not json"),
        signed(api, b"[1, 2]"),
        signed(api, json.dumps({"p": path}).encode()),
        signed(api, json.dumps({"p": path, "k": {"pk": {"S": "x"}}}).encode()),  # no time
        signed_json(api, path, 5),
        signed_json(api, path, "text"),
        signed_json(api, path, [1]),
        signed_json(api, path, {"pk": {"N": "1"}}),
        signed_json(api, path, {"pk": {"S": 1}}),
        signed_json(api, path, {"task": 5, "key": None, "done": True}),
        signed_json(api, path, {"task": "t", "key": {"pk": 1}, "done": False}),
        signed_json(api, path, {"task": "t", "key": None}),
        signed_json(api, path, {"p": 1}, t="now"),
    ]
    for cursor in cursors:
        status, answer = call(api, "GET", path, query={"cursor": cursor})
        assert status == 400, (cursor[:80], answer)
        assert answer["error"]["code"] == "InvalidCursor"


def test_cursors_expire(api: ModuleType, base: str) -> None:
    path = f"{base}/workflows/w/sub-invocations"
    for sub in ("s1", "s2"):
        call(api, "POST", path, {"sub_invocation_id": sub})
    status, answer = call(api, "GET", path, query={"limit": "1"})
    assert status == 200 and answer["next_cursor"]
    position = json.loads(base64.urlsafe_b64decode(answer["next_cursor"].split(".")[0] + "=="))["k"]
    fresh = signed_json(api, path, position)
    assert call(api, "GET", path, query={"cursor": fresh})[0] == 200
    lifetime = sys.modules["cursors"].CURSOR_LIFETIME_SECONDS
    stale = signed_json(api, path, position, t=int(time.time()) - lifetime - 1)
    status, answer = call(api, "GET", path, query={"cursor": stale})
    assert status == 400 and "expired" in answer["error"]["message"]
    # The same rule, on a clock of our own.
    now = [1_000_000.0]
    signer = api.CursorSigner(b"key", lifetime=60, clock=lambda: now[0])
    cursor = signer.encode("/p", {"pk": {"S": "a"}})
    assert cursor is not None
    now[0] += 60
    assert signer.decode(cursor, "/p") == {"pk": {"S": "a"}}
    now[0] += 1
    with pytest.raises(api.ApiError) as info:
        signer.decode(cursor, "/p")
    assert info.value.status == 400 and "60 seconds" in str(info.value)


def test_cursor_key_is_read_from_secrets_manager(
    api: ModuleType, endpoint: LocalEndpointProcess
) -> None:
    arn = os.environ["CURSOR_SECRET_ARN"]
    secrets = boto3.session.Session().client(
        "secretsmanager",
        region_name="us-east-1",
        endpoint_url=endpoint.url,
        aws_access_key_id="pynenc-local",
        aws_secret_access_key="pynenc-local",
    )
    key = secrets.get_secret_value(SecretId=arn)["SecretString"].encode()
    # Cursors the function issues verify under the secret's value, and under no other.
    cursor = api.CURSORS.encode("/p", {"pk": {"S": "a"}})
    assert api.CursorSigner(key).decode(cursor, "/p") == {"pk": {"S": "a"}}
    with pytest.raises(api.ApiError):
        api.CursorSigner(b"another key").decode(cursor, "/p")
    # The key is nowhere in the function's environment.
    assert all(key.decode() not in value for value in os.environ.values())


def test_local_api_server_reads_its_key_from_the_embedded_secrets_manager(
    endpoint: LocalEndpointProcess,
) -> None:
    from pynenc_dynamodb.local.api_server import handler_environment

    environment = handler_environment(endpoint.url, "any-table")
    assert environment["CURSOR_SECRET_ARN"].startswith("arn:aws:secretsmanager:")
    assert environment["AWS_ENDPOINT_URL_SECRETS_MANAGER"] == endpoint.url
    assert not any(
        name.startswith("CURSOR_SECRET") and name != "CURSOR_SECRET_ARN" for name in environment
    )
