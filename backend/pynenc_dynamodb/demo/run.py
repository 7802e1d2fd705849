"""The demo: a real pynenc app on a ThreadRunner against the embedded local endpoint,
then everything read back from DynamoDB."""

import os
import threading
import time
from typing import Any

from pynenc_dynamodb.local.endpoint import LocalEndpointProcess, point_app_at, request_counts

TABLE = "pynenc-demo"


def _timeline(backend: Any, invocation: Any) -> str:
    """Status changes with their offsets; a workflow waiting on its sub-tasks alternates
    paused/running many times (pynenc's runners record each), so those runs are folded."""
    history = backend.get_history(invocation)
    if not history:
        return "(no history)"
    start = history[0].timestamp
    steps: list[str] = []
    index = 0
    while index < len(history):
        cycles = 0
        while (
            index + 1 < len(history)
            and history[index].status == "paused"
            and history[index + 1].status == "running"
        ):
            cycles += 1
            index += 2
        if cycles:
            steps.append(f"(paused -> running) x{cycles}")
            continue
        record = history[index]
        offset = (record.timestamp - start).total_seconds()
        steps.append(f"{record.status.value if record.status else '-'}(+{offset:.3f}s)")
        index += 1
    return " -> ".join(steps)


def run_demo() -> int:
    """Run the workload, read it back from the table, print what was stored."""
    with LocalEndpointProcess(TABLE) as endpoint:
        os.environ.update(point_app_at(endpoint.url, TABLE))
        os.environ["PYNENC__RUNNER_CLS"] = "ThreadRunner"
        os.environ.setdefault("PYNENC__LOGGING_LEVEL", "error")
        # Runner threads re-raise task errors after storing them; the demo prints them.
        threading.excepthook = lambda args: None
        from pynenc_dynamodb.demo import tasks

        app = tasks.app
        app.purge()
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
        app.runner.stop_runner_loop()
        runner.join(timeout=30)
        app.state_backend.wait_for_all_async_operations()
        used = request_counts(endpoint.url) - before

        # Read everything back through a fresh backend: only what is in the table.
        from pynenc_dynamodb import DynamoDBStateBackend

        store = DynamoDBStateBackend(app)
        print(f"\nworkflow result: {outcome}")
        print(f"failing task raised: {type(declined).__name__}: {declined}\n")
        runs = list(store.get_all_workflows_runs())
        print(f"workflow types: {list(store.get_all_workflows())}")
        for run in runs:
            workflow = run.workflow_id
            print(f"run {workflow} of {run.workflow_task_id}")
            print(
                f"  data: stage={store.get_workflow_data(run, 'stage')!r} "
                f"total={store.get_workflow_data(run, 'total')!r}"
            )
            subs = sorted(store.get_workflow_sub_invocations(workflow))
            print(f"  sub-invocations: {len(subs)}")
        print("\nstatus timelines (read back from DynamoDB):")
        ids = [order.invocation_id, payment.invocation_id]
        for run in runs:
            ids += sorted(store.get_workflow_sub_invocations(run.workflow_id))
        for invocation_id in dict.fromkeys(ids):
            invocation = store.get_invocation(invocation_id)
            name = invocation.call.task.task_id.rsplit(".", 1)[-1]
            line = f"  {name:<14} {invocation_id[:8]}  {_timeline(store, invocation)}"
            print(line)
            try:
                print(f"  {'':<14} result: {store.get_result(invocation)!r}")
            except KeyError:
                error = store.get_exception(invocation)
                print(f"  {'':<14} exception: {type(error).__name__}: {error}")
        print(
            f"\nrun time: {elapsed:.2f}s; DynamoDB requests: {sum(used.values())} "
            f"({', '.join(f'{op} {n}' for op, n in sorted(used.items()))})"
        )
    return 0
