"""The string-level store operations of pynenc 0.1 on a real table (moto and dynalite):
batched invocations with their children and workflow members, time-indexed history,
runner contexts and client data; what each costs in requests; purge and app isolation."""

import hashlib
import math
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import boto3
import pytest

from pynenc_dynamodb.aws.dynamodb import DynamoDBClient
from pynenc_dynamodb.aws.s3 import S3BlobStore
from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.errors import InvalidKeyError
from pynenc_dynamodb.local.endpoint import DEFAULT_BUCKET
from pynenc_dynamodb.table import builders, schema
from pynenc_dynamodb.table.entries import InvocationEntry
from pynenc_dynamodb.table.payloads import PayloadCodec, PayloadPolicy
from pynenc_dynamodb.table.store import DynamoDBStateStore
from tests.conftest import TABLE, unique_app_id
from tests.helpers.endpoints import ENDPOINTS, StoreEndpoint

pytestmark = pytest.mark.endpoints(*ENDPOINTS)

WF_TYPE = "pkg.flows.order"
# 23:59:59.999999 on 1 January 1970: the range reads below cross midnight and an hour.
EPOCH_EDGE = datetime(1970, 1, 1, 23, 59, 59, 999999, tzinfo=UTC)


def build_store(where: StoreEndpoint, app_id: str, page_size: int = 3) -> DynamoDBStateStore:
    settings = ClientSettings(endpoint_url=where.url)
    blobs = S3BlobStore(settings, DEFAULT_BUCKET, where.s3_url)
    store = DynamoDBStateStore(
        client=DynamoDBClient(settings),
        table_name=TABLE,
        app_id=app_id,
        page_size=page_size,
        codec=PayloadCodec(app_id, PayloadPolicy(), blobs),
    )
    store.ensure_table()
    return store


@pytest.fixture
def stores(store_endpoint: StoreEndpoint) -> Iterator[list[DynamoDBStateStore]]:
    """Two apps' stores on one table, everything of theirs purged afterwards."""
    made = [build_store(store_endpoint, unique_app_id("v01")) for _ in range(2)]
    yield made
    for store in made:
        store.purge()
        store.purge_client_data()


def counting(store: DynamoDBStateStore) -> Counter[str]:
    return Counter(store.client.request_counts)


def used(store: DynamoDBStateStore, before: Counter[str]) -> Counter[str]:
    return counting(store) - before


def large_body(seed: str) -> str:
    """A body that stays over 64 KB compressed: it goes to S3."""
    return "".join(hashlib.sha256(f"{seed}{n}".encode()).hexdigest() for n in range(4000))


def entry(n: int, workflow: str = "wf-1", parent: str | None = "root") -> InvocationEntry:
    return InvocationEntry(f"inv-{n}", f'{{"n": {n}}}', workflow, WF_TYPE, parent)


# -- invocations, children, members ------------------------------------------------------


def test_put_invocations_writes_25_items_per_request(stores: list[DynamoDBStateStore]) -> None:
    store = stores[0]
    entries = [entry(0, parent=None)] + [entry(n) for n in range(1, 40)]
    before = counting(store)
    store.put_invocations(entries)
    items = 40 + 40 + 39  # invocations, members, children
    assert used(store, before) == {"BatchWriteItem": math.ceil(items / 25)}
    assert store.get_invocation("inv-7") == '{"n": 7}'
    assert sorted(store.child_invocations("root")) == sorted(f"inv-{n}" for n in range(1, 40))
    assert list(store.child_invocations("inv-0")) == []


def test_an_invocation_given_twice_in_a_batch_is_written_once_last_wins(
    stores: list[DynamoDBStateStore],
) -> None:
    store = stores[0]
    first = InvocationEntry("inv#dup", "first", "wf", WF_TYPE, "p")
    last = InvocationEntry("inv#dup", "last", "wf", WF_TYPE, "p")
    store.put_invocations([first, entry(1), last])
    assert store.get_invocation("inv#dup") == "last"
    assert sorted(store.child_invocations("p")) == ["inv#dup"]
    assert sorted(store.invocation_ids_by_workflow("wf", None)) == ["inv#dup"]


