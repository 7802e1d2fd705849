"""Checking, and if allowed creating, the state table before the first write."""

import logging
import time
from typing import Any

from pynenc_dynamodb import schema
from pynenc_dynamodb.client import SETTINGS_HINT, DynamoDBClient
from pynenc_dynamodb.errors import (
    DynamoDBRequestError,
    TableNotFoundError,
    TableSchemaError,
)

logger = logging.getLogger(__name__)


def _describe(client: DynamoDBClient, table_name: str) -> dict[str, Any] | None:
    try:
        return dict(client.call("DescribeTable", {"TableName": table_name})["Table"])
    except TableNotFoundError:
        return None


def _key_schema(definition: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(k["AttributeName"], k["KeyType"]) for k in definition]


def _projects(have: dict[str, Any], want: dict[str, Any]) -> bool:
    """Whether an index projection holds at least the attributes ``want`` names."""
    if have.get("ProjectionType") == "ALL":
        return True
    if have.get("ProjectionType") != "INCLUDE":
        return False
    return set(want.get("NonKeyAttributes", [])) <= set(have.get("NonKeyAttributes", []))


def schema_problems(description: dict[str, Any], table_name: str) -> list[str]:
    """What differs between a described table and :func:`schema.table_definition`."""
    expected = schema.table_definition(table_name)
    problems = []
    want_keys = _key_schema(expected["KeySchema"])
    have_keys = _key_schema(description.get("KeySchema", []))
    if have_keys != want_keys:
        problems.append(f"key schema is {have_keys}, expected {want_keys}")
    types = {
        a["AttributeName"]: a["AttributeType"] for a in description.get("AttributeDefinitions", [])
    }
    for attribute in expected["AttributeDefinitions"]:
        name = attribute["AttributeName"]
        if name in types and types[name] != attribute["AttributeType"]:
            problems.append(f"attribute {name} has type {types[name]}, expected S")
    indexes = {i["IndexName"]: i for i in description.get("GlobalSecondaryIndexes", [])}
    for index in expected["GlobalSecondaryIndexes"]:
        have = indexes.get(index["IndexName"])
        if have is None:
            problems.append(f"global secondary index {index['IndexName']} is missing")
        elif _key_schema(have["KeySchema"]) != _key_schema(index["KeySchema"]):
            problems.append(
                f"index {index['IndexName']} has key schema "
                f"{_key_schema(have['KeySchema'])}, expected "
                f"{_key_schema(index['KeySchema'])}"
            )
        elif not _projects(have.get("Projection", {}), index["Projection"]):
            problems.append(
                f"index {index['IndexName']} projects {have.get('Projection')}, "
                f"expected at least {index['Projection']}"
            )
    return problems


def ensure_table(
    client: DynamoDBClient, table_name: str, create: bool, wait_seconds: float = 120.0
) -> None:
    """Make sure ``table_name`` exists with our schema, creating it if ``create``.

    :raises TableNotFoundError: if the table is missing and ``create`` is off
    :raises TableSchemaError: if the table exists with other keys or indexes
    """
    description = _describe(client, table_name)
    if description is None:
        if not create:
            raise TableNotFoundError(
                f"DynamoDB table {table_name!r} does not exist. Deploy it (template.yaml), "
                "or let the backend create it with dynamodb_create_table=true "
                f"({SETTINGS_HINT}DYNAMODB_CREATE_TABLE), or fix dynamodb_table_name."
            )
        description = _create(client, table_name, wait_seconds)
    problems = schema_problems(description, table_name)
    if problems:
        raise TableSchemaError(
            f"DynamoDB table {table_name!r} exists but does not have the pynenc-dynamodb "
            f"schema: {'; '.join(problems)}. Point dynamodb_table_name at another table."
        )


def _create(client: DynamoDBClient, table_name: str, wait_seconds: float) -> dict[str, Any]:
    logger.info("Creating DynamoDB table %s", table_name)
    try:
        client.call("CreateTable", schema.table_definition(table_name))
    except DynamoDBRequestError as exc:
        # Another worker may have created it at the same moment.
        if exc.code != "ResourceInUseException":
            raise
    deadline = time.monotonic() + wait_seconds
    while True:
        description = _describe(client, table_name)
        if description and description.get("TableStatus") == "ACTIVE":
            break
        if time.monotonic() > deadline:
            raise TableNotFoundError(
                f"DynamoDB table {table_name!r} was not ACTIVE after {wait_seconds}s"
            )
        time.sleep(0.5)
    ttl = {"Enabled": True, "AttributeName": schema.EXPIRES_AT}
    try:
        client.call("UpdateTimeToLive", {"TableName": table_name, "TimeToLiveSpecification": ttl})
    except DynamoDBRequestError as exc:
        # A concurrent creator enabled it first: the outcome is the same.
        if exc.code != "ValidationException":
            raise
    return description
