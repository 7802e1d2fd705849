"""The settings of the DynamoDB backends as pynenc config classes, shared by both adapters.

pynenc 0.0.24 (``state_backend/``) and pynenc 0.1 (``plugin/``) each combine these with
their own ``ConfigStateBackend`` (and, in 0.1, ``ConfigClientDataStore``), so a setting has
one name, one default and one validation whichever pynenc runs.
"""

import re
from typing import TypeVar, overload

from cistell import ConfigField
from pynenc.conf.config_base import ConfigPynencBase

from pynenc_dynamodb.api.client import SETTINGS_HINT, ApiSettings
from pynenc_dynamodb.aws.dynamodb import DynamoDBClient
from pynenc_dynamodb.aws.s3 import S3BlobStore
from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.errors import ConfigurationError
from pynenc_dynamodb.table.payloads import PayloadCodec, PayloadPolicy
from pynenc_dynamodb.table.store import DynamoDBStateStore
from pynenc_dynamodb.table.store_core import StoreCore

S = TypeVar("S", bound=StoreCore)
TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")


class ConfigDynamoDB(ConfigPynencBase):
    """
    Settings of the DynamoDB table and its payload bucket: the state backends and the client
    data store of both pynenc adapters read them under the same names.

    Like every pynenc setting, each can be given in ``config_values``, in a config file
    (``[tool.pynenc]`` of pyproject.toml, yaml, json), or as an environment variable:
    ``PYNENC__DYNAMODB_TABLE_NAME``, or scoped to one config class, e.g.
    ``PYNENC__CONFIGSTATEBACKENDDYNAMODB__DYNAMODB_TABLE_NAME``.

    :cvar ConfigField[str] dynamodb_table_name:
        Name of the single state table. Several apps can share one table.
    :cvar ConfigField[str] dynamodb_region:
        AWS region of the table. Empty means boto3's own chain (``AWS_REGION``,
        ``AWS_DEFAULT_REGION``, the config file); a loopback endpoint defaults to us-east-1.
    :cvar ConfigField[str] dynamodb_endpoint_url:
        Endpoint to talk to. Empty means boto3's own chain, which honours
        ``AWS_ENDPOINT_URL_DYNAMODB`` and ``AWS_ENDPOINT_URL``. Set it to the URL that
        ``pynenc-dynamodb local`` prints to use the embedded local endpoint.
    :cvar ConfigField[bool] dynamodb_create_table:
        Create the table (and enable its time-to-live) on first use if it is missing.
        Off by default: production tables are deployed with ``template.yaml``.
    :cvar ConfigField[float] dynamodb_table_wait_seconds:
        Longest wait, in seconds, for a table that is still being created (by this process
        or another) to become ACTIVE before the first request. A table being updated
        serves requests and is not waited for.
    :cvar ConfigField[int] dynamodb_ttl_seconds:
        Lifetime of every item written, in seconds; 0 keeps items forever.
    :cvar ConfigField[int] dynamodb_page_size:
        Items fetched per Query page by the listings (history, runs, sub-invocations).
    :cvar ConfigField[int] dynamodb_max_attempts:
        Rounds per request, the first included, before an error is raised. In each round
        botocore makes up to 3 attempts, retrying throttling, 5xx and connection errors
        with backoff; when it gives up (its client-wide retry quota runs dry under
        sustained faults) the next round starts after a jittered backoff. Every request
        is safe to repeat. At most 3 x this many attempts in all.
    :cvar ConfigField[str] dynamodb_retry_mode:
        botocore retry mode: ``standard`` or ``adaptive`` (client-side rate limiting).
    :cvar ConfigField[float] dynamodb_connect_timeout:
        Seconds to wait for a connection to the endpoint.
    :cvar ConfigField[float] dynamodb_read_timeout:
        Seconds to wait for a response.
    :cvar ConfigField[str] dynamodb_s3_bucket:
        Bucket for payloads too large for an item (results, arguments, workflow data of
        any size). Empty keeps every payload in its item, up to DynamoDB's 400 KB.
    :cvar ConfigField[str] dynamodb_s3_endpoint_url:
        S3 endpoint. Empty means the DynamoDB endpoint when that is the local one, else
        boto3's own chain (``AWS_ENDPOINT_URL_S3``).
    :cvar ConfigField[int] dynamodb_compress_min_bytes:
        Payloads from this size are stored zlib-compressed when that saves a tenth or more.
    :cvar ConfigField[int] dynamodb_offload_min_bytes:
        Encoded payloads from this size go to the S3 bucket, when one is configured.
        Writes are billed per KB: a 64 KB item costs 64 write units, an S3 object one PUT.
    """

    dynamodb_table_name = ConfigField("pynenc-state")
    dynamodb_region = ConfigField("")
    dynamodb_endpoint_url = ConfigField("")
    dynamodb_create_table = ConfigField(False)
    dynamodb_table_wait_seconds = ConfigField(120.0)
    dynamodb_ttl_seconds = ConfigField(0)
    dynamodb_page_size = ConfigField(100)
    dynamodb_max_attempts = ConfigField(8)
    dynamodb_retry_mode = ConfigField("standard")
    dynamodb_connect_timeout = ConfigField(5.0)
    dynamodb_read_timeout = ConfigField(30.0)
    dynamodb_s3_bucket = ConfigField("")
    dynamodb_s3_endpoint_url = ConfigField("")
    dynamodb_compress_min_bytes = ConfigField(1024)
    dynamodb_offload_min_bytes = ConfigField(64 * 1024)

    def client_settings(self) -> ClientSettings:
        """The connection part of these settings, validated."""
        self.validate()
        return ClientSettings(
            region=self.dynamodb_region,
            endpoint_url=self.dynamodb_endpoint_url,
            max_attempts=self.dynamodb_max_attempts,
            retry_mode=self.dynamodb_retry_mode,
            connect_timeout=self.dynamodb_connect_timeout,
            read_timeout=self.dynamodb_read_timeout,
        )

    def validate(self) -> None:
        """Raise :class:`ConfigurationError` naming the first setting out of range."""
        checks = [
            (
                "dynamodb_table_name",
                TABLE_NAME.fullmatch(self.dynamodb_table_name),
                "must be 3 to 255 characters of a-z, A-Z, 0-9, '_', '-' and '.'",
            ),
            ("dynamodb_ttl_seconds", self.dynamodb_ttl_seconds >= 0, "must be >= 0"),
            (
                "dynamodb_table_wait_seconds",
                0 <= self.dynamodb_table_wait_seconds <= 3600,
                "must be between 0 and 3600",
            ),
            (
                "dynamodb_page_size",
                1 <= self.dynamodb_page_size <= 10_000,
                "must be between 1 and 10000",
            ),
            ("dynamodb_max_attempts", self.dynamodb_max_attempts >= 1, "must be >= 1"),
            ("dynamodb_compress_min_bytes", self.dynamodb_compress_min_bytes >= 0, "must be >= 0"),
            (
                "dynamodb_offload_min_bytes",
                0 < self.dynamodb_offload_min_bytes <= 380 * 1024,
                "must be between 1 and 389120 (items hold at most 400 KB)",
            ),
            (
                "dynamodb_retry_mode",
                self.dynamodb_retry_mode in ("standard", "adaptive"),
                "must be 'standard' or 'adaptive'",
            ),
        ]
        for name, ok, rule in checks:
            if not ok:
                raise ConfigurationError(
                    f"Setting {name}={getattr(self, name)!r} {rule} "
                    f"(PYNENC__{type(self).__name__.upper()}__{name.upper()})."
                )


