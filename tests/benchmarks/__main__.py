"""``python -m tests.benchmarks [--quick]``: run every benchmark, print, write the docs."""

import argparse
import logging
import os
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

from pynenc_dynamodb.aws.dynamodb import DynamoDBClient, build_boto3_client
from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.local.endpoint import create_table, request_counts
from pynenc_dynamodb.state_backend.dynamodb import DynamoDBStateBackend
from tests.benchmarks import (
    capacity,
    coldstart,
    first_task,
    overhead,
    report,
    scale,
    servers,
    summary,
)
from tests.benchmarks.summary import Results
from tests.benchmarks.workload import (
    CALLS_PER_LIFECYCLE,
    COUNTED_LIFECYCLES,
    LIFECYCLE_OPS,
    OPS,
    BackendRun,
    BotocoreCounter,
    make_app,
    run_backend,
)

ROOT = Path(__file__).resolve().parents[2]
TABLE = "pynenc-bench"
SCALE_TABLE = "pynenc-bench-scale"
QUIET = {"logging_level": "warning", "print_arguments": False}
# The small app purged alone and beside a large one in the scale section.
SMALL_APP_ITEMS = 200
LOG = logging.getLogger("tests.benchmarks")


def out(lines: list[str], sink: list[str]) -> None:
    """Print ``lines`` now and keep them for the report."""
    print("\n".join(lines), flush=True)
    sink += lines


def workload(
    stack: ExitStack, url: str, lifecycles: int, sink: list[str], results: Results
) -> list[BackendRun]:
    """Section 1: the lifecycles through every backend, with requests, units and cost."""
    redis = stack.enter_context(servers.RedisServer())
    api_url, skipped = servers.start_api(stack, url, TABLE)
    configs: dict[str, dict[str, Any]] = {
        "MemStateBackend": {"state_backend_cls": "MemStateBackend"},
        "RedisStateBackend": {
            "state_backend_cls": "RedisStateBackend",
            "redis_host": "127.0.0.1",
            "redis_port": redis.port,
        },
        "DynamoDBStateBackend": {
            "state_backend_cls": "DynamoDBStateBackend",
            "dynamodb_endpoint_url": url,
            "dynamodb_table_name": TABLE,
        },
    }
    if api_url:
        configs["DynamoDBApiStateBackend"] = {
            "state_backend_cls": "DynamoDBApiStateBackend",
            "dynamodb_api_url": api_url,
        }
    else:
        out([f"> DynamoDBApiStateBackend skipped: {skipped}", ""], sink)
    runs: list[BackendRun] = []
    check: dict[str, Any] = {}
    for name, config in configs.items():
        app = make_app(f"bench-{name[:8].lower()}-{uuid.uuid4().hex[:8]}", {**config, **QUIET})
        snapshot = None
        if name == "DynamoDBStateBackend":
            counter = BotocoreCounter(dynamo_client(app).boto3_client)
            snapshot = counter.snapshot
        elif name == "DynamoDBApiStateBackend":
            snapshot = lambda: request_counts(url)  # noqa: E731 - served by the endpoint
        server_before = request_counts(url)
        own_before = 0
        if name == "DynamoDBStateBackend":
            own_before = sum(dynamo_client(app).request_counts.values())
        print(f"running {lifecycles} lifecycles on {name}...", flush=True)
        runs.append(run_backend(name, app, lifecycles, snapshot))
        if name == "DynamoDBStateBackend":
            check = {
                "hooks": sum(runs[-1].totals.values()),
                "sends": counter.sends,
                "server": sum((request_counts(url) - server_before).values()),
                "own": sum(dynamo_client(app).request_counts.values()) - own_before,
                "app_id": app.app_id,
            }
        app.state_backend.purge()
    out(["## 1. Workload", ""], sink)
    out(report.speed_tables(runs), sink)
    out(requests_tables(runs, check), sink)
    dynamo = next(r for r in runs if r.name == "DynamoDBStateBackend")
    lines, results["cost"] = capacity_tables(url, dynamo, check["app_id"])
    out(lines, sink)
    results["workload"] = workload_results(runs, check)
    return runs


