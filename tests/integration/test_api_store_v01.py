"""pynenc 0.1's store operations over HTTP: :class:`ApiStateStore` through the local state
API gives what :class:`DynamoDBStateStore` gives for the same operations, each batch call
is one HTTP request while it fits one, and larger batches are split before anything is
sent."""

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pynenc_dynamodb.api import routes
from pynenc_dynamodb.api.client import ApiSettings, ApiStateStore
from pynenc_dynamodb.aws.dynamodb import DynamoDBClient
from pynenc_dynamodb.aws.s3 import S3BlobStore
from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.errors import InvalidKeyError
from pynenc_dynamodb.local.endpoint import DEFAULT_BUCKET, LocalEndpointProcess
from pynenc_dynamodb.table.entries import InvocationEntry
from pynenc_dynamodb.table.payloads import PayloadCodec, PayloadPolicy
from pynenc_dynamodb.table.store import DynamoDBStateStore
from tests.conftest import TABLE, unique_app_id

T0 = datetime(2024, 3, 9, 22, 58, tzinfo=UTC)


class Counted(ApiStateStore):
    """An API store counting the HTTP requests it sends, by method and path."""

    def __init__(self, settings: ApiSettings, app_id: str) -> None:
        super().__init__(settings, app_id)
        self.sent: Counter[str] = Counter()

    def _send_once(self, method: str, url: str, body: bytes | None) -> Any:
        self.sent[method] += 1
        return super()._send_once(method, url, body)


@pytest.fixture
def api_store(state_api: Any) -> Iterator[Counted]:
    store = Counted(ApiSettings(state_api.url), unique_app_id("api01"))
    yield store
    store.purge()
    store.purge_client_data()


@pytest.fixture
def direct(endpoint: LocalEndpointProcess) -> Iterator[DynamoDBStateStore]:
    """The same table and bucket as the local API, past it."""
    app_id = unique_app_id("direct01")
    settings = ClientSettings(endpoint_url=endpoint.url)
    store = DynamoDBStateStore(
        client=DynamoDBClient(settings),
        table_name=TABLE,
        app_id=app_id,
        codec=PayloadCodec(app_id, PayloadPolicy(), S3BlobStore(settings, DEFAULT_BUCKET)),
    )
    yield store
    store.purge()
    store.purge_client_data()


def entries() -> list[InvocationEntry]:
    made = [InvocationEntry("root", "root body", "root", "flows.Main", None)]
    made += [
        InvocationEntry(f"c{n}#/ü", f"body {n}", "root", "flows.Main", "root") for n in range(30)
    ]
    made += [
        InvocationEntry(f"o{n}", f"other {n}", f"wf{n}", "flows.Other", None) for n in range(5)
    ]
    # The same id twice in one batch: the last one is kept.
    made.append(InvocationEntry("o0", "other 0, again", "wf0", "flows.Other", None))
    return made


def scenario(store: Any) -> dict[str, Any]:
    """Every pynenc 0.1 operation, and what each read gives."""
    seen: dict[str, Any] = {}
    store.put_invocations(entries())
    seen["invocation"] = store.get_invocation("o0")
    seen["children"] = sorted(store.child_invocations("root"))
    seen["no children"] = list(store.child_invocations("o1"))
    seen["by workflow"] = sorted(store.invocation_ids_by_workflow("root", None))
    seen["by type"] = sorted(store.invocation_ids_by_workflow(None, "flows.Other"))
    seen["by both"] = sorted(store.invocation_ids_by_workflow("wf1", "flows.Other"))
    seen["by neither"] = sorted(store.invocation_ids_by_workflow(None, None))
    # 5 instants over three hours, 60 invocations each: several pages of records.
    for n in range(5):
        ids = [f"h{k:02d}" for k in range(n, n + 60)]
        store.add_histories(ids, T0 + timedelta(minutes=37 * n), f"status {n}", f"r{n}")
    seen["history"] = list(store.history_in_timerange(T0, T0 + timedelta(hours=3)))
    inner = (T0 + timedelta(minutes=37), T0 + timedelta(minutes=37 * 3))
    seen["history inner"] = list(store.history_in_timerange(*inner))
    seen["ids inner"] = list(store.invocation_ids_in_timerange(*inner))
    seen["empty range"] = list(store.history_in_timerange(T0 - timedelta(hours=2), T0))
    for runner in ["proc-1", "proc-2", "thread#9", "%23"]:
        store.put_runner_context(runner, f"ctx {runner}")
    asked = ["proc-2", "missing", "%23", "proc-2", "thread#9"]
    seen["contexts"] = store.get_runner_contexts(asked)
    seen["matching"] = sorted(store.matching_runner_contexts("proc"))
    seen["matching 23"] = sorted(store.matching_runner_contexts("23"))
    store.put_client_data("arg#1", "x" * 300_000)
    seen["client data"] = store.get_client_data("arg#1")
    seen["no client data"] = store.get_client_data("arg#2")
    seen["state purged"] = store.purge()
    seen["client data kept"] = store.get_client_data("arg#1") == "x" * 300_000
    seen["contexts purged"] = store.get_runner_contexts(asked)
    seen["client data purged"] = store.purge_client_data()
    seen["client data gone"] = store.get_client_data("arg#1")
    return seen


