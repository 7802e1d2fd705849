"""Markdown tables of the results, the latency plot, and the machine they ran on."""

import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.benchmarks.workload import OPS, BackendRun


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """A markdown table; floats get three significant decimals."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
        return str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def machine_facts() -> dict[str, str]:
    """The CPUs, CPU model and Python of this machine, for the report's header."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    nproc = subprocess.run(["nproc"], check=False, capture_output=True, text=True).stdout.strip()
    return {
        "nproc": nproc,
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def speed_tables(runs: list[BackendRun]) -> list[str]:
    """Wall time and per-operation p50/p95, with ratios against Redis."""
    redis = next((r for r in runs if r.name == "RedisStateBackend"), None)
    rows = []
    for run in runs:
        ratio = run.wall / redis.wall if redis else float("nan")
        per_lifecycle = run.wall / run.lifecycles * 1000
        rows.append([run.name, run.lifecycles, run.wall, per_lifecycle, ratio])
    out = ["### Wall time", ""]
    out += table(["backend", "lifecycles", "wall s", "ms per lifecycle", "x Redis"], rows)
    out += ["### Latency per call, ms (p50 / p95)", ""]
    header = ["operation", *[r.name.replace("StateBackend", "") for r in runs]]
    rows = []
    for op in OPS:
        rows.append([op, *[f"{r.p(op, 0.5):.3g} / {r.p(op, 0.95):.3g}" for r in runs]])
    out += table(header, rows)
    if redis:
        out += ["### p50 latency, x Redis", ""]
        rows = [[op, *[f"{r.p(op, 0.5) / redis.p(op, 0.5):.1f}" for r in runs]] for op in OPS]
        out += table(header, rows)
    return out


def plot(runs: list[BackendRun], path: Path) -> None:
    """Grouped bars of p50 latency per operation and backend, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    width = 0.8 / len(runs)
    fig, ax = plt.subplots(figsize=(12, 5.5))
    for i, run in enumerate(runs):
        xs = [j + i * width - 0.4 + width / 2 for j in range(len(OPS))]
        ax.bar(xs, [run.p(op, 0.5) for op in OPS], width, label=run.name)
    ax.set_yscale("log")
    ax.set_xticks(range(len(OPS)))
    ax.set_xticklabels(OPS, rotation=30, ha="right")
    ax.set_ylabel("p50 latency per call, ms (log scale)")
    ax.set_title("pynenc state backends: p50 latency per operation (local endpoints)")
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
