"""Purge through the state API is resumable: each request deletes a bounded number of
items (and then payload objects) within a bounded time and says whether the app is empty;
the client repeats it until it is."""

import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pynenc_dynamodb.api.client import ApiSettings, ApiStateStore
from pynenc_dynamodb.aws.dynamodb import DynamoDBClient
from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.local.endpoint import LocalEndpointProcess
from pynenc_dynamodb.table import builders, schema
from pynenc_dynamodb.table.store import DynamoDBStateStore
from tests.conftest import TABLE, unique_app_id


def seed(endpoint: LocalEndpointProcess, app_id: str, count: int) -> None:
    """``count`` invocation items of ``app_id``, 25 per BatchWriteItem, past the API."""
    client = DynamoDBClient(ClientSettings(endpoint_url=endpoint.url))
    items = [
        builders.build_item(schema.invocation_key(app_id, f"inv-{n}"), f"body {n}", None)
        for n in range(count)
    ]
    requests = builders.batch_writes(TABLE, puts=items)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(client.batch_write, requests))


def test_each_step_is_bounded_in_items_and_time(endpoint: LocalEndpointProcess) -> None:
    app_id = unique_app_id("steps")
    seed(endpoint, app_id, 300)
    store = DynamoDBStateStore(
        client=DynamoDBClient(ClientSettings(endpoint_url=endpoint.url)),
        table_name=TABLE,
        app_id=app_id,
    )
    # At most max_items per step.
    deleted, position = store.purge_step(max_items=40, max_seconds=60)
    assert deleted == 40 and position is not None
    # No time left: one Query's worth, then the step ends, not the purge.
    deleted, position = store.purge_step(max_items=10_000, max_seconds=0, start=position)
    assert 0 < deleted < 260 and position is not None
    total = 40 + deleted
    for _ in range(300):
        deleted, position = store.purge_step(10_000, max_seconds=0, start=position)
        total += deleted
        if position is None:
            break
    assert position is None and total == 300
    assert store.get_invocation("inv-1") is None


@pytest.mark.slow
def test_purge_of_20000_items_through_the_local_api(
    state_api: Any, endpoint: LocalEndpointProcess
) -> None:
    """The slow one: 20,000 items and a few payload objects, purged by bounded requests.
    Prints items and seconds per request (run with -s to see them)."""
    app_id = unique_app_id("purge20k")
    started = time.perf_counter()
    seed(endpoint, app_id, 20_000)
    seeded = time.perf_counter() - started
    store = ApiStateStore(ApiSettings(state_api.url), app_id)
    for n in range(3):  # beyond an item even compressed: payload objects
        store.put_result(f"large-{n}", os.urandom(300 * 1024).hex())
    steps: list[tuple[int, float]] = []
    done = False
    began = time.perf_counter()
    query: dict[str, str] | None = None
    while not done:
        before = time.perf_counter()
        status, answer = store.request("DELETE", f"/apps/{app_id}", query=query)
        steps.append((answer["deleted"], time.perf_counter() - before))
        assert status == 200 and len(steps) < 100
        done = answer["done"]
        query = {"cursor": answer["next_cursor"]}
    total = time.perf_counter() - began
    counts = [count for count, _ in steps]
    print(
        f"\nseeded 20,000 items in {seeded:.1f} s; purge: {len(steps)} requests, "
        f"{total:.1f} s in all\n"
        + "\n".join(f"  request {i + 1}: {c} deleted, {s:.2f} s" for i, (c, s) in enumerate(steps))
    )
    assert sum(counts) == 20_000 + 3 + 3  # items, their result items' objects
    assert max(counts) <= 2000
    assert store.get_invocation("inv-0") is None
    assert store.get_result("large-0") is None
    assert store.purge() == 0
