"""The CreateTable request of the state table; ``template.yaml`` must match it."""

from typing import Any

from pynenc_dynamodb.table.schema.core import (
    BODY,
    ENCODING,
    EXPIRES_AT,
    GSI1,
    GSI1_PK,
    GSI1_SK,
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
            }
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
