"""The benchmark's generated outputs, from a fake results dict: the README summary and its
markers, the report's header, and the exit code when a target or a cross-check is missed."""

import copy
import re
from pathlib import Path
from typing import Any

import pytest

import tests.benchmarks.__main__ as bench
from tests.benchmarks import summary
from tests.benchmarks.summary import BEGIN, END, Results


def _measure(what: str, items: int, requests: dict[str, int], peak_kib: float) -> dict[str, Any]:
    return {
        "what": what,
        "items": items,
        "seconds": 0.5,
        "cpu": 0.25,
        "peak_kib": peak_kib,
        "requests": requests,
    }


def fake_results() -> Results:
    """A run whose every figure is distinct, so each can be found where it belongs."""
    return {
        "command": "python -m tests.benchmarks",
        "commit": "0123456789ab",
        "elapsed_s": 432.1,
        "machine": {"nproc": "3", "cpu": "Test CPU", "python": "3.11.9", "platform": "Linux-x"},
        "workload": {
            "lifecycles": 7,
            "backends": [
                {
                    "name": "MemStateBackend",
                    "ms_per_lifecycle": 2.531,
                    "x_redis": 0.578,
                    "requests_per_lifecycle": None,
                },
                {
                    "name": "RedisStateBackend",
                    "ms_per_lifecycle": 4.38,
                    "x_redis": 1.0,
                    "requests_per_lifecycle": None,
                },
                {
                    "name": "DynamoDBStateBackend",
                    "ms_per_lifecycle": 141.2,
                    "x_redis": 32.1,
                    "requests_per_lifecycle": 9.0,
                },
            ],
            "requests_per_call": {
                "upsert_invocation": {"PutItem": 1.0},
                "store_workflow_run": {"BatchWriteItem": 1.0},
            },
            "calls_per_lifecycle": {"upsert_invocation": 1, "store_workflow_run": 1},
            "cross_check": {"hooks": 14, "sends": 3520, "server": 3520, "own": 3520},
        },
        "cost": {
            "wru": 6.0,
            "rru": 3.0,
            "per_million": 4.125,
            "with_workflow_per_million": 7.5,
            "prices": "assumed prices",
        },
        "overhead": {
            "target": 1.15,
            "pairs": [
                {"call": "store.put_result", "ratio": 1.0151},
                {"call": "store.get_result", "ratio": 1.0222},
            ],
            "layer_us": {"store.put_result": 8.25, "store.get_result": 9.5},
        },
        "scale": {
            "sizes": [1000, 3000],
            "page_size": 1000,
            "measures": {
                "1000": {
                    "purge app (traced)": _measure(
                        "purge app (traced)", 2002, {"Query": 33, "BatchWriteItem": 81}, 2048.0
                    ),
                    "first history item": _measure("first history item", 1, {"Query": 1}, 4096.0),
                },
                "3000": {
                    "first history item": _measure("first history item", 1, {"Query": 1}, 5120.0),
                },
            },
            "small": {
                "items": 200,
                "neighbour_items": 3000,
                "alone": _measure("purge", 200, {"Query": 33, "BatchWriteItem": 8}, 0.0),
                "beside": _measure("purge", 200, {"Query": 33, "BatchWriteItem": 8}, 0.0),
            },
        },
        "coldstart": {
            "target": 1.2,
            "ratio": 1.054,
            "sizes_mb": {
                "function": {"unzipped": 6.55, "zip": 2.25},
                "layer": {"unzipped": 0.3, "zip": 0.1},
            },
        },
        "first_task": {
            f"{runner}/{backend}": {"first": first, "steady": steady}
            for runner, backend, first, steady in [
                ("MultiThreadRunner", "DynamoDBStateBackend", 0.143, 0.133),
                ("MultiThreadRunner", "RedisStateBackend", 0.427, 0.109),
                ("PersistentProcessRunner", "DynamoDBStateBackend", 0.141, 0.130),
                ("PersistentProcessRunner", "RedisStateBackend", 0.426, 0.108),
            ]
        },
    }


def _flat(text: str) -> str:
    """The summary with its wrapped lines joined again."""
    return re.sub(r"\n *", " ", text)


def test_summary_figures_and_labels_come_from_the_results() -> None:
    wrapped = summary.render_summary(fake_results())
    assert all(len(line) <= 92 for line in wrapped.splitlines() if not line.startswith("|"))
    text = _flat(wrapped)
    assert "One workload (7 task lifecycles with workflow operations)" in text
    assert "at commit `0123456789ab`" in text
    assert "on 3 cores (Test CPU, Python 3.11.9) in 432 s" in text
    assert "scale (1k, 3k items)" in text
    assert "| MemStateBackend | 2.53 | 0.58 |  |" in text
    assert "| DynamoDBStateBackend | 141 | 32 | 9 |" in text
    assert "`upsert_invocation` 1 PutItem, `store_workflow_run` 1 BatchWriteItem" in text
    assert "(2,002 items: 81 BatchWriteItem, 33 Query)" in text
    assert "the first item of a 3,000-record history costs 1 Query" in text
    assert "**$4.12 per million task runs**; with the workflow operations $7.50" in text
    assert "1.015x for `store.put_result`, 1.022x for `store.get_result` (target 1.15x)" in text
    assert "peak memory between 2.0 and 5.0 MiB from 1k to 3k items" in text
    assert "**1.05x** (target 1.2x)" in text
    assert "2.25 MB zipped (6.55 MB unzipped), the layer 0.10 MB" in text
    assert (
        "MultiThreadRunner 143 ms first, 133 ms steady (RedisStateBackend 427 / 109); "
        "PersistentProcessRunner 141 ms first, 130 ms steady (RedisStateBackend 426 / 108)"
    ) in text
    # Nothing of the previous hand-written summary survives in a generated one.
    assert "300" not in text and "50,000" not in text


