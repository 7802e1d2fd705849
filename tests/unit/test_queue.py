"""The broker's queue names and SQS requests, as pure functions and plain dicts."""

import json
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pynenc_dynamodb.aws.sqs import ENTRIES_FAILED, failed_entries
from pynenc_dynamodb.errors import ConfigurationError, InvalidKeyError
from pynenc_dynamodb.queue import names, requests

NAME_CHARS = set(string.ascii_letters + string.digits + "_-")


@given(st.text(min_size=1, max_size=300))
def test_every_app_id_gets_a_valid_fifo_name_with_room_for_its_dlq(app_id: str) -> None:
    name = names.queue_name("pynenc", app_id)
    dlq = names.dead_letter_queue_name(name)
    for queue in (name, dlq):
        assert len(queue) <= names.NAME_MAX
        assert queue.endswith(".fifo")
        assert set(queue.removesuffix(".fifo")) <= NAME_CHARS
    assert names.queue_name("pynenc", app_id) == name  # the same in every process


def test_app_ids_that_read_alike_get_different_names() -> None:
    alike = ["a.b", "a/b", "a b", "a-b", "a" * 100, "a" * 101]
    assert len({names.queue_name("pynenc", app_id) for app_id in alike}) == len(alike)


def test_names_are_readable() -> None:
    assert names.queue_name("pynenc", "orders").startswith("pynenc-orders-")
    assert names.dead_letter_queue_name("pynenc-orders-0123.fifo") == "pynenc-orders-0123-dlq.fifo"


@pytest.mark.parametrize("prefix", ["", "a b", "a.b", "p" * 41, "ü"])
def test_a_bad_prefix_names_the_setting(prefix: str) -> None:
    with pytest.raises(ConfigurationError, match="sqs_queue_name_prefix"):
        names.queue_name(prefix, "app")


@pytest.mark.parametrize(
    "url", ["", "queue.fifo", "ftp://host/q.fifo", "https://sqs.eu-west-1.amazonaws.com/1/q"]
)
def test_a_queue_url_must_name_a_fifo_queue(url: str) -> None:
    with pytest.raises(ConfigurationError, match="sqs_queue_url"):
        names.check_queue_url(url)
    names.check_queue_url("https://sqs.eu-west-1.amazonaws.com/123456789012/q.fifo")


def test_each_routing_has_its_own_deduplication_id() -> None:
    routed = requests.routings(["a", "a", "b"], requests.MessageGroups(1))
    assert [r.body for r in routed] == ["a", "a", "b"]
    assert len({r.deduplication_id for r in routed}) == 3
    assert {r.group_id for r in routed} == {"g0"}


def test_groups_are_handed_out_round_robin() -> None:
    groups = requests.MessageGroups(3)
    handed = [groups.next_group() for _ in range(9)]
    assert sorted(handed) == sorted(["g0", "g1", "g2"] * 3)
    assert len(set(handed[:3])) == 3


@pytest.mark.parametrize("count", [0, 1, 9, 10, 11, 20, 21, 95])
def test_batches_hold_ten_entries_in_order(count: int) -> None:
    routed = requests.routings([f"i{n}" for n in range(count)], requests.MessageGroups(1))
    batches = requests.send_batches("https://q/u.fifo", routed)
    assert len(batches) == -(-count // 10)
    bodies = [entry["MessageBody"] for batch in batches for entry in batch["Entries"]]
    assert bodies == [r.body for r in routed]
    for batch in batches:
        assert batch["QueueUrl"] == "https://q/u.fifo"
        assert [e["Id"] for e in batch["Entries"]] == [str(n) for n in range(len(batch["Entries"]))]
        assert all(len(e["MessageDeduplicationId"]) <= 128 for e in batch["Entries"])


@pytest.mark.parametrize("bad", ["", "a\x00b", "a\ud800b", "\uffff"])
def test_ids_sqs_cannot_carry_are_refused(bad: str) -> None:
    with pytest.raises(InvalidKeyError, match="invocation_id"):
        requests.check_body(bad)


def test_receive_uses_long_polling_and_an_attempt_id() -> None:
    request = requests.receive("u", 1, 2, 30)
    assert request["WaitTimeSeconds"] == 2 and request["VisibilityTimeout"] == 30
    assert request["MaxNumberOfMessages"] == 1
    assert (
        request["ReceiveRequestAttemptId"]
        != requests.receive("u", 1, 2, 30)["ReceiveRequestAttemptId"]
    )


def test_the_created_queue_is_fifo_encrypted_and_redriven() -> None:
    request = requests.create_queue(
        "q.fifo",
        dead_letter_arn="arn:dlq",
        max_receive_count=5,
        visibility_seconds=30,
        retention_seconds=600,
    )
    attributes = request["Attributes"]
    assert attributes["FifoQueue"] == "true"
    assert attributes["ContentBasedDeduplication"] == "false"
    assert attributes["SqsManagedSseEnabled"] == "true"
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": "arn:dlq",
        "maxReceiveCount": 5,
    }
    dlq = requests.create_dead_letter_queue("q-dlq.fifo")["Attributes"]
    assert dlq["FifoQueue"] == "true" and dlq["SqsManagedSseEnabled"] == "true"


def test_count_adds_visible_and_in_flight_messages() -> None:
    assert (
        requests.pending_count(
            {"ApproximateNumberOfMessages": "3", "ApproximateNumberOfMessagesNotVisible": "2"}
        )
        == 5
    )
    assert requests.pending_count({}) == 0


def test_failed_entries_are_resent_unless_the_sender_is_at_fault() -> None:
    sent = [{"Id": str(n)} for n in range(3)]
    assert failed_entries("SendMessageBatch", sent, []) == ([], None)
    resend, error = failed_entries(
        "SendMessageBatch", sent, [{"Id": "1", "SenderFault": False, "Code": "InternalError"}]
    )
    assert resend == [{"Id": "1"}]
    assert error is not None and error.code == ENTRIES_FAILED
    with pytest.raises(Exception, match="entries refused") as raised:
        failed_entries("SendMessageBatch", sent, [{"Id": "2", "SenderFault": True, "Code": "X"}])
    assert getattr(raised.value, "code", None) == "X"


def test_delete_batches_hold_at_most_ten() -> None:
    assert len(requests.delete_batch("u", ["h"] * 10)["Entries"]) == 10
    with pytest.raises(ValueError, match="at most 10"):
        requests.delete_batch("u", ["h"] * 11)
