"""The workload: N task lifecycles plus workflow operations, through any state backend.

A lifecycle is what pynenc does for one task run: upsert the invocation, append four
history records (REGISTERED, PENDING, RUNNING, SUCCESS), set the result, then read the
invocation, its history and its result back. The workflow operations follow it.
"""

import statistics
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pynenc import Pynenc
from pynenc.arguments import Arguments
from pynenc.call import Call
from pynenc.invocation.dist_invocation import DistributedInvocation
from pynenc.invocation.status import InvocationStatus
from pynenc.task import Task
from pynenc.workflow import WorkflowIdentity

from tests.helpers import contract_tasks

STATUSES = [
    InvocationStatus.REGISTERED,
    InvocationStatus.PENDING,
    InvocationStatus.RUNNING,
    InvocationStatus.SUCCESS,
]
LIFECYCLE_OPS = [
    "upsert_invocation",
    "add_history",
    "set_result",
    "get_invocation",
    "get_history",
    "get_result",
]
WORKFLOW_OPS = [
    "store_workflow_run",
    "set_workflow_data",
    "get_workflow_data",
    "store_sub_invocation",
    "get_sub_invocations",
]
OPS = LIFECYCLE_OPS + WORKFLOW_OPS
# Calls of each operation per lifecycle.
CALLS_PER_LIFECYCLE = {op: 4 if op == "add_history" else 1 for op in OPS}
WORKFLOW_TASK = "tests.helpers.contract_tasks.add"
# Lifecycles whose requests are counted call by call, before the timed pass.
COUNTED_LIFECYCLES = 20

Snapshot = Callable[[], Counter[str]]


class BotocoreCounter:
    """DynamoDB requests counted from botocore's own events on a boto3 client.

    ``before-call`` fires once per API call, ``before-send`` once per HTTP attempt (so
    retries show up there).

    :param boto3_client: the DynamoDB client whose requests to count
    """

    def __init__(self, boto3_client: Any) -> None:
        self.calls: Counter[str] = Counter()
        self.sends = 0
        self._lock = threading.Lock()
        events = boto3_client.meta.events
        events.register("before-call.dynamodb", self._on_call)
        events.register("before-send.dynamodb", self._on_send)

    def _on_call(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[model.name] += 1

    def _on_send(self, **_: Any) -> None:
        with self._lock:
            self.sends += 1

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self.calls)


@dataclass
class BackendRun:
    """What one backend did on the workload.

    :param name: the backend class name
    :param lifecycles: lifecycles in the timed pass
    :param wall: seconds of the timed pass
    :param latencies: seconds per call, by operation
    :param requests: DynamoDB requests per call, by operation and DynamoDB operation
    :param totals: DynamoDB requests of the whole timed pass, by DynamoDB operation
    :param sample: ids of one lifecycle, to read its items back for capacity
    """

    name: str
    lifecycles: int = 0
    wall: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    requests: dict[str, Counter[str]] = field(default_factory=dict)
    totals: Counter[str] = field(default_factory=Counter)
    sample: dict[str, str] = field(default_factory=dict)

    def p(self, op: str, q: float) -> float:
        """The ``q`` quantile of ``op``'s latency, in milliseconds."""
        values = sorted(self.latencies[op])
        if len(values) < 2:
            return values[0] * 1000 if values else float("nan")
        return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1] * 1000

    def requests_per_lifecycle(self) -> float:
        return sum(
            sum(self.requests[op].values()) * CALLS_PER_LIFECYCLE[op]
            for op in LIFECYCLE_OPS
            if op in self.requests
        )


def make_app(app_id: str, config: dict[str, Any]) -> Pynenc:
    return Pynenc(app_id=app_id, config_values=dict(config))


def new_invocation(app: Pynenc, i: int) -> DistributedInvocation[Any, Any]:
    task: Task[Any, Any] = Task(app, contract_tasks.add.func, {})
    call: Call[Any, Any] = Call(task, Arguments({"x": i, "y": 2}))
    return DistributedInvocation(call, stored_in_backend=True)


def lifecycle_steps(app: Pynenc, i: int) -> list[tuple[str, Callable[[], Any]]]:
    """The calls of lifecycle ``i``, in order, each named by its operation."""
    sb = app.state_backend
    inv = new_invocation(app, i)
    wf = WorkflowIdentity(WORKFLOW_TASK, f"wf-{uuid.uuid4().hex[:12]}")

    def history(status: InvocationStatus) -> Callable[[], None]:
        def run() -> None:
            sb.add_history(inv, status)
            # The write runs in a thread: wait for it, so its latency is the real one.
            sb.wait_for_invocation_async_operations(inv.invocation_id)

        return run

    steps: list[tuple[str, Callable[[], Any]]] = [
        ("upsert_invocation", lambda: sb.upsert_invocation(inv))
    ]
    steps += [("add_history", history(status)) for status in STATUSES]
    steps += [
        ("set_result", lambda: sb.set_result(inv, {"value": i, "label": "done"})),
        ("get_invocation", lambda: sb.get_invocation(inv.invocation_id)),
        ("get_history", lambda: sb.get_history(inv)),
        ("get_result", lambda: sb.get_result(inv)),
        ("store_workflow_run", lambda: sb.store_workflow_run(wf)),
        ("set_workflow_data", lambda: sb.set_workflow_data(wf, "stage", {"step": i})),
        ("get_workflow_data", lambda: sb.get_workflow_data(wf, "stage")),
        (
            "store_sub_invocation",
            lambda: sb.store_workflow_sub_invocation(wf.workflow_id, inv.invocation_id),
        ),
        ("get_sub_invocations", lambda: list(sb.get_workflow_sub_invocations(wf.workflow_id))),
    ]
    steps.append(("_ids", lambda: {"invocation": inv.invocation_id, "workflow": wf.workflow_id}))
    return steps


def count_requests(app: Pynenc, snapshot: Snapshot, lifecycles: int) -> dict[str, Counter[str]]:
    """DynamoDB requests per call of each operation, averaged over ``lifecycles``.

    :param snapshot: cumulative request counts, read before and after every call
    """
    sums: dict[str, Counter[str]] = defaultdict(Counter)
    for i in range(lifecycles):
        for op, step in lifecycle_steps(app, i):
            if op == "_ids":
                continue
            before = snapshot()
            step()
            sums[op] += snapshot() - before
    return {
        op: Counter({k: v / (lifecycles * CALLS_PER_LIFECYCLE[op]) for k, v in counts.items()})
        for op, counts in sums.items()
    }


def run_backend(
    name: str,
    app: Pynenc,
    lifecycles: int,
    snapshot: Snapshot | None,
    count_lifecycles: int = COUNTED_LIFECYCLES,
) -> BackendRun:
    """Warm up, count requests per operation, then time ``lifecycles`` lifecycles.

    :param snapshot: cumulative DynamoDB request counts, ``None`` for non-DynamoDB backends
    """
    run = BackendRun(name, lifecycles)
    for _op, step in lifecycle_steps(app, -1):  # warm-up: clients, connections, table check
        step()
    if snapshot is not None:
        run.requests = count_requests(app, snapshot, count_lifecycles)
        before = snapshot()
    start = time.perf_counter()
    for i in range(lifecycles):
        for op, step in lifecycle_steps(app, i):
            if op == "_ids":
                run.sample = step()
                continue
            t0 = time.perf_counter()
            step()
            run.latencies[op].append(time.perf_counter() - t0)
    run.wall = time.perf_counter() - start
    if snapshot is not None:
        run.totals = snapshot() - before
    return run
