"""``python -m tests.benchmarks.local_queries``: milliseconds per Query on the embedded
endpoint as its table grows, with moto's own Query (lists and sorts the whole table) and with
the endpoint's partition-local one (``pynenc_dynamodb.local.partition_reads``).

Each side runs in a process of its own: the partition reads, once installed, are for the
whole process.
"""

import argparse
import multiprocessing
import time

from pynenc_dynamodb.aws.dynamodb import DynamoDBClient
from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.local.endpoint import LocalEndpoint, LoopbackServer
from pynenc_dynamodb.table.lifecycle import ensure_table
from pynenc_dynamodb.table.schema.core import GSI1, GSI1_PK, GSI1_SK, PK, SK

TABLE = "bench"
PARTITIONS = 500
INDEX_KEYS = 16
QUERIES = 50


def _server(partition_reads: bool) -> LoopbackServer:
    if partition_reads:
        return LocalEndpoint()
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return LoopbackServer(DomainDispatcherApplication(create_backend_app))


def _fill(client: DynamoDBClient, start: int, stop: int) -> None:
    for first in range(start, stop, 25):
        puts = [
            {
                "PutRequest": {
                    "Item": {
                        PK: {"S": f"P{n % PARTITIONS}"},
                        SK: {"S": f"{n:08d}"},
                        GSI1_PK: {"S": f"G{n % INDEX_KEYS}"},
                        GSI1_SK: {"S": f"{n:08d}"},
                    }
                }
            }
            for n in range(first, min(first + 25, stop))
        ]
        client.batch_write({"RequestItems": {TABLE: puts}})


def _ms_per_query(client: DynamoDBClient, index: str | None) -> float:
    started = time.perf_counter()
    for n in range(QUERIES):
        request = {
            "TableName": TABLE,
            "KeyConditionExpression": f"{GSI1_PK if index else PK} = :h",
            "ExpressionAttributeValues": {":h": {"S": f"G{n % INDEX_KEYS}" if index else f"P{n}"}},
            "Limit": 20,
        } | ({"IndexName": index} if index else {})
        client.call("Query", request)
    return (time.perf_counter() - started) / QUERIES * 1000


def _measure(partition_reads: bool, sizes: list[int], out: "multiprocessing.Queue[str]") -> None:
    server = _server(partition_reads).start()
    client = DynamoDBClient(ClientSettings(endpoint_url=server.url))
    ensure_table(client, TABLE, True)
    written = 0
    label = "partition reads" if partition_reads else "moto's own"
    for size in sizes:
        _fill(client, written, size)
        written = size
        table, index = _ms_per_query(client, None), _ms_per_query(client, GSI1)
        out.put(f"| {label} | {size:,} | {table:.1f} | {index:.1f} |")
    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,5000,20000", help="table sizes, in items")
    sizes = [int(size) for size in parser.parse_args().sizes.split(",")]
    print("| Query | items in the table | ms per table Query | ms per gsi1 Query |")
    print("|---|---:|---:|---:|")
    context = multiprocessing.get_context("spawn")
    for partition_reads in (False, True):
        out: multiprocessing.Queue[str] = context.Queue()
        process = context.Process(target=_measure, args=(partition_reads, sizes, out))
        process.start()
        for _size in sizes:
            print(out.get(), flush=True)
        process.join()


if __name__ == "__main__":
    main()
