"""Pure builders of the trigger's conditional writes: plain dicts in, plain dicts out.

Both writes carry a token unique to the call (``WRITER``) and ask DynamoDB for the item as
it stood when the condition failed. botocore resends a request whose answer was lost; when
the first attempt had been applied, the resend finds its own write and fails the
condition. :func:`is_own_write` tells that case from a write by another runner, so a lost
answer never turns a won claim into a lost one.
"""

from typing import Final

from pynenc_dynamodb.table import schema
from pynenc_dynamodb.table.builders import Item, Request

_ALL_OLD: Final = "ALL_OLD"


def put_cron_last_execution(
    table: str, key: schema.Key, last: str, token: str, expected: str | None
) -> Request:
    """Set a cron condition's last execution to ``last`` only if it still is ``expected``
    (``None``: only if it was never set), as one conditional PutItem.

    :param key: :func:`~pynenc_dynamodb.table.schema.cron_last_execution_key`
    :param last: the new last execution, a fixed-width UTC timestamp
    :param token: unique to this call: see :func:`is_own_write`
    :param expected: the last execution the caller read, in the same form
    """
    item: Item = {
        **key,
        schema.LAST_EXECUTION: {"S": last},
        schema.WRITER: {"S": token},
    }
    request: Request = {
        "TableName": table,
        "Item": item,
        "ReturnValuesOnConditionCheckFailure": _ALL_OLD,
    }
    if expected is None:
        request["ConditionExpression"] = "attribute_not_exists(#pk)"
        request["ExpressionAttributeNames"] = {"#pk": schema.PK}
    else:
        request["ConditionExpression"] = "#last = :expected"
        request["ExpressionAttributeNames"] = {"#last": schema.LAST_EXECUTION}
        request["ExpressionAttributeValues"] = {":expected": {"S": expected}}
    return request


def put_run_claim(table: str, key: schema.Key, token: str, now: int, expires_at: int) -> Request:
    """Claim a trigger run until ``expires_at`` unless a claim that has not expired holds it,
    as one conditional PutItem.

    The expiry is the table's TTL attribute: DynamoDB deletes old claims by itself. It
    deletes them lazily (within days), so the condition compares the expiry, never relies
    on the item being gone.

    :param key: :func:`~pynenc_dynamodb.table.schema.trigger_run_claim_key`
    :param token: unique to this call: see :func:`is_own_write`
    :param now: the caller's clock, in whole epoch seconds (rounded down)
    :param expires_at: when the claim lapses, in whole epoch seconds (rounded up)
    """
    return {
        "TableName": table,
        "Item": {
            **key,
            schema.EXPIRES_AT: {"N": str(expires_at)},
            schema.WRITER: {"S": token},
        },
        "ConditionExpression": "attribute_not_exists(#pk) OR #exp <= :now",
        "ExpressionAttributeNames": {"#pk": schema.PK, "#exp": schema.EXPIRES_AT},
        "ExpressionAttributeValues": {":now": {"N": str(now)}},
        "ReturnValuesOnConditionCheckFailure": _ALL_OLD,
    }


def is_own_write(found: Item | None, token: str) -> bool:
    """Whether the item a failed conditional write found is that write's own, applied by
    an earlier attempt of the same call.

    :param found: the item DynamoDB returned with the failed condition
    :param token: the token the write carried
    """
    return found is not None and found.get(schema.WRITER) == {"S": token}


def task_link_extra(condition_ids: list[str]) -> Item:
    """The attribute of a task link naming the trigger's conditions (a list: it may be
    empty, which a string set may not)."""
    return {schema.CONDITION_IDS: {"L": [{"S": cid} for cid in condition_ids]}}


def condition_ids_of(item: Item) -> list[str]:
    """The condition ids :func:`task_link_extra` stored on a task link."""
    return [str(value["S"]) for value in item.get(schema.CONDITION_IDS, {}).get("L", [])]
