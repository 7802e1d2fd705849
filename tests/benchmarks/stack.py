"""``python -m tests.benchmarks.stack`` (pynenc 0.1 environment): the whole AWS stack.

1. Requests per task lifecycle by service: plain tasks through a ThreadRunner on the
   embedded endpoint (SQS broker, DynamoDB orchestrator, trigger and state), counted where
   they land; their capacity units, computed from item sizes (``stack_units``), and the
   cost per million task runs, the whole stack's beside the state backend's alone.
2. An idle worker's requests per second by operation, for a ThreadRunner and a
   MultiThreadRunner worker process.
3. Tasks per second with 1, 2 and 4 worker processes (each a ``ThreadRunner``), beside
   pynenc-redis 0.1.5's full stack on a redis-server of its own, in the same run.

Prints a Markdown section; ``--write`` puts it in docs/benchmark-stack.md and the README
between ``<!-- benchmark-stack:begin -->`` and ``<!-- benchmark-stack:end -->``.
"""

import argparse
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

from pynenc_dynamodb.local.endpoint import DEFAULT_BUCKET, LocalEndpointProcess, request_counts
from tests.benchmarks.servers import RedisServer
from tests.benchmarks.stack_units import UnitMeter

ROOT = Path(__file__).resolve().parents[2]
TABLE = "pynenc-bench-stack"
LIFECYCLES = 40
THROUGHPUT_TASKS = 200
WORKERS = (1, 2, 4)
IDLE_SECONDS = 5.0
# An idle worker process: measured after its start-up, over a window long enough to hold
# its slowest periodic look (dynamodb_blocking_idle_poll_seconds, 30 s).
IDLE_WARMUP, IDLE_WINDOW = 10.0, 60.0
IDLE_RUNNERS = ("ThreadRunner", "MultiThreadRunner")
BEGIN, END = "<!-- benchmark-stack:begin -->", "<!-- benchmark-stack:end -->"
# List prices, us-east-1 (AWS's list since 2024-11-01, assumed unchanged; not verified
# online): DynamoDB on-demand per million write / read request units, SQS FIFO per million
# requests (each 64 KB of payload one request; an id is a few dozen bytes).
WRU_PRICE, RRU_PRICE, SQS_PRICE = 0.625, 0.125, 0.50
# Partition kinds of the Queries a runner sends on a timer, not per lifecycle: blocking
# looks (gsi2 OW), active runners (OH), recovery (gsi2 OS), trigger conditions (TG).
PERIODIC_KINDS = ("OW", "OH", "OS", "TG")


def aws_env(endpoint_url: str, app_id: str, runner: str = "ThreadRunner") -> dict[str, str]:
    settings = {
        "APP_ID": app_id,
        "BROKER_CLS": "SQSBroker",
        "ORCHESTRATOR_CLS": "DynamoDBOrchestrator",
        "TRIGGER_CLS": "DynamoDBTrigger",
        "STATE_BACKEND_CLS": "DynamoDBStateBackend",
        "CLIENT_DATA_STORE_CLS": "DynamoDBClientDataStore",
        "DYNAMODB_TABLE_NAME": TABLE,
        "DYNAMODB_ENDPOINT_URL": endpoint_url,
        "DYNAMODB_S3_BUCKET": DEFAULT_BUCKET,
        "SQS_CREATE_QUEUE": "True",
        "SQS_MESSAGE_GROUPS": "8",
        "RUNNER_CLS": runner,
        "LOGGING_LEVEL": "critical",
    }
    return {f"PYNENC__{name}": value for name, value in settings.items()}


def redis_env(port: int, app_id: str) -> dict[str, str]:
    settings = {
        "APP_ID": app_id,
        "BROKER_CLS": "RedisBroker",
        "ORCHESTRATOR_CLS": "RedisOrchestrator",
        "TRIGGER_CLS": "RedisTrigger",
        "STATE_BACKEND_CLS": "RedisStateBackend",
        "CLIENT_DATA_STORE_CLS": "RedisClientDataStore",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": str(port),
        "RUNNER_CLS": "ThreadRunner",
        "LOGGING_LEVEL": "critical",
    }
    return {f"PYNENC__{name}": value for name, value in settings.items()}


