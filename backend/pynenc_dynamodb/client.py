"""The one choke point between pynenc-dynamodb and botocore.

Owns the boto3 client (one per process: clients must not cross a fork), retries,
pagination, batching and the translation of botocore errors into our own.
"""

import logging
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from pynenc_dynamodb.builders import Item, Request
from pynenc_dynamodb.errors import (
    ConfigurationError,
    DynamoDBRequestError,
    TableNotFoundError,
)
from pynenc_dynamodb.per_process import PerProcess

logger = logging.getLogger(__name__)

LOCAL_REGION = "us-east-1"
# moto accepts any credentials; these are only used against loopback endpoints.
LOCAL_CREDENTIALS = ("pynenc-local", "pynenc-local")
SETTINGS_HINT = "PYNENC__CONFIGSTATEBACKENDDYNAMODB__"
SERVER_ERROR = "ServerError"
CONNECTION_ERROR = "ConnectionError"
# Failures worth another round once botocore has given up: the request may succeed later.
RETRYABLE = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        SERVER_ERROR,
        CONNECTION_ERROR,
    }
)
MAX_BACKOFF_SECONDS = 5.0
# botocore's attempts within one round: the standard mode's default.
BOTOCORE_ATTEMPTS = 3


@dataclass(frozen=True)
class ClientSettings:
    """How to reach DynamoDB.

    :param region: AWS region; empty means boto3's chain (``AWS_REGION``, config file)
    :param endpoint_url: endpoint; empty means boto3's chain (``AWS_ENDPOINT_URL...``)
    :param max_attempts: rounds per request, the first included; each round is botocore's
        own retrying send of up to :data:`BOTOCORE_ATTEMPTS` attempts
    :param retry_mode: botocore retry mode, ``standard`` or ``adaptive``
    :param connect_timeout: seconds to wait for a connection
    :param read_timeout: seconds to wait for a response
    """

    region: str = ""
    endpoint_url: str = ""
    max_attempts: int = 8
    retry_mode: str = "standard"
    connect_timeout: float = 5.0
    read_timeout: float = 30.0

    def effective_endpoint(self) -> str:
        return (
            self.endpoint_url
            or os.environ.get("AWS_ENDPOINT_URL_DYNAMODB", "")
            or os.environ.get("AWS_ENDPOINT_URL", "")
        )


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (the embedded local endpoint)."""
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def build_boto3_client(settings: ClientSettings) -> Any:
    """A DynamoDB client, or a :class:`ConfigurationError` that says which setting to fix."""
    endpoint = settings.effective_endpoint()
    local = bool(endpoint) and is_loopback(endpoint)
    session = boto3.session.Session()
    region = settings.region or session.region_name or (LOCAL_REGION if local else None)
    if not region:
        raise ConfigurationError(
            "No AWS region for DynamoDB: set the dynamodb_region setting "
            f"({SETTINGS_HINT}DYNAMODB_REGION) or AWS_REGION / AWS_DEFAULT_REGION."
        )
    key_id: str | None = None
    secret: str | None = None
    if local and not os.environ.get("AWS_ACCESS_KEY_ID"):
        key_id, secret = LOCAL_CREDENTIALS
    elif not local and session.get_credentials() is None:
        raise ConfigurationError(
            "No AWS credentials found for DynamoDB: configure the standard chain "
            "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance or task "
            f"role), or point dynamodb_endpoint_url ({SETTINGS_HINT}DYNAMODB_ENDPOINT_URL) "
            "at the local endpoint started by `pynenc-dynamodb local`."
        )
    config = Config(
        retries={
            "mode": "adaptive" if settings.retry_mode == "adaptive" else "standard",
            "max_attempts": BOTOCORE_ATTEMPTS,
        },
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        tcp_keepalive=True,
    )
    try:
        return session.client(
            "dynamodb",
            region_name=region,
            endpoint_url=settings.endpoint_url or None,
            config=config,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
        )
    except (NoRegionError, ValueError) as exc:
        raise ConfigurationError(f"Cannot build the DynamoDB client: {exc}") from exc


class DynamoDBClient:
    """Every DynamoDB request of pynenc-dynamodb goes through :meth:`call`.

    :param settings: how to reach DynamoDB
    :param factory: builds the boto3 client; injectable for tests
    """

    def __init__(
        self,
        settings: ClientSettings,
        factory: Callable[[ClientSettings], Any] = build_boto3_client,
    ) -> None:
        self.settings = settings
        self._factory = factory
        self._client: PerProcess[Any] = PerProcess(lambda: factory(settings))
        self.request_counts: Counter[str] = Counter()
        self.retries: Counter[str] = Counter()

    @property
    def boto3_client(self) -> Any:
        """The boto3 client of this process, built on first use and again after a fork."""
        return self._client.get()

    def __getstate__(self) -> dict[str, Any]:
        # Pickled into spawned workers: they build their own client and lock.
        return {"settings": self.settings, "factory": self._factory}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["settings"], state["factory"])  # type: ignore[misc]

    def call(self, operation: str, request: Request) -> dict[str, Any]:
        """Send one request, retrying throttling, 5xx and connection errors.

        botocore retries first; its retry quota stops retrying when many requests fail
        (a client-wide circuit breaker). Every request we send is safe to repeat (puts of
        whole items under deterministic keys, reads, deletes), so this loop goes on, with
        jittered exponential backoff, for up to ``max_attempts`` rounds.

        :param operation: the DynamoDB operation, e.g. ``PutItem``
        :param request: its parameters, as built by :mod:`pynenc_dynamodb.builders`
        :raises TableNotFoundError: if the table does not exist
        :raises DynamoDBRequestError: if the request still fails after every retry
        """
        for attempt in range(1, self.settings.max_attempts + 1):
            try:
                return self._send(operation, request)
            except DynamoDBRequestError as exc:
                if exc.code not in RETRYABLE or attempt == self.settings.max_attempts:
                    raise
                self.retries[exc.code] += 1
                logger.warning(
                    "DynamoDB %s failed (%s), round %d of %d: retrying",
                    operation,
                    exc.code,
                    attempt,
                    self.settings.max_attempts,
                )
                time.sleep(random.uniform(0, min(MAX_BACKOFF_SECONDS, 0.05 * 2**attempt)))
        raise AssertionError("unreachable: the last round raises")  # pragma: no cover

    def _send(self, operation: str, request: Request) -> dict[str, Any]:
        method = getattr(self.boto3_client, _snake(operation))
        self.request_counts[operation] += 1
        try:
            return dict(method(**request))
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "Unknown"))
            message = str(error.get("Message", exc))
            if code == "ResourceNotFoundException":
                raise TableNotFoundError(
                    f"DynamoDB {operation}: {message}. Create the table (SAM template, or "
                    f"set dynamodb_create_table / {SETTINGS_HINT}DYNAMODB_CREATE_TABLE=true) "
                    "or fix dynamodb_table_name."
                ) from exc
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if int(status or 0) >= 500:
                code = code if code in RETRYABLE else SERVER_ERROR
            raise DynamoDBRequestError(operation, code, message) from exc
        except NoCredentialsError as exc:
            raise ConfigurationError(f"DynamoDB {operation}: {exc}") from exc
        # Refused, reset, timed out: botocore's ConnectionError is not the builtin one.
        except (HTTPClientError, BotoConnectionError, ConnectionError) as exc:
            raise DynamoDBRequestError(operation, CONNECTION_ERROR, str(exc)) from exc
        except BotoCoreError as exc:
            raise DynamoDBRequestError(operation, type(exc).__name__, str(exc)) from exc

    def get(self, request: Request) -> Item | None:
        item = self.call("GetItem", request).get("Item")
        return dict(item) if item else None

    def put(self, request: Request) -> None:
        self.call("PutItem", request)

    def query(self, request: Request) -> Iterator[Item]:
        """Items of a Query, fetching the next page only when the caller needs it."""
        page = dict(request)
        while True:
            response = self.call("Query", page)
            yield from response.get("Items", [])
            last_key = response.get("LastEvaluatedKey")
            if not last_key:
                return
            page["ExclusiveStartKey"] = last_key

    def batch_write(self, request: Request, max_rounds: int = 10) -> None:
        """One BatchWriteItem, resending ``UnprocessedItems`` with jittered backoff.

        :raises DynamoDBRequestError: if items are still unprocessed after ``max_rounds``
        """
        pending = request["RequestItems"]
        for attempt in range(max_rounds):
            response = self.call("BatchWriteItem", {"RequestItems": pending})
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                return
            count = sum(len(writes) for writes in pending.values())
            logger.warning("Resending %d unprocessed batch writes", count)
            time.sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))
        count = sum(len(writes) for writes in pending.values())
        raise DynamoDBRequestError(
            "BatchWriteItem",
            "UnprocessedItems",
            f"{count} writes still unprocessed after {max_rounds} attempts",
        )


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


# -- pages for the state API (additive) ---------------------------------------------------
# The state API hands listings out one page at a time behind an opaque cursor, so it needs
# the key to resume from rather than a lazy iterator over every page.


def query_page(
    client: DynamoDBClient, request: Request, start_key: Item | None = None
) -> tuple[list[Item], Item | None]:
    """One page of a Query: its items and the key to resume from (``None`` when done).

    :param client: the choke point the request goes through
    :param request: the Query, as built by :mod:`pynenc_dynamodb.builders`
    :param start_key: ``LastEvaluatedKey`` of the previous page, ``None`` for the first
    """
    page = dict(request)
    if start_key:
        page["ExclusiveStartKey"] = start_key
    response = client.call("Query", page)
    last_key = response.get("LastEvaluatedKey")
    return list(response.get("Items", [])), dict(last_key) if last_key else None