def workload_results(runs: list[BackendRun], check: dict[str, Any]) -> Results:
    """What the summary and the targets read from section 1."""
    redis = next((r for r in runs if r.name == "RedisStateBackend"), None)
    dynamo = next(r for r in runs if r.name == "DynamoDBStateBackend")
    backends = [
        {
            "name": r.name,
            "ms_per_lifecycle": r.wall / r.lifecycles * 1000,
            "x_redis": r.wall / redis.wall if redis else float("nan"),
            "requests_per_lifecycle": r.requests_per_lifecycle() if r.requests else None,
        }
        for r in runs
    ]
    return {
        "lifecycles": dynamo.lifecycles,
        "backends": backends,
        "requests_per_call": {op: dict(dynamo.requests[op]) for op in OPS},
        "calls_per_lifecycle": {op: CALLS_PER_LIFECYCLE[op] for op in OPS},
        "cross_check": {k: check[k] for k in ("hooks", "sends", "server", "own")},
    }


def dynamo_client(app: Any) -> DynamoDBClient:
    """The choke point of an app on :class:`DynamoDBStateBackend`."""
    backend = app.state_backend
    assert isinstance(backend, DynamoDBStateBackend)
    return backend.store.client


def requests_tables(runs: list[BackendRun], check: dict[str, Any]) -> list[str]:
    counted = [r for r in runs if r.requests]
    lines = ["### DynamoDB requests per call (counted from botocore `before-call` events;", ""]
    lines[0] = "### DynamoDB requests per call"
    lines += [
        "DynamoDBStateBackend: counted from botocore `before-call.dynamodb` events on its "
        "boto3 client; DynamoDBApiStateBackend: counted by the local endpoint (the API's "
        f"Lambda handler makes them). Averaged over {COUNTED_LIFECYCLES} counted lifecycles.",
        "",
    ]

    def fmt(run: BackendRun, op: str) -> str:
        return ", ".join(f"{v:g} {k}" for k, v in sorted(run.requests[op].items())) or "0"

    header = ["operation", *[r.name for r in counted]]
    rows = [[op, *[fmt(r, op) for r in counted]] for op in OPS]
    rows.append(["**per lifecycle**", *[f"{r.requests_per_lifecycle():g}" for r in counted]])
    lines += report.table(header, rows)
    dynamo = next(r for r in runs if r.name == "DynamoDBStateBackend")
    lines += [
        f"Cross-check of DynamoDBStateBackend: botocore before-call events over the timed "
        f"pass ({dynamo.lifecycles} lifecycles with workflow ops): {check['hooks']}. Over the "
        f"warm-up, counting and timed passes together, HTTP attempts (before-send, botocore's "
        f"retries included) {check['sends']}, requests served by the endpoint "
        f"{check['server']}, `DynamoDBClient.request_counts` {check['own']}: equal counts "
        "mean no request was retried and none went uncounted.",
        "",
    ]
    return lines


def capacity_tables(url: str, run: BackendRun, app_id: str) -> tuple[list[str], Results]:
    raw = build_boto3_client(ClientSettings(endpoint_url=url))
    sample = run.sample
    # Re-run one lifecycle's writes is unnecessary: the sample's items were purged, so the
    # units are measured on a fresh lifecycle of a fresh app.
    app = make_app(
        app_id + "-cu",
        {
            "state_backend_cls": "DynamoDBStateBackend",
            "dynamodb_endpoint_url": url,
            "dynamodb_table_name": TABLE,
            **QUIET,
        },
    )
    from tests.benchmarks.workload import lifecycle_steps

    for op, step in lifecycle_steps(app, 1):
        result = step()
        if op == "_ids":
            sample = result
    cap = capacity.measure(raw, TABLE, app.app_id, sample["invocation"], sample["workflow"])
    app.state_backend.purge()
    rows = [[op, *cap.per_op[op]] for op in OPS]
    wru, rru = cap.lifecycle(LIFECYCLE_OPS)
    wwru, wrru = cap.lifecycle(OPS)
    lines = ["### Capacity units (computed from the items read back) and cost", ""]
    lines += report.table(["operation", "WRU per call", "RRU per call"], rows)
    lines += report.table(["item", "bytes"], list(cap.sizes.items()))
    calls = sum(CALLS_PER_LIFECYCLE[op] for op in LIFECYCLE_OPS)
    all_calls = sum(CALLS_PER_LIFECYCLE[op] for op in OPS)
    lines += report.table(
        ["per task run", "WRU", "RRU", "$ per million runs"],
        [
            [f"lifecycle ({calls} calls)", wru, rru, capacity.cost_per_million(wru, rru)],
            [
                f"lifecycle + workflow ops ({all_calls} calls)",
                wwru,
                wrru,
                capacity.cost_per_million(wwru, wrru),
            ],
        ],
    )
    lines += [f"Prices (assumption): {capacity.PRICES_NOTE}.", ""]
    cost = {
        "wru": wru,
        "rru": rru,
        "per_million": capacity.cost_per_million(wru, rru),
        "with_workflow_per_million": capacity.cost_per_million(wwru, wrru),
        "prices": capacity.PRICES_NOTE,
    }
    return lines, cost


