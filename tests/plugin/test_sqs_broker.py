"""SQSBroker keeps what must hold on AWS, not what moto happens to give: each routing is
its own message (deduplication id per routing) and a resent one is stored once; batches
of 10; failed batch entries resent; purge without PurgeQueue; one queue per app; a
receiver that dies between receive and delete loses nothing; the redrive policy moves a
message received too often to the dead-letter queue; bad settings name themselves."""

import json
import math
import threading
from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pynenc import Pynenc
from pynenc.identifiers.invocation_id import InvocationId

from pynenc_dynamodb import DynamoDBRequestError, QueueNotFoundError
from pynenc_dynamodb.aws import sqs as sqs_module
from pynenc_dynamodb.aws.retry import RetryPolicy
from pynenc_dynamodb.aws.sqs import SQSClient
from pynenc_dynamodb.local.endpoint import SQS_COUNT_PREFIX, LocalEndpointProcess, request_counts
from pynenc_dynamodb.plugin.broker import SQSBroker
from pynenc_dynamodb.queue import names, requests
from tests.conftest import unique_app_id
from tests.plugin.conftest import SQSAppFactory, build_sqs_app
from tests.plugin.test_plugin_discovery import fresh_python

BY_NAME = """
import sys
from pynenc import Pynenc
assert "pynenc_dynamodb" not in sys.modules
config = {"app_id": sys.argv[1], "broker_cls": "SQSBroker", "sqs_create_queue": True,
          "dynamodb_endpoint_url": sys.argv[2]}
broker = Pynenc(config_values=config).broker
broker.route_invocation("x")
print(type(broker).__name__, broker.retrieve_invocation())
"""


def broker_of(app: Pynenc) -> SQSBroker:
    broker = app.broker
    assert isinstance(broker, SQSBroker)
    broker.queue_url  # noqa: B018 - create the queue before counting requests
    return broker


def sqs_requests(endpoint: LocalEndpointProcess) -> Counter[str]:
    """SQS requests the endpoint served so far, by operation."""
    counts = request_counts(endpoint.url)
    return Counter(
        {
            name.removeprefix(SQS_COUNT_PREFIX): count
            for name, count in counts.items()
            if name.startswith(SQS_COUNT_PREFIX)
        }
    )


def drain(broker: SQSBroker) -> list[str]:
    found = []
    while (invocation_id := broker.retrieve_invocation()) is not None:
        found.append(invocation_id)
    return found


def ids(count: int, prefix: str = "inv") -> list[InvocationId]:
    return [InvocationId(f"{prefix}-{n}") for n in range(count)]


class Faulty:
    """A boto3 SQS client that fails what a test asks it to, and passes the rest on."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.fail_entries: set[str] = set()
        self.fail_rounds = 0
        self.sender_fault = False
        self.delete_error: Exception | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def send_message_batch(self, **request: Any) -> dict[str, Any]:
        if self.fail_rounds <= 0:
            return dict(self.real.send_message_batch(**request))
        self.fail_rounds -= 1
        entries = request["Entries"]
        sent = [e for e in entries if e["Id"] not in self.fail_entries]
        answer: dict[str, Any] = {"Successful": []}
        if sent:
            answer = dict(self.real.send_message_batch(**{**request, "Entries": sent}))
        answer["Failed"] = [
            {
                "Id": e["Id"],
                "SenderFault": self.sender_fault,
                "Code": "InvalidParameterValue" if self.sender_fault else "InternalError",
                "Message": "injected",
            }
            for e in entries
            if e["Id"] in self.fail_entries
        ]
        return answer

    def delete_message(self, **request: Any) -> dict[str, Any]:
        if self.delete_error is not None:
            error, self.delete_error = self.delete_error, None
            raise error
        return dict(self.real.delete_message(**request))


def make_faulty(broker: SQSBroker) -> Faulty:
    """Swap the broker's SQS client for one that fails on demand."""
    faulty = Faulty(broker.sqs.boto3_client)
    client = SQSClient(broker.sqs.settings, broker.sqs.endpoint_url, lambda *_: faulty)
    broker.__dict__["sqs"] = client
    return faulty


def test_the_broker_is_found_by_name_through_the_entry_points(
    endpoint: LocalEndpointProcess,
) -> None:
    out = fresh_python(BY_NAME, unique_app_id(), endpoint.url, PYNENC_DYNAMODB_NO_AUTOLOAD="1")
    assert out == "SQSBroker x"