def test_invocation_ids_by_workflow_type_or_both_or_every_one(
    stores: list[DynamoDBStateStore],
) -> None:
    store, other = stores
    entries = [entry(n, workflow=f"wf-{n % 3}") for n in range(30)]
    entries.append(InvocationEntry("solo#1", "b", "wf#x", "pkg.flows.order2", None))
    store.put_invocations(entries)
    # The other app holds the same ids and workflows: never listed for this one.
    other.put_invocations([*entries, InvocationEntry("theirs", "b", "wf-0", WF_TYPE, None)])

    def ids(workflow_id: str | None, workflow_type: str | None) -> list[str]:
        return sorted(store.invocation_ids_by_workflow(workflow_id, workflow_type))

    in_wf0 = sorted(f"inv-{n}" for n in range(0, 30, 3))
    assert ids("wf-0", None) == in_wf0
    assert ids("wf-0", WF_TYPE) == in_wf0
    assert ids("wf-0", "pkg.flows.order2") == []
    # A type is matched whole: "pkg.flows.order" does not list "pkg.flows.order2".
    assert ids(None, WF_TYPE) == sorted(f"inv-{n}" for n in range(30))
    assert ids(None, "pkg.flows.order2") == ["solo#1"]
    assert ids("wf#x", None) == ["solo#1"]
    assert ids(None, None) == sorted([*(f"inv-{n}" for n in range(30)), "solo#1"])
    assert ids("nope", None) == ids(None, "nope") == []


def test_every_invocation_of_the_app_is_16_queries_when_empty(
    stores: list[DynamoDBStateStore],
) -> None:
    store = stores[0]
    before = counting(store)
    assert list(store.invocation_ids_by_workflow(None, None)) == []
    assert used(store, before) == {"Query": schema.SHARDS}
    before = counting(store)
    assert list(store.invocation_ids_by_workflow("wf", WF_TYPE)) == []
    assert used(store, before) == {"Query": 1}


@pytest.mark.parametrize(
    "bad",
    [
        InvocationEntry("", "b", "wf", WF_TYPE, None),
        InvocationEntry("ok", "b", "", WF_TYPE, None),
        InvocationEntry("ok", "b", "wf", "", None),
        InvocationEntry("ok", "b", "wf", WF_TYPE, ""),
        InvocationEntry("x" * 401, "b", "wf", WF_TYPE, None),
    ],
    ids=["invocation_id", "workflow_id", "workflow_type", "parent_id", "too-long"],
)
def test_a_bad_entry_writes_nothing_of_its_batch(
    stores: list[DynamoDBStateStore], bad: InvocationEntry
) -> None:
    store = stores[0]
    entries = [entry(n) for n in range(30)] + [bad]
    before = counting(store)
    with pytest.raises(InvalidKeyError):
        store.put_invocations(entries)
    assert used(store, before) == {}
    assert store.get_invocation("inv-0") is None
    assert list(store.child_invocations("root")) == []


# -- time-indexed history ----------------------------------------------------------------


def test_add_histories_writes_25_records_per_request(stores: list[DynamoDBStateStore]) -> None:
    store = stores[0]
    ids = [f"inv-{n}" for n in range(60)]
    before = counting(store)
    store.add_histories([*ids, "inv-3"], EPOCH_EDGE, "REGISTERED", record_id="r1")
    assert used(store, before) == {"BatchWriteItem": math.ceil(60 / 25)}
    assert list(store.get_history("inv-3")) == ["REGISTERED"]
    start, end = EPOCH_EDGE, EPOCH_EDGE
    assert list(store.history_in_timerange(start, end)) == ["REGISTERED"] * 60
    assert sorted(store.invocation_ids_in_timerange(start, end)) == sorted(ids)


def test_a_bad_id_in_add_histories_writes_nothing(stores: list[DynamoDBStateStore]) -> None:
    store = stores[0]
    before = counting(store)
    with pytest.raises(InvalidKeyError, match="invocation_id"):
        store.add_histories(["inv-1", "inv-2", ""], EPOCH_EDGE, "x")
    assert used(store, before) == {}
    assert list(store.get_history("inv-1")) == []