def overhead_section(url: str, iterations: int, sink: list[str], results: Results) -> None:
    app = make_app(
        f"bench-overhead-{uuid.uuid4().hex[:8]}",
        {
            "state_backend_cls": "DynamoDBStateBackend",
            "dynamodb_endpoint_url": url,
            "dynamodb_table_name": TABLE,
            **QUIET,
        },
    )
    print("measuring client overhead...", flush=True)
    pairs, cpu, profile = overhead.measure(app, iterations)
    app.state_backend.purge()
    rows = [[p.name, p.ours, p.raw, p.ours - p.raw, f"{p.ratio:.3f}"] for p in pairs]
    lines = ["## 2. Client overhead vs raw boto3", ""]
    lines += [f"{iterations} interleaved rounds per pair; target ratio <= {overhead.TARGET_RATIO}."]
    lines += ["", *report.table(["call", "ours µs", "raw boto3 µs", "diff µs", "ratio"], rows)]
    lines += ["Our layer alone (boto3 replaced by a client that answers at once):", ""]
    lines += report.table(["call", "µs per call"], list(cpu.items()))
    worst = max(p.ratio for p in pairs)
    if worst > overhead.TARGET_RATIO:
        lines += ["Over target; cProfile of put_result + get_result (by own time):", ""]
        lines += ["```", *profile.strip().splitlines()[:30], "```", ""]
    out(lines, sink)
    results["overhead"] = {
        "target": overhead.TARGET_RATIO,
        "pairs": [{"call": p.name, "ratio": p.ratio} for p in pairs],
        "layer_us": cpu,
    }


def scale_section(url: str, quick: bool, sink: list[str], results: Results) -> None:
    create_table(url, SCALE_TABLE)
    sizes = [1000, 5000] if quick else [1000, 10_000, 50_000]
    neighbour_size = 10_000 if quick else 50_000
    runs_cap = 5000 if quick else 10_000
    print("scale: small purge alone...", flush=True)
    alone = scale.purge_small(url, SCALE_TABLE, SMALL_APP_ITEMS)
    print(f"scale: loading a neighbour app of {neighbour_size} items...", flush=True)
    neighbour_id = scale.neighbour(url, SCALE_TABLE, neighbour_size)
    beside = scale.purge_small(url, SCALE_TABLE, SMALL_APP_ITEMS)
    # Emptied again: moto's Query scans the whole table, which would slow what follows.
    scale.new_store(url, SCALE_TABLE, neighbour_id)[0].purge()
    rows = []
    measures: dict[str, dict[str, Any]] = {}
    for size in sizes:
        print(f"scale: {size} items...", flush=True)
        measures[str(size)] = {}
        for m in scale.scale_at(url, SCALE_TABLE, size, runs_cap):
            reqs = fmt(m.requests)
            per_k = m.seconds / max(1, m.items) * 1000
            rows.append([m.what, m.items, m.seconds, per_k, m.cpu, m.peak_kib, reqs])
            measures[str(size)][m.what] = vars(m)
    lines = [f"## 3. Scale (store level, Query pages of {scale.PAGE_SIZE} items)", ""]
    lines += report.table(
        ["operation", "items", "wall s", "s per 1k items", "client CPU s", "peak KiB", "requests"],
        rows,
    )
    lines += report.table(
        [f"purge of a {SMALL_APP_ITEMS}-item app", "wall s", "client CPU s", "requests"],
        [
            ["alone in the table", alone.seconds, alone.cpu, fmt(alone.requests)],
            [
                f"beside another app of {neighbour_size} items",
                beside.seconds,
                beside.cpu,
                fmt(beside.requests),
            ],
        ],
    )
    lines += [
        "moto answers every Query by scanning the whole table (`for item in "
        "self.all_items()` in moto/dynamodb/models/table.py), so emulator wall time grows "
        "with the table and with pages times table size; DynamoDB reads only the partition. "
        "The request counts and the client CPU column are what carries over.",
        "",
    ]
    out(lines, sink)
    results["scale"] = {
        "sizes": sizes,
        "page_size": scale.PAGE_SIZE,
        "measures": measures,
        "small": {
            "items": SMALL_APP_ITEMS,
            "neighbour_items": neighbour_size,
            "alone": vars(alone),
            "beside": vars(beside),
        },
    }


