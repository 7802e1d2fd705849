"""The one choke point between pynenc-dynamodb and botocore.

Owns the boto3 client (one per process: clients must not cross a fork), retries,
pagination, batching and the translation of botocore errors into our own.
"""

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from pynenc_dynamodb.aws.per_process import PerProcess, kept
from pynenc_dynamodb.aws.retry import RetryPolicy, retry
from pynenc_dynamodb.aws.settings import ClientSettings, build_client
from pynenc_dynamodb.errors import (
    ConditionFailedError,
    ConfigurationError,
    DynamoDBRequestError,
    TableNotFoundError,
)
from pynenc_dynamodb.table.builders import Item, Request

logger = logging.getLogger(__name__)

SETTINGS_HINT = "PYNENC__CONFIGSTATEBACKENDDYNAMODB__"
SERVER_ERROR = "ServerError"
CONNECTION_ERROR = "ConnectionError"
UNPROCESSED_ITEMS = "UnprocessedItems"
UNPROCESSED_KEYS = "UnprocessedKeys"
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
# Rounds of resending a batch's unprocessed items, each after a backoff.
BATCH_ROUNDS = RetryPolicy(attempts=10, max_delay=2.0)


def is_retryable(exc: Exception) -> bool:
    """Whether a failed request may succeed if sent again."""
    return isinstance(exc, DynamoDBRequestError) and exc.code in RETRYABLE


def _is_unprocessed(exc: Exception) -> bool:
    # The batch was answered; a failed request was already retried by call() itself.
    unprocessed = (UNPROCESSED_ITEMS, UNPROCESSED_KEYS)
    return isinstance(exc, DynamoDBRequestError) and exc.code in unprocessed


def build_boto3_client(settings: ClientSettings) -> Any:
    """A DynamoDB client, or a :class:`ConfigurationError` that says which setting to fix."""
    return build_client(
        "dynamodb",
        settings,
        settings.endpoint_url,
        f"dynamodb_region ({SETTINGS_HINT}DYNAMODB_REGION)",
        credentials_hint=(
            f", or point dynamodb_endpoint_url ({SETTINGS_HINT}DYNAMODB_ENDPOINT_URL) "
            "at the local endpoint started by `pynenc-dynamodb local`"
        ),
    )