def test_time_range_is_ordered_and_inclusive_across_hours_and_shards(
    stores: list[DynamoDBStateStore],
) -> None:
    """Records over three hours around midnight of 1 January 1970, spread over every
    shard; the bounds are records themselves, given naive (UTC) and in another zone."""
    store, other = stores
    start = EPOCH_EDGE - timedelta(hours=1, minutes=30)  # 22:29:59.999999
    end = EPOCH_EDGE + timedelta(hours=1)  # 00:59:59.999999 on 2 January
    times = [start + timedelta(minutes=7 * n, microseconds=n) for n in range(25)]
    times += [start, end]
    written: list[tuple[datetime, str]] = []
    for n, when in enumerate(times):
        ids = [f"inv-{n}-{k}" for k in range(3)]  # different shards for one instant
        store.add_histories(ids, when, f"rec-{n}", record_id=f"r{n}")
        written += [(when, f"rec-{n}")] * 3 if start <= when <= end else []
    outside = [start - timedelta(microseconds=1), end + timedelta(microseconds=1)]
    for n, when in enumerate(outside):
        store.add_histories([f"out-{n}"], when, "outside")
    other.add_histories(["inv-0-0"], start + timedelta(minutes=1), "other app")

    expected = [body for _, body in sorted(written, key=lambda pair: pair[0])]
    naive_start = start.replace(tzinfo=None)
    tokyo_end = end.astimezone(timezone(timedelta(hours=9)))
    bodies = list(store.history_in_timerange(naive_start, tokyo_end))
    assert sorted(bodies) == sorted(expected)
    order = {body: when for when, body in written}
    assert [order[b] for b in bodies] == sorted(order[b] for b in bodies)
    assert "outside" not in bodies and "other app" not in bodies
    ids = list(store.invocation_ids_in_timerange(naive_start, tokyo_end))
    assert len(ids) == len(set(ids)) == len(written)
    assert not {"out-0", "out-1"} & set(ids)


def test_an_empty_hour_is_16_queries(stores: list[DynamoDBStateStore]) -> None:
    store = stores[0]
    store.add_histories(["inv"], EPOCH_EDGE, "elsewhere")
    hour = datetime(1999, 12, 31, 23, 0)
    before = counting(store)
    assert list(store.history_in_timerange(hour, hour + timedelta(minutes=59))) == []
    assert used(store, before) == {"Query": schema.SHARDS}
    before = counting(store)
    assert list(store.history_in_timerange(hour + timedelta(hours=1), hour)) == []
    assert used(store, before) == {}


# -- runner contexts ----------------------------------------------------------------------


def test_runner_contexts_are_read_100_per_request(stores: list[DynamoDBStateStore]) -> None:
    store, other = stores
    for n in range(150):
        store.put_runner_context(f"runner#{n}", f"ctx-{n}")
    other.put_runner_context("runner#1", "theirs")
    asked = [f"runner#{n}" for n in range(149, -1, -1)] + ["runner#5", "missing"]
    before = counting(store)
    found = store.get_runner_contexts(asked)
    assert used(store, before) == {"BatchGetItem": math.ceil(151 / 100)}
    assert found == [f"ctx-{n}" for n in range(149, -1, -1)]
    assert store.get_runner_contexts([]) == []


def test_a_bad_runner_id_is_refused_before_any_request(stores: list[DynamoDBStateStore]) -> None:
    store = stores[0]
    before = counting(store)
    with pytest.raises(InvalidKeyError, match="runner_id"):
        store.get_runner_contexts(["ok", ""])
    assert used(store, before) == {}


def test_matching_runner_contexts_match_the_id_not_its_escaped_form(
    stores: list[DynamoDBStateStore],
) -> None:
    store, other = stores
    store.put_runner_context("host-a#1", "a1")
    store.put_runner_context("host-b%23", "b")
    store.put_runner_context("host-a#2", "a2")
    other.put_runner_context("host-a#3", "theirs")
    before = counting(store)
    assert sorted(store.matching_runner_contexts("host-a")) == ["a1", "a2"]
    # The pages of one partition (3 items a page here; dynalite answers a full last page
    # with a key to resume from, hence one more Query).
    assert set(used(store, before)) == {"Query"} and used(store, before)["Query"] <= 2
    assert sorted(store.matching_runner_contexts("#")) == ["a1", "a2"]
    assert list(store.matching_runner_contexts("%23")) == ["b"]
    assert sorted(store.matching_runner_contexts("")) == ["a1", "a2", "b"]


# -- client data and purge ---------------------------------------------------------------


