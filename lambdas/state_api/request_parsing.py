"""What the state API accepts from a request: path segments, JSON bodies and their size
limit, timestamps and page sizes. Every refusal is an :class:`ApiError` naming the field
or limit at fault, raised before anything is written.

Functions take the event (or the raw values) rather than reading the resolver, so that this
module holds no state and reads no environment: ``app.py`` owns the configuration.
"""

import base64
import json
from dataclasses import dataclass, field
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
    """The request's JSON object, with exactly ``fields`` (see :func:`fields_of`).

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
    return fields_of(parsed, "", **fields)


@dataclass(frozen=True)
class ListOf:
    """A field holding a list of 1 to ``max_items`` strings, or of objects with ``fields``.

    :param max_items: the most items one request may carry
    :param fields: the fields of each object; none means each item is a string
    """

    max_items: int
    fields: dict[str, Any] = field(default_factory=dict)


def fields_of(parsed: dict[str, Any], where: str, **fields: Any) -> dict[str, Any]:
    """``parsed``, checked to have exactly ``fields``: each ``str``, ``str | None`` (optional)
    or :class:`ListOf`. Errors name the field as ``where`` + its name (``entries[3].body``).
    """
    unknown = sorted(set(parsed) - set(fields))
    if unknown:
        names = ", ".join(where + name for name in unknown)
        raise ApiError(400, "UnknownField", f"Unknown field(s): {names}.")
    for name, expected in fields.items():
        label = where + name
        if isinstance(expected, ListOf):
            parsed[name] = _list(parsed.get(name), label, expected)
            continue
        optional = expected is not str
        if name not in parsed or parsed[name] is None:
            if optional:
                parsed[name] = None
                continue
            raise ApiError(400, "MissingField", f"Field {label!r} is required (a string).")
        _string(parsed[name], label)
    return parsed


def _string(value: Any, label: str) -> str:
    if not isinstance(value, str):
        got = type(value).__name__
        raise ApiError(400, "InvalidField", f"Field {label!r} must be a string, got {got}.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        # JSON admits "\ud800"; DynamoDB and S3 store UTF-8 only.
        raise ApiError(
            400, "InvalidField", f"Field {label!r} is not valid Unicode text: {exc.reason}."
        ) from exc
    return value


def _list(value: Any, label: str, shape: ListOf) -> list[Any]:
    kind = "objects" if shape.fields else "strings"
    if value is None:
        raise ApiError(400, "MissingField", f"Field {label!r} is required (a list of {kind}).")
    if not isinstance(value, list):
        got = type(value).__name__
        raise ApiError(400, "InvalidField", f"Field {label!r} must be a list, got {got}.")
    if not 1 <= len(value) <= shape.max_items:
        raise ApiError(
            400,
            "InvalidField",
            f"Field {label!r} holds {len(value)} items; a request takes 1 to {shape.max_items}.",
        )
    if not shape.fields:
        return [_string(item, f"{label}[{n}]") for n, item in enumerate(value)]
    for n, item in enumerate(value):
        if not isinstance(item, dict):
            got = type(item).__name__
            raise ApiError(
                400, "InvalidField", f"Field '{label}[{n}]' must be an object, got {got}."
            )
        fields_of(item, f"{label}[{n}].", **shape.fields)
    return value


def timestamp(value: str, name: str = "timestamp") -> datetime:
    """An ISO 8601 time from field or query parameter ``name``; 400 naming it otherwise."""
    try:
        parsed = datetime.fromisoformat(value)
        # Keys hold UTC: a time that cannot be expressed in UTC is refused here.
        if parsed.tzinfo is not None:
            parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ApiError(
            400, "InvalidField", f"Field {name!r} is not a usable ISO 8601 time: {value!r}."
        ) from exc
    return parsed


def page_limit(event: APIGatewayProxyEventV2, default: int, maximum: int) -> int:
    """The ``limit`` query parameter: ``default`` when absent, 400 outside 1..``maximum``."""
    raw = event.get_query_string_value("limit", str(default)) or str(default)
    # isdigit() alone admits '²' and other digits int() refuses; cap the length too.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= maximum:
        raise ApiError(400, "InvalidLimit", f"limit must be an integer from 1 to {maximum}.")
    return int(raw)


def query_time(event: APIGatewayProxyEventV2, name: str) -> datetime:
    """The required ISO 8601 time of query parameter ``name``; 400 naming it otherwise."""
    raw = event.get_query_string_value(name, "") or ""
    if not raw:
        raise ApiError(400, "MissingField", f"Query parameter {name!r} is required (ISO 8601).")
    return timestamp(raw, name)


def query_text(event: APIGatewayProxyEventV2, name: str) -> str | None:
    """Query parameter ``name`` as given, ``None`` when absent."""
    return event.get_query_string_value(name, None)
