"""``SQSBroker`` for pynenc 0.1: invocations routed through an Amazon SQS FIFO queue."""

import json
import logging
from functools import cached_property
from typing import TYPE_CHECKING

from pynenc.broker.base_broker import BaseBroker
from pynenc.identifiers.invocation_id import InvocationId

from pynenc_dynamodb.aws.per_process import PerProcess
from pynenc_dynamodb.aws.sqs import SQSClient
from pynenc_dynamodb.errors import DynamoDBRequestError
from pynenc_dynamodb.plugin.conf.config_broker import ConfigBrokerSQS, QueueSettings
from pynenc_dynamodb.queue import names, requests

if TYPE_CHECKING:
    from pynenc.app import Pynenc

logger = logging.getLogger(__name__)

QUEUE_EXISTS = frozenset({"QueueNameExists", "QueueAlreadyExists"})


class SQSBroker(BaseBroker):
    """
    pynenc broker on an Amazon SQS FIFO queue, one queue per app.

    Select it with ``broker_cls="SQSBroker"`` and the settings of
    :class:`~pynenc_dynamodb.ConfigBrokerSQS`.

    - Routing sends one message per routing (body: the invocation id) with a
      deduplication id of its own: an id routed twice is delivered twice, and a retried
      send is never doubled. ``route_invocations`` of N ids is ceil(N / 10)
      SendMessageBatch requests; entries SQS failed are resent.
    - Retrieval receives one message (long polling) and deletes it before handing its id
      out: 2 requests. A process that dies between the two loses nothing: the message
      comes back after ``sqs_visibility_timeout_seconds``. A delete that comes too late
      (the message already visible again) still hands the id out, so the id may reach a
      second runner: pynenc's status checks let only one of them run it.
    - Counting reads the queue's approximate counts (GetQueueAttributes); purging
      receives and deletes in batches of 10 until the queue answers empty, never
      PurgeQueue.

    :param Pynenc app: the pynenc app whose invocations this broker routes
    """

    def __init__(self, app: "Pynenc") -> None:
        super().__init__(app)
        # The URL is looked up (or the queue created) once per process, on first use.
        self._queue_url: PerProcess[str] = PerProcess(self._resolve_queue_url)
        # Whether this process's last receive found the queue empty (after its long poll):
        # the DynamoDB orchestrator then looks for blocking invocations less often.
        self.queue_seen_empty = False

    @cached_property
    def conf(self) -> ConfigBrokerSQS:
        return ConfigBrokerSQS(
            config_values=self.app.config_values,
            config_filepath=self.app.config_filepath,
        )

    @cached_property
    def queue(self) -> QueueSettings:
        """This app's queue settings, validated."""
        return self.conf.queue_settings(self.app.app_id)

    @cached_property
    def sqs(self) -> SQSClient:
        """The SQS choke point (one boto3 client per process)."""
        return SQSClient(self.conf.sqs_client_settings(), self.conf.sqs_endpoint_url)

    @cached_property
    def groups(self) -> requests.MessageGroups:
        return requests.MessageGroups(self.queue.groups)

    @property
    def queue_url(self) -> str:
        """The URL of this app's queue, looked up or created on first use."""
        return self._queue_url.get()

    def _resolve_queue_url(self) -> str:
        queue = self.queue
        if queue.url:
            return queue.url
        if queue.create:
            return self._create_queue(queue)
        response = self.sqs.call("GetQueueUrl", requests.get_queue_url(queue.name))
        return str(response["QueueUrl"])

    def _create_queue(self, queue: QueueSettings) -> str:
        """Create the dead-letter queue, then the queue with its redrive policy: 4 requests,
        once per process. CreateQueue of an existing queue with the same attributes
        answers its URL, so processes racing to create it all succeed."""
        dlq_name = names.dead_letter_queue_name(queue.name)
        dlq_url = self._create(requests.create_dead_letter_queue(dlq_name))
        arn = self.sqs.call("GetQueueAttributes", requests.queue_arn_request(dlq_url))
        request = requests.create_queue(
            queue.name,
            dead_letter_arn=arn["Attributes"]["QueueArn"],
            max_receive_count=queue.max_receive_count,
            visibility_seconds=queue.visibility_seconds,
            retention_seconds=queue.retention_seconds,
        )
        return self._create(request)

    def _create(self, request: dict[str, object]) -> str:
        try:
            return str(self.sqs.call("CreateQueue", request)["QueueUrl"])
        except DynamoDBRequestError as exc:
            if exc.code not in QUEUE_EXISTS:
                raise
        # Created earlier with other settings: use it as it is, and say so.
        name = str(request["QueueName"])
        logger.warning(
            "SQS queue %s exists with attributes other than the broker's settings (%s); "
            "using it as it is",
            name,
            json.dumps(request.get("Attributes")),
        )
        return str(self.sqs.call("GetQueueUrl", requests.get_queue_url(name))["QueueUrl"])

    def route_invocation(self, invocation_id: "InvocationId") -> None:
        """Send one message: 1 SendMessage request."""
        (routing,) = requests.routings([invocation_id], self.groups)
        self.sqs.call("SendMessage", requests.send_message(self.queue_url, routing))

    def route_invocations(self, invocation_ids: list["InvocationId"]) -> None:
        """Send one message per id, in order: ceil(N / 10) SendMessageBatch requests."""
        batch = requests.routings(invocation_ids, self.groups)
        if not batch:
            return
        for request in requests.send_batches(self.queue_url, batch):
            self.sqs.send_batch(request)
        self.app.logger.debug("Routed %d invocations to SQS", len(batch))

    def retrieve_invocation(self) -> "InvocationId | None":
        """The next invocation id, deleted from the queue; ``None`` when the queue stays
        empty for ``sqs_wait_time_seconds``. 2 requests (ReceiveMessage, DeleteMessage);
        an empty queue costs 1."""
        queue = self.queue
        received = self.sqs.receive(
            requests.receive(self.queue_url, 1, queue.wait_seconds, queue.visibility_seconds)
        )
        self.queue_seen_empty = not received
        if not received:
            return None
        message = received[0]
        self.sqs.delete(requests.delete_message(self.queue_url, message["ReceiptHandle"]))
        return InvocationId(message["Body"])

    def count_invocations(self) -> int:
        """Invocations not yet handed out: 1 GetQueueAttributes. Approximate on AWS (SQS's
        counts lag by up to a minute); pynenc reads it to decide how many worker processes
        ``MultiThreadRunner`` starts, and the monitor shows it."""
        response = self.sqs.call("GetQueueAttributes", requests.count_messages(self.queue_url))
        return requests.pending_count(response.get("Attributes") or {})

    def purge(self) -> None:
        """Delete every message the queue hands out: per 10 messages one ReceiveMessage and
        one DeleteMessageBatch, and a last long-polled ReceiveMessage that finds none.

        Never PurgeQueue: SQS allows it once per 60 seconds per queue, and it goes on
        deleting for up to 60 seconds, taking invocations routed after the purge with it.
        Messages another receiver holds at that moment (or a dead one held) are not seen
        and come back after their visibility timeout. For a backlog of millions, an
        operator's ``aws sqs purge-queue`` is cheaper.
        """
        queue = self.queue
        # Long polling asks every SQS server: an empty answer means empty.
        wait = max(1, queue.wait_seconds)
        while True:
            received = self.sqs.receive(
                requests.receive(
                    self.queue_url, requests.RECEIVE_MAX, wait, queue.visibility_seconds
                )
            )
            if not received:
                return
            handles = [message["ReceiptHandle"] for message in received]
            self.sqs.delete_batch(requests.delete_batch(self.queue_url, handles))
