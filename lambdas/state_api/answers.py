"""The state API's answers: JSON without ASCII escaping, and never more than Lambda can
return. Lambda returns at most 6 MB of response, the answer being a JSON string inside the
runtime's own JSON with its status and headers; answers keep 64 KiB below that. A listing
page ends early with a cursor (:mod:`pynenc_dynamodb.api.pages`), a body that could never be
read back is refused when written, and one stored past the API that no answer can hold is
refused when read."""

import json
from typing import Any, Final

from aws_lambda_powertools.event_handler import Response
from request_parsing import ApiError

from pynenc_dynamodb.api.pages import AnswerTooLargeError, answer_bytes

MAX_ANSWER_BYTES: Final = 6 * 1024 * 1024 - 64 * 1024
# What ``{"body": ...}`` adds around a body.
_BODY_ENVELOPE_BYTES: Final = len('{"body": }')


def error_response(status: int, code: str, message: str, **extra: Any) -> Response[str]:
    body = {"error": {"code": code, "message": message, **extra}}
    return Response(status, "application/json", json.dumps(body, ensure_ascii=False))


def ok(payload: dict[str, Any], status: int = 200) -> Response[str]:
    # No ASCII escaping: a non-ASCII character costs its UTF-8 bytes, not six.
    return Response(status, "application/json", json.dumps(payload, ensure_ascii=False))


def readable(body: str) -> str:
    """``body``, unless the answer that reads it back would pass :data:`MAX_ANSWER_BYTES`.

    :raises ApiError: 413 naming the size and the limit; nothing is written
    """
    size = answer_bytes(body) + _BODY_ENVELOPE_BYTES
    if size > MAX_ANSWER_BYTES:
        raise ApiError(
            413,
            "BodyTooLarge",
            f"The body would be {size} bytes in the answer that reads it back; answers "
            f"hold at most {MAX_ANSWER_BYTES} bytes (Lambda's 6 MB response limit). "
            "Nothing was written.",
            size=size,
            limit=MAX_ANSWER_BYTES,
        )
    return body


def single(body: str | None) -> Response[str]:
    """The answer of a single-item read: 404 when missing."""
    if body is None:
        return error_response(404, "NotFound", "No such item.")
    # Written past this API (the direct backend stores up to any size): refused, not cut.
    size = answer_bytes(body) + _BODY_ENVELOPE_BYTES
    if size > MAX_ANSWER_BYTES:
        raise AnswerTooLargeError("item", size, MAX_ANSWER_BYTES)
    return ok({"body": body})