def test_summary_follows_the_workload_parameters() -> None:
    results = fake_results()
    results["workload"]["lifecycles"] = 1234
    results["scale"]["sizes"] = [1000, 10_000, 50_000]
    results["scale"]["measures"]["50000"] = results["scale"]["measures"].pop("3000")
    text = _flat(summary.render_summary(results))
    assert "One workload (1234 task lifecycles" in text
    assert "scale (1k, 10k, 50k items)" in text
    assert "a 50,000-record history" in text


def test_sections_absent_from_a_run_render_nothing() -> None:
    results = fake_results()
    for section in ("cost", "overhead", "scale", "coldstart", "first_task"):
        del results[section]
    text = _flat(summary.render_summary(results))
    for bullet in ("**Cost**", "**Client overhead**", "**Scale**", "**Lambda cold start**"):
        assert bullet not in text
    assert "**Request economy**" in text


def test_block_between_the_markers_is_replaced_and_nothing_else() -> None:
    readme = f"# Title\n\nbefore\n{BEGIN}\nold figures\n{END}\nafter\n"
    once = summary.replace_block(readme, "new figures\n")
    assert once == f"# Title\n\nbefore\n{BEGIN}\nnew figures\n{END}\nafter\n"
    assert summary.replace_block(once, "new figures\n") == once


@pytest.mark.parametrize(
    "readme",
    ["no markers", f"{BEGIN} only", f"{END}\n{BEGIN}", f"{BEGIN}\n{END}\n{BEGIN}\n{END}"],
    ids=["none", "no-end", "reversed", "twice"],
)
def test_missing_or_broken_markers_are_an_error(readme: str) -> None:
    with pytest.raises(ValueError, match="benchmark:begin"):
        summary.replace_block(readme, "x\n")


def test_outputs_name_the_commit_and_keep_the_rest_of_the_readme(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(f"intro\n{BEGIN}\nhand-typed\n{END}\nrest\n")
    summary.write_outputs(fake_results(), ["## 1. Workload", ""], tmp_path)
    readme = (tmp_path / "README.md").read_text()
    assert readme.startswith(f"intro\n{BEGIN}\nOne workload (7 task lifecycles")
    assert readme.endswith(f"{END}\nrest\n") and "hand-typed" not in readme
    report = (tmp_path / "docs" / "benchmark.md").read_text()
    assert "at commit `0123456789ab` in 432 s" in report
    assert "- CPUs (`nproc`): 3" in report
    assert report.endswith("## 1. Workload\n\n")


def test_a_run_that_holds_every_target_misses_none() -> None:
    assert summary.missed_targets(fake_results()) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("overhead", "pairs", 1, "ratio", 1.16), "store.get_result is 1.160x, over the 1.15x"),
        (("coldstart", "ratio", 1.21), "cold start is 1.21x the bare handler, over the 1.2x"),
        (("workload", "cross_check", "server", 3521), "DynamoDB request counts disagree"),
        (("workload", "cross_check", "hooks", 15), "made 15 DynamoDB requests, 14 expected"),
        (
            ("workload", "backends", 2, "ms_per_lifecycle", float("nan")),
            "DynamoDBStateBackend did not complete the workload",
        ),
    ],
    ids=["overhead", "coldstart", "cross-check", "per-call", "incomplete"],
)
def test_each_missed_target_is_named(change: tuple[Any, ...], message: str) -> None:
    results = fake_results()
    *path, field, value = change
    node: Any = results
    for step in path:
        node = node[step]
    node[field] = value
    [missed] = summary.missed_targets(results)
    assert message in missed


@pytest.mark.parametrize(("ratio", "code"), [(1.19, 0), (1.21, 1)])
def test_the_benchmark_exits_non_zero_when_a_target_is_missed(
    monkeypatch: pytest.MonkeyPatch, ratio: float, code: int
) -> None:
    fake = fake_results()
    fake["coldstart"]["ratio"] = ratio

    class Endpoint:
        url = "http://127.0.0.1:1"

    def section(*names: str) -> Any:
        def fill(*args: Any) -> list[Any]:
            results = args[-1]
            for name in names:
                results[name] = copy.deepcopy(fake[name])
            return []

        return fill

    monkeypatch.setattr(bench.servers, "endpoint", lambda stack, table: Endpoint())
    monkeypatch.setattr(bench, "workload", section("workload", "cost"))
    monkeypatch.setattr(bench, "overhead_section", section("overhead"))
    monkeypatch.setattr(bench, "scale_section", section("scale"))
    monkeypatch.setattr(bench, "coldstart_section", section("coldstart"))
    monkeypatch.setattr(bench, "first_task_section", section("first_task"))
    assert bench.main(["--quick"]) == code
