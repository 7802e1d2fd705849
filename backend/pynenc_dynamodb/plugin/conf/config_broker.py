"""Settings of the SQS broker: pynenc's broker settings, the shared DynamoDB connection
settings (region, endpoint, retries, timeouts: one set for every AWS client of the app)
and the ``sqs_*`` settings of the queue."""

from dataclasses import dataclass, replace

from cistell import ConfigField
from pynenc.conf.config_broker import ConfigBroker

from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.config_fields import ConfigDynamoDB
from pynenc_dynamodb.errors import ConfigurationError
from pynenc_dynamodb.queue import names
from pynenc_dynamodb.queue.requests import (
    MAX_RECEIVE_COUNT_MAX,
    RETENTION_MAX_SECONDS,
    RETENTION_MIN_SECONDS,
    VISIBILITY_MAX_SECONDS,
    WAIT_MAX_SECONDS,
)

GROUPS_MAX = 10_000


@dataclass(frozen=True)
class QueueSettings:
    """The validated queue settings of one broker.

    :param url: the queue's URL; empty when it is derived from the app id
    :param name: the queue's name when derived (empty with a URL)
    :param create: create the queue and its dead-letter queue when missing
    :param groups: message groups the routings are spread over
    :param wait_seconds: long-polling wait of a retrieval that finds the queue empty
    :param visibility_seconds: how long a received message stays hidden
    :param max_receive_count: receives before a message moves to the dead-letter queue
    :param retention_seconds: how long SQS keeps an unretrieved message
    """

    url: str
    name: str
    create: bool
    groups: int
    wait_seconds: int
    visibility_seconds: int
    max_receive_count: int
    retention_seconds: int