def fmt(requests: dict[str, int]) -> str:
    return ", ".join(f"{v} {k}" for k, v in sorted(requests.items()))


def coldstart_section(runs: int, sink: list[str], results: Results) -> None:
    lines = ["## 4. Lambda cold start", ""]
    print("cold start: building the artifact, importing handlers...", flush=True)
    times, slowest, sizes = coldstart.measure(runs)
    ratio = times["state API handler"] / times["bare handler"]
    lines += [
        f"The built artifact (`infra/lambda_artifact.py`, as `sam build` lays it out), imported "
        f"by `python -S` with Lambda's path order. Median of {runs} fresh interpreters each, "
        "bare interpreter start subtracted. The bare handler imports only boto3 and "
        "Powertools (Logger, Metrics, the HTTP resolver) and builds a DynamoDB client; the "
        "state API handler is imported and its DynamoDB client, which it builds on first "
        "use, is built too (its S3 client waits for the first payload bound for the bucket).",
        "",
    ]
    lines += report.table(["import", "ms"], list(times.items()))
    lines += [f"Ratio state API / bare: **{ratio:.2f}x** (target <= {coldstart.TARGET_RATIO}).", ""]
    lines += ["Slowest imports of the handler (`-X importtime`, cumulative ms):", ""]
    lines += report.table(["module", "ms"], slowest)
    rows = [[n, f"{a / 1e6:.2f}", f"{z / 1e6:.2f}"] for n, (a, z) in sizes.items()]
    lines += ["Packages as deployed (boto3 comes with the runtime):", ""]
    lines += report.table(["package", "unzipped MB", "zip MB"], rows)
    out(lines, sink)
    results["coldstart"] = {
        "target": coldstart.TARGET_RATIO,
        "ratio": ratio,
        "sizes_mb": {n: {"unzipped": a / 1e6, "zip": z / 1e6} for n, (a, z) in sizes.items()},
    }


def first_task_section(url: str, sink: list[str], results: Results) -> None:
    lines, figures = first_task.section(url)
    out(lines, sink)
    results["first_task"] = figures


def main(argv: list[str] | None = None) -> int:
    """Run every section; write the docs unless ``--quick``; 1 if a target was missed."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks")
    parser.add_argument("--quick", action="store_true", help="smaller run, no doc written")
    parser.add_argument("--write", action="store_true", help="write docs even with --quick")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    started = time.perf_counter()
    sink: list[str] = []
    results: Results = {
        "command": "python -m tests.benchmarks" + (" --quick" if args.quick else ""),
        "commit": summary.git_commit(ROOT),
        "machine": report.machine_facts(),
    }
    lifecycles = 50 if args.quick else 300
    with ExitStack() as stack:
        url = servers.endpoint(stack, TABLE).url
        runs = workload(stack, url, lifecycles, sink, results)
        overhead_section(url, 300 if args.quick else 1500, sink, results)
        scale_section(url, args.quick, sink, results)
        first_task_section(url, sink, results)
    coldstart_section(3 if args.quick else 11, sink, results)
    results["elapsed_s"] = time.perf_counter() - started
    print(f"\nbenchmark finished in {results['elapsed_s']:.0f} s", flush=True)
    if not args.quick or args.write:
        summary.write_outputs(results, sink, ROOT)
        report.plot(runs, ROOT / "docs" / "benchmark-latency.png")
    missed = summary.missed_targets(results)
    for miss in missed:
        print(f"MISSED: {miss}", file=sys.stderr, flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
