"""``python -m tests.benchmarks.pynenc01`` (in the pynenc 0.1 environment): what a task run
costs on the plugin, the time index's read cost, and pynenc's plugin suites' results.

1. Requests per task lifecycle: a real pynenc 0.1 app (state and client data in DynamoDB,
   broker and orchestrator in memory, a ThreadRunner) runs plain tasks; the embedded endpoint
   counts every DynamoDB request it serves. The same for ``DynamoDBApiStateBackend``, whose
   HTTP requests are counted at its client. The batch sizes are those pynenc passed to
   ``_upsert_invocations`` and ``_add_histories``.
2. The time index: :mod:`tests.benchmarks.timerange` (hours of 0, 1,000 and 10,000 records,
   and 1,000,000 projected).
3. pynenc's plugin suites (``tests/plugin/test_suite_*.py``): passed / total per suite and
   backend, from a pytest run in this environment.

Writes ``docs/benchmark-pynenc01.md`` and the README's section between
``<!-- benchmark-pynenc01:begin -->`` and ``<!-- benchmark-pynenc01:end -->``.
"""

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

from pynenc import Pynenc, PynencBuilder

from pynenc_dynamodb.local.api_server import LocalApiProcess
from pynenc_dynamodb.local.endpoint import DEFAULT_BUCKET, LocalEndpointProcess, request_counts
from tests.benchmarks import timerange
from tests.benchmarks.pynenc01_tasks import add

ROOT = Path(__file__).resolve().parents[2]
TABLE = "pynenc-bench-01"
LIFECYCLES = 50
WARM_UP = 3
BEGIN, END = "<!-- benchmark-pynenc01:begin -->", "<!-- benchmark-pynenc01:end -->"
# pynenc 0.0.24's figure, measured by ``make bench`` in the other environment (README).
REQUESTS_0024 = 9


@dataclass
class LifecycleRun:
    """What one backend did for :data:`LIFECYCLES` task runs.

    :param backend: the state backend class
    :param dynamodb: DynamoDB requests served, by operation
    :param http: state API requests sent (API backend only)
    :param batches: sizes pynenc passed to each batch operation, counted
    """

    backend: str
    dynamodb: Counter[str] = field(default_factory=Counter)
    http: int = 0
    batches: dict[str, Counter[int]] = field(default_factory=dict)

    def per_lifecycle(self) -> float:
        return sum(self.dynamodb.values()) / LIFECYCLES


def build_app(endpoint: LocalEndpointProcess, api_url: str | None) -> Pynenc:
    builder = PynencBuilder().app_id(f"bench01-{uuid.uuid4().hex[:8]}").memory()
    if api_url:
        builder = builder.dynamodb(api_url=api_url)
    else:
        builder = builder.dynamodb(table=TABLE, endpoint_url=endpoint.url, s3_bucket=DEFAULT_BUCKET)
    return builder.thread_runner().logging_level("warning").build()


def _count_batches(app: Pynenc, run: LifecycleRun) -> None:
    backend: Any = app.state_backend
    for name in ("_upsert_invocations", "_add_histories", "_get_runner_contexts"):
        original: Callable[..., Any] = getattr(backend, name)
        sizes = run.batches.setdefault(name, Counter())

        def counted(items: list[Any], *args: Any, _o: Any = original, _s: Any = sizes) -> Any:
            _s[len(items)] += 1
            return _o(items, *args)

        setattr(backend, name, counted)


def _count_http(app: Pynenc, run: LifecycleRun) -> None:
    store: Any = app.state_backend.store
    original = store.request
    lock = threading.Lock()

    def counted(*args: Any, **kwargs: Any) -> Any:
        with lock:
            run.http += 1
        return original(*args, **kwargs)

    store.request = counted


