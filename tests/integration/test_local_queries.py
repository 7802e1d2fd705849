"""The embedded endpoint's Query reads one partition (``local/partition_reads.py``), and
answers exactly as dynalite, a second DynamoDB implementation, does: same items, order,
pages, counts and projections, on the table and on both indexes."""

import uuid
from typing import Any

from pynenc_dynamodb.aws.dynamodb import DynamoDBClient
from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.local.endpoint import LocalEndpointProcess
from pynenc_dynamodb.table.schema.core import GSI1, GSI1_PK, GSI1_SK, GSI2, GSI2_PK, GSI2_SK, PK, SK
from tests.conftest import TABLE
from tests.helpers.endpoints import StoreEndpoint

PARTITIONS = 4
ITEMS_PER_PARTITION = 30


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _items(run: str) -> list[dict[str, Any]]:
    items = []
    for p in range(PARTITIONS):
        for i in range(ITEMS_PER_PARTITION):
            item = {PK: _s(f"{run}#P{p}"), SK: _s(f"s#{i:03d}"), "n": {"N": str(i)}}
            if i % 2 == 0:  # sparse: half the items are in gsi1
                item[GSI1_PK] = _s(f"{run}#G{i % 3}")
                item[GSI1_SK] = _s(f"{p}#{i:03d}")
            if i % 5 == 0:
                item[GSI2_PK] = _s(f"{run}#H")
                item[GSI2_SK] = _s(f"{i:03d}#{p}")
            items.append(item)
    return items


def _queries(run: str) -> list[dict[str, Any]]:
    key = f"{PK} = :p"
    queries: list[dict[str, Any]] = []
    for p in range(PARTITIONS):
        values = {":p": _s(f"{run}#P{p}")}
        queries.append({"KeyConditionExpression": key, "ExpressionAttributeValues": values})
        queries.append(
            {
                "KeyConditionExpression": f"{key} AND begins_with({SK}, :b)",
                "ExpressionAttributeValues": values | {":b": _s("s#01")},
                "ScanIndexForward": False,
            }
        )
        queries.append(
            {
                "KeyConditionExpression": f"{key} AND {SK} BETWEEN :lo AND :hi",
                "FilterExpression": "n > :min",
                "ExpressionAttributeValues": values
                | {":lo": _s("s#005"), ":hi": _s("s#025"), ":min": {"N": "10"}},
                "Limit": 4,
            }
        )
        queries.append(
            {"KeyConditionExpression": key, "ExpressionAttributeValues": values, "Select": "COUNT"}
        )
    for g in range(3):
        queries.append(
            {
                "IndexName": GSI1,
                "KeyConditionExpression": f"{GSI1_PK} = :g",
                "ExpressionAttributeValues": {":g": _s(f"{run}#G{g}")},
                "Limit": 3,
            }
        )
        queries.append(
            {
                "IndexName": GSI1,
                "KeyConditionExpression": f"{GSI1_PK} = :g AND {GSI1_SK} > :after",
                "ExpressionAttributeValues": {":g": _s(f"{run}#G{g}"), ":after": _s("1#")},
                "ScanIndexForward": False,
            }
        )
    queries.append(
        {
            "IndexName": GSI2,
            "KeyConditionExpression": f"{GSI2_PK} = :h",
            "ExpressionAttributeValues": {":h": _s(f"{run}#H")},
        }
    )
    queries.append(
        {
            "KeyConditionExpression": key,
            "ExpressionAttributeValues": {":p": _s(f"{run}#absent")},
        }
    )
    return queries


def _all_pages(client: DynamoDBClient, query: dict[str, Any]) -> list[Any]:
    """Every page's items (or count) and whether it said there was more."""
    pages, request = [], {"TableName": TABLE} | query
    while True:
        answer = client.call("Query", request)
        pages.append((answer.get("Items"), answer["Count"], "LastEvaluatedKey" in answer))
        if "LastEvaluatedKey" not in answer:
            return pages
        request = request | {"ExclusiveStartKey": answer["LastEvaluatedKey"]}


def test_queries_answer_as_dynalite_does(
    endpoint: LocalEndpointProcess, dynalite: StoreEndpoint
) -> None:
    run = uuid.uuid4().hex[:8]
    clients = [
        DynamoDBClient(ClientSettings(endpoint_url=url)) for url in (endpoint.url, dynalite.url)
    ]
    items = _items(run)
    for client in clients:
        for start in range(0, len(items), 25):
            chunk = items[start : start + 25]
            client.batch_write(
                {"RequestItems": {TABLE: [{"PutRequest": {"Item": i}} for i in chunk]}}
            )

    answered = 0
    for query in _queries(run):
        on_moto, on_dynalite = (_all_pages(client, query) for client in clients)
        assert on_moto == on_dynalite, query
        answered += sum(count for _items_, count, _more in on_moto)
    # Not an empty comparison: the queries matched most of what was written.
    assert answered > len(items)


def _writes(run: str) -> list[tuple[str, dict[str, Any]]]:
    """Puts, in-place updates that add, change and remove an index key, and deletes."""

    def key(i: int) -> dict[str, Any]:
        return {PK: _s(f"{run}#P"), SK: _s(f"{i}")}

    def set_group(i: int, group: str) -> tuple[str, dict[str, Any]]:
        return (
            "UpdateItem",
            {
                "Key": key(i),
                "UpdateExpression": f"SET {GSI1_PK} = :g, {GSI1_SK} = :s",
                "ExpressionAttributeValues": {":g": _s(f"{run}#{group}"), ":s": _s(f"{i}")},
            },
        )

    writes: list[tuple[str, dict[str, Any]]] = []
    for i in range(4):
        item = key(i) | {GSI1_PK: _s(f"{run}#A"), GSI1_SK: _s(f"{i}")}
        writes.append(("PutItem", {"Item": item}))
    writes += [set_group(1, "B"), set_group(7, "A"), ("DeleteItem", {"Key": key(2)})]
    writes.append(("UpdateItem", {"Key": key(3), "UpdateExpression": f"REMOVE {GSI1_PK}"}))
    writes += [set_group(3, "B"), ("PutItem", {"Item": key(0)})]
    return writes


def test_each_write_is_seen_by_the_next_query(
    endpoint: LocalEndpointProcess, dynalite: StoreEndpoint
) -> None:
    run = uuid.uuid4().hex[:8]
    clients = [
        DynamoDBClient(ClientSettings(endpoint_url=url)) for url in (endpoint.url, dynalite.url)
    ]
    queries = [
        {
            "KeyConditionExpression": f"{PK} = :h",
            "ExpressionAttributeValues": {":h": _s(f"{run}#P")},
        }
    ] + [
        {
            "IndexName": GSI1,
            "KeyConditionExpression": f"{GSI1_PK} = :h",
            "ExpressionAttributeValues": {":h": _s(f"{run}#{group}")},
        }
        for group in "AB"
    ]
    seen_in_index = set()
    for operation, request in _writes(run):
        for client in clients:
            client.call(operation, {"TableName": TABLE} | request)
        for query in queries:
            on_moto, on_dynalite = (_all_pages(client, query) for client in clients)
            assert on_moto == on_dynalite, (operation, request, query)
            if "IndexName" in query:
                seen_in_index |= {item[SK]["S"] for page in on_moto for item in page[0]}
    # The index answers changed with the writes: items came into it and went out of it.
    assert seen_in_index == {"0", "1", "2", "3", "7"}
