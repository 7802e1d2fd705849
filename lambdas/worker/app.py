"""The pynenc worker function: runs the invocations the app's SQS queue delivers.

An SQS event source mapping (``ReportBatchItemFailures``) calls :func:`handler` with
batches of up to 10 messages, each the id of one routed invocation (the body the
``SQSBroker`` sends). Each record is run by :class:`~pynenc_dynamodb.LambdaRunner` under
pynenc's status rules; Powertools' batch utility answers with the records that failed, so
SQS delivers only those again (and moves a message received ``maxReceiveCount`` times to
the dead-letter queue):

- acknowledged: a run to its end, whatever the task did (SUCCESS, FAILED, or RETRY and
  rerouted: pynenc stored it); a duplicate of a final invocation; one pending or running
  elsewhere, or claimed first by another runner; one held back by concurrency control;
- reported as failed: a malformed body, an id the app does not know, an error of the stack
  (DynamoDB, S3, SQS) before the invocation was claimed or that left it unsettled, and a
  record not started because less than ``lambda_min_remaining_seconds`` remained.

A scheduled event (EventBridge, ``detail-type: Scheduled Event``) runs pynenc's atomic
services instead: triggers and the recovery of pending invocations and of dead runners'
(a function that timed out is one).

Environment: ``PYNENC_APP`` (required: ``module.path:app``, the app with its tasks, which
the function package or a layer must hold), pynenc's own ``PYNENC__*`` settings
(``PYNENC__SQS_QUEUE_URL``, ``PYNENC__DYNAMODB_TABLE_NAME``...) and ``POWERTOOLS_*``.
The app and the clients are built once per execution environment, at import.
"""

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from pynenc_dynamodb.plugin.runner import LambdaRunner, Outcome
from pynenc_dynamodb.plugin.runner.loading import APP_VARIABLE, load_app
from pynenc_dynamodb.queue.requests import check_body

logger = Logger()
# Not the FIFO processor, which fails every record after a failed one: pynenc does not
# need order between invocations, and failing innocent records would only spend their
# receive counts. A batch whose every record failed is answered the same way, as a list.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

APP = load_app(os.environ.get(APP_VARIABLE, ""))
RUNNER = LambdaRunner(APP)
MIN_REMAINING_MS = RUNNER.conf.min_remaining_seconds() * 1000
# An id is a few dozen characters; anything far longer is not a routing of ours.
MAX_BODY_CHARS = 1024


class NotStartedError(Exception):
    """Too little of the function's time remained to start this record."""


def invocation_id_of(body: str | None) -> str:
    """The invocation id a message carries.

    :raises ValueError: for a body that is not an invocation id
    """
    text = (body or "").strip()
    if not text or len(text) > MAX_BODY_CHARS or any(c in text for c in "{}[]\"'\n"):
        raise ValueError(f"message body is not an invocation id ({len(body or '')} chars)")
    return check_body(text)


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> str:
    """Run one record; raising reports it in ``batchItemFailures``."""
    fields: dict[str, Any] = {
        "message_id": record.message_id,
        "receive_count": record.attributes.approximate_receive_count,
    }
    if lambda_context.get_remaining_time_in_millis() < MIN_REMAINING_MS:
        logger.warning("record not started: the function's time is running out", extra=fields)
        raise NotStartedError("too little time remained to start it")
    try:
        invocation_id = invocation_id_of(record.body)
        fields["invocation_id"] = invocation_id
        outcome = RUNNER.run_delivered(invocation_id)
    except Exception as exc:
        # The error's type and message, never the message body or the task's arguments.
        logger.exception("record failed", extra={**fields, "error": type(exc).__name__})
        raise
    if outcome != Outcome.RAN:
        logger.info("record acknowledged without a run", extra={**fields, "outcome": outcome})
    return outcome.value


def is_scheduled(event: dict[str, Any]) -> bool:
    return event.get("detail-type") == "Scheduled Event" and "Records" not in event


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_scheduled(event):
        RUNNER.run_scheduled_services()
        return {"scheduled": True}
    records = event.get("Records")
    if not isinstance(records, list):
        raise TypeError("expected an SQS event (Records) or a scheduled event")
    with RUNNER.batch() as runner_context:
        logger.append_keys(runner_id=runner_context.runner_id)
        return dict(
            process_partial_response(
                event=event, record_handler=record_handler, processor=processor, context=context
            )
        )
