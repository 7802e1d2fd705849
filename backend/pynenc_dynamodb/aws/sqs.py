"""The one choke point between the SQS broker and botocore.

Like :mod:`pynenc_dynamodb.aws.dynamodb` for DynamoDB: one boto3 client per process (built
on first use, again after a fork), botocore's retries and then our rounds
(:mod:`pynenc_dynamodb.aws.retry`), errors translated into the package's own, naming the
setting to change.

Every request the broker sends is safe to repeat, which is why each is retried:

- SendMessage / SendMessageBatch carry a deduplication id per routing, drawn once: a
  resend within SQS's 5-minute deduplication interval (our rounds last well under a
  minute) is accepted and dropped, so a send whose answer was lost is never doubled;
- ReceiveMessage carries a receive request attempt id: botocore's retry of a receive whose
  answer was lost gets the same messages back rather than leaving them hidden until their
  visibility timeout ends. Each of our rounds draws a fresh one, since SQS refuses an
  attempt id again after throttling;
- DeleteMessage(Batch) is idempotent, GetQueueAttributes and GetQueueUrl read, CreateQueue
  of an existing queue with the same attributes answers its URL.

PurgeQueue is never sent: SQS allows it once per 60 seconds per queue and deletes, for up
to 60 seconds after, messages sent in the meantime.
"""

import logging
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from pynenc_dynamodb.aws.dynamodb import BATCH_ROUNDS, RETRYABLE, _snake, request_error
from pynenc_dynamodb.aws.per_process import PerProcess
from pynenc_dynamodb.aws.retry import retry
from pynenc_dynamodb.aws.settings import ClientSettings, build_client
from pynenc_dynamodb.errors import ConfigurationError, DynamoDBRequestError, QueueNotFoundError
from pynenc_dynamodb.queue.names import SETTINGS_HINT
from pynenc_dynamodb.table.builders import Request

logger = logging.getLogger(__name__)

ENTRIES_FAILED = "BatchEntriesFailed"
RECEIVE_ATTEMPT_EXPIRED = "ReceiveRequestAttemptIdExpired"
NOT_FOUND = frozenset({"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"})
# A receipt handle whose message was received again by another receiver (its visibility
# timeout ended first): the delete did not happen.
STALE_RECEIPT = frozenset({"ReceiptHandleIsInvalid", "InvalidReceiptHandle"})
SQS_RETRYABLE = RETRYABLE | {
    "RequestThrottled",
    "AWS.SimpleQueueService.RequestThrottled",
    "KmsThrottled",
    "InternalError",
    "InternalFailure",
    RECEIVE_ATTEMPT_EXPIRED,
}


def is_retryable(exc: Exception) -> bool:
    return isinstance(exc, DynamoDBRequestError) and exc.code in SQS_RETRYABLE


def _entries_failed(exc: Exception) -> bool:
    return isinstance(exc, DynamoDBRequestError) and exc.code == ENTRIES_FAILED


