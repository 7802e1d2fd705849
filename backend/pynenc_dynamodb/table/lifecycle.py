"""Checking, and if allowed creating, the state table before the first write."""

import logging
import time
from typing import Any

from pynenc_dynamodb.aws.dynamodb import SETTINGS_HINT, DynamoDBClient
from pynenc_dynamodb.errors import (
    DynamoDBRequestError,
    TableNotFoundError,
    TableSchemaError,
)
from pynenc_dynamodb.table import schema

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


def schema_problems(
    description: dict[str, Any], table_name: str, required: frozenset[str] | None = None
) -> list[str]:
    """What differs between a described table and :func:`schema.table_definition`.

    :param required: the indexes to check (all of them for ``None``): the state needs
        gsi1 only, so a table deployed before the orchestrator's gsi2 still serves it
    """
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
        if required is not None and index["IndexName"] not in required:
            continue
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


# DynamoDB serves reads and writes while a table is UPDATING (capacity, stream or index
# changes); only a CREATING table refuses them (ResourceNotFoundException).
SERVING = frozenset({"ACTIVE", "UPDATING"})
POLL_SECONDS = 0.5
TTL_ON = frozenset({"ENABLED", "ENABLING"})
# Endpoints without the TTL API (dynalite) answer this: items still carry expires_at and
# reads skip expired ones; only the deletion by DynamoDB is missing.
NO_TTL_API = "UnknownOperationException"


def ensure_table(
    client: DynamoDBClient,
    table_name: str,
    create: bool,
    *,
    wait_seconds: float = 120.0,
    ttl_seconds: int = 0,
    check_ttl: bool = True,
    required_indexes: frozenset[str] | None = None,
) -> None:
    """Make sure ``table_name`` exists with our schema and serves requests.

    Creates the table if ``create``, and waits, at most ``wait_seconds``, while it is
    still being created, whichever process created it. With ``ttl_seconds`` the table's
    time-to-live must be on: it is enabled if ``create``, else a missing TTL is logged
    (unless ``check_ttl`` is off: for tables deployed with TTL on, as ``template.yaml`` does).

    :raises TableNotFoundError: if the table is missing and ``create`` is off, or does
        not serve requests within ``wait_seconds``
    :param required_indexes: the indexes the caller uses (every index for ``None``); a
        table is created with all of them
    :raises TableSchemaError: if the table exists with other keys or indexes
    """
    description = _describe(client, table_name)
    created = False
    if description is None:
        if not create:
            raise TableNotFoundError(
                f"DynamoDB table {table_name!r} does not exist. Deploy it (template.yaml), "
                "or let the backend create it with dynamodb_create_table=true "
                f"({SETTINGS_HINT}DYNAMODB_CREATE_TABLE), or fix dynamodb_table_name."
            )
        description = _create(client, table_name)
        created = True
    if description.get("TableStatus") not in SERVING:
        description = _wait_until_serving(client, table_name, description, wait_seconds)
    problems = schema_problems(description, table_name, required_indexes)
    if problems:
        raise TableSchemaError(
            f"DynamoDB table {table_name!r} exists but does not have the pynenc-dynamodb "
            f"schema: {'; '.join(problems)}. Point dynamodb_table_name at another table."
        )
    if created:
        _enable_ttl(client, table_name)
    elif ttl_seconds > 0 and check_ttl:
        _check_ttl(client, table_name, create)


def _create(client: DynamoDBClient, table_name: str) -> dict[str, Any]:
    logger.info("Creating DynamoDB table %s", table_name)
    try:
        response = client.call("CreateTable", schema.table_definition(table_name))
        return dict(response["TableDescription"])
    except DynamoDBRequestError as exc:
        # Another worker may have created it at the same moment.
        if exc.code != "ResourceInUseException":
            raise
    return _describe(client, table_name) or {"TableStatus": "CREATING"}


def _wait_until_serving(
    client: DynamoDBClient, table_name: str, description: dict[str, Any], wait_seconds: float
) -> dict[str, Any]:
    """Poll DescribeTable until the table is ACTIVE (or UPDATING), at most ``wait_seconds``."""
    status = description.get("TableStatus")
    logger.info("Waiting for DynamoDB table %s (%s) to become ACTIVE", table_name, status)
    deadline = time.monotonic() + wait_seconds
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TableNotFoundError(
                f"DynamoDB table {table_name!r} was still {status} after waiting "
                f"dynamodb_table_wait_seconds={wait_seconds:g}s for it to become ACTIVE. "
                f"Raise the setting ({SETTINGS_HINT}DYNAMODB_TABLE_WAIT_SECONDS) or check "
                "the table in the AWS console."
            )
        time.sleep(min(POLL_SECONDS, remaining))
        found = _describe(client, table_name)
        status = found.get("TableStatus") if found else "missing"
        if found is not None and status in SERVING:
            return found


def _enable_ttl(client: DynamoDBClient, table_name: str) -> None:
    ttl = {"Enabled": True, "AttributeName": schema.EXPIRES_AT}
    try:
        client.call("UpdateTimeToLive", {"TableName": table_name, "TimeToLiveSpecification": ttl})
    except DynamoDBRequestError as exc:
        if exc.code == NO_TTL_API:
            _warn_no_ttl_api(table_name)
        # ValidationException: a concurrent process enabled it first, the outcome is the same.
        elif exc.code != "ValidationException":
            raise


def _check_ttl(client: DynamoDBClient, table_name: str, create: bool) -> None:
    """Make sure expired items get deleted: enable TTL if allowed, else say it is off."""
    try:
        answer = client.call("DescribeTimeToLive", {"TableName": table_name})
    except DynamoDBRequestError as exc:
        if exc.code == NO_TTL_API:
            _warn_no_ttl_api(table_name)
            return
        # A least-privilege role may lack the permission: the check must not stop the worker.
        if exc.code == "AccessDeniedException":
            logger.warning(
                "Cannot check the time-to-live of DynamoDB table %s (%s): grant "
                "dynamodb:DescribeTimeToLive, or make sure TTL is on for %s",
                table_name,
                exc,
                schema.EXPIRES_AT,
            )
            return
        raise
    description = answer.get("TimeToLiveDescription", {})
    status = description.get("TimeToLiveStatus", "DISABLED")
    attribute = description.get("AttributeName", schema.EXPIRES_AT)
    if status in TTL_ON and attribute == schema.EXPIRES_AT:
        return
    if create and status == "DISABLED":
        _enable_ttl(client, table_name)
        return
    logger.warning(
        "DynamoDB table %s has time-to-live %s (attribute %s, expected %s) while "
        "dynamodb_ttl_seconds is set: expired items are skipped by reads but never deleted. "
        "Enable TTL on %s (template.yaml does), or set dynamodb_create_table=true to let "
        "the backend enable it.",
        table_name,
        status,
        description.get("AttributeName", "none"),
        schema.EXPIRES_AT,
        schema.EXPIRES_AT,
    )


def _warn_no_ttl_api(table_name: str) -> None:
    logger.warning(
        "The DynamoDB endpoint of table %s has no time-to-live API: expired items are "
        "skipped by reads but never deleted",
        table_name,
    )