class ConfigDynamoDBApi(ConfigPynencBase):
    """
    Settings of the state API client: ``DynamoDBApiStateBackend`` of both pynenc adapters
    (and the 0.1 API client data store) read them under the same names.

    Like every pynenc setting, each can be given in ``config_values``, in a config file, or
    as an environment variable: ``PYNENC__DYNAMODB_API_URL`` or
    ``PYNENC__CONFIGSTATEBACKENDDYNAMODBAPI__DYNAMODB_API_URL``.

    :cvar ConfigField[str] dynamodb_api_url:
        Base URL of the state API: the ``ApiUrl`` output of the deployed stack, or the URL
        that ``pynenc-dynamodb api`` prints for the local API server.
    :cvar ConfigField[str] dynamodb_api_region:
        Region the API is deployed in, used to sign requests. Empty means boto3's own chain
        (``AWS_REGION``, ``AWS_DEFAULT_REGION``); a loopback URL defaults to us-east-1.
    :cvar ConfigField[int] dynamodb_api_max_attempts:
        Attempts per request, the first included. 5xx answers and connection errors are
        retried with jittered exponential backoff, and so is 429 (API Gateway throttling);
        other 4xx answers are never retried.
    :cvar ConfigField[float] dynamodb_api_connect_timeout:
        Seconds to wait for a connection to the API.
    :cvar ConfigField[float] dynamodb_api_read_timeout:
        Seconds to wait for an answer (API Gateway itself gives up after 30 seconds).
    """

    dynamodb_api_url = ConfigField("")
    dynamodb_api_region = ConfigField("")
    dynamodb_api_max_attempts = ConfigField(5)
    dynamodb_api_connect_timeout = ConfigField(5.0)
    dynamodb_api_read_timeout = ConfigField(30.0)

    def api_settings(self) -> ApiSettings:
        """The connection settings, validated."""
        if self.dynamodb_api_max_attempts < 1:
            raise ConfigurationError(
                f"Setting dynamodb_api_max_attempts={self.dynamodb_api_max_attempts!r} must "
                f"be >= 1 ({SETTINGS_HINT}DYNAMODB_API_MAX_ATTEMPTS)."
            )
        return ApiSettings(
            url=self.dynamodb_api_url,
            region=self.dynamodb_api_region,
            max_attempts=self.dynamodb_api_max_attempts,
            connect_timeout=self.dynamodb_api_connect_timeout,
            read_timeout=self.dynamodb_api_read_timeout,
        )


@overload
def build_store(conf: ConfigDynamoDB, app_id: str) -> DynamoDBStateStore: ...


@overload
def build_store(conf: ConfigDynamoDB, app_id: str, store_cls: type[S]) -> S: ...


def build_store(
    conf: ConfigDynamoDB, app_id: str, store_cls: type[StoreCore] = DynamoDBStateStore
) -> StoreCore:
    """A store for ``app_id`` with the connection and table settings of ``conf``.

    :param store_cls: which store: the state's (default) or another over the same table
        and settings, e.g. the orchestrator's
    """
    settings = conf.client_settings()
    blobs = (
        S3BlobStore(settings, conf.dynamodb_s3_bucket, conf.dynamodb_s3_endpoint_url)
        if conf.dynamodb_s3_bucket
        else None
    )
    policy = PayloadPolicy(
        compress_min_bytes=conf.dynamodb_compress_min_bytes,
        offload_min_bytes=conf.dynamodb_offload_min_bytes,
    )
    return store_cls(
        client=DynamoDBClient(settings),
        table_name=conf.dynamodb_table_name,
        app_id=app_id,
        ttl_seconds=conf.dynamodb_ttl_seconds,
        page_size=conf.dynamodb_page_size,
        create_table=conf.dynamodb_create_table,
        codec=PayloadCodec(app_id, policy, blobs),
        table_wait_seconds=conf.dynamodb_table_wait_seconds,
    )
