"""Scale: listing runs, reading history and purging an app at growing sizes.

Items are loaded with BatchWriteItem through the store's client, keys from
:mod:`pynenc_dynamodb.table.schema`. Each measure is taken twice: once for time, once under
tracemalloc for peak memory (tracemalloc slows Python down, so it never times).
"""

import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pynenc.invocation.status import InvocationStatus
from pynenc.state_backend.base_state_backend import InvocationHistory
from pynenc.workflow import WorkflowIdentity

from pynenc_dynamodb.aws.dynamodb import DynamoDBClient
from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.table import builders, schema
from pynenc_dynamodb.table.builders import Item
from pynenc_dynamodb.table.store import DynamoDBStateStore
from tests.benchmarks.workload import WORKFLOW_TASK, BotocoreCounter

BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
# Items per Query page (~300 KB here, under DynamoDB's 1 MB cap): fewer emulator round trips.
PAGE_SIZE = 1000


@dataclass
class Measure:
    """One measured operation at one size.

    :param what: the operation
    :param items: items it went through
    :param seconds: wall time
    :param cpu: CPU seconds of this (client) process
    :param peak_kib: peak traced memory, KiB
    :param requests: DynamoDB requests it made, by operation
    """

    what: str
    items: int
    seconds: float
    cpu: float
    peak_kib: float
    requests: dict[str, int]


def new_store(url: str, table: str, app_id: str) -> tuple[DynamoDBStateStore, BotocoreCounter]:
    client = DynamoDBClient(ClientSettings(endpoint_url=url))
    store = DynamoDBStateStore(client=client, table_name=table, app_id=app_id, page_size=PAGE_SIZE)
    return store, BotocoreCounter(client.boto3_client)


def load(store: DynamoDBStateStore, items: Iterable[Item], threads: int = 4) -> None:
    """Write ``items`` 25 per BatchWriteItem, a few requests in flight at once."""
    requests = builders.batch_writes(store.table, puts=list(items))
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(store.client.batch_write, requests))


def history_items(app_id: str, invocation_id: str, count: int) -> Iterable[Item]:
    body = InvocationHistory(invocation_id, InvocationStatus.RUNNING).to_json()
    for i in range(count):
        ts = BASE_TIME + timedelta(microseconds=i)
        key = schema.history_key(app_id, invocation_id, ts, f"r{i}")
        yield builders.build_item(key, body, None)


def run_items(app_id: str, count: int) -> Iterable[Item]:
    yield builders.build_item(schema.workflow_type_key(app_id, WORKFLOW_TASK), WORKFLOW_TASK, None)
    for i in range(count):
        wf_id = f"run-{i:06d}"
        ts = BASE_TIME + timedelta(microseconds=i)
        body = WorkflowIdentity(WORKFLOW_TASK, wf_id).to_json()
        index = schema.workflow_run_index_keys(app_id, WORKFLOW_TASK, wf_id, ts)
        yield builders.build_item(schema.workflow_run_key(app_id, wf_id), body, None, index)


def measured(
    what: str,
    counter: BotocoreCounter,
    fn: Callable[[], int],
    memory: Callable[[], int] | None,
    traced: bool = False,
) -> Measure:
    """Time ``fn`` (which returns the items it went through); trace ``memory`` if given.

    :param traced: trace ``fn`` itself (for what cannot run twice, such as purge)
    """
    before = counter.snapshot()
    if traced:
        tracemalloc.start()
    t0, c0 = time.perf_counter(), time.process_time()
    items = fn()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    requests = dict(counter.snapshot() - before)
    peak = 0.0
    if traced:
        peak = tracemalloc.get_traced_memory()[1] / 1024
        tracemalloc.stop()
    if memory is not None:
        tracemalloc.start()
        memory()
        peak = tracemalloc.get_traced_memory()[1] / 1024
        tracemalloc.stop()
    return Measure(what, items, seconds, cpu, peak, requests)


def count_iter(iterator: Iterable[Any]) -> int:
    return sum(1 for _ in iterator)


def scale_at(url: str, table: str, size: int, runs_cap: int) -> list[Measure]:
    """Load an app with ``size`` history records and up to ``runs_cap`` runs; read, purge.

    :param runs_cap: most runs to load (moto's GSI Query reads the whole index per page)
    """
    app_id = f"scale-{size}-{uuid.uuid4().hex[:8]}"
    store, counter = new_store(url, table, app_id)
    inv_id = "inv-big"
    load(store, history_items(app_id, inv_id, size))
    load(store, run_items(app_id, min(size, runs_cap)))
    runs = lambda: count_iter(store.workflow_runs(WORKFLOW_TASK))  # noqa: E731
    history = lambda: count_iter(store.get_history(inv_id))  # noqa: E731
    first = lambda: count_iter([next(iter(store.get_history(inv_id)))])  # noqa: E731
    body = InvocationHistory(inv_id, InvocationStatus.SUCCESS).to_json()

    def append() -> int:
        store.add_history(inv_id, datetime.now(UTC), body)
        return 1

    out = [
        measured("list runs", counter, runs, runs),
        measured("read history", counter, history, history),
        measured("first history item", counter, first, first),
        measured("append history", counter, append, None),
        measured("purge app (traced)", counter, store.purge, None, traced=True),
    ]
    return out


def purge_small(url: str, table: str, items: int) -> Measure:
    """Purge a small app of ``items`` history records (timed, with its requests)."""
    app_id = f"small-{uuid.uuid4().hex[:8]}"
    store, counter = new_store(url, table, app_id)
    load(store, history_items(app_id, "inv-small", items))
    return measured("purge small app", counter, store.purge, None)


def neighbour(url: str, table: str, size: int) -> str:
    """Load another app of ``size`` items into ``table``; returns its id."""
    app_id = f"neighbour-{uuid.uuid4().hex[:8]}"
    store, _ = new_store(url, table, app_id)
    per_invocation = 1000
    for n in range(0, size, per_invocation):
        load(store, history_items(app_id, f"inv-{n}", min(per_invocation, size - n)))
    return app_id
