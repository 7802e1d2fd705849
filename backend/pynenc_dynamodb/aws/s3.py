"""The S3 side: large payloads live in objects, their items hold a pointer and a digest.

Like :mod:`pynenc_dynamodb.aws.dynamodb` for DynamoDB, this is the one place that talks to S3:
one client per process, botocore's retries, errors translated into our own.
"""

import base64
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from pynenc_dynamodb.aws.dynamodb import SETTINGS_HINT, is_retryable, request_error
from pynenc_dynamodb.aws.per_process import PerProcess
from pynenc_dynamodb.aws.retry import retry
from pynenc_dynamodb.aws.settings import ClientSettings, build_client
from pynenc_dynamodb.errors import ConfigurationError, DynamoDBRequestError, PayloadError

DELETE_OBJECTS_LIMIT = 1000


class S3BlobStore:
    """Objects of one bucket.

    :param settings: connection settings shared with the DynamoDB client
    :param bucket: the payload bucket
    :param endpoint_url: S3 endpoint; empty means the DynamoDB endpoint when that is
        loopback (the embedded endpoint serves both), else boto3's chain
    """

    def __init__(self, settings: ClientSettings, bucket: str, endpoint_url: str = "") -> None:
        self.settings = settings
        self.bucket = bucket
        self.endpoint_url = settings.companion_endpoint(endpoint_url)
        self._client: PerProcess[Any] = PerProcess(self._build)
        self.policy = settings.retry_policy()

    def __getstate__(self) -> dict[str, Any]:
        return {"settings": self.settings, "bucket": self.bucket, "endpoint": self.endpoint_url}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["settings"], state["bucket"], state["endpoint"])  # type: ignore[misc]

    @property
    def client(self) -> Any:
        return self._client.get()

    def _build(self) -> Any:
        return build_client(
            "s3",
            self.settings,
            self.endpoint_url,
            f"dynamodb_region ({SETTINGS_HINT}DYNAMODB_REGION)",
        )

    def _call(self, operation: str, **request: Any) -> dict[str, Any]:
        """One S3 request through the same retry policy as DynamoDB's: every one we send
        is safe to repeat (objects are addressed by their content)."""
        return retry(
            lambda: self._send(operation, request),
            self.policy,
            is_retryable,
            f"S3 {operation}",
        )

    def _send(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        try:
            return dict(getattr(self.client, operation)(Bucket=self.bucket, **request))
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "Unknown"))
            if code == "NoSuchBucket":
                raise ConfigurationError(
                    f"S3 bucket {self.bucket!r} for large payloads does not exist: deploy it "
                    "(template.yaml) or fix the dynamodb_s3_bucket setting."
                ) from exc
            if code in ("NoSuchKey", "404"):
                raise PayloadError(
                    f"payload object s3://{self.bucket}/{request.get('Key')} is missing"
                ) from exc
            raise request_error(f"S3 {operation}", exc) from exc
        except (BotoCoreError, ConnectionError) as exc:
            raise request_error(f"S3 {operation}", exc) from exc

    def put(self, key: str, data: bytes, sha256_hex: str) -> None:
        """Upload ``data``; S3 checks it against the digest we computed."""
        checksum = base64.b64encode(bytes.fromhex(sha256_hex)).decode()
        self._call("put_object", Key=key, Body=data, ChecksumSHA256=checksum)

    def get(self, key: str) -> bytes:
        body = self._call("get_object", Key=key)["Body"]
        data: bytes = body.read()
        return data

    def delete_page(self, prefix: str) -> int:
        """Delete the first page (up to 1,000) of objects under ``prefix``; return how many."""
        page = self._call("list_objects_v2", Prefix=prefix, MaxKeys=DELETE_OBJECTS_LIMIT)
        keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
        if keys:
            self._delete(keys)
        return len(keys)

    def _delete(self, keys: list[dict[str, str]]) -> None:
        answer = self._call("delete_objects", Delete={"Objects": keys, "Quiet": True})
        # S3 answers 200 even when some keys failed: they are listed in Errors.
        if failed := answer.get("Errors"):
            first = failed[0]
            raise DynamoDBRequestError(
                "S3 DeleteObjects",
                str(first.get("Code", "PartialFailure")),
                f"{len(failed)} of {len(keys)} objects not deleted, "
                f"e.g. {first.get('Key')}: {first.get('Message')}",
            )

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under ``prefix``, 1000 per request; return how many."""
        deleted = 0
        token: str | None = None
        while True:
            page = self._call(
                "list_objects_v2",
                Prefix=prefix,
                **({"ContinuationToken": token} if token else {}),
            )
            keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
            for start in range(0, len(keys), DELETE_OBJECTS_LIMIT):
                chunk = keys[start : start + DELETE_OBJECTS_LIMIT]
                self._delete(chunk)
                deleted += len(chunk)
            token = page.get("NextContinuationToken")
            if not token:
                return deleted
