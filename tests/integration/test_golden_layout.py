"""The stored layout, pinned with keys written out by hand.

Every expected key below is a literal: its shard was computed once, independently of
``table/schema/``, as ``zlib.crc32(escaped id) % 16`` (e.g. ``zlib.crc32(b"inv-1") % 16 == 6``).
A change to the key format, the shard rule or the escaping strands the data already stored
in users' tables; it must fail here, not pass because the test asks the code it checks.
"""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from pynenc.arguments import Arguments
from pynenc.call import Call
from pynenc.invocation.dist_invocation import DistributedInvocation
from pynenc.task import Task
from pynenc.workflow import WorkflowIdentity

from pynenc_dynamodb.errors import InvalidKeyError
from pynenc_dynamodb.local.endpoint import LocalEndpointProcess
from pynenc_dynamodb.table import schema
from tests.conftest import TABLE, AppFactory
from tests.helpers import contract_tasks

# 2026-01-02T04:04:05.123456 at UTC+1 is 03:04:05.123456 UTC.
WHEN = datetime(2026, 1, 2, 4, 4, 5, 123456, tzinfo=timezone(timedelta(hours=1)))
WHEN_UTC = "2026-01-02T03:04:05.123456Z"


def _pair(key: schema.Key) -> tuple[str, str]:
    return key["pk"]["S"], key["sk"]["S"]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (schema.invocation_key("orders", "inv-1"), ("A#orders#I#06", "inv-1#I")),
        (schema.result_key("orders", "inv-1"), ("A#orders#I#06", "inv-1#R")),
        (schema.exception_key("orders", "inv-1"), ("A#orders#I#06", "inv-1#E")),
        (
            schema.history_key("orders", "inv-1", WHEN, "rec-1"),
            ("A#orders#I#06", f"inv-1#H#{WHEN_UTC}#rec-1"),
        ),
        # The shard is taken over the escaped id: crc32(b"inv%231") % 16 == 5.
        (schema.invocation_key("orders", "inv#1"), ("A#orders#I#05", "inv%231#I")),
        (schema.workflow_data_key("orders", "wf-1", "k"), ("A#orders#W#14", "wf-1#D#k")),
        (schema.workflow_data_key("orders", "wf-1", ""), ("A#orders#W#14", "wf-1#D#")),
        (schema.deterministic_value_key("orders", "wf-1", "k"), ("A#orders#W#14", "wf-1#V#k")),
        (schema.sub_invocation_key("orders", "wf-1", "sub-3"), ("A#orders#W#14", "wf-1#S#sub-3")),
        (schema.workflow_run_key("orders", "wf-1"), ("A#orders#W#14", "wf-1#RUN")),
        (schema.workflow_run_key("orders", "wf#1"), ("A#orders#W#15", "wf%231#RUN")),
        (schema.workflow_type_key("orders", "pkg.flow"), ("A#orders#T", "pkg.flow")),
        (schema.child_key("orders", "inv-1", "inv#2"), ("A#orders#I#06", "inv-1#C#inv%232")),
        (schema.member_key("orders", "wf-1", "inv-1"), ("A#orders#W#14", "wf-1#M#inv-1")),
        (schema.runner_context_key("orders", "r#1"), ("A#orders#RC", "r%231")),
        # crc32(b"k%231") % 16 == 9
        (schema.client_data_key("orders", "k#1"), ("A#orders#C#09", "k%231")),
        (schema.app_info_key("orders"), ("APPS", "orders")),
        # Escaping: '%' first, then '#', in every component.
        (schema.result_key("my#app%", "a#b%c"), ("A#my%23app%25#I#08", "a%23b%25c#R")),
        (
            schema.workflow_data_key("my#app%", "wf-1", "x#%y"),
            ("A#my%23app%25#W#14", "wf-1#D#x%23%25y"),
        ),
        (schema.workflow_type_key("my#app%", "t#1"), ("A#my%23app%25#T", "t%231")),
        (schema.app_info_key("my#app%"), ("APPS", "my%23app%25")),
    ],
)
def test_keys_are_the_documented_layout(key: schema.Key, expected: tuple[str, str]) -> None:
    assert _pair(key) == expected


def test_run_index_keys_are_the_documented_layout() -> None:
    keys = schema.workflow_run_index_keys("my#app%", "pkg.flow#2", "run%x", WHEN)
    assert keys == {
        "gsi1pk": {"S": "A#my%23app%25#WT#pkg.flow%232"},
        "gsi1sk": {"S": f"{WHEN_UTC}#run%25x"},
    }


SHARD_NAMES = ["00", "01", "02", "03", "04", "05", "06", "07"]
SHARD_NAMES += ["08", "09", "10", "11", "12", "13", "14", "15"]


def test_purge_reads_34_partitions_named_from_the_app_id() -> None:
    expected = [f"A#my%23app%25#I#{s}" for s in SHARD_NAMES]
    expected += [f"A#my%23app%25#W#{s}" for s in SHARD_NAMES]
    expected += ["A#my%23app%25#T", "A#my%23app%25#RC"]
    assert schema.app_partitions("my#app%") == expected
    assert len(expected) == 34