def _fresh_app(env: dict[str, str]) -> object:
    """The benchmark's app, rebuilt in this process for ``env``."""
    os.environ.update(env)
    from tests.benchmarks import stack_tasks

    app = stack_tasks.Pynenc()
    stack_tasks.noop.app = app
    return app


@contextmanager
def workers(env: dict[str, str], count: int) -> Iterator[None]:
    code = "from tests.benchmarks.stack_tasks import app; app.runner.run()"
    full = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen([sys.executable, "-c", code], env=full, cwd=ROOT) for _ in range(count)
    ]
    try:
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def lifecycles(endpoint_url: str) -> tuple[Counter[str], Counter[str], float]:
    """Requests per lifecycle by operation (``Query <kind>`` also by partition kind), capacity
    units per lifecycle (``state.wru``, ``state.rru``, ``other.wru``, ``other.rru``), and
    the seconds the lifecycles took. Everything the process sent meanwhile counts: the
    runner's own periodic requests (blocking looks, atomic services, heartbeats) too."""
    from tests.benchmarks import stack_tasks

    app: object = _fresh_app(aws_env(endpoint_url, f"stack-{uuid.uuid4().hex[:8]}"))
    runner = threading.Thread(target=app.runner.run, daemon=True)  # type: ignore[attr-defined]
    runner.start()
    try:
        assert stack_tasks.noop(-1).result == -1
        time.sleep(1)
        before = request_counts(endpoint_url)
        started = time.monotonic()
        with UnitMeter().metering() as meter:
            invocations = [stack_tasks.noop(i) for i in range(LIFECYCLES)]
            assert [inv.result for inv in invocations] == list(range(LIFECYCLES))
            app.state_backend.wait_for_all_async_operations()  # type: ignore[attr-defined]
        elapsed = time.monotonic() - started
        used = request_counts(endpoint_url) - before
    finally:
        app.runner.stop_runner_loop()  # type: ignore[attr-defined]
        runner.join(timeout=10)
    per = Counter({op: n / LIFECYCLES for op, n in used.items()})
    per.update({f"Query {kind}": n / LIFECYCLES for kind, n in meter.queries.items()})
    units = Counter({k: n / LIFECYCLES for k, n in meter.units.items()})
    return per, units, elapsed


def idle_worker(endpoint_url: str, runner: str) -> Counter[str]:
    """Requests per second of one idle worker process running ``runner``, by operation."""
    env = aws_env(endpoint_url, f"idle-{uuid.uuid4().hex[:8]}", runner)
    with workers(env, 1):
        time.sleep(IDLE_WARMUP)
        before = request_counts(endpoint_url)
        time.sleep(IDLE_WINDOW)
        used = request_counts(endpoint_url) - before
    return Counter({op: n / IDLE_WINDOW for op, n in used.items()})


def throughput(env: dict[str, str], count: int) -> float:
    """Tasks per second through ``count`` worker processes."""
    from tests.benchmarks import stack_tasks

    _fresh_app(env)
    with workers(env, count):
        assert stack_tasks.noop(-1).result == -1  # every worker up and the queue warm
        started = time.monotonic()
        invocations = [stack_tasks.noop(i) for i in range(THROUGHPUT_TASKS)]
        assert [inv.result for inv in invocations] == list(range(THROUGHPUT_TASKS))
        return THROUGHPUT_TASKS / (time.monotonic() - started)


def _service(op: str) -> str:
    return "SQS" if op.startswith("SQS.") else "DynamoDB"


