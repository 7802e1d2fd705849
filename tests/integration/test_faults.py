"""Under injected throttling, 500s and dropped connections, exactly what was written is
read back: nothing lost, nothing doubled, order kept."""

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pynenc import Pynenc

from tests.conftest import AppFactory
from tests.helpers.faults import FaultInjector, shrink_backoffs

THREADS = 16
INVOCATIONS_PER_THREAD = 5
APPENDS_PER_INVOCATION = 125  # 16 * 5 * 125 = 10,000 history appends
FAULT_RATE = 0.2


# About 12,700 requests through moto: CPU-bound, and on 2 cores shared with other jobs it
# can take several minutes. The suite's 300 s limit is for hung tests, not for this one.
@pytest.mark.timeout(1200)
def test_ten_thousand_appends_under_faults(
    make_app: AppFactory, dynamodb_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    shrink_backoffs(monkeypatch)
    app: Pynenc = make_app({**dynamodb_config, "dynamodb_max_attempts": 12})
    store = app.state_backend.store
    store.ensure_table()  # the table check is not what is under test
    injector = FaultInjector(FAULT_RATE)
    injector.install(store.client.boto3_client)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    errors: list[BaseException] = []

    def worker(thread: int) -> None:
        try:
            for n in range(INVOCATIONS_PER_THREAD):
                invocation_id = f"inv-{thread}-{n}"
                for step in range(APPENDS_PER_INVOCATION):
                    at = start + timedelta(milliseconds=step)
                    store.add_history(invocation_id, at, f"{invocation_id}:{step}")
                store.put_result(invocation_id, f"result {invocation_id}")
                store.put_workflow_data(f"wf-{thread}", f"key-{n}", f"data {thread}/{n}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    total = THREADS * INVOCATIONS_PER_THREAD * (APPENDS_PER_INVOCATION + 2)
    assert injector.requests >= total
    # Every kind of fault happened, many times.
    assert min(injector.injected[k] for k in injector.kinds) > 100, injector.injected
    print(f"\n{injector.requests} requests, injected {dict(injector.injected)}")

    injector.rate = 0.0
    for thread in range(THREADS):
        for n in range(INVOCATIONS_PER_THREAD):
            invocation_id = f"inv-{thread}-{n}"
            history = list(store.get_history(invocation_id))
            assert history == [f"{invocation_id}:{s}" for s in range(APPENDS_PER_INVOCATION)]
            assert store.get_result(invocation_id) == f"result {invocation_id}"
            assert store.get_workflow_data(f"wf-{thread}", f"key-{n}") == f"data {thread}/{n}"
