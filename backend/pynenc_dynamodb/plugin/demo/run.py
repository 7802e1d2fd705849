"""The demo on pynenc 0.1: a real app on a ThreadRunner over the whole AWS stack of the
embedded local endpoint (SQS, DynamoDB, S3; no Redis), then everything read back."""

import os
import threading
import time
import warnings
from collections import Counter
from typing import TYPE_CHECKING, Any

from pynenc_dynamodb.local.endpoint import (
    DEFAULT_BUCKET,
    LocalEndpointProcess,
    request_counts,
)

if TYPE_CHECKING:
    from pynenc.identifiers.invocation_id import InvocationId

TABLE = "pynenc-demo"


def _timeline(history: list[Any]) -> str:
    """Status changes with their offsets; a workflow waiting on its sub-tasks alternates
    paused/running many times (pynenc's runners record each), so those runs are folded."""
    if not history:
        return "(no history)"
    start = history[0].timestamp
    statuses = [record.status_record.status.value for record in history]
    steps: list[str] = []
    index = 0
    while index < len(history):
        cycles = 0
        while (
            index + 1 < len(history)
            and statuses[index] == "paused"
            and statuses[index + 1] == "running"
        ):
            cycles += 1
            index += 2
        if cycles:
            steps.append(f"(paused -> running) x{cycles}")
            continue
        offset = (history[index].timestamp - start).total_seconds()
        steps.append(f"{statuses[index]}(+{offset:.3f}s)")
        index += 1
    return " -> ".join(steps)


def _by_service(used: Counter[str]) -> str:
    services: dict[str, Counter[str]] = {"DynamoDB": Counter(), "SQS": Counter()}
    for operation, count in used.items():
        service, _, name = operation.rpartition(".")
        services[service or "DynamoDB"][name] += count
    return "; ".join(
        f"{service} {sum(ops.values())} ({', '.join(f'{op} {n}' for op, n in sorted(ops.items()))})"
        for service, ops in services.items()
    )


def _print_read_back(app: Any, order_id: "InvocationId", payment_id: "InvocationId") -> None:
    """Runs, data, sub-invocations and timelines, read back through a fresh backend: only
    what is in the table."""
    from pynenc_dynamodb.plugin.state_backend import DynamoDBStateBackend

    store = DynamoDBStateBackend(app)
    runs = [r for r in store.get_all_workflow_runs() if r.workflow_id == order_id]
    for run in runs:
        print(f"run {run.workflow_id} of {run.workflow_type.key}")
        print(
            f"  data: stage={store.get_workflow_data(run, 'stage')!r} "
            f"total={store.get_workflow_data(run, 'total')!r}"
        )
        children = sorted(store.get_child_invocations(run.workflow_id))
        print(f"  sub-invocations: {len(children)}")
    print("\nstatus timelines (read back from DynamoDB):")
    ids = [order_id, payment_id]
    ids += sorted(store.get_child_invocations(order_id))
    for invocation_id in dict.fromkeys(ids):
        invocation = store.get_invocation(invocation_id)
        name = invocation.call.task.task_id.func_name
        timeline = _timeline(store.get_history(invocation_id))
        print(f"  {name:<14} {invocation_id[:8]}  {timeline}")
        status = app.orchestrator.get_invocation_status(invocation_id).value
        try:
            print(f"  {'':<14} {status}, result: {store.get_result(invocation_id)!r}")
        except KeyError:
            error = store.get_exception(invocation_id)
            print(f"  {'':<14} {status}, exception: {type(error).__name__}: {error}")


def run_demo() -> int:
    """Run the workload, read it back from the table, print what was stored."""
    with LocalEndpointProcess(TABLE) as endpoint:
        os.environ.update(
            {
                "PYNENC__DYNAMODB_ENDPOINT_URL": endpoint.url,
                "PYNENC__DYNAMODB_TABLE_NAME": TABLE,
                "PYNENC__DYNAMODB_S3_BUCKET": DEFAULT_BUCKET,
            }
        )
        # The failing task is logged by the runner as an error: the demo prints it itself.
        os.environ.setdefault("PYNENC__LOGGING_LEVEL", "critical")
        warnings.filterwarnings("ignore", message="Running in a secondary thread")
        # Runner threads re-raise task errors after storing them; the demo prints them.
        threading.excepthook = lambda args: None
        from pynenc_dynamodb.plugin.demo import tasks

        app = tasks.app
        app.purge()
        components = [app.broker, app.orchestrator, app.trigger, app.state_backend]
        print("components: " + ", ".join(type(c).__name__ for c in components))
        before = request_counts(endpoint.url)
        runner = threading.Thread(target=app.runner.run, daemon=True)
        runner.start()
        started = time.perf_counter()
        order = tasks.place_order({"keyboard": 2, "mouse": 1, "cable": 3})
        payment = tasks.charge_card(4200)
        outcome = order.result
        declined: Exception | None = None
        try:
            print(f"charge_card unexpectedly returned {payment.result!r}")
        except Exception as exc:  # noqa: BLE001 - the demo shows whatever it raised
            declined = exc
        elapsed = time.perf_counter() - started
        print(f"\nworkflow result: {outcome}")
        print(f"failing task raised: {type(declined).__name__}: {declined}\n")
        app.runner.stop_runner_loop()
        runner.join(timeout=30)
        app.state_backend.wait_for_all_async_operations()
        used = request_counts(endpoint.url) - before

        _print_read_back(app, order.invocation_id, payment.invocation_id)
        print(f"\nrun time: {elapsed:.2f}s; requests: {_by_service(used)}")
    return 0
