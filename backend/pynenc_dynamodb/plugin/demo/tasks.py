"""The demo app on pynenc 0.1: an order workflow with sub-tasks, workflow data, a task that
fails and one that succeeds on its second attempt.

Every component is on AWS services (``PynencBuilder().dynamodb()``: SQS broker, DynamoDB
orchestrator, trigger and state, S3 for large values); the demo points them at the embedded
local endpoint through ``PYNENC__`` variables before importing this module.
"""

import threading
from collections import Counter

from pynenc import Pynenc, PynencBuilder
from pynenc.exceptions import RetryError

app: Pynenc = (
    PynencBuilder()
    .app_id("pynenc-dynamodb-demo")
    .dynamodb(create_table=True, create_queue=True)
    .thread_runner()
    .build()
)

_attempts: Counter[str] = Counter()
_attempts_lock = threading.Lock()


class PaymentDeclinedError(Exception):
    """A business error: the demo's failing task raises it."""


@app.task
def price(item: str, quantity: int) -> int:
    """Price of one order line, in cents."""
    return sum(ord(c) for c in item) * quantity


@app.task(max_retries=2)
def reserve_stock(item: str) -> str:
    """Fails once with a RetryError (a busy warehouse), then succeeds on the retry."""
    with _attempts_lock:
        _attempts[item] += 1
        attempt = _attempts[item]
    if attempt == 1:
        raise RetryError(f"warehouse busy for {item}")
    return f"reserved {item} on attempt {attempt}"


@app.task
def charge_card(amount: int) -> str:
    """Always declined: the demo's failing task."""
    raise PaymentDeclinedError(f"card declined for {amount} cents")


@app.task(force_new_workflow=True)
def place_order(order: dict[str, int]) -> dict[str, object]:
    """The workflow: prices each line in parallel, reserves stock, records progress."""
    wf = place_order.wf
    order_number = wf.uuid()  # deterministic: the same on a replay of this workflow
    wf.set_data("stage", "pricing")
    lines = price.parallelize([(item, quantity) for item, quantity in order.items()])
    total = sum(lines.results)
    wf.set_data("total", total)
    reservation = reserve_stock(next(iter(order))).result
    wf.set_data("stage", "reserved")
    return {"order_number": order_number, "total": total, "reservation": reservation}
