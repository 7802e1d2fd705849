"""How a serialized body is stored in an item: as text, compressed, or in S3.

- up to ``compress_min_bytes``: text in ``body`` (readable in the console);
- larger, when zlib saves at least a tenth: compressed bytes in ``body``, ``enc = "z"``;
- still larger than ``offload_min_bytes`` and a bucket is configured: the (compressed)
  bytes go to an S3 object addressed by their SHA-256; the item keeps the object key and
  the digest, checked on every read (``enc = "s3"`` or ``"s3z"``).

The object is written before the item that points at it, so a reader never follows a
pointer to a half-written payload.
"""

import hashlib
import zlib
from dataclasses import dataclass

from pynenc_dynamodb.aws.s3 import S3BlobStore
from pynenc_dynamodb.errors import ItemTooLargeError, PayloadError
from pynenc_dynamodb.table import schema
from pynenc_dynamodb.table.builders import Item

PLAIN = ""
ZLIB = "z"
S3 = "s3"
S3_ZLIB = "s3z"
# Room left in an item for its keys, expiry and pointer attributes.
ITEM_OVERHEAD_BYTES = 4 * 1024


@dataclass(frozen=True)
class PayloadPolicy:
    """When to compress and when to move a body to S3.

    :param compress_min_bytes: bodies from this size are compressed when it pays
    :param offload_min_bytes: encoded bodies from this size go to S3 (if a bucket is set)
    """

    compress_min_bytes: int = 1024
    offload_min_bytes: int = 64 * 1024


class PayloadCodec:
    """Encodes bodies into item attributes and back.

    :param app_id: the app whose objects these are (their S3 prefix)
    :param policy: thresholds
    :param blobs: the payload bucket, or ``None`` to keep every body in its item
    :param bucket_setting: the setting that names the bucket, for error messages
    :param object_prefix: where its objects go; the app's payload prefix by default
    """

    def __init__(
        self,
        app_id: str,
        policy: PayloadPolicy,
        blobs: S3BlobStore | None = None,
        bucket_setting: str = "dynamodb_s3_bucket",
        object_prefix: str | None = None,
    ) -> None:
        self.app_id = app_id
        self.policy = policy
        self.blobs = blobs
        self.bucket_setting = bucket_setting
        self.object_prefix = object_prefix or schema.payload_object_prefix(app_id)

    def with_objects_under(self, object_prefix: str, policy: PayloadPolicy) -> "PayloadCodec":
        """A codec on the same bucket whose objects live under ``object_prefix``."""
        return PayloadCodec(self.app_id, policy, self.blobs, self.bucket_setting, object_prefix)

    def encode(self, body: str, what: str, allow_offload: bool = True) -> Item:
        """The attributes that store ``body``; uploads it to S3 first when it is large.

        :raises ItemTooLargeError: if it cannot fit an item and no bucket is configured
        """
        raw = body.encode("utf-8")
        data, compressed = raw, False
        if len(raw) >= self.policy.compress_min_bytes:
            packed = zlib.compress(raw, 6)
            if len(packed) <= len(raw) * 0.9:
                data, compressed = packed, True
        if len(data) < self.policy.offload_min_bytes or not (self.blobs and allow_offload):
            limit = schema.MAX_ITEM_BYTES - ITEM_OVERHEAD_BYTES
            if len(data) > limit:
                hint = f"; set {self.bucket_setting} to store large payloads"
                hint = "" if self.blobs else hint
                raise ItemTooLargeError(f"{what}{hint}", len(data), limit)
            if compressed:
                return {schema.BODY: {"B": data}, schema.ENCODING: {"S": ZLIB}}
            return {schema.BODY: {"S": body}}
        digest = hashlib.sha256(data).hexdigest()
        key = schema.object_key(self.object_prefix, digest)
        self.blobs.put(key, data, digest)
        return {
            schema.OBJECT_KEY: {"S": key},
            schema.DIGEST: {"S": digest},
            schema.ENCODING: {"S": S3_ZLIB if compressed else S3},
        }

    def decode(self, item: Item) -> str:
        """The body an item stores, fetched and verified if it lives in S3.

        :raises PayloadError: if the object is missing or its digest does not match
        """
        encoding = item.get(schema.ENCODING, {}).get("S", PLAIN)
        if encoding == PLAIN:
            return str(item[schema.BODY]["S"])
        if encoding == ZLIB:
            return zlib.decompress(bytes(item[schema.BODY]["B"])).decode("utf-8")
        if encoding not in (S3, S3_ZLIB):
            raise PayloadError(f"unknown payload encoding {encoding!r}")
        if self.blobs is None:
            raise PayloadError(
                "this item's payload is in S3 but no dynamodb_s3_bucket is configured"
            )
        key = str(item[schema.OBJECT_KEY]["S"])
        # The pointer is data too: one naming another app's object is never followed.
        if not key.startswith(self.object_prefix):
            raise PayloadError(
                f"payload object {key} lies outside app {self.app_id!r}'s prefix "
                f"{self.object_prefix}; it was not read"
            )
        data = self.blobs.get(key)
        if hashlib.sha256(data).hexdigest() != item[schema.DIGEST]["S"]:
            raise PayloadError(f"payload object {key} does not match its digest")
        if encoding == S3_ZLIB:
            data = zlib.decompress(data)
        return data.decode("utf-8")

    def purge(self) -> int:
        """Delete every payload object of the app; 0 without a bucket."""
        if self.blobs is None:
            return 0
        return self.blobs.delete_prefix(self.object_prefix)

    def purge_page(self) -> int:
        """Delete one page (up to 1,000) of the app's payload objects; 0 when none is left."""
        if self.blobs is None:
            return 0
        return self.blobs.delete_page(self.object_prefix)
