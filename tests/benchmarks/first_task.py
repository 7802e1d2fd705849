"""First task on a fresh worker against the steady state, for the process runners.

``python -m tests.benchmarks.first_task [--settle S] [--rounds N]`` starts its own moto
endpoint and redis-server; ``python -m tests.benchmarks`` runs it as one section.

Each runner and backend runs in a fresh interpreter (``--child``): it starts the runner
with one worker process, waits until the worker process is alive and ``settle`` seconds
more, then submits a no-op task (the worker's first), ``rounds`` more no-op tasks one
after the other (the steady state) and a task that sleeps 0.5 s. A task's end-to-end time
runs from the call to its result in the caller; its worker time from the PENDING to the
SUCCESS history record (both timestamped by pynenc as it sets the status).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

ROOT = Path(__file__).resolve().parents[2]
TABLE = "pynenc-bench-first-task"
RUNNERS = ["PersistentProcessRunner", "MultiThreadRunner"]
BACKENDS = ["RedisStateBackend", "DynamoDBStateBackend"]
SETTLE_SECONDS = 8.0
ROUNDS = 5


def child_env(runner: str, backend: str, url: str, redis_port: int) -> dict[str, str]:
    """The environment of one child run: one worker process, Redis broker and orchestrator."""
    from pynenc_dynamodb.local.endpoint import point_app_at

    env = {
        **os.environ,
        "PYNENC__RUNNER_CLS": runner,
        "PYNENC__BROKER_CLS": "RedisBroker",
        "PYNENC__ORCHESTRATOR_CLS": "RedisOrchestrator",
        "PYNENC__REDIS_HOST": "127.0.0.1",
        "PYNENC__REDIS_PORT": str(redis_port),
        "PYNENC__LOGGING_LEVEL": "warning",
        # One worker process, so that every task after the first runs on a warm worker.
        "PYNENC__NUM_PROCESSES": "1",
        "PYNENC__MIN_PROCESSES": "1",
        "PYNENC__MAX_PROCESSES": "1",
        "FIRST_TASK_APP_ID": f"first-{runner[:6].lower()}-{backend[:5].lower()}-{os.getpid()}",
    }
    if backend == "DynamoDBStateBackend":
        env.update(point_app_at(url, TABLE))
    else:
        env["PYNENC__STATE_BACKEND_CLS"] = backend
    return env


def _worker_seconds(app: Any, invocation: Any) -> float:
    """PENDING to SUCCESS of ``invocation``, once the worker's history writes landed."""
    from pynenc.invocation.status import InvocationStatus

    for _ in range(100):
        stamps: dict[InvocationStatus | None, datetime] = {
            h.status: h.timestamp for h in app.state_backend.get_history(invocation)
        }
        if InvocationStatus.PENDING in stamps and InvocationStatus.SUCCESS in stamps:
            delta = stamps[InvocationStatus.SUCCESS] - stamps[InvocationStatus.PENDING]
            return delta.total_seconds()
        time.sleep(0.1)
    return float("nan")


def child(settle: float, rounds: int) -> dict[str, Any]:
    """Run in a fresh interpreter configured by :func:`child_env`; the figures, in seconds."""
    from tests.benchmarks import first_task_app as tasks

    app = tasks.app
    thread = threading.Thread(target=app.runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not getattr(app.runner, "processes", None) or not all(
        p.is_alive() for p in app.runner.processes.values()
    ):
        if time.monotonic() > deadline:
            raise TimeoutError("the runner's worker process did not start")
        time.sleep(0.05)
    time.sleep(settle)

    def timed(task: Any) -> tuple[float, Any]:
        started = time.perf_counter()
        invocation = task()
        invocation.result  # noqa: B018 - waits for the result
        return time.perf_counter() - started, invocation

    first, first_inv = timed(tasks.noop)
    steady = [timed(tasks.noop) for _ in range(rounds)]
    half, _ = timed(tasks.sleep_half)
    figures = {
        "first": first,
        "steady": statistics.median(s for s, _ in steady),
        "half": half,
        "first_worker": _worker_seconds(app, first_inv),
        "steady_worker": statistics.median(_worker_seconds(app, i) for _, i in steady),
    }
    app.runner.stop_runner_loop()
    thread.join(timeout=30)
    app.state_backend.purge()
    return figures


def measure(url: str, redis_port: int, settle: float, rounds: int) -> dict[tuple[str, str], Any]:
    """Every runner with every backend, one fresh interpreter each."""
    results: dict[tuple[str, str], Any] = {}
    for runner in RUNNERS:
        for backend in BACKENDS:
            print(f"first task: {runner} with {backend}...", flush=True)
            command = [sys.executable, "-m", "tests.benchmarks.first_task", "--child"]
            command += ["--settle", str(settle), "--rounds", str(rounds)]
            done = subprocess.run(
                command,
                cwd=ROOT,
                env=child_env(runner, backend, url, redis_port),
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"{runner} with {backend} failed:\n{done.stderr[-3000:]}")
            results[(runner, backend)] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


def section(
    url: str, settle: float = SETTLE_SECONDS, rounds: int = ROUNDS
) -> tuple[list[str], dict[str, Any]]:
    """The report section and its figures in seconds by ``runner/backend``; starts its own
    redis-server, stores into the endpoint ``url``."""
    from pynenc_dynamodb.local.endpoint import create_table
    from tests.benchmarks import report, servers

    create_table(url, TABLE)
    with servers.RedisServer() as redis:
        results = measure(url, redis.port, settle, rounds)
    rows = []
    for (runner, backend), f in results.items():
        ms = {k: round(v * 1000) for k, v in f.items()}
        rows.append(
            [
                runner,
                backend,
                ms["first"],
                ms["steady"],
                f"{f['first'] / f['steady']:.2f}",
                ms["first_worker"],
                ms["steady_worker"],
                ms["half"],
            ]
        )
    lines = ["## First task on a fresh worker", ""]
    lines += [
        f"One worker process, submitted {settle:g} s after it started; steady state: the "
        f"median of the {rounds} no-op tasks submitted one after the other after it. End to "
        "end: from the call to the result in the caller (which polls every 10 ms); worker: "
        "PENDING to SUCCESS history records. Broker and orchestrator: Redis.",
        "",
    ]
    header = ["runner", "state backend", "first ms", "steady ms", "first / steady"]
    header += ["worker first ms", "worker steady ms", "0.5 s task ms"]
    lines += report.table(header, rows)
    return lines, {f"{runner}/{backend}": f for (runner, backend), f in results.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.first_task")
    parser.add_argument("--settle", type=float, default=SETTLE_SECONDS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.settle, args.rounds)), flush=True)
        return 0
    from tests.benchmarks import servers

    with ExitStack() as stack:
        url = servers.endpoint(stack, TABLE).url
        print("\n".join(section(url, args.settle, args.rounds)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
