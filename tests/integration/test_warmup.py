"""A fresh worker's warm-up: it builds the client the worker's backends share and checks
the table, hides no error, and survives a fork at any moment."""

import os
import signal
import subprocess
import sys
import threading
from typing import Any

from pynenc_dynamodb.aws.per_process import PerProcess, kept, preparing
from pynenc_dynamodb.local.endpoint import LocalEndpointProcess
from tests.conftest import TABLE
from tests.helpers.e2e_run import ROOT


def probe(url: str, table: str) -> dict[str, Any]:
    import json

    done = subprocess.run(
        [sys.executable, "-m", "tests.helpers.warmup_probe", url, table],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_warm_up_checks_the_table_and_the_first_request_uses_its_client(
    endpoint: LocalEndpointProcess,
) -> None:
    outcome = probe(endpoint.url, TABLE)
    assert outcome["warm_up"] == {"DescribeTable": 1}
    # The backend's first request is only its own: no second table check.
    assert outcome["first_request"] == {"GetItem": 1}
    assert outcome["shares_warmed_client"] is True


def test_a_failed_warm_up_leaves_the_error_to_the_first_request(
    endpoint: LocalEndpointProcess,
) -> None:
    outcome = probe(endpoint.url, "no-such-table")
    assert outcome["warm_up"] == {"DescribeTable": 1}
    assert outcome["error"] == "TableNotFoundError"
    assert "dynamodb_create_table" in str(outcome["message"])


def _in_child(check: Any) -> int:
    """Run ``check`` in a forked child; its exit status (0: passed, 14: hung on a lock)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        signal.alarm(10)  # a lock copied while held would hang the child for ever
        try:
            os._exit(0 if check() else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)


def test_a_fork_while_a_client_is_being_built_leaves_the_child_free() -> None:
    building, release = threading.Event(), threading.Event()
    parent = os.getpid()

    def build() -> int:
        if os.getpid() == parent:
            building.set()
            release.wait(30)
        return os.getpid()

    holder: PerProcess[int] = PerProcess(build)
    thread = threading.Thread(target=holder.get)
    thread.start()
    building.wait(30)
    try:
        # The parent's thread holds the holder's lock at the fork.
        assert _in_child(lambda: holder.get() == os.getpid()) == 0
    finally:
        release.set()
        thread.join()
    assert holder.get() == parent


def test_a_fork_during_a_warm_up_leaves_the_child_free() -> None:
    preparing_now, release = threading.Event(), threading.Event()
    key = ("test-fork-during-warm-up",)

    def prepare() -> None:
        with preparing(key):
            preparing_now.set()
            release.wait(30)

    thread = threading.Thread(target=prepare)
    thread.start()
    preparing_now.wait(30)
    try:
        # The child does not inherit the parent's warmed values nor its held locks.
        assert _in_child(lambda: kept(key) is None) == 0
    finally:
        release.set()
        thread.join()


CONCURRENT_LOOKUP = """
import sys, threading, time
from pynenc.state_backend.base_state_backend import BaseStateBackend
from pynenc.util.subclasses import get_subclass
threading.Thread(target=lambda: __import__("pynenc_dynamodb"), daemon=True).start()
while "pynenc_dynamodb" not in sys.modules:
    time.sleep(0.0005)
# The package is being imported by the other thread (as a worker's warm-up does).
print(get_subclass(BaseStateBackend, "DynamoDBStateBackend").__name__)
"""


def test_a_backend_lookup_during_the_warm_up_import_finds_the_backend() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CONCURRENT_LOOKUP],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "DynamoDBStateBackend"