def test_the_api_store_gives_what_the_table_store_gives(
    api_store: Counted, direct: DynamoDBStateStore
) -> None:
    over_http = scenario(api_store)
    assert over_http == scenario(direct)
    # And what that is.
    assert over_http["invocation"] == "other 0, again"
    assert len(over_http["children"]) == 30
    assert over_http["by both"] == ["o1"]
    assert len(over_http["history"]) == 300
    assert over_http["history"] == sorted(over_http["history"])  # "status n" in time order
    assert over_http["ids inner"] == [f"h{k:02d}" for k in range(1, 63)]
    assert over_http["contexts"] == ["ctx proc-2", "ctx %23", "ctx thread#9"]
    assert over_http["matching 23"] == ["ctx %23"]
    assert over_http["client data kept"] and over_http["client data gone"] is None
    assert over_http["contexts purged"] == []


def counted(store: Counted, operation: Callable[[], object]) -> Counter[str]:
    before = Counter(store.sent)
    operation()
    return store.sent - before


def test_a_batch_is_one_request(api_store: Counted) -> None:
    when = T0
    many = [InvocationEntry(f"i{n}", "b", "wf", "t", "p") for n in range(300)]
    assert counted(api_store, lambda: api_store.put_invocations(many)) == {"POST": 1}
    ids = [f"i{n}" for n in range(1000)]
    assert counted(api_store, lambda: api_store.add_histories(ids, when, "s")) == {"POST": 1}
    runners = [f"r{n}" for n in range(1000)]
    assert counted(api_store, lambda: api_store.get_runner_contexts(runners)) == {"POST": 1}
    assert counted(api_store, lambda: api_store.put_invocations([])) == {}


def test_larger_batches_are_split_below_the_limits(api_store: Counted) -> None:
    limit = routes.MAX_INVOCATIONS_PER_REQUEST
    many = [InvocationEntry(f"i{n}", "b", "wf", "t", None) for n in range(limit + 1)]
    assert counted(api_store, lambda: api_store.put_invocations(many)) == {"POST": 2}
    assert len(list(api_store.invocation_ids_by_workflow("wf", None))) == limit + 1
    # Three bodies of 1.5 MB: two fit one request below 4 MiB, the third goes in another.
    large = [InvocationEntry(f"l{n}", str(n) * 1_500_000, "wf", "t", None) for n in range(3)]
    assert counted(api_store, lambda: api_store.put_invocations(large)) == {"POST": 2}
    assert api_store.get_invocation("l2") == "2" * 1_500_000
    ids = [f"{n:0400d}" for n in range(routes.MAX_HISTORY_IDS_PER_REQUEST + 1)]
    assert counted(api_store, lambda: api_store.add_histories(ids, T0, "s")) == {"POST": 2}
    runners = [f"r{n}" for n in range(routes.MAX_RUNNER_IDS_PER_REQUEST * 2 + 1)]
    assert counted(api_store, lambda: api_store.get_runner_contexts(runners)) == {"POST": 3}


def test_a_bad_key_in_a_split_batch_sends_nothing(api_store: Counted) -> None:
    limit = routes.MAX_INVOCATIONS_PER_REQUEST
    many = [InvocationEntry(f"i{n}", "b", "wf", "t", None) for n in range(limit)]
    many.append(InvocationEntry("last", "b", "wf", "t", "p" * 600))
    with pytest.raises(InvalidKeyError) as info:
        counted(api_store, lambda: api_store.put_invocations(many))
    assert info.value.field == "parent_id"
    assert api_store.sent == {}
    # One request: the API validates the whole batch before writing any of it.
    with pytest.raises(InvalidKeyError):
        api_store.add_histories(["fine", ""], T0, "s")
    assert list(api_store.history_in_timerange(T0, T0)) == []
