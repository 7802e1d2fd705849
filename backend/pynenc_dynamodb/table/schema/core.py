"""Attribute names, limits, escaping and sharding: what every key of the table is built from."""

import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from pynenc_dynamodb.errors import InvalidKeyError

PK: Final = "pk"
SK: Final = "sk"
BODY: Final = "body"
# How the body is stored: absent = text in BODY; see pynenc_dynamodb.table.payloads.
ENCODING: Final = "enc"
OBJECT_KEY: Final = "obj"
DIGEST: Final = "sha256"
EXPIRES_AT: Final = "expires_at"
GSI1: Final = "gsi1"
GSI1_PK: Final = "gsi1pk"
GSI1_SK: Final = "gsi1sk"
# The second index: only orchestrator items (status by status, registrations by time,
# waited invocations) carry its keys; see schema.orchestration.
GSI2: Final = "gsi2"
GSI2_PK: Final = "gsi2pk"
GSI2_SK: Final = "gsi2sk"
# Attributes gsi2 copies besides its keys: the owner of a status (running recovery).
OWNER: Final = "own"
DELIMITER: Final = "#"
SHARDS: Final = 16
APPS_PARTITION: Final = "APPS"
# DynamoDB limits, in bytes of UTF-8.
MAX_PARTITION_KEY_BYTES: Final = 2048
MAX_SORT_KEY_BYTES: Final = 1024
MAX_ITEM_BYTES: Final = 400 * 1024
# Per-component limits chosen so that every composed key stays within DynamoDB's limits.
MAX_APP_ID_BYTES: Final = 200
MAX_ID_BYTES: Final = 400
MAX_DATA_KEY_BYTES: Final = 500
# Client data keys share the sort key with nothing else: the whole sort-key limit.
MAX_CLIENT_DATA_KEY_BYTES: Final = MAX_SORT_KEY_BYTES
_ESCAPED: Final = re.compile("%(23|25)")
Key = dict[str, dict[str, str]]


@dataclass(frozen=True)
class Prefix:
    """A partition and a sort-key prefix: what a ``begins_with`` query needs."""

    pk: str
    sk_prefix: str


def escape(value: Any, field: str, limit: int, allow_empty: bool = False) -> str:
    """Validate one key component and escape the delimiter in it.

    :param value: the id or key given by the caller
    :param field: its name, used in the error message
    :param limit: maximum size in bytes after escaping
    :param allow_empty: whether the empty string is a valid value
    :raises InvalidKeyError: if the value is not text, empty, not valid UTF-8 or too long
    """
    if not isinstance(value, str):
        raise InvalidKeyError(field, f"expected text, got {type(value).__name__}")
    if not value and not allow_empty:
        raise InvalidKeyError(field, "must not be empty")
    escaped = value.replace("%", "%25").replace(DELIMITER, "%23")
    try:
        size = len(escaped.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise InvalidKeyError(
            field, f"is not valid Unicode text ({exc.reason} at position {exc.start})"
        ) from exc
    if size > limit:
        raise InvalidKeyError(
            field,
            f"is {size} bytes once '%' and '{DELIMITER}' are escaped; the limit is {limit} bytes",
        )
    return escaped


def unescape(escaped: str) -> str:
    """The id or key that :func:`escape` turned into ``escaped``."""
    return _ESCAPED.sub(lambda m: DELIMITER if m.group(1) == "23" else "%", escaped)


def _app(app_id: str) -> str:
    return escape(app_id, "app_id", MAX_APP_ID_BYTES)


def _shard(escaped_id: str) -> str:
    return f"{zlib.crc32(escaped_id.encode('utf-8')) % SHARDS:02d}"


def _key(pk: str, sk: str) -> Key:
    return {PK: {"S": pk}, SK: {"S": sk}}


def _invocation_partition(
    app_id: str, invocation_id: str, field: str = "invocation_id"
) -> tuple[str, str]:
    inv = escape(invocation_id, field, MAX_ID_BYTES)
    return f"A#{_app(app_id)}#I#{_shard(inv)}", inv


def _workflow_partition(app_id: str, workflow_id: str) -> tuple[str, str]:
    wf = escape(workflow_id, "workflow_id", MAX_ID_BYTES)
    return f"A#{_app(app_id)}#W#{_shard(wf)}", wf


def shard_names() -> list[str]:
    """The shards, as they appear in keys: ``"00"`` to ``"15"``."""
    return [f"{n:02d}" for n in range(SHARDS)]


def validate_app_id(app_id: str) -> None:
    """Raise :class:`InvalidKeyError` if ``app_id`` cannot be stored."""
    _app(app_id)


def timestamp_component(timestamp: datetime) -> str:
    """A fixed-width UTC timestamp, so that sort keys order by time."""
    return as_utc(timestamp).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def as_utc(timestamp: datetime) -> datetime:
    """``timestamp`` in UTC; a naive one is taken to be UTC already."""
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    return timestamp.astimezone(UTC)