class SQSClient:
    """Every SQS request of the broker goes through :meth:`call`.

    :param settings: connection settings shared with the DynamoDB client (region,
        credentials, retries, timeouts)
    :param endpoint_url: the ``sqs_endpoint_url`` setting; empty means the DynamoDB
        endpoint when that is the embedded local one, else boto3's chain
    :param factory: builds the boto3 client from the settings and endpoint; for tests
    """

    def __init__(
        self,
        settings: ClientSettings,
        endpoint_url: str = "",
        factory: Callable[[ClientSettings, str], Any] | None = None,
    ) -> None:
        self.settings = settings
        self.endpoint_url = settings.companion_endpoint(endpoint_url)
        self._factory = factory
        self._client: PerProcess[Any] = PerProcess(self._build)
        self.policy = settings.retry_policy()
        self.request_counts: Counter[str] = Counter()

    def __getstate__(self) -> dict[str, Any]:
        # Pickled into spawned workers: they build their own client.
        return {"settings": self.settings, "endpoint": self.endpoint_url, "factory": self._factory}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["settings"], state["endpoint"], state["factory"])  # type: ignore[misc]

    def _build(self) -> Any:
        if self._factory is not None:
            return self._factory(self.settings, self.endpoint_url)
        return build_client(
            "sqs",
            self.settings,
            self.endpoint_url,
            f"sqs_region or dynamodb_region ({SETTINGS_HINT}SQS_REGION)",
            credentials_hint=(
                f", or point sqs_endpoint_url ({SETTINGS_HINT}SQS_ENDPOINT_URL) at the "
                "local endpoint started by `pynenc-dynamodb local`"
            ),
        )

    @property
    def boto3_client(self) -> Any:
        """The boto3 client of this process, built on first use and again after a fork."""
        return self._client.get()

    def call(self, operation: str, request: Request) -> dict[str, Any]:
        """Send one request, retrying throttling, 5xx and connection errors in rounds.

        :param operation: the SQS operation, e.g. ``SendMessageBatch``
        :param request: its parameters, as built by :mod:`pynenc_dynamodb.queue.requests`
        :raises QueueNotFoundError: if the queue does not exist
        :raises DynamoDBRequestError: if the request still fails after every retry
        """
        return retry(
            lambda: self._send(operation, request),
            self.policy,
            is_retryable,
            f"SQS {operation}",
        )

    def _send(self, operation: str, request: Request) -> dict[str, Any]:
        method = getattr(self.boto3_client, _snake(operation))
        self.request_counts[operation] += 1
        try:
            return dict(method(**request))
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            message = str(error.get("Message", exc))
            if code in NOT_FOUND:
                raise QueueNotFoundError(
                    f"SQS {operation}: the broker's queue does not exist ({message}). Deploy "
                    f"it (template.yaml, output QueueUrl) and set sqs_queue_url "
                    f"({SETTINGS_HINT}SQS_QUEUE_URL), or set sqs_create_queue=true to let the "
                    "broker create the app's queue."
                ) from exc
            if code == "InvalidParameterValue" and "ReceiveRequestAttemptId" in message:
                raise DynamoDBRequestError(
                    f"SQS {operation}", RECEIVE_ATTEMPT_EXPIRED, message
                ) from exc
            raise request_error(f"SQS {operation}", exc) from exc
        except NoCredentialsError as exc:
            raise ConfigurationError(f"SQS {operation}: {exc}") from exc
        except (BotoCoreError, ConnectionError) as exc:
            raise request_error(f"SQS {operation}", exc) from exc

    def receive(self, request: Request) -> list[dict[str, Any]]:
        """The messages of one ReceiveMessage (a fresh receive attempt id each round)."""

        def send() -> dict[str, Any]:
            attempt = {**request, "ReceiveRequestAttemptId": uuid.uuid4().hex}
            return self._send("ReceiveMessage", attempt)

        response = retry(send, self.policy, is_retryable, "SQS ReceiveMessage")
        return list(response.get("Messages") or [])

    def delete(self, request: Request) -> bool:
        """One DeleteMessage; ``False`` if the receipt handle was stale (the message's
        visibility timeout had ended, so it may have gone to another receiver)."""
        try:
            self.call("DeleteMessage", request)
        except DynamoDBRequestError as exc:
            if exc.code not in STALE_RECEIPT:
                raise
            logger.warning("SQS DeleteMessage: stale receipt handle (%s)", exc)
            return False
        return True

    def send_batch(self, request: Request) -> None:
        """One SendMessageBatch, resending the entries SQS failed with backoff.

        An entry failed through the sender's fault (a malformed request) is not resent.
        The resent entries land after those that went through.

        :raises DynamoDBRequestError: for a sender fault, or entries still failing after
            :data:`~pynenc_dynamodb.aws.dynamodb.BATCH_ROUNDS` rounds
        """
        self._batch("SendMessageBatch", request)

    def delete_batch(self, request: Request) -> None:
        """One DeleteMessageBatch; stale receipt handles are skipped (their messages come
        back), other failed entries resent like :meth:`send_batch`'s."""
        self._batch("DeleteMessageBatch", request, skip=STALE_RECEIPT)

    def _batch(self, operation: str, request: Request, skip: frozenset[str] = frozenset()) -> None:
        pending: list[dict[str, Any]] = list(request["Entries"])

        def send_pending() -> None:
            nonlocal pending
            response = self.call(operation, {**request, "Entries": pending})
            failed = [f for f in response.get("Failed") or [] if f.get("Code") not in skip]
            pending, error = failed_entries(operation, pending, failed)
            if error is not None:
                raise error

        retry(send_pending, BATCH_ROUNDS, _entries_failed, f"SQS {operation}")


def failed_entries(
    operation: str, sent: Sequence[dict[str, Any]], failed: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], DynamoDBRequestError | None]:
    """The entries to resend, and the error to raise if there are any.

    :param operation: what was sent, for the error
    :param sent: the entries of the request
    :param failed: the ``Failed`` list of its answer
    :return: the entries that failed on SQS's side, and an error with code
        :data:`ENTRIES_FAILED` (worth another round) when there are some
    :raises DynamoDBRequestError: with the entry's own code when an entry failed through
        the sender's fault (a request that would fail again: never resent)
    """
    if not failed:
        return [], None
    sender = [f for f in failed if f.get("SenderFault")]
    if sender:
        first = sender[0]
        raise DynamoDBRequestError(
            f"SQS {operation}",
            str(first.get("Code", "SenderFault")),
            f"{len(sender)} of {len(sent)} entries refused, e.g. entry {first.get('Id')}: "
            f"{first.get('Message')}",
        )
    by_id = {entry["Id"]: entry for entry in sent}
    resend = [by_id[f["Id"]] for f in failed]
    first = failed[0]
    return resend, DynamoDBRequestError(
        f"SQS {operation}",
        ENTRIES_FAILED,
        f"{len(resend)} of {len(sent)} entries failing, e.g. entry {first.get('Id')}: "
        f"{first.get('Code')} {first.get('Message')}",
    )