def _objects(store_endpoint: StoreEndpoint, prefix: str) -> list[str]:
    s3 = boto3.client(
        "s3",
        endpoint_url=store_endpoint.s3_url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    listed = s3.list_objects_v2(Bucket=DEFAULT_BUCKET, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def test_client_data_goes_to_its_own_objects(
    stores: list[DynamoDBStateStore], store_endpoint: StoreEndpoint
) -> None:
    store, other = stores
    store.put_client_data("arg#1", "small value")
    other.put_client_data("arg#1", "their value")
    assert store.get_client_data("arg#1") == "small value"
    assert store.get_client_data("missing") is None
    objects = _objects(store_endpoint, schema.client_data_object_prefix(store.app_id))
    assert len(objects) == 1
    assert _objects(store_endpoint, schema.payload_object_prefix(store.app_id)) == []
    with pytest.raises(InvalidKeyError, match="client data key"):
        store.put_client_data("", "x")


def test_purge_removes_the_new_kinds_but_not_client_data(
    stores: list[DynamoDBStateStore], store_endpoint: StoreEndpoint
) -> None:
    store, other = stores
    for s in stores:
        s.put_invocations([entry(1), entry(2, parent=None), entry(3, workflow="wf-2")])
        s.add_histories(["inv-1", "inv-2"], EPOCH_EDGE, "REGISTERED")
        s.put_runner_context("runner", "ctx")
        s.put_client_data("k", "value")
        s.put_invocation("big", large_body("x"))
    assert _objects(store_endpoint, schema.payload_object_prefix(store.app_id))

    store.purge()
    assert list(store.child_invocations("root")) == []
    assert list(store.invocation_ids_by_workflow(None, None)) == []
    assert list(store.history_in_timerange(EPOCH_EDGE, EPOCH_EDGE)) == []
    assert store.get_runner_contexts(["runner"]) == []
    assert list(store.matching_runner_contexts("")) == []
    assert _objects(store_endpoint, schema.payload_object_prefix(store.app_id)) == []
    assert store.get_client_data("k") == "value"

    before = counting(store)
    assert store.purge_client_data() == 2  # the item and its object
    assert used(store, before)["Query"] == len(schema.client_data_partitions(store.app_id))
    assert store.get_client_data("k") is None
    assert _objects(store_endpoint, schema.client_data_object_prefix(store.app_id)) == []

    # The other app keeps everything.
    assert sorted(other.invocation_ids_by_workflow(None, None)) == ["inv-1", "inv-2", "inv-3"]
    assert list(other.history_in_timerange(EPOCH_EDGE, EPOCH_EDGE)) == ["REGISTERED"] * 2
    assert other.get_runner_contexts(["runner"]) == ["ctx"]
    assert other.get_client_data("k") == "value"
    assert other.get_invocation("big") is not None


def test_purge_client_data_keeps_the_state(
    stores: list[DynamoDBStateStore], store_endpoint: StoreEndpoint
) -> None:
    store = stores[0]
    big = large_body("y")
    store.put_invocation("big", big)
    store.put_invocations([entry(1)])
    store.put_client_data("k1", "v1")
    store.put_client_data("k2", "v2")
    assert store.purge_client_data() == 4
    assert store.get_invocation("big") == big
    assert list(store.child_invocations("root")) == ["inv-1"]
    assert len(_objects(store_endpoint, schema.payload_object_prefix(store.app_id))) == 1


def test_expired_items_of_the_new_kinds_read_as_absent(stores: list[DynamoDBStateStore]) -> None:
    """DynamoDB deletes expired items lazily: every read skips them meanwhile."""
    store = stores[0]
    store.put_invocations([entry(1)])
    store.add_histories(["inv-1"], EPOCH_EDGE, "REGISTERED")
    store.put_runner_context("runner", "ctx")
    store.put_client_data("k", "value")
    expired = {schema.EXPIRES_AT: {"N": str(int(time.time()) - 1)}}
    partitions = schema.app_partitions(store.app_id) + schema.client_data_partitions(store.app_id)
    for pk in partitions:
        for item in list(store.client.query(builders.query_partition(store.table, pk, 100))):
            store.client.put(builders.put_item(store.table, {**item, **expired}))

    assert list(store.child_invocations("root")) == []
    assert list(store.invocation_ids_by_workflow(None, None)) == []
    assert list(store.invocation_ids_by_workflow("wf-1", None)) == []
    assert list(store.history_in_timerange(EPOCH_EDGE, EPOCH_EDGE)) == []
    assert list(store.invocation_ids_in_timerange(EPOCH_EDGE, EPOCH_EDGE)) == []
    assert store.get_runner_contexts(["runner"]) == []
    assert list(store.matching_runner_contexts("")) == []
    assert store.get_client_data("k") is None