# -- each routing is one message, stored once -------------------------------------------


def test_an_id_routed_twice_is_delivered_twice(sqs_apps: SQSAppFactory) -> None:
    broker = broker_of(sqs_apps())
    broker.route_invocation(InvocationId("a"))
    broker.route_invocation(InvocationId("a"))
    broker.route_invocations([InvocationId("a"), InvocationId("b"), InvocationId("a")])
    assert broker.count_invocations() == 5
    assert drain(broker) == ["a", "a", "a", "b", "a"]


def test_a_resent_routing_is_stored_once(sqs_apps: SQSAppFactory) -> None:
    """What makes every send safe to retry: a routing keeps its deduplication id, and a
    FIFO queue drops a second send of it (within 5 minutes), as after a lost answer."""
    broker = broker_of(sqs_apps())
    (routing,) = requests.routings([InvocationId("a")], broker.groups)
    request = requests.send_message(broker.queue_url, routing)
    broker.sqs.call("SendMessage", request)
    broker.sqs.call("SendMessage", request)
    (batch,) = requests.send_batches(broker.queue_url, [routing])
    broker.sqs.send_batch(batch)
    assert drain(broker) == ["a"]


@pytest.mark.parametrize("count", [1, 10, 11, 25])
def test_route_invocations_is_one_batch_per_ten_ids_in_order(
    sqs_apps: SQSAppFactory, endpoint: LocalEndpointProcess, count: int
) -> None:
    broker = broker_of(sqs_apps())
    routed = ids(count)
    before = sqs_requests(endpoint)
    broker.route_invocations(routed)
    assert sqs_requests(endpoint) - before == Counter({"SendMessageBatch": math.ceil(count / 10)})
    assert drain(broker) == routed


def test_requests_per_routed_and_retrieved_invocation(
    sqs_apps: SQSAppFactory, endpoint: LocalEndpointProcess
) -> None:
    broker = broker_of(sqs_apps())
    before = sqs_requests(endpoint)
    broker.route_invocation(InvocationId("a"))
    assert sqs_requests(endpoint) - before == Counter({"SendMessage": 1})
    before = sqs_requests(endpoint)
    assert broker.retrieve_invocation() == "a"
    assert sqs_requests(endpoint) - before == Counter({"ReceiveMessage": 1, "DeleteMessage": 1})
    before = sqs_requests(endpoint)
    assert broker.retrieve_invocation() is None
    assert broker.count_invocations() == 0
    assert sqs_requests(endpoint) - before == Counter(
        {"ReceiveMessage": 1, "GetQueueAttributes": 1}
    )


def test_a_failed_batch_entry_is_resent(
    sqs_apps: SQSAppFactory, endpoint: LocalEndpointProcess
) -> None:
    broker = broker_of(sqs_apps())
    faulty = make_faulty(broker)
    faulty.fail_entries, faulty.fail_rounds = {"3"}, 1
    routed = ids(12)
    before = sqs_requests(endpoint)
    broker.route_invocations(routed)
    # Two batches and one resend of the failed entry, which lands after the others.
    assert sqs_requests(endpoint) - before == Counter({"SendMessageBatch": 3})
    assert drain(broker) == [*routed[:3], *routed[4:10], routed[3], *routed[10:]]


def test_entries_failing_every_round_are_surfaced(
    sqs_apps: SQSAppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqs_module, "BATCH_ROUNDS", RetryPolicy(attempts=3, max_delay=0.01))
    broker = broker_of(sqs_apps())
    faulty = make_faulty(broker)
    faulty.fail_entries, faulty.fail_rounds = {"1"}, 100
    with pytest.raises(DynamoDBRequestError) as raised:
        broker.route_invocations(ids(3))
    assert raised.value.code == sqs_module.ENTRIES_FAILED
    assert "1 of 1 entries failing" in str(raised.value)
    assert broker.sqs.request_counts["SendMessageBatch"] == 3
    assert sorted(drain(broker)) == ["inv-0", "inv-2"]


def test_an_entry_refused_as_the_senders_fault_is_not_resent(sqs_apps: SQSAppFactory) -> None:
    broker = broker_of(sqs_apps())
    faulty = make_faulty(broker)
    faulty.fail_entries, faulty.fail_rounds, faulty.sender_fault = {"0"}, 1, True
    with pytest.raises(DynamoDBRequestError, match="entries refused"):
        broker.route_invocations(ids(2))
    assert broker.sqs.request_counts["SendMessageBatch"] == 1


