"""Requests and read units of a history time-range read of one hour (the time index).

``python -m tests.benchmarks.timerange`` writes hours of 0, 1,000 and 10,000 records to the
embedded endpoint, reads each back with ``history_in_timerange``'s merge and prints, per
hour: Queries, pages, items and read units. moto's ``ConsumedCapacity`` is a constant, not
DynamoDB's, so the read units are computed from the items each page returned with
DynamoDB's rules (a Query rounds the summed sizes up to 4 KB; gsi1 reads are eventually
consistent: half). The 1,000,000-record hour is projected from the same layout: items per
1 MB page, pages per shard, read units per page.
"""

import math
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pynenc_dynamodb.aws.dynamodb import DynamoDBClient
from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.local.endpoint import LocalEndpointProcess
from pynenc_dynamodb.table import builders, schema
from pynenc_dynamodb.table.builders import Item
from pynenc_dynamodb.table.store import DynamoDBStateStore
from pynenc_dynamodb.table.timerange import merged_timerange

TABLE = "pynenc-timerange-bench"
HOUR = datetime(2026, 3, 1, 12, tzinfo=UTC)
# About the size of pynenc 0.1's JSON of one history record (status record, runner id).
BODY = '{"invocation_id": "%s", "status": "RUNNING", "runner_context_id": "%s", "pad": "%s"}'
PAGE_BYTES = 1024 * 1024
MEASURED = (0, 1_000, 10_000)
PROJECTED = 1_000_000


@dataclass(frozen=True)
class HourRead:
    """What reading one hour of the time index cost.

    :param records: records in the hour
    :param queries: Query requests (one page each)
    :param items: items the pages returned
    :param read_units: eventually consistent read units, from the items' sizes
    :param record_bytes: mean size of one index entry, as DynamoDB counts it
    """

    records: int
    queries: int
    items: int
    read_units: float
    record_bytes: float


def page_read_units(items: list[Item]) -> float:
    """Read units of one gsi1 Query page: summed sizes rounded up to 4 KB, halved."""
    size = sum(builders.item_size(item) for item in items)
    return max(1, math.ceil(size / 4096)) / 2


def body_of_size(n: int) -> str:
    return BODY % (f"inv-{n}", "runner-host-1-pid-4242", "x" * 120)


def fill_hour(store: DynamoDBStateStore, hour: datetime, records: int) -> None:
    """``records`` history records spread over the hour, 25 invocations per instant."""
    step = timedelta(hours=1) / max(records, 1)
    for first in range(0, records, 25):
        ids = [f"inv-{first + k}" for k in range(min(25, records - first))]
        store.add_histories(ids, hour + step * first, body_of_size(first), record_id="r")


def read_hour(store: DynamoDBStateStore, hour: datetime) -> HourRead:
    """Read the hour back through the merge, counting Queries, items and units."""
    end = hour + timedelta(hours=1) - timedelta(microseconds=1)
    queries, units, items_read, size = 0, 0.0, 0, 0

    def fetch(bucket: str, shard: str, cursor: Any) -> tuple[list[tuple[str, str]], Any]:
        nonlocal queries, units, items_read, size
        request = store.history_timerange_request(bucket, shard, hour, end)
        request["ReturnConsumedCapacity"] = "TOTAL"
        if cursor:
            request["ExclusiveStartKey"] = cursor
        response = store.client.call("Query", request)
        items = list(response.get("Items", []))
        queries += 1
        units += page_read_units(items)
        items_read += len(items)
        size += sum(builders.item_size(item) for item in items)
        return [(i[schema.GSI1_SK]["S"], "") for i in items], response.get("LastEvaluatedKey")

    records = sum(1 for _ in merged_timerange(hour, end, fetch))
    return HourRead(records, queries, items_read, units, size / items_read if items_read else 0)


def project_hour(records: int, record_bytes: float) -> HourRead:
    """The cost of an hour of ``records`` records of ``record_bytes`` each, read in 1 MB
    pages from each of the 16 shards (records spread evenly by the shard hash)."""
    per_page = int(PAGE_BYTES // record_bytes)
    per_shard = math.ceil(records / schema.SHARDS)
    pages = max(1, math.ceil(per_shard / per_page))
    full_page_units = math.ceil(per_page * record_bytes / 4096) / 2
    last = per_shard - (pages - 1) * per_page
    last_units = max(1, math.ceil(last * record_bytes / 4096)) / 2
    units = schema.SHARDS * ((pages - 1) * full_page_units + last_units)
    return HourRead(records, schema.SHARDS * pages, records, units, record_bytes)


def measure(endpoint_url: str) -> list[HourRead]:
    """Fill and read one hour per size in :data:`MEASURED`, each in a fresh app."""
    client = DynamoDBClient(ClientSettings(endpoint_url=endpoint_url))
    results = []
    for n, records in enumerate(MEASURED):
        store = DynamoDBStateStore(
            client=client,
            table_name=TABLE,
            app_id=f"bench-{uuid.uuid4().hex[:8]}",
            # Pages end at 1 MB, as they would with no Limit.
            page_size=100_000,
            create_table=True,
        )
        hour = HOUR + timedelta(hours=n)
        fill_hour(store, hour, records)
        results.append(read_hour(store, hour))
        store.purge()
    return results


def report(results: list[HourRead]) -> str:
    record_bytes = max(r.record_bytes for r in results)
    rows = [*results, project_hour(PROJECTED, record_bytes)]
    lines = [
        f"{'records':>10} {'queries':>8} {'items':>10} {'read units':>11}",
        *(f"{r.records:>10,} {r.queries:>8,} {r.items:>10,} {r.read_units:>11,.1f}" for r in rows),
        f"(last row projected: {record_bytes:.0f} bytes per index entry, "
        f"{int(PAGE_BYTES // record_bytes):,} per 1 MB page, 16 shards)",
    ]
    return "\n".join(lines)


def main() -> None:
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    with LocalEndpointProcess(TABLE) as endpoint:
        print(report(measure(endpoint.url)))


if __name__ == "__main__":
    main()
