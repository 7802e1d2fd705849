"""Real-shaped API Gateway HTTP API (payload format 2.0) events for the state API's
handler, and small helpers to call it."""

import json
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote, urlencode

from pynenc_dynamodb.local.api_server import LambdaContext

HANDLER = Path(__file__).resolve().parents[2] / "lambdas" / "state_api" / "app.py"


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


def listing(api: ModuleType, path: str, limit: int, **filters: str) -> tuple[list[str], int]:
    """Every item of a listing, following next_cursor; and how many pages it took.

    :param filters: the listing's query parameters, sent with every page
    """
    items: list[str] = []
    query = {"limit": str(limit), **filters}
    for pages in range(1, 200):
        status, answer = call(api, "GET", path, query=query)
        assert status == 200, answer
        items += answer["items"]
        if not answer["next_cursor"]:
            return items, pages
        query = {"limit": str(limit), **filters, "cursor": answer["next_cursor"]}
    raise AssertionError("the listing never ended")


# -- every route class ---------------------------------------------------------------------


def raw_segment(value: str) -> str:
    """Percent-encoded bytes of ``value``, lone surrogates included (invalid UTF-8)."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def purge(api: ModuleType, base: str) -> int:
    """Purge the app at ``base``, one bounded DELETE after another until it is done."""
    deleted = 0
    query: dict[str, str] = {}
    for _ in range(10_000):
        status, answer = call(api, "DELETE", base, query=query)
        assert status == 200, answer
        deleted += answer["deleted"]
        if answer["done"]:
            return deleted
        query = {"cursor": answer["next_cursor"]}
    raise AssertionError("the purge never finished")