# -- retrieval: deleted before handed out, nothing lost when a receiver dies ---------------


def test_a_receiver_dying_between_receive_and_delete_loses_nothing(
    sqs_apps: SQSAppFactory,
) -> None:
    # Visibility 0 stands for "the visibility timeout has passed": no waiting in the test.
    app = sqs_apps(sqs_visibility_timeout_seconds=0)
    broker = broker_of(app)
    broker.route_invocation(InvocationId("a"))
    faulty = make_faulty(broker)
    faulty.delete_error = KeyboardInterrupt()  # the process dies mid-retrieval
    with pytest.raises(KeyboardInterrupt):
        broker.retrieve_invocation()
    other = SQSBroker(app)  # another runner of the app
    assert other.retrieve_invocation() == "a"
    assert other.retrieve_invocation() is None


def test_a_delete_too_late_still_hands_the_id_out(
    sqs_apps: SQSAppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The message may have reached another receiver; losing it would be worse than the
    duplicate, which pynenc's status checks absorb."""
    broker = broker_of(sqs_apps())
    broker.route_invocation(InvocationId("a"))
    faulty = make_faulty(broker)
    stale = {"Error": {"Code": "ReceiptHandleIsInvalid", "Message": "expired"}}
    faulty.delete_error = ClientError(stale, "DeleteMessage")
    assert broker.retrieve_invocation() == "a"
    assert "stale receipt handle" in caplog.text


def test_concurrent_retrievals_hand_each_routing_out_once(sqs_apps: SQSAppFactory) -> None:
    app = sqs_apps(sqs_message_groups=4)
    broker = broker_of(app)
    routed = ids(40) + ids(10)  # ten ids routed twice
    broker.route_invocations(routed)
    found: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        mine = drain(SQSBroker(app))
        with lock:
            found.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    found.extend(drain(broker))
    assert Counter(found) == Counter(routed)


# -- count, purge, isolation ----------------------------------------------------------------


def test_purge_never_sends_purge_queue(
    sqs_apps: SQSAppFactory, endpoint: LocalEndpointProcess
) -> None:
    broker = broker_of(sqs_apps())
    broker.route_invocations(ids(25))
    before = sqs_requests(endpoint)
    broker.purge()
    assert sqs_requests(endpoint) - before == Counter(
        {"ReceiveMessage": 4, "DeleteMessageBatch": 3}
    )
    assert broker.count_invocations() == 0
    # On AWS, PurgeQueue would go on deleting for up to 60 s and refuse a second purge.
    broker.route_invocation(InvocationId("after"))
    broker.purge()
    broker.route_invocation(InvocationId("kept"))
    assert drain(broker) == ["kept"]


def test_two_apps_never_see_each_others_messages(sqs_apps: SQSAppFactory) -> None:
    first, second = broker_of(sqs_apps()), broker_of(sqs_apps())
    assert first.queue_url != second.queue_url
    first.route_invocations(ids(3, "first"))
    second.route_invocations(ids(2, "second"))
    assert (first.count_invocations(), second.count_invocations()) == (3, 2)
    second.purge()
    assert second.count_invocations() == 0
    assert drain(first) == ids(3, "first")
    assert second.retrieve_invocation() is None


def test_app_ids_that_read_alike_get_queues_of_their_own(sqs_apps: SQSAppFactory) -> None:
    base = unique_app_id("alike")
    first, second = broker_of(sqs_apps(f"{base}.x")), broker_of(sqs_apps(f"{base}/x"))
    assert first.queue_url != second.queue_url
    first.route_invocation(InvocationId("a"))
    assert second.retrieve_invocation() is None


def test_a_queue_given_by_url_is_used_as_it_is(sqs_apps: SQSAppFactory) -> None:
    owner = broker_of(sqs_apps())
    user = broker_of(sqs_apps(sqs_queue_url=owner.queue_url, sqs_create_queue=False))
    assert user.queue_url == owner.queue_url
    user.route_invocation(InvocationId("a"))
    assert owner.retrieve_invocation() == "a"


# -- the queue the broker creates: FIFO, encrypted, with its dead-letter queue ---------


def test_the_created_queue_is_fifo_encrypted_with_a_redrive_policy(
    sqs_apps: SQSAppFactory,
) -> None:
    broker = broker_of(sqs_apps(sqs_max_receive_count=3))
    client = broker.sqs.boto3_client
    attributes = client.get_queue_attributes(QueueUrl=broker.queue_url, AttributeNames=["All"])[
        "Attributes"
    ]
    assert attributes["FifoQueue"] == "true"
    assert attributes["ContentBasedDeduplication"] == "false"
    assert attributes["SqsManagedSseEnabled"] == "true"
    assert attributes["DeduplicationScope"] == "messageGroup"
    assert attributes["FifoThroughputLimit"] == "perMessageGroupId"
    policy = json.loads(attributes["RedrivePolicy"])
    assert int(policy["maxReceiveCount"]) == 3
    dlq_name = names.dead_letter_queue_name(broker.queue.name)
    assert policy["deadLetterTargetArn"].endswith(f":{dlq_name}")
    dlq_url = client.get_queue_url(QueueName=dlq_name)["QueueUrl"]
    dlq = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]
    assert dlq["FifoQueue"] == "true" and dlq["SqsManagedSseEnabled"] == "true"