def warmed_client_key(settings: ClientSettings) -> tuple[str, ClientSettings]:
    """Key of the boto3 client a worker's warm-up builds ahead of time for ``settings``."""
    return ("boto3-dynamodb", settings)


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
        self._client: PerProcess[Any] = PerProcess(self._build)
        self.policy = settings.retry_policy()
        self.batch_policy = BATCH_ROUNDS
        self.request_counts: Counter[str] = Counter()
        self.retries: Counter[str] = Counter()

    def _build(self) -> Any:
        # In a worker the warm-up built the client ahead of time; every backend of the
        # worker with these settings shares it (botocore clients are thread-safe).
        if self._factory is build_boto3_client:
            warmed = kept(warmed_client_key(self.settings))
            if warmed is not None:
                return warmed
        return self._factory(self.settings)

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
        :param request: its parameters, as built by :mod:`pynenc_dynamodb.table.builders`
        :raises TableNotFoundError: if the table does not exist
        :raises DynamoDBRequestError: if the request still fails after every retry
        """
        return retry(
            lambda: self._send(operation, request),
            self.policy,
            is_retryable,
            f"DynamoDB {operation}",
            on_retry=self._count_retry,
        )

    def _count_retry(self, exc: Exception) -> None:
        if isinstance(exc, DynamoDBRequestError):
            self.retries[exc.code] += 1

    def _send(self, operation: str, request: Request) -> dict[str, Any]:
        method = getattr(self.boto3_client, _snake(operation))
        self.request_counts[operation] += 1
        try:
            return dict(method(**request))
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") == "ResourceNotFoundException":
                raise TableNotFoundError(
                    f"DynamoDB {operation}: {error.get('Message', exc)}. Create the table "
                    f"(SAM template, or set dynamodb_create_table / {SETTINGS_HINT}"
                    "DYNAMODB_CREATE_TABLE=true) or fix dynamodb_table_name."
                ) from exc
            if error.get("Code") == ConditionFailedError.CODE:
                old = exc.response.get("Item")
                raise ConditionFailedError(operation, dict(old) if old else None) from exc
            raise request_error(operation, exc) from exc
        except NoCredentialsError as exc:
            raise ConfigurationError(f"DynamoDB {operation}: {exc}") from exc
        except (BotoCoreError, ConnectionError) as exc:
            raise request_error(operation, exc) from exc

    def get(self, request: Request) -> Item | None:
        item = self.call("GetItem", request).get("Item")
        return dict(item) if item else None

    def put(self, request: Request) -> None:
        self.call("PutItem", request)

    def update(self, request: Request) -> Item:
        """One UpdateItem: the attributes its ``ReturnValues`` asked for (``{}`` if none).

        :raises ConditionFailedError: if its condition did not hold
        """
        return dict(self.call("UpdateItem", request).get("Attributes") or {})

    def delete(self, request: Request) -> Item:
        """One DeleteItem: the deleted item if ``ReturnValues`` asked for it, else ``{}``."""
        return dict(self.call("DeleteItem", request).get("Attributes") or {})

    def count(self, request: Request) -> int:
        """How many items a ``Select=COUNT`` Query matches, page by page (DynamoDB counts
        at most 1 MB of items per request)."""
        page, total = dict(request), 0
        while True:
            response = self.call("Query", page)
            total += int(response.get("Count", 0))
            last_key = response.get("LastEvaluatedKey")
            if not last_key:
                return total
            page["ExclusiveStartKey"] = last_key

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

    def batch_write(self, request: Request) -> None:
        """One BatchWriteItem, resending ``UnprocessedItems`` with jittered backoff.

        :raises DynamoDBRequestError: if items are still unprocessed after
            :data:`BATCH_ROUNDS` rounds
        """
        pending: dict[str, Any] = request["RequestItems"]

        def send_pending() -> None:
            nonlocal pending
            response = self.call("BatchWriteItem", {"RequestItems": pending})
            pending = response.get("UnprocessedItems") or {}
            if pending:
                count = sum(len(writes) for writes in pending.values())
                raise DynamoDBRequestError(
                    "BatchWriteItem", UNPROCESSED_ITEMS, f"{count} writes still unprocessed"
                )

        retry(send_pending, self.batch_policy, _is_unprocessed, "DynamoDB BatchWriteItem")

    def batch_get(self, request: Request) -> list[Item]:
        """One BatchGetItem: the items found (in no particular order), re-requesting
        ``UnprocessedKeys`` with jittered backoff.

        :raises DynamoDBRequestError: if keys are still unprocessed after
            :data:`BATCH_ROUNDS` rounds
        """
        pending: dict[str, Any] = request["RequestItems"]
        found: list[Item] = []

        def send_pending() -> None:
            nonlocal pending
            response = self.call("BatchGetItem", {"RequestItems": pending})
            for items in (response.get("Responses") or {}).values():
                found.extend(dict(item) for item in items)
            pending = response.get("UnprocessedKeys") or {}
            if pending:
                count = sum(len(reads["Keys"]) for reads in pending.values())
                raise DynamoDBRequestError(
                    "BatchGetItem", UNPROCESSED_KEYS, f"{count} keys still unprocessed"
                )

        retry(send_pending, self.batch_policy, _is_unprocessed, "DynamoDB BatchGetItem")
        return found


def request_error(operation: str, exc: Exception) -> DynamoDBRequestError:
    """A botocore failure as our error, its code telling whether it is worth a retry.

    :param operation: what was sent, e.g. ``PutItem`` or ``S3 get_object``
    :param exc: a ``ClientError``, a connection error or another ``BotoCoreError``
    """
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if int(status or 0) >= 500:
            code = code if code in RETRYABLE else SERVER_ERROR
        return DynamoDBRequestError(operation, code, str(error.get("Message", exc)))
    # Refused, reset, timed out: botocore's ConnectionError is not the builtin one.
    if isinstance(exc, HTTPClientError | BotoConnectionError | ConnectionError):
        return DynamoDBRequestError(operation, CONNECTION_ERROR, str(exc))
    return DynamoDBRequestError(operation, type(exc).__name__, str(exc))


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


# -- pages for the state API: one page and the key to resume from, behind its cursor ---
# The state API hands listings out one page at a time behind an opaque cursor, so it needs
# the key to resume from rather than a lazy iterator over every page.


def query_page(
    client: DynamoDBClient, request: Request, start_key: Item | None = None
) -> tuple[list[Item], Item | None]:
    """One page of a Query: its items and the key to resume from (``None`` when done).

    :param client: the choke point the request goes through
    :param request: the Query, as built by :mod:`pynenc_dynamodb.table.builders`
    :param start_key: ``LastEvaluatedKey`` of the previous page, ``None`` for the first
    """
    page = dict(request)
    if start_key:
        page["ExclusiveStartKey"] = start_key
    response = client.call("Query", page)
    last_key = response.get("LastEvaluatedKey")
    return list(response.get("Items", [])), dict(last_key) if last_key else None