@contextmanager
def running(app: Pynenc) -> Iterator[None]:
    thread = threading.Thread(target=app.runner.run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        app.runner.stop_runner_loop()
        thread.join(timeout=10)


def measure_lifecycles(endpoint: LocalEndpointProcess, api_url: str | None) -> LifecycleRun:
    app = build_app(endpoint, api_url)
    add.app = app
    run = LifecycleRun(type(app.state_backend).__name__)
    with running(app):
        for i in range(WARM_UP):
            assert add(i, 1).result == i + 1
        app.state_backend.wait_for_all_async_operations()
        _count_batches(app, run)
        if api_url:
            _count_http(app, run)
        before = request_counts(endpoint.url)
        invocations = [add(i, 1) for i in range(LIFECYCLES)]
        assert [inv.result for inv in invocations] == [i + 1 for i in range(LIFECYCLES)]
        # History records are written by threads of their own: wait until they are.
        app.state_backend.wait_for_all_async_operations()
        time.sleep(0.2)
        run.dynamodb = request_counts(endpoint.url) - before
    app.purge()
    return run


def lifecycle_report(runs: list[LifecycleRun]) -> list[str]:
    operations = sorted({op for run in runs for op in run.dynamodb})
    head = "| | " + " | ".join(run.backend for run in runs) + " |"
    lines = [head, "|---|" + "---:|" * len(runs)]
    for op in operations:
        cells = " | ".join(f"{run.dynamodb[op] / LIFECYCLES:.2f}" for run in runs)
        lines.append(f"| {op} | {cells} |")
    totals = " | ".join(f"**{run.per_lifecycle():.2f}**" for run in runs)
    lines.append(f"| DynamoDB requests per lifecycle | {totals} |")
    http = " | ".join(f"{run.http / LIFECYCLES:.2f}" if run.http else "-" for run in runs)
    lines.append(f"| state API HTTP requests per lifecycle | {http} |")
    lines += ["", "Batch sizes pynenc 0.1.1 passed (size: calls, over the counted runs):", ""]
    for run in runs[:1]:
        for name, sizes in run.batches.items():
            shown = ", ".join(f"{size}: {count}" for size, count in sorted(sizes.items()))
            lines.append(f"- `{name}`: {shown or 'not called'}")
    return lines


SUITES = {
    "unit.state_backend": ("test_suite_unit_state_backend", "test_suite_api_unit_state_backend"),
    "integration.state_backend": (
        "test_suite_integration_state_backend",
        "test_suite_api_integration_state_backend",
    ),
    "unit.client_data_store": ("test_suite_unit_client_data_store", None),
    "integration.test_client_data_store": ("test_suite_integration_client_data_store", None),
    "unit.app_id_isolation": ("test_suite_unit_app_id_isolation", None),
    "integration.app_id_isolation": ("test_suite_integration_app_id_isolation", None),
}


def suite_results() -> dict[str, tuple[int, int]]:
    """passed / total per test module of ``tests/plugin``, from one pytest run."""
    modules = sorted({m for pair in SUITES.values() for m in pair if m})
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "suites.xml"
        paths = [f"tests/plugin/{m}.py" for m in modules]
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *paths]
        subprocess.run([*command, f"--junitxml={report}"], cwd=ROOT, check=False)
        results: dict[str, list[int]] = {m: [0, 0] for m in modules}
        for case in ET.parse(report).getroot().iter("testcase"):
            module = case.get("classname", "").split(".")[2]
            failed = any(child.tag in ("failure", "error") for child in case)
            skipped = any(child.tag == "skipped" for child in case)
            results[module][1] += 1
            results[module][0] += 0 if failed or skipped else 1
    return {m: (p, t) for m, (p, t) in results.items()}


def suites_report(results: dict[str, tuple[int, int]]) -> list[str]:
    lines = [
        "| pynenc 0.1.1 suite | DynamoDBStateBackend | DynamoDBApiStateBackend |",
        "|---|---:|---:|",
    ]
    for suite, (direct, api) in SUITES.items():
        cells = [f"{results[m][0]} / {results[m][1]}" if m else "-" for m in (direct, api)]
        lines.append(f"| `pynenc_tests.{suite}` | {cells[0]} | {cells[1]} |")
    return lines


def render(runs: list[LifecycleRun], hours: str, suites: dict[str, tuple[int, int]]) -> str:
    lines = [
        f"Measured by `make bench` (`python -m tests.benchmarks.pynenc01` in `.venv-pynenc01`)"
        f" on {time.strftime('%Y-%m-%d')}, embedded endpoint (moto), {LIFECYCLES} plain task"
        " runs after a warm-up; a ThreadRunner, broker and orchestrator in memory.",
        "",
        f"**Requests per task lifecycle** (pynenc 0.0.24 on the same table: {REQUESTS_0024}):",
        "",
        *lifecycle_report(runs),
        "",
        "**History time-range read of one hour** (`python -m tests.benchmarks.timerange`; read"
        " units computed from the item sizes, eventually consistent index reads):",
        "",
        "```",
        hours,
        "```",
        "",
        "**pynenc's plugin suites** (passed / total):",
        "",
        *suites_report(suites),
    ]
    return "\n".join(lines)


def write(text: str) -> None:
    doc = ROOT / "docs" / "benchmark-pynenc01.md"
    doc.write_text(f"# Benchmark on pynenc 0.1\n\n{text}\n")
    readme = ROOT / "README.md"
    content = readme.read_text()
    if BEGIN in content and END in content:
        head, rest = content.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        readme.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def main() -> None:
    with LocalEndpointProcess(TABLE) as endpoint, LocalApiProcess(endpoint.url, TABLE) as api:
        runs = [measure_lifecycles(endpoint, None), measure_lifecycles(endpoint, api.url)]
    with LocalEndpointProcess(timerange.TABLE) as endpoint:
        hours = timerange.report(timerange.measure(endpoint.url))
    text = render(runs, hours, suite_results())
    print(text, flush=True)
    write(text)


if __name__ == "__main__":
    main()