def test_a_message_received_too_often_moves_to_the_dead_letter_queue(
    sqs_apps: SQSAppFactory,
) -> None:
    """SQS's redrive policy (moto implements it): received ``sqs_max_receive_count`` times
    without a delete, as by receivers that keep dying, the next receive moves it."""
    broker = broker_of(sqs_apps(sqs_max_receive_count=2))
    broker.route_invocation(InvocationId("poison"))
    client = broker.sqs.boto3_client
    for _ in range(2):
        (message,) = client.receive_message(QueueUrl=broker.queue_url, VisibilityTimeout=0)[
            "Messages"
        ]
        assert message["Body"] == "poison"
    assert broker.retrieve_invocation() is None
    dlq_url = client.get_queue_url(QueueName=names.dead_letter_queue_name(broker.queue.name))
    (moved,) = client.receive_message(QueueUrl=dlq_url["QueueUrl"], WaitTimeSeconds=1)["Messages"]
    assert moved["Body"] == "poison"


# -- settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"sqs_message_groups": 0}, "sqs_message_groups"),
        ({"sqs_wait_time_seconds": 21}, "sqs_wait_time_seconds"),
        ({"sqs_wait_time_seconds": 5, "dynamodb_read_timeout": 5.0}, "sqs_wait_time_seconds"),
        ({"sqs_visibility_timeout_seconds": -1}, "sqs_visibility_timeout_seconds"),
        ({"sqs_max_receive_count": 0}, "sqs_max_receive_count"),
        ({"sqs_message_retention_seconds": 30}, "sqs_message_retention_seconds"),
        ({"sqs_queue_name_prefix": "no spaces"}, "sqs_queue_name_prefix"),
        ({"sqs_queue_name_prefix": "p" * 41}, "sqs_queue_name_prefix"),
        ({"sqs_queue_url": "queue.fifo", "sqs_create_queue": False}, "sqs_queue_url"),
        (
            {"sqs_queue_url": "http://127.0.0.1:1/1/standard", "sqs_create_queue": False},
            "sqs_queue_url",
        ),
        ({"sqs_queue_url": "http://127.0.0.1:1/1/q.fifo"}, "sqs_create_queue"),
    ],
)
def test_bad_settings_name_the_setting(
    endpoint: LocalEndpointProcess, settings: dict[str, Any], named: str
) -> None:
    # The builder's validator checks them at build(), before any request.
    with pytest.raises(ValueError, match=named):
        build_sqs_app(endpoint.url, **settings)


def test_a_missing_queue_says_how_to_get_one(endpoint: LocalEndpointProcess) -> None:
    app = build_sqs_app(endpoint.url, sqs_create_queue=False)
    with pytest.raises(QueueNotFoundError, match="sqs_create_queue") as raised:
        app.broker.route_invocation(InvocationId("a"))
    assert "sqs_queue_url" in str(raised.value)


def test_an_invocation_id_sqs_cannot_carry_is_refused(sqs_apps: SQSAppFactory) -> None:
    broker = broker_of(sqs_apps())
    with pytest.raises(ValueError, match="invocation_id"):
        broker.route_invocations([InvocationId("a"), InvocationId("bad\x00id")])
    assert broker.count_invocations() == 0