def test_client_data_lives_in_16_partitions_of_its_own() -> None:
    expected = [f"A#my%23app%25#C#{s}" for s in SHARD_NAMES]
    assert schema.client_data_partitions("my#app%") == expected
    assert not set(expected) & set(schema.app_partitions("my#app%"))


def test_member_index_keys_are_the_documented_layout() -> None:
    keys = schema.member_index_keys("my#app%", "wf#1", "pkg.flow#2", "inv-1")
    assert keys == {
        "gsi1pk": {"S": "A#my%23app%25#WI#06"},
        "gsi1sk": {"S": "pkg.flow%232#wf%231#inv-1"},
    }


def test_history_time_index_keys_are_the_documented_layout() -> None:
    keys = schema.history_index_keys("my#app%", "inv-1", WHEN, "rec#1")
    assert keys == {
        "gsi1pk": {"S": "A#my%23app%25#HT#2026-01-02T03#06"},
        "gsi1sk": {"S": f"{WHEN_UTC}#inv-1#rec%231"},
    }


def test_payload_objects_are_addressed_by_app_and_digest() -> None:
    digest = "ab" * 32
    key = schema.payload_object_key("my#app%/x", digest)
    assert key == f"pynenc/my%23app%25%2Fx/{digest}"
    assert schema.client_data_object_prefix("my#app%/x") == "pynenc-client-data/my%23app%25%2Fx/"


@pytest.mark.parametrize(
    ("field", "build", "limit"),
    [
        ("app_id", schema.app_info_key, 200),
        ("invocation_id", lambda v: schema.invocation_key("a", v), 400),
        ("workflow_id", lambda v: schema.workflow_run_key("a", v), 400),
        ("workflow data key", lambda v: schema.workflow_data_key("a", "w", v), 500),
        ("deterministic value key", lambda v: schema.deterministic_value_key("a", "w", v), 500),
    ],
)
def test_byte_limits_are_the_documented_ones(field: str, build: Any, limit: int) -> None:
    # 'é' is two bytes and '#' three once escaped: the limit is in bytes, after escaping.
    build("é" * (limit // 2))
    build("#" * (limit // 3))
    with pytest.raises(InvalidKeyError, match=f"{field}.*limit is {limit} bytes"):
        build("é" * (limit // 2) + "x")
    with pytest.raises(InvalidKeyError, match=f"{field}.*limit is {limit} bytes"):
        build("#" * (limit // 3 + 1))


def test_backend_stores_items_under_the_documented_keys(
    make_app: AppFactory, dynamodb_config: dict[str, Any], endpoint: LocalEndpointProcess
) -> None:
    """What the backend really wrote, read with a plain boto3 client at literal keys."""
    app = make_app(dynamodb_config)
    app_id = app.app_id  # "t-" and 12 hex digits: nothing to escape
    sb = app.state_backend
    task = Task(app, contract_tasks.add.func, {})
    inv = DistributedInvocation(
        Call(task, Arguments({"x": 1, "y": 2})), invocation_id="inv#1", stored_in_backend=True
    )
    sb.upsert_invocation(inv)
    sb.set_result(inv, 3)
    sb.set_exception(inv, ValueError("v"))
    sb.store.add_history("inv#1", WHEN, '"record"', record_id="rec-1")
    wf = WorkflowIdentity("tests.helpers.contract_tasks.add", "wf-1")
    sb.set_workflow_data(wf, "k#1", 1)
    sb.set_workflow_deterministic_value(wf, "k#1", 2)
    sb.store_workflow_sub_invocation("wf-1", "sub-3")
    sb.store_workflow_run(wf)

    raw = boto3.client(
        "dynamodb",
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )

    def sort_keys(pk: str) -> list[str]:
        items = raw.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
        )["Items"]
        return [item["sk"]["S"] for item in items]

    assert sort_keys(f"A#{app_id}#I#05") == [
        "inv%231#E",
        f"inv%231#H#{WHEN_UTC}#rec-1",
        "inv%231#I",
        "inv%231#R",
    ]
    assert sort_keys(f"A#{app_id}#W#14") == [
        "wf-1#D#k%231",
        "wf-1#RUN",
        "wf-1#S#sub-3",
        "wf-1#V#k%231",
    ]
    assert sort_keys(f"A#{app_id}#T") == ["tests.helpers.contract_tasks.add"]
    assert app_id in sort_keys("APPS")
    runs = raw.query(
        TableName=TABLE,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"A#{app_id}#WT#tests.helpers.contract_tasks.add"}},
    )["Items"]
    assert [item["gsi1sk"]["S"].endswith("Z#wf-1") for item in runs] == [True]
    stamp = runs[0]["gsi1sk"]["S"][: -len("#wf-1")]
    assert datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) <= datetime.now(
        UTC
    )
