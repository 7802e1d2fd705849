"""``python -m tests.benchmarks.stack`` (pynenc 0.1 environment): the whole AWS stack.

1. Requests per task lifecycle by service: plain tasks through a ThreadRunner on the
   embedded endpoint (SQS broker, DynamoDB orchestrator, trigger and state), counted where
   they land, beside the runner's idle polling per second; cost per million task runs.
2. Tasks per second with 1, 2 and 4 worker processes (each a ``ThreadRunner``), beside
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

ROOT = Path(__file__).resolve().parents[2]
TABLE = "pynenc-bench-stack"
LIFECYCLES = 40
THROUGHPUT_TASKS = 200
WORKERS = (1, 2, 4)
IDLE_SECONDS = 5.0
BEGIN, END = "<!-- benchmark-stack:begin -->", "<!-- benchmark-stack:end -->"
# List prices, us-east-1 (assumed unchanged; not verified online): DynamoDB on-demand per
# million write / read request units, SQS FIFO per million requests.
WRU_PRICE, RRU_PRICE, SQS_PRICE = 0.625, 0.125, 0.50
READS = {"GetItem", "Query", "BatchGetItem"}


def aws_env(endpoint_url: str, app_id: str) -> dict[str, str]:
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
        "RUNNER_CLS": "ThreadRunner",
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


def lifecycles(endpoint_url: str) -> tuple[Counter[str], Counter[str]]:
    """Requests per lifecycle, and the runner's idle requests per second, by operation."""
    from tests.benchmarks import stack_tasks

    app: object = _fresh_app(aws_env(endpoint_url, f"stack-{uuid.uuid4().hex[:8]}"))
    runner = threading.Thread(target=app.runner.run, daemon=True)  # type: ignore[attr-defined]
    runner.start()
    try:
        assert stack_tasks.noop(-1).result == -1
        time.sleep(1)
        before = request_counts(endpoint_url)
        time.sleep(IDLE_SECONDS)
        idle = request_counts(endpoint_url) - before
        before = request_counts(endpoint_url)
        started = time.monotonic()
        invocations = [stack_tasks.noop(i) for i in range(LIFECYCLES)]
        assert [inv.result for inv in invocations] == list(range(LIFECYCLES))
        app.state_backend.wait_for_all_async_operations()  # type: ignore[attr-defined]
        elapsed = time.monotonic() - started
        used = request_counts(endpoint_url) - before
    finally:
        app.runner.stop_runner_loop()  # type: ignore[attr-defined]
        runner.join(timeout=10)
    # The runner polls while the tasks run too: what it would have done idle is not theirs.
    busy = Counter({op: n - idle[op] * elapsed / IDLE_SECONDS for op, n in used.items()})
    per = Counter({op: max(n, 0.0) / LIFECYCLES for op, n in busy.items()})
    per_second = Counter({op: n / IDLE_SECONDS for op, n in idle.items()})
    return per, per_second  # type: ignore[return-value]


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


def cost_per_million(per: Counter[str]) -> float:
    """From requests, with each DynamoDB request counted as one unit (items under 1 KB
    written, 4 KB read): a floor for batches and for writes that update an index."""
    writes = sum(n for op, n in per.items() if _service(op) == "DynamoDB" and op not in READS)
    reads = sum(n for op, n in per.items() if op in READS)
    sqs = sum(n for op, n in per.items() if _service(op) == "SQS")
    return writes * WRU_PRICE + reads * RRU_PRICE + sqs * SQS_PRICE


def render(per: Counter[str], idle: Counter[str], rates: dict[str, dict[int, float]]) -> str:
    by_service: dict[str, float] = Counter()
    for op, n in per.items():
        by_service[_service(op)] += n
    lines = [
        f"Measured by `python -m tests.benchmarks.stack` on {time.strftime('%Y-%m-%d')}, "
        "embedded endpoint (moto's DynamoDB, SQS and S3), 2 cores.",
        "",
        f"**Requests per plain task lifecycle on the whole AWS stack** ({LIFECYCLES} tasks,"
        " ThreadRunner; the runner's idle polling, measured apart, subtracted):",
        "",
        "| service | operation | requests per lifecycle |",
        "|---|---|---:|",
    ]
    for op in sorted(per, key=lambda o: (_service(o), o)):
        if per[op] >= 0.005:
            name = op.removeprefix("SQS.")
            lines.append(f"| {_service(op)} | {name} | {per[op]:.2f} |")
    for service, total in sorted(by_service.items()):
        lines.append(f"| **{service}** | all | **{total:.2f}** |")
    lines += [
        "| S3 | all | 0 (values over the size thresholds only) |",
        "",
        f"Cost per million task runs, from these requests: **${cost_per_million(per):.2f}**"
        " (each DynamoDB request counted as one unit: a floor; SQS FIFO $0.50 per million"
        " requests; DynamoDB on-demand $0.625 / $0.125 per million write / read units, list"
        " prices assumed, not verified online). The state alone: see the pynenc 0.1 section.",
        "",
        "Idle runner, requests per second: "
        + ", ".join(f"{op} {n:.1f}" for op, n in sorted(idle.items()) if n >= 0.05),
        "",
        f"**Tasks per second** ({THROUGHPUT_TASKS} no-op tasks submitted at once; worker"
        " processes each run a ThreadRunner):",
        "",
        "| worker processes | AWS stack (embedded endpoint) | pynenc-redis 0.1.5 stack | ratio |",
        "|---:|---:|---:|---:|",
    ]
    for count in WORKERS:
        aws, redis = rates["aws"][count], rates["redis"][count]
        lines.append(f"| {count} | {aws:.1f} | {redis:.1f} | {aws / redis:.2f} |")
    lines += [
        "",
        "moto answers every Query by scanning its whole table and serves every request from"
        " one process on these 2 cores, which the workers share: the AWS figures are the"
        " embedded endpoint's, not DynamoDB's or SQS's.",
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
    args = parser.parse_args(argv)
    rates: dict[str, dict[int, float]] = {"aws": {}, "redis": {}}
    with LocalEndpointProcess(TABLE) as endpoint:
        per, idle = lifecycles(endpoint.url)
    for count in WORKERS:
        with LocalEndpointProcess(TABLE) as endpoint:
            env = aws_env(endpoint.url, f"stack-{count}-{uuid.uuid4().hex[:8]}")
            rates["aws"][count] = throughput(env, count)
        with RedisServer() as redis:
            env = redis_env(redis.port, f"redis-{count}-{uuid.uuid4().hex[:8]}")
            rates["redis"][count] = throughput(env, count)
        print(f"{count} workers: {rates['aws'][count]:.1f} / {rates['redis'][count]:.1f} tasks/s")
    text = render(per, idle, rates)
    print(text, flush=True)
    if args.write:
        write(text)


if __name__ == "__main__":
    main()
