"""Client overhead: our layer for single-item operations vs the raw boto3 call it makes.

Both sides send the very same request through the very same boto3 client (same config,
same connection pool), interleaved in random order, so the difference is our code only.
A second measure replaces the network with a client that answers at once, which shows our
layer's own CPU time per call.
"""

import cProfile
import io
import pstats
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pynenc import Pynenc

from pynenc_dynamodb.aws.dynamodb import DynamoDBClient
from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.state_backend.dynamodb import DynamoDBStateBackend
from pynenc_dynamodb.table import builders, schema
from pynenc_dynamodb.table.store import DynamoDBStateStore
from tests.benchmarks.workload import new_invocation

TARGET_RATIO = 1.15


@dataclass
class Pair:
    """Medians of our call and of the raw call, in microseconds."""

    name: str
    ours: float
    raw: float

    @property
    def ratio(self) -> float:
        return self.ours / self.raw


def interleaved(
    name: str, ours: Callable[[], Any], raw: Callable[[], Any], iterations: int
) -> Pair:
    """Median time of each side over ``iterations`` rounds run in random order."""
    times: dict[str, list[float]] = {"ours": [], "raw": []}
    sides = [("ours", ours), ("raw", raw)]
    for _ in range(20):
        ours()
        raw()
    for _ in range(iterations):
        random.shuffle(sides)
        for side, fn in sides:
            t0 = time.perf_counter()
            fn()
            times[side].append(time.perf_counter() - t0)
    return Pair(name, statistics.median(times["ours"]) * 1e6, statistics.median(times["raw"]) * 1e6)


class InstantClient:
    """A stand-in boto3 client answering every call at once, without I/O."""

    def __init__(self, item: dict[str, Any]) -> None:
        self._item = item

    def put_item(self, **_: Any) -> dict[str, Any]:
        return {}

    def get_item(self, **_: Any) -> dict[str, Any]:
        return {"Item": self._item}


def measure(app: Pynenc, iterations: int) -> tuple[list[Pair], dict[str, float], str]:
    """Overhead pairs against the endpoint, CPU time per call without I/O, and a profile.

    :param app: an app on :class:`DynamoDBStateBackend` at the local endpoint
    :param iterations: interleaved rounds per pair
    """
    backend = app.state_backend
    assert isinstance(backend, DynamoDBStateBackend)
    store = backend.store
    raw = store.client.boto3_client
    inv = new_invocation(app, 1)
    inv_id = inv.invocation_id
    body = app.serializer.serialize({"value": 1, "label": "done"})
    key = schema.result_key(store.app_id, inv_id)
    put_request = builders.put_item(store.table, builders.build_item(key, body, None))
    get_request = builders.get_item(store.table, key)
    store.put_result(inv_id, body)
    pairs = [
        interleaved(
            "store.put_result",
            lambda: store.put_result(inv_id, body),
            lambda: raw.put_item(**put_request),
            iterations,
        ),
        interleaved(
            "store.get_result",
            lambda: store.get_result(inv_id),
            lambda: raw.get_item(**get_request),
            iterations,
        ),
        interleaved(
            "DynamoDBStateBackend.get_result",
            lambda: backend.get_result(inv),
            lambda: raw.get_item(**get_request),
            iterations,
        ),
    ]
    # Our layer alone: the same calls against a client that does no I/O.
    item = raw.get_item(**get_request)["Item"]
    offline = DynamoDBStateStore(
        client=DynamoDBClient(ClientSettings(), factory=lambda _: InstantClient(item)),
        table_name=store.table,
        app_id=store.app_id,
    )
    offline._checked = True
    cpu: dict[str, float] = {}
    offline_calls: list[tuple[str, Callable[[], Any]]] = [
        ("store.put_result", lambda: offline.put_result(inv_id, body)),
        ("store.get_result", lambda: offline.get_result(inv_id)),
    ]
    for name, fn in offline_calls:
        n = 20_000
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        cpu[name] = (time.perf_counter() - t0) / n * 1e6
    return pairs, cpu, profile_calls(store, inv_id, body, iterations)


def profile_calls(store: DynamoDBStateStore, inv_id: str, body: str, iterations: int) -> str:
    """cProfile of get/put through the store: the top functions by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(iterations):
        store.put_result(inv_id, body)
        store.get_result(inv_id)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("tottime")
    stats.print_stats(12)
    return out.getvalue()