def cost_per_million(per: Counter[str], units: Counter[str], part: str = "") -> float:
    """Dollars per million lifecycles: DynamoDB's units (``part`` ``"state"`` for the
    state backend's alone) and, for the whole stack, SQS's requests."""
    parts = [part] if part else ["state", "other"]
    wru = sum(units[f"{p}.wru"] for p in parts)
    rru = sum(units[f"{p}.rru"] for p in parts)
    sqs = 0.0 if part else sum(n for op, n in per.items() if _service(op) == "SQS")
    return wru * WRU_PRICE + rru * RRU_PRICE + sqs * SQS_PRICE


def _rates(counts: Counter[str]) -> str:
    shown = [f"{op} {n:.2f}" for op, n in sorted(counts.items()) if n >= 0.005]
    return ", ".join(shown) or "none"


def render(
    per: Counter[str],
    units: Counter[str],
    elapsed: float,
    idle: dict[str, Counter[str]],
    rates: dict[str, dict[int, float]],
) -> str:
    by_service: dict[str, float] = Counter()
    for op, n in per.items():
        if " " not in op:
            by_service[_service(op)] += n
    lines = [
        f"Measured by `python -m tests.benchmarks.stack` on {time.strftime('%Y-%m-%d')}, "
        "embedded endpoint (moto's DynamoDB, SQS and S3), 2 cores.",
        "",
        f"**Requests per plain task lifecycle on the whole AWS stack** ({LIFECYCLES} tasks"
        f" submitted at once, one ThreadRunner in the same process, {elapsed:.1f} s; every"
        " request sent meanwhile counts, the runner's periodic ones too):",
        "",
        "| service | operation | requests per lifecycle |",
        "|---|---|---:|",
    ]
    periodic = sum(per[f"Query {kind}"] for kind in PERIODIC_KINDS)
    for op in sorted(per, key=lambda o: (_service(o), o)):
        if per[op] >= 0.005 and " " not in op:
            name = op.removeprefix("SQS.")
            if op == "Query":
                lines.append(f"| DynamoDB | Query, the runner's periodic looks | {periodic:.2f} |")
                if per[op] - periodic >= 0.005:
                    lines.append(
                        f"| DynamoDB | Query, the lifecycle's | {per[op] - periodic:.2f} |"
                    )
            else:
                lines.append(f"| {_service(op)} | {name} | {per[op]:.2f} |")
    for service, total in sorted(by_service.items()):
        lines.append(f"| **{service}** | all | **{total:.2f}** |")
        if service == "DynamoDB":
            lines.append(
                f"| **DynamoDB** | without the periodic looks | **{total - periodic:.2f}** |"
            )
    wru = units["state.wru"] + units["other.wru"]
    rru = units["state.rru"] + units["other.rru"]
    kinds = sorted((op.split(" ")[1] or "other", n) for op, n in per.items() if " " in op)
    lines += [
        "| S3 | all | 0 (values over the size thresholds only) |",
        "",
        "Queries by partition kind (periodic: `OW` the runner's blocking looks, 16 per look,"
        " at most one per `dynamodb_blocking_poll_seconds` = 1 s while the queue has work;"
        " `OH`, `OS`, `TG` pynenc's atomic services, heartbeats, recovery and triggers): "
        + ", ".join(f"{kind} {n:.2f}" for kind, n in kinds),
        "",
        "**Capacity units and cost per million task runs**, the units computed from the sizes"
        " of the items each request writes and reads (`tests/benchmarks/stack_units.py`:"
        " DynamoDB's on-demand rules, GSI entries included; moto's own ConsumedCapacity is"
        " not DynamoDB's):",
        "",
        "| | write units | read units | SQS requests | cost per million task runs |",
        "|---|---:|---:|---:|---:|",
        f"| whole stack | {wru:.2f} | {rru:.2f} | {by_service['SQS']:.2f} |"
        f" **${cost_per_million(per, units):.2f}** |",
        f"| state backend alone | {units['state.wru']:.2f} | {units['state.rru']:.2f} | - |"
        f" ${cost_per_million(per, units, 'state'):.2f} |",
        "",
        f"Prices: DynamoDB on-demand ${WRU_PRICE} / ${RRU_PRICE} per million write / read"
        f" request units, SQS FIFO ${SQS_PRICE:.2f} per million requests (us-east-1 list"
        " prices, assumed unchanged, not verified online). The orchestrator's and trigger's"
        " items make the difference between the two rows.",
        "",
        f"**An idle worker process**, requests per second by operation ({IDLE_WINDOW:.0f} s"
        f" after a {IDLE_WARMUP:.0f} s start-up, default settings: SQS long polling of"
        " `sqs_wait_time_seconds` = 1; blocking looks every `dynamodb_blocking_poll_seconds`"
        " = 1 while the queue has work, every `dynamodb_blocking_idle_poll_seconds` = 30"
        " once a receive found it empty; heartbeats written at most once per twentieth of"
        " `runner_considered_dead_after_minutes` = 10, i.e. 30 s, per runner; pynenc's"
        " atomic service checks every 30 s):",
        "",
    ]
    for runner, counts in idle.items():
        lines.append(f"- {runner}: {_rates(counts)}")
    lines += [
        "",
        f"**Tasks per second** ({THROUGHPUT_TASKS} no-op tasks submitted at once; worker"
        " processes each run a ThreadRunner):",
        "",
        "| worker processes | AWS stack (embedded endpoint) | pynenc-redis 0.1.5 stack | ratio |",
        "|---:|---:|---:|---:|",
    ]
    for count in WORKERS if rates else ():
        aws, redis = rates["aws"][count], rates["redis"][count]
        lines.append(f"| {count} | {aws:.1f} | {redis:.1f} | {aws / redis:.2f} |")
    lines += [
        "",
        "The embedded endpoint (moto, with its Query reading one partition) serves every"
        " request from one process, writes one at a time, on these 2 cores, which the"
        " workers share: the AWS figures are the embedded endpoint's, not DynamoDB's or"
        " SQS's.",
    ]
    return "\n".join(lines)


