"""Capacity units and cost per lifecycle, computed from the real items read back.

moto's ``ConsumedCapacity`` is not DynamoDB's, so units are derived from item sizes with
DynamoDB's published rules: a write costs 1 WRU per started KB (a GSI that holds the item
costs the same again for its projected entry), a strongly consistent read 1 RRU per
started 4 KB (eventually consistent: half; transactional: double), and a Query rounds
the sum of the item sizes it returns up to 4 KB once.
"""

import math
from dataclasses import dataclass
from typing import Any

from pynenc_dynamodb.table import builders, schema
from pynenc_dynamodb.table.builders import Item
from tests.benchmarks.workload import STATUSES, WORKFLOW_TASK

# On-demand prices, us-east-1 (after AWS's November 2024 reduction). Assumptions: not
# checked against the live price list (no internet on the benchmark machine).
PRICE_PER_MILLION_WRU = 0.625
PRICE_PER_MILLION_RRU = 0.125
PRICES_NOTE = (
    "on-demand, us-east-1: $0.625 per million write request units, $0.125 per million "
    "read request units (AWS list prices since 2024-11-01, assumed unchanged on "
    "2026-11-28; not verified online)"
)
GSI_ATTRIBUTES = (
    schema.PK,
    schema.SK,
    schema.GSI1_PK,
    schema.GSI1_SK,
    schema.BODY,
    schema.EXPIRES_AT,
)


def write_units(item: Item) -> int:
    """WRU of one standard write: 1 per started KB, plus the GSI entry if it has one."""
    units = math.ceil(builders.item_size(item) / 1024)
    if schema.GSI1_PK in item:
        projected = {k: v for k, v in item.items() if k in GSI_ATTRIBUTES}
        units += math.ceil(builders.item_size(projected) / 1024)
    return units


def read_units(items: list[Item], consistent: bool = True) -> float:
    """RRU of a GetItem (one item) or a Query (their sizes summed, then rounded up)."""
    size = sum(builders.item_size(item) for item in items)
    units = max(1, math.ceil(size / 4096))
    return units if consistent else units / 2


@dataclass
class Capacity:
    """Units per call of each operation, and per lifecycle.

    :param per_op: ``{operation: (write units, read units)}`` per call
    :param sizes: bytes of the items a lifecycle writes, by what they are
    """

    per_op: dict[str, tuple[float, float]]
    sizes: dict[str, int]

    def lifecycle(self, ops: list[str]) -> tuple[float, float]:
        """WRU and RRU of one lifecycle (history appended four times)."""
        wru = rru = 0.0
        for op in ops:
            times = len(STATUSES) if op == "add_history" else 1
            w, r = self.per_op[op]
            wru += w * times
            rru += r * times
        return wru, rru


def cost_per_million(wru: float, rru: float) -> float:
    """Dollars per million lifecycles of ``wru`` and ``rru`` units each."""
    return wru * PRICE_PER_MILLION_WRU + rru * PRICE_PER_MILLION_RRU


def measure(raw: Any, table: str, app_id: str, invocation_id: str, workflow_id: str) -> Capacity:
    """Read one lifecycle's items back with raw boto3 and derive the units of each call.

    :param raw: a boto3 DynamoDB client on the same endpoint
    :param invocation_id: the sampled lifecycle's invocation
    :param workflow_id: the sampled lifecycle's workflow run
    """

    def get(key: schema.Key) -> Item:
        item = raw.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        if not item:
            raise LookupError(f"benchmark item not found: {key}")
        return dict(item)

    def query(prefix: schema.Prefix) -> list[Item]:
        request = builders.query_prefix(table, prefix, 1000)
        return list(raw.query(**request)["Items"])

    invocation = get(schema.invocation_key(app_id, invocation_id))
    history = query(schema.history_prefix(app_id, invocation_id))
    result = get(schema.result_key(app_id, invocation_id))
    run = get(schema.workflow_run_key(app_id, workflow_id))
    registry = get(schema.workflow_type_key(app_id, WORKFLOW_TASK))
    data = get(schema.workflow_data_key(app_id, workflow_id, "stage"))
    sub = get(schema.sub_invocation_key(app_id, workflow_id, invocation_id))
    subs = query(schema.sub_invocations_prefix(app_id, workflow_id))
    per_history = sum(write_units(h) for h in history) / max(1, len(history))
    per_op: dict[str, tuple[float, float]] = {
        "upsert_invocation": (write_units(invocation), 0),
        "add_history": (per_history, 0),
        "set_result": (write_units(result), 0),
        "get_invocation": (0, read_units([invocation])),
        "get_history": (0, read_units(history)),
        "get_result": (0, read_units([result])),
        "store_workflow_run": (write_units(run) + write_units(registry), 0),
        "set_workflow_data": (write_units(data), 0),
        "get_workflow_data": (0, read_units([data])),
        "store_sub_invocation": (write_units(sub), 0),
        "get_sub_invocations": (0, read_units(subs)),
    }
    sizes = {
        "invocation": builders.item_size(invocation),
        "history record": max(builders.item_size(h) for h in history),
        "result": builders.item_size(result),
        "workflow run (+GSI)": builders.item_size(run),
        "workflow type": builders.item_size(registry),
        "workflow data": builders.item_size(data),
        "sub-invocation": builders.item_size(sub),
    }
    return Capacity(per_op, sizes)
