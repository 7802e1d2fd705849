"""pynenc's monitor (pynmon 0.1.1) over state kept in DynamoDB.

pynmon's own integration tests build their apps on the memory backend, so they say nothing
about ours: here a real app (state and client data in the table, a ThreadRunner, broker
and orchestrator in memory) runs a workflow with sub-tasks and a failing task, then
pynmon's real FastAPI app, started by its own ``start_monitor`` (only the server loop is
left out), answers each page from our state.
"""

import io
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pynenc import Pynenc, PynencBuilder

from pynenc_dynamodb.local.endpoint import DEFAULT_BUCKET, LocalEndpointProcess
from tests.conftest import TABLE, unique_app_id
from tests.plugin import monitor_tasks

SQUARES = 4


@dataclass
class Run:
    """What the app ran: the workflow, its sub-tasks, the failing task and the log."""

    app: Pynenc
    workflow: str
    children: list[str]
    failed: str
    log: str

    @property
    def invocations(self) -> list[str]:
        return [self.workflow, *self.children, self.failed]


@pytest.fixture
def run(endpoint: LocalEndpointProcess) -> Iterator[Run]:
    builder = PynencBuilder().app_id(unique_app_id("monitor")).memory().thread_runner()
    builder = builder.dynamodb(
        table=TABLE, endpoint_url=endpoint.url, s3_bucket=DEFAULT_BUCKET, state_only=True
    )
    app = builder.build()
    for task in (monitor_tasks.square, monitor_tasks.sum_of_squares, monitor_tasks.fail):
        task.app = app
    # The log as pynenc writes it, for the log explorer.
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    handler.setFormatter(app.logger.handlers[0].formatter)
    app.logger.addHandler(handler)
    runner = threading.Thread(target=app.runner.run, daemon=True)
    runner.start()
    try:
        workflow = monitor_tasks.sum_of_squares(SQUARES)
        assert workflow.result == sum(i * i for i in range(SQUARES))
        failing = monitor_tasks.fail("boom")
        with pytest.raises(ValueError, match="boom"):
            _ = failing.result
        app.state_backend.wait_for_all_async_operations()
        children = list(app.state_backend.get_child_invocations(workflow.invocation_id))
        yield Run(app, workflow.invocation_id, children, failing.invocation_id, log.getvalue())
    finally:
        app.logger.removeHandler(handler)
        app.runner.stop_runner_loop()
        runner.join(timeout=10)
        app.purge()


@pytest.fixture
def monitor(run: Run, monkeypatch: pytest.MonkeyPatch) -> Any:
    import pynmon.app as pynmon
    from fastapi.testclient import TestClient

    monkeypatch.setattr(pynmon, "all_pynenc_instances", {})
    monkeypatch.setattr(pynmon, "pynenc_instance", None)
    monkeypatch.setattr(pynmon.uvicorn, "run", lambda *args, **kwargs: None)
    apps = {run.app.app_id: run.app.state_backend.get_app_info()}
    pynmon.start_monitor(apps=apps, selected_app=run.app)
    return TestClient(pynmon.app)


def _page(monitor: Any, url: str) -> str:
    answer = monitor.get(url)
    assert answer.status_code == 200, f"{url}: {answer.status_code} {answer.text[:500]}"
    return str(answer.text)


def test_the_run_is_stored_as_pynmon_reads_it(run: Run) -> None:
    assert len(run.children) == SQUARES
    by_workflow = run.app.state_backend.get_invocation_ids_by_workflow(workflow_id=run.workflow)
    assert set(by_workflow) == {run.workflow, *run.children}


def test_home_and_invocation_list_with_pagination(run: Run, monitor: Any) -> None:
    assert run.app.app_id in _page(monitor, "/")
    everything = _page(monitor, "/invocations/?limit=50")
    assert all(invocation in everything for invocation in run.invocations)
    # The orchestrator orders and pages the ids; each listed row is read from our state.
    for page in (1, 2):
        listed = run.app.orchestrator.get_invocation_ids_paginated(limit=2, offset=2 * (page - 1))
        assert len(listed) == 2
        shown = _page(monitor, f"/invocations/?limit=2&page={page}")
        for invocation_id in listed:
            assert invocation_id in shown
            task = run.app.state_backend.get_invocation(invocation_id).task.task_id.func_name
            assert task in shown


def test_invocation_detail_history_and_timeline(run: Run, monitor: Any) -> None:
    detail = _page(monitor, f"/invocations/{run.workflow}")
    assert run.workflow in detail
    assert "sum_of_squares" in detail
    failed = _page(monitor, f"/invocations/{run.failed}")
    assert "boom" in failed
    history = monitor.get(f"/invocations/{run.failed}/history")
    assert history.status_code == 200
    statuses = [entry["status"] for entry in history.json()]
    assert statuses[0].lower() == "registered"
    assert statuses[-1].lower() == "failed"
    # The timeline reads the time index: every invocation of the run is on it.
    timeline = _page(monitor, "/invocations/timeline?time_range=15m")
    assert all(invocation in timeline for invocation in run.invocations)


def test_workflows_runs_and_family_tree(run: Run, monitor: Any) -> None:
    workflow_type = monitor_tasks.sum_of_squares.task_id.key
    assert workflow_type in _page(monitor, "/workflows/")
    assert run.workflow in _page(monitor, "/workflows/runs")
    assert run.workflow in _page(monitor, f"/workflows/{workflow_type}")
    tree = _page(monitor, f"/invocations/{run.workflow}/family-tree")
    assert all(child in tree for child in run.children)


def test_log_explorer_resolves_the_runner_and_invocations(run: Run, monitor: Any) -> None:
    lines = [line for line in run.log.splitlines() if run.failed in line]
    assert lines, "the failing invocation was logged"
    explored = monitor.get("/log-explorer/", params={"log": "\n".join(lines)})
    assert explored.status_code == 200
    assert run.failed in explored.text
    # The runner named in the log is found among the stored runner contexts.
    assert "ThreadRunner" in explored.text


def test_timeline_of_an_empty_window_reads_no_invocation(run: Run, monitor: Any) -> None:
    start = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 3 * 86400))
    end = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 3 * 86400 + 600))
    url = f"/invocations/timeline?time_range=custom&start_date={start}&end_date={end}"
    assert not any(invocation in _page(monitor, url) for invocation in run.invocations)
