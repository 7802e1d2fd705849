"""What the state API accepts from a request: path segments, JSON bodies and their size
limit, timestamps and page sizes. Every refusal is an :class:`ApiError` naming the field
or limit at fault, raised before anything is written.

Functions take the event (or the raw values) rather than reading the resolver, so that this
module holds no state and reads no environment: ``app.py`` owns the configuration.
"""

import base64
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2


class ApiError(Exception):
    """A client mistake: answered with ``status`` and a JSON error, nothing written.

    :param status: HTTP status code
    :param code: short machine-readable error code
    :param message: what is wrong, naming the field or limit at fault
    """

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.extra = extra


def ident(value: str) -> str:
    """A path parameter as given by the caller: path segments arrive URL-encoded."""
    return unquote(value, errors="strict")


def body_bytes(event: APIGatewayProxyEventV2) -> bytes:
    """The request body as the caller sent it (API Gateway base64-encodes binary ones)."""
    raw = event.get("body") or ""
    return base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()


def json_body(event: APIGatewayProxyEventV2, max_bytes: int, **fields: Any) -> dict[str, Any]:
    """The request's JSON object, with exactly ``fields`` (``str`` or ``str | None``).

    :param event: the current request
    :param max_bytes: the largest body accepted; larger ones are a 413 naming the limit
    :param fields: the expected fields and their types
    """
    data = body_bytes(event)
    if len(data) > max_bytes:
        raise ApiError(
            413,
            "BodyTooLarge",
            f"The request body is {len(data)} bytes; the limit is {max_bytes} bytes.",
            size=len(data),
            limit=max_bytes,
        )
    try:
        parsed = json.loads(data)
    # ValueError covers JSONDecodeError, bad UTF-8 and integers too long to convert;
    # RecursionError, nesting too deep to parse.
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "MalformedJson", f"The request body is not valid JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise ApiError(400, "MalformedJson", "The request body must be a JSON object.")
    unknown = sorted(set(parsed) - set(fields))
    if unknown:
        raise ApiError(400, "UnknownField", f"Unknown field(s): {', '.join(unknown)}.")
    for name, expected in fields.items():
        optional = expected is not str
        if name not in parsed or parsed[name] is None:
            if optional:
                parsed[name] = None
                continue
            raise ApiError(400, "MissingField", f"Field {name!r} is required (a string).")
        if not isinstance(parsed[name], str):
            got = type(parsed[name]).__name__
            raise ApiError(400, "InvalidField", f"Field {name!r} must be a string, got {got}.")
        try:
            parsed[name].encode("utf-8")
        except UnicodeEncodeError as exc:
            # JSON admits "\ud800"; DynamoDB and S3 store UTF-8 only.
            raise ApiError(
                400, "InvalidField", f"Field {name!r} is not valid Unicode text: {exc.reason}."
            ) from exc
    return parsed


def timestamp(value: str) -> datetime:
    """An ISO 8601 time from a body field; 400 naming the field otherwise."""
    try:
        parsed = datetime.fromisoformat(value)
        # Keys hold UTC: a time that cannot be expressed in UTC is refused here.
        if parsed.tzinfo is not None:
            parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ApiError(
            400, "InvalidField", f"Field 'timestamp' is not a usable ISO 8601 time: {value!r}."
        ) from exc
    return parsed


def page_limit(event: APIGatewayProxyEventV2, default: int, maximum: int) -> int:
    """The ``limit`` query parameter: ``default`` when absent, 400 outside 1..``maximum``."""
    raw = event.get_query_string_value("limit", str(default)) or str(default)
    # isdigit() alone admits '²' and other digits int() refuses; cap the length too.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= maximum:
        raise ApiError(400, "InvalidLimit", f"limit must be an integer from 1 to {maximum}.")
    return int(raw)
