"""Many writers at once: a process runner and threads writing one app together, and a
purge of one app while another app's writers run."""

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pynenc import Pynenc
from pynenc.workflow import WorkflowIdentity

from pynenc_dynamodb.local.endpoint import LocalEndpointProcess
from tests.conftest import TABLE, AppFactory, unique_app_id
from tests.helpers.e2e_run import finish, runner_env, start

THREADS = 8
RECORDS = 40


def _write(
    app: Pynenc,
    thread: int,
    stop: threading.Event | None = None,
    progress: dict[int, int] | None = None,
) -> int:
    """Write records for ``app`` until done (or ``stop``); return how many were written.

    :param progress: updated with the records written so far, after each one
    """
    store = app.state_backend.store
    start_time = datetime(2026, 1, 1, tzinfo=UTC)
    written = 0
    while written < RECORDS or (stop is not None and not stop.is_set()):
        store.add_history(f"writer-{thread}", start_time + timedelta(seconds=written), str(written))
        written += 1
        if progress is not None:
            progress[thread] = written
    app.state_backend.set_workflow_data(
        WorkflowIdentity("tests.helpers.e2e_app.pipeline", f"wf-writer-{thread}"), "count", written
    )
    return written


def _check(app: Pynenc, counts: dict[int, int]) -> None:
    store = app.state_backend.store
    for thread, count in counts.items():
        assert list(store.get_history(f"writer-{thread}")) == [str(n) for n in range(count)]
        wf = WorkflowIdentity("tests.helpers.e2e_app.pipeline", f"wf-writer-{thread}")
        assert app.state_backend.get_workflow_data(wf, "count") == count


def _threads(
    app: Pynenc,
    counts: dict[int, int],
    stop: threading.Event | None = None,
    progress: dict[int, int] | None = None,
) -> list[threading.Thread]:
    def run(thread: int) -> None:
        counts[thread] = _write(app, thread, stop, progress)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    return threads


def test_process_runner_and_threads_write_one_app(
    endpoint: LocalEndpointProcess,
    make_app: AppFactory,
    dynamodb_config: dict[str, Any],
    tmp_path: Path,
) -> None:
    app_id = unique_app_id("shared")
    run = start("ProcessRunner", runner_env("ProcessRunner", endpoint.url, TABLE, app_id, tmp_path))
    app = make_app(dynamodb_config, app_id=app_id)
    counts: dict[int, int] = {}
    for thread in _threads(app, counts):
        thread.join()
    out = finish(run)
    results = out["results"]
    assert isinstance(results, dict) and results["pipeline"] == 14
    _check(app, counts)
    ids = out["ids"]
    assert isinstance(ids, dict)
    for invocation_id in ids["squares"]:
        assert app.state_backend.get_history(app.state_backend.get_invocation(invocation_id))


def test_purging_one_app_while_another_app_writes(
    make_app: AppFactory, dynamodb_config: dict[str, Any]
) -> None:
    victim, bystander = make_app(dynamodb_config), make_app(dynamodb_config)
    for n in range(300):
        victim.state_backend.store_workflow_sub_invocation("wf", f"sub-{n}")
    stop = threading.Event()
    counts: dict[int, int] = {}
    progress: dict[int, int] = {}
    threads = _threads(bystander, counts, stop, progress)
    while len(progress) < THREADS:  # every writer is running before the purge starts
        time.sleep(0.01)
    written_before = sum(progress.values())
    deleted = victim.state_backend.store.purge()
    written_during = sum(progress.values()) - written_before
    stop.set()
    for thread in threads:
        thread.join()
    assert deleted == 300
    # The purge overlapped the other app's writes: records were written while it ran.
    assert written_during > 0
    assert list(victim.state_backend.get_workflow_sub_invocations("wf")) == []
    _check(bystander, counts)