class ConfigSQS(ConfigDynamoDB):
    """
    Settings of the broker's SQS queue, beside the ``dynamodb_*`` connection settings it
    shares with the state backend (``dynamodb_region``, ``dynamodb_max_attempts``,
    ``dynamodb_read_timeout``...).

    :cvar ConfigField[str] sqs_queue_url:
        URL of an existing FIFO queue (the stack's ``QueueUrl`` output). Empty: the app's
        own queue, named from ``sqs_queue_name_prefix`` and the app id. One queue serves
        one app: two apps given the same URL would take each other's invocations.
    :cvar ConfigField[str] sqs_queue_name_prefix:
        Start of the derived queue name (1 to 40 of ``A-Z a-z 0-9 _ -``).
    :cvar ConfigField[bool] sqs_create_queue:
        Create the derived queue and its dead-letter queue on first use if missing. Off by
        default, like ``dynamodb_create_table``: production queues come from
        ``template.yaml``. Not with ``sqs_queue_url``, which names an existing queue.
    :cvar ConfigField[str] sqs_region:
        Region of the queue; empty means ``dynamodb_region``.
    :cvar ConfigField[str] sqs_endpoint_url:
        SQS endpoint; empty means the DynamoDB endpoint when that is the embedded local
        one, else boto3's chain (``AWS_ENDPOINT_URL_SQS``, ``AWS_ENDPOINT_URL``).
    :cvar ConfigField[int] sqs_message_groups:
        FIFO message groups the routings are spread over, round-robin. 1 keeps pynenc's
        strict FIFO order, but SQS hands out a group's next message only after the
        previous one is deleted, so retrievals queue up behind each other (one
        ReceiveMessage + DeleteMessage round trip each, about 50 per second) and one group
        takes at most 300 sends/s (3,000 invocations/s in batches). N groups let N
        retrievals run at once and multiply those limits by N, up to the queue's
        (high-throughput FIFO mode, which a created queue uses: up to 70,000 requests/s
        per queue depending on the region), keeping order within each group only.
    :cvar ConfigField[int] sqs_wait_time_seconds:
        Seconds (1 to 20) a retrieval waits for a message when the queue is empty (SQS
        long polling, which asks every SQS server; 0, short polling, may answer empty
        while messages wait). pynenc's ``queue_timeout_sec`` is finer than SQS's whole
        seconds and is not used. Must stay below ``dynamodb_read_timeout``.
    :cvar ConfigField[int] sqs_visibility_timeout_seconds:
        Seconds a received message stays hidden from other receivers. The broker deletes
        it right after receiving it, so this only matters when a process dies in between:
        the message comes back after this long, and with one message group it holds the
        whole queue back until then. Also the queue's default when the broker creates it.
    :cvar ConfigField[int] sqs_max_receive_count:
        Receives without a delete after which SQS moves a message to the dead-letter queue
        (redrive policy of a created queue).
    :cvar ConfigField[int] sqs_message_retention_seconds:
        How long SQS keeps an invocation nobody retrieved (60 to 1209600; created queue).
    """

    sqs_queue_url = ConfigField("")
    sqs_queue_name_prefix = ConfigField("pynenc")
    sqs_create_queue = ConfigField(False)
    sqs_region = ConfigField("")
    sqs_endpoint_url = ConfigField("")
    sqs_message_groups = ConfigField(1)
    sqs_wait_time_seconds = ConfigField(1)
    sqs_visibility_timeout_seconds = ConfigField(30)
    sqs_max_receive_count = ConfigField(5)
    sqs_message_retention_seconds = ConfigField(RETENTION_MAX_SECONDS)

    def sqs_client_settings(self) -> ClientSettings:
        """The connection settings of the SQS client, validated."""
        settings = self.client_settings()
        if self.sqs_wait_time_seconds >= settings.read_timeout:
            self._refuse(
                "sqs_wait_time_seconds",
                f"must stay below dynamodb_read_timeout ({settings.read_timeout}), or a "
                "long poll would time out as a failed request",
            )
        return replace(settings, region=self.sqs_region or settings.region)

    def queue_settings(self, app_id: str) -> QueueSettings:
        """The queue settings of ``app_id``'s broker, validated."""
        ranges = [
            ("sqs_message_groups", 1, GROUPS_MAX),
            ("sqs_wait_time_seconds", 0, WAIT_MAX_SECONDS),
            ("sqs_visibility_timeout_seconds", 0, VISIBILITY_MAX_SECONDS),
            ("sqs_max_receive_count", 1, MAX_RECEIVE_COUNT_MAX),
            ("sqs_message_retention_seconds", RETENTION_MIN_SECONDS, RETENTION_MAX_SECONDS),
        ]
        for name, low, high in ranges:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                self._refuse(name, f"must be a whole number between {low} and {high}")
        url = self.sqs_queue_url
        if url:
            names.check_queue_url(url)
            if self.sqs_create_queue:
                self._refuse(
                    "sqs_create_queue",
                    "cannot be on with sqs_queue_url, which names an existing queue: drop "
                    "sqs_queue_url to have the broker create the app's own queue, or "
                    "turn sqs_create_queue off",
                )
        return QueueSettings(
            url=url,
            name="" if url else names.queue_name(self.sqs_queue_name_prefix, app_id),
            create=bool(self.sqs_create_queue),
            groups=self.sqs_message_groups,
            wait_seconds=self.sqs_wait_time_seconds,
            visibility_seconds=self.sqs_visibility_timeout_seconds,
            max_receive_count=self.sqs_max_receive_count,
            retention_seconds=self.sqs_message_retention_seconds,
        )

    def _refuse(self, name: str, rule: str) -> None:
        raise ConfigurationError(
            f"Setting {name}={getattr(self, name)!r} {rule} "
            f"(PYNENC__{type(self).__name__.upper()}__{name.upper()})."
        )


class ConfigBrokerSQS(ConfigBroker, ConfigSQS):
    """
    Settings of :class:`~pynenc_dynamodb.SQSBroker`: pynenc's broker settings and those of
    :class:`ConfigSQS`.

    Each can also be set as ``PYNENC__CONFIGBROKERSQS__<SETTING>``.
    """
