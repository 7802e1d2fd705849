"""S3 object keys of payloads, client data and trigger bodies, addressed by content under
per-app prefixes."""

from urllib.parse import quote

from pynenc_dynamodb.table.schema.core import (
    validate_app_id,
)


def payload_object_prefix(app_id: str) -> str:
    """S3 prefix of every payload object of ``app_id``: what purge deletes.

    Quoted whole (``/`` included), so one app's prefix is never a prefix of another's.
    """
    validate_app_id(app_id)
    return f"pynenc/{quote(app_id, safe='')}/"


def client_data_object_prefix(app_id: str) -> str:
    """S3 prefix of the app's client data objects: apart from its payloads, so each purge
    deletes only its own (``pynenc-client-data/`` never starts with ``pynenc/``)."""
    validate_app_id(app_id)
    return f"pynenc-client-data/{quote(app_id, safe='')}/"


def trigger_object_prefix(app_id: str) -> str:
    """S3 prefix of the trigger's large bodies (a valid condition holding a large result),
    apart from the state's and the client data's, so each purge deletes only its own."""
    validate_app_id(app_id)
    return f"pynenc-trigger/{quote(app_id, safe='')}/"


def object_key(prefix: str, digest: str) -> str:
    """S3 key of a payload under ``prefix``, addressed by its content: a retried upload
    rewrites the same object, and a reader never meets a half-written one (the item is
    written after it)."""
    return f"{prefix}{digest}"


def payload_object_key(app_id: str, digest: str) -> str:
    return object_key(payload_object_prefix(app_id), digest)