def write(text: str) -> None:
    (ROOT / "docs" / "benchmark-stack.md").write_text(f"# Benchmark of the AWS stack\n\n{text}\n")
    readme = ROOT / "README.md"
    content = readme.read_text()
    if BEGIN in content and END in content:
        head, rest = content.split(BEGIN, 1)
        readme.write_text(f"{head}{BEGIN}\n{text}\n{END}{rest.split(END, 1)[1]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    parser.add_argument(
        "--requests-only", action="store_true", help="requests, units and idle polling only"
    )
    args = parser.parse_args(argv)
    rates: dict[str, dict[int, float]] = {"aws": {}, "redis": {}}
    with LocalEndpointProcess(TABLE) as endpoint:
        per, units, elapsed = lifecycles(endpoint.url)
    idle = {}
    for runner in IDLE_RUNNERS:
        with LocalEndpointProcess(TABLE) as endpoint:
            idle[runner] = idle_worker(endpoint.url, runner)
        print(f"idle {runner}: {_rates(idle[runner])}", flush=True)
    if args.requests_only:
        print(render(per, units, elapsed, idle, {}), flush=True)
        return
    for count in WORKERS:
        with LocalEndpointProcess(TABLE) as endpoint:
            env = aws_env(endpoint.url, f"stack-{count}-{uuid.uuid4().hex[:8]}")
            rates["aws"][count] = throughput(env, count)
        with RedisServer() as redis:
            env = redis_env(redis.port, f"redis-{count}-{uuid.uuid4().hex[:8]}")
            rates["redis"][count] = throughput(env, count)
        print(f"{count} workers: {rates['aws'][count]:.1f} / {rates['redis'][count]:.1f} tasks/s")
    text = render(per, units, elapsed, idle, rates)
    print(text, flush=True)
    if args.write:
        write(text)


if __name__ == "__main__":
    main()
