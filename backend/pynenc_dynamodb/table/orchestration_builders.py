"""Pure builders of the orchestrator's requests: conditional status writes, counters,
blocking sets, heartbeats and index queries. Plain dicts, no I/O; keys come from
:mod:`pynenc_dynamodb.table.schema.orchestration`."""

from typing import Final

from pynenc_dynamodb.table import schema
from pynenc_dynamodb.table.builders import Item, Request
from pynenc_dynamodb.table.schema import orchestration as orch

_EXISTS: Final = "attribute_exists(#pk)"
_NOT_EXISTS: Final = "attribute_not_exists(#pk)"
# Keep the owner as it is: the transition neither acquires nor releases ownership.
KEEP_OWNER: Final = object()


def register_status(table: str, item: Item) -> Request:
    """Put a new status item unless the invocation is registered already."""
    return {
        "TableName": table,
        "Item": item,
        "ConditionExpression": _NOT_EXISTS,
        "ExpressionAttributeNames": {"#pk": schema.PK},
    }


def status_condition(
    free_from: list[str], owned_from: list[str], runner_id: str | None
) -> tuple[str, dict[str, str], dict[str, dict[str, str]]]:
    """The condition of a transition written without reading first: the current status
    is one it may leave from freely, or one it may leave only as the owner, owned by
    ``runner_id``. ``("", ...)`` when no current state allows it.

    :return: the expression, its names and its values
    """
    names = {"#st": orch.STATUS}
    values: dict[str, dict[str, str]] = {}
    parts = []
    if free_from:
        values.update({f":f{i}": {"S": s} for i, s in enumerate(free_from)})
        parts.append(f"#st IN ({', '.join(f':f{i}' for i in range(len(free_from)))})")
    if owned_from and runner_id is not None:
        values.update({f":o{i}": {"S": s} for i, s in enumerate(owned_from)})
        values[":runner"] = {"S": runner_id}
        names["#own"] = schema.OWNER
        owned = ", ".join(f":o{i}" for i in range(len(owned_from)))
        parts.append(f"#st IN ({owned}) AND #own = :runner")
    if len(parts) > 1:  # DynamoDB refuses redundant parentheses: only an OR needs them
        return " OR ".join(f"({part})" for part in parts), names, values
    return "".join(parts), names, values


def version_condition(version: int) -> tuple[str, dict[str, str], dict[str, dict[str, str]]]:
    """The condition of a transition computed from a read: nobody wrote since."""
    return "#ver = :expected", {"#ver": orch.VERSION}, {":expected": {"N": str(version)}}


