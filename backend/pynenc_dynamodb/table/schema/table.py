"""The CreateTable request of the state table; ``template.yaml`` must match it."""

from typing import Any

from pynenc_dynamodb.table.schema.core import (
    BODY,
    ENCODING,
    EXPIRES_AT,
    GSI1,
    GSI1_PK,
    GSI1_SK,
    GSI2,
    GSI2_PK,
    GSI2_SK,
    OWNER,
    PK,
    SK,
)


def table_definition(table_name: str) -> dict[str, Any]:
    """The CreateTable request of the state table; ``template.yaml`` must match it."""
    return {
        "TableName": table_name,
        "AttributeDefinitions": [
            {"AttributeName": PK, "AttributeType": "S"},
            {"AttributeName": SK, "AttributeType": "S"},
            {"AttributeName": GSI1_PK, "AttributeType": "S"},
            {"AttributeName": GSI1_SK, "AttributeType": "S"},
            {"AttributeName": GSI2_PK, "AttributeType": "S"},
            {"AttributeName": GSI2_SK, "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": PK, "KeyType": "HASH"},
            {"AttributeName": SK, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": GSI1,
                "KeySchema": [
                    {"AttributeName": GSI1_PK, "KeyType": "HASH"},
                    {"AttributeName": GSI1_SK, "KeyType": "RANGE"},
                ],
                # Listing runs reads the body (the run's identity), its encoding and expiry
                # from the index alone; the rest of the item is not copied.
                "Projection": {
                    "ProjectionType": "INCLUDE",
                    "NonKeyAttributes": [BODY, ENCODING, EXPIRES_AT],
                },
            },
            {
                "IndexName": GSI2,
                "KeySchema": [
                    {"AttributeName": GSI2_PK, "KeyType": "HASH"},
                    {"AttributeName": GSI2_SK, "KeyType": "RANGE"},
                ],
                # The orchestrator's second index (statuses by status, registrations by
                # time, waited invocations): its keys name the invocation, and running
                # recovery reads the owner; nothing else is copied.
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": [OWNER]},
            },
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