def transition(
    table: str,
    key: schema.Key,
    *,
    status: str,
    status_time: str,
    index_keys: Item,
    owner: object,
    token: str,
    condition: tuple[str, dict[str, str], dict[str, dict[str, str]]],
) -> Request:
    """One UpdateItem moving a status item to ``status``, if ``condition`` holds.

    It answers with the new item, or, when the condition fails, with the item as it was
    (``ReturnValuesOnConditionCheckFailure``), so no read is needed either way.

    :param index_keys: the new status's index attributes (gsi1pk, fixed by the task, is
        left as it is)
    :param owner: the new owner, ``None`` to release, :data:`KEEP_OWNER` to keep it
    :param token: unique per attempt: a resent write that had been applied is recognised
    """
    expression, names, values = condition
    names = {**names, "#pk": schema.PK, "#st": orch.STATUS, "#sts": orch.STATUS_TIME}
    names.update({"#ver": orch.VERSION, "#tok": orch.TOKEN})
    names.update({"#g1s": schema.GSI1_SK, "#g2p": schema.GSI2_PK, "#g2s": schema.GSI2_SK})
    values = {
        **values,
        ":st": {"S": status},
        ":sts": {"S": status_time},
        ":tok": {"S": token},
        ":one": {"N": "1"},
        ":g1s": index_keys[schema.GSI1_SK],
        ":g2p": index_keys[schema.GSI2_PK],
        ":g2s": index_keys[schema.GSI2_SK],
    }
    sets = ["#st = :st", "#sts = :sts", "#tok = :tok", "#g1s = :g1s", "#g2p = :g2p", "#g2s = :g2s"]
    update = ""
    if owner is None:
        names["#own"] = schema.OWNER
        update = " REMOVE #own"
    elif owner is not KEEP_OWNER:
        names["#own"] = schema.OWNER
        values[":own"] = {"S": str(owner)}
        sets.append("#own = :own")
    return {
        "TableName": table,
        "Key": key,
        "UpdateExpression": f"SET {', '.join(sets)} ADD #ver :one{update}",
        "ConditionExpression": f"{_EXISTS} AND {_grouped(expression)}",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def _grouped(expression: str) -> str:
    """``expression`` as one operand of an AND: in parentheses only if it has an OR."""
    return f"({expression})" if " OR " in expression else expression


def add_to_number(table: str, key: schema.Key, attribute: str, amount: int = 1) -> Request:
    """Atomically add ``amount`` to a number attribute (created at 0 if missing)."""
    return {
        "TableName": table,
        "Key": key,
        "UpdateExpression": "ADD #n :amount",
        "ExpressionAttributeNames": {"#n": attribute},
        "ExpressionAttributeValues": {":amount": {"N": str(amount)}},
    }


def get_attributes(table: str, key: schema.Key, attributes: list[str]) -> Request:
    """A strongly consistent GetItem of some attributes of one item."""
    names = {f"#a{i}": name for i, name in enumerate(attributes)}
    return {
        "TableName": table,
        "Key": key,
        "ConsistentRead": True,
        "ProjectionExpression": ", ".join(names),
        "ExpressionAttributeNames": names,
    }


def batch_get_attributes(
    table: str, keys: list[schema.Key], attributes: list[str]
) -> list[Request]:
    """Strongly consistent BatchGetItems (100 keys each) of some attributes, keys included."""
    names = {f"#a{i}": name for i, name in enumerate([schema.PK, schema.SK, *attributes])}
    return [
        {
            "RequestItems": {
                table: {
                    "Keys": keys[i : i + 100],
                    "ConsistentRead": True,
                    "ProjectionExpression": ", ".join(names),
                    "ExpressionAttributeNames": names,
                }
            }
        }
        for i in range(0, len(keys), 100)
    ]


def query_index(
    table: str,
    index: str,
    partition: str,
    page_size: int,
    *,
    sort_prefix: str = "",
    below: str = "",
    newest_first: bool = False,
    count: bool = False,
) -> Request:
    """A Query of one partition of ``index`` (``gsi1`` or ``gsi2``), keys and projected
    attributes only; ``sort_prefix`` or ``below`` (exclusive upper bound) narrow the sort
    key range; ``count`` asks only for the number of matches (``Select=COUNT``)."""
    pk_name, sk_name = (
        (schema.GSI1_PK, schema.GSI1_SK)
        if index == schema.GSI1
        else (schema.GSI2_PK, schema.GSI2_SK)
    )
    names = {"#ipk": pk_name}
    values: dict[str, dict[str, str]] = {":ipk": {"S": partition}}
    condition = "#ipk = :ipk"
    if sort_prefix:
        names["#isk"] = sk_name
        values[":prefix"] = {"S": sort_prefix}
        condition += " AND begins_with(#isk, :prefix)"
    elif below:
        names["#isk"] = sk_name
        values[":below"] = {"S": below}
        condition += " AND #isk < :below"
    request: Request = {
        "TableName": table,
        "IndexName": index,
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    if count:
        request["Select"] = "COUNT"
    else:
        request["Limit"] = page_size
        request["ScanIndexForward"] = not newest_first
    return request


def query_partition_below(table: str, partition: str, below: str, page_size: int) -> Request:
    """Items of one base-table partition whose sort key is below ``below``, in order."""
    return {
        "TableName": table,
        "KeyConditionExpression": "#pk = :pk AND #sk < :below",
        "ExpressionAttributeNames": {"#pk": schema.PK, "#sk": schema.SK},
        "ExpressionAttributeValues": {":pk": {"S": partition}, ":below": {"S": below}},
        "ConsistentRead": True,
        "Limit": page_size,
    }


def count_prefix(table: str, prefix: schema.Prefix) -> Request:
    """How many items of one partition start with ``prefix`` (``Select=COUNT``)."""
    return {
        "TableName": table,
        "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
        "ExpressionAttributeNames": {"#pk": schema.PK, "#sk": schema.SK},
        "ExpressionAttributeValues": {
            ":pk": {"S": prefix.pk},
            ":prefix": {"S": prefix.sk_prefix},
        },
        "ConsistentRead": True,
        "Select": "COUNT",
    }


# -- blocking control ---------------------------------------------------------------------


def mark_waited(table: str, key: schema.Key, final_statuses: list[str]) -> Request:
    """Flag a registered invocation's status item as waited for, unless it is final
    already; a failed condition answers with the item as it was."""
    finals = ", ".join(f":f{i}" for i in range(len(final_statuses)))
    return {
        "TableName": table,
        "Key": key,
        "UpdateExpression": "SET #wtd = :yes",
        "ConditionExpression": f"{_EXISTS} AND NOT (#st IN ({finals}))",
        "ExpressionAttributeNames": {"#wtd": orch.WAITED, "#pk": schema.PK, "#st": orch.STATUS},
        "ExpressionAttributeValues": {
            ":yes": {"BOOL": True},
            **{f":f{i}": {"S": status} for i, status in enumerate(final_statuses)},
        },
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def add_waiter(table: str, key: schema.Key, waiter: str, index_keys: Item) -> Request:
    """Add ``waiter`` to the waiters of an invocation; index it as waited from its first
    wait on (``if_not_exists`` keeps the oldest time)."""
    return {
        "TableName": table,
        "Key": key,
        "UpdateExpression": (
            "ADD #by :waiter SET #g2p = if_not_exists(#g2p, :g2p), #g2s = if_not_exists(#g2s, :g2s)"
        ),
        "ExpressionAttributeNames": {
            "#by": orch.WAITERS,
            "#g2p": schema.GSI2_PK,
            "#g2s": schema.GSI2_SK,
        },
        "ExpressionAttributeValues": {
            ":waiter": {"SS": [waiter]},
            ":g2p": index_keys[schema.GSI2_PK],
            ":g2s": index_keys[schema.GSI2_SK],
        },
    }


def add_waiting_for(table: str, key: schema.Key, waited: list[str]) -> Request:
    """Add ``waited`` to what an invocation waits for."""
    return {
        "TableName": table,
        "Key": key,
        "UpdateExpression": "ADD #for :waited",
        "ExpressionAttributeNames": {"#for": orch.WAITING_FOR},
        "ExpressionAttributeValues": {":waited": {"SS": sorted(set(waited))}},
    }


def remove_waiting_for(table: str, key: schema.Key, waited: str) -> Request:
    """Take ``waited`` out of what an existing invocation waits for (never creates it)."""
    return {
        "TableName": table,
        "Key": key,
        "UpdateExpression": "DELETE #for :waited",
        "ConditionExpression": _EXISTS,
        "ExpressionAttributeNames": {"#for": orch.WAITING_FOR, "#pk": schema.PK},
        "ExpressionAttributeValues": {":waited": {"SS": [waited]}},
    }


def delete_returning_old(table: str, key: schema.Key) -> Request:
    return {"TableName": table, "Key": key, "ReturnValues": "ALL_OLD"}


# -- runners ------------------------------------------------------------------------------


def heartbeat(
    table: str, key: schema.Key, now: float, can_run_atomic_service: bool, expires_at: int
) -> Request:
    """A runner's heartbeat: its time and eligibility; its creation time only the first
    time (``if_not_exists``), so the order of runners by age never changes. Each heartbeat
    pushes the item's expiry on: a runner that stops heartbeating (a retired Lambda
    identity, a dead worker) leaves an item that the table's TTL deletes."""
    return {
        "TableName": table,
        "Key": key,
        "UpdateExpression": (
            "SET #hb = :now, #atomic = :atomic, #cr = if_not_exists(#cr, :now), #exp = :exp"
        ),
        "ExpressionAttributeNames": {
            "#hb": orch.HEARTBEAT,
            "#atomic": orch.ATOMIC,
            "#cr": orch.CREATED,
            "#exp": schema.EXPIRES_AT,
        },
        "ExpressionAttributeValues": {
            ":now": {"N": repr(now)},
            ":atomic": {"BOOL": can_run_atomic_service},
            ":exp": {"N": str(expires_at)},
        },
    }


def atomic_service_execution(table: str, key: schema.Key, start: str, end: str) -> Request:
    """Record a runner's atomic service window, only on a registered runner and only if
    it is newer than the one recorded: a late or resent write never moves it back."""
    return {
        "TableName": table,
        "Key": key,
        "UpdateExpression": "SET #ss = :start, #se = :end",
        "ConditionExpression": (
            "attribute_exists(#hb) AND (attribute_not_exists(#ss) OR #ss <= :start)"
        ),
        "ExpressionAttributeNames": {
            "#hb": orch.HEARTBEAT,
            "#ss": orch.SERVICE_START,
            "#se": orch.SERVICE_END,
        },
        "ExpressionAttributeValues": {":start": {"S": start}, ":end": {"S": end}},
    }


# -- running slots (running concurrency control) ------------------------------------------


def claim_running_slot(
    table: str, key: schema.Key, holder: str, token: str, replacing: str | None
) -> Request:
    """Take a running slot for ``holder`` (a fresh ``token`` per claim). With ``replacing``
    ``None``: only if the slot is free or ``holder`` has it already; else only if the slot
    is still the claim of token ``replacing`` (a stale holder read just before), so a
    holder that claimed again in between keeps it. A failed claim answers with the slot."""
    names = {"#tok": orch.TOKEN} if replacing else {"#pk": schema.PK, "#hold": orch.HOLDER}
    if replacing is None:
        condition = f"{_NOT_EXISTS} OR #hold = :holder"
        values = {":holder": {"S": holder}}
    else:
        condition = "#tok = :replacing"
        values = {":replacing": {"S": replacing}}
    return {
        "TableName": table,
        "Item": {**key, orch.HOLDER: {"S": holder}, orch.TOKEN: {"S": token}},
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def release_running_slot(table: str, key: schema.Key, token: str) -> Request:
    """Free a running slot, only if it is still the claim of ``token``."""
    return {
        "TableName": table,
        "Key": key,
        "ConditionExpression": "#tok = :tok",
        "ExpressionAttributeNames": {"#tok": orch.TOKEN},
        "ExpressionAttributeValues": {":tok": {"S": token}},
    }
