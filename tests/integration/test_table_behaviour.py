"""What only a real table shows: apps sharing one table, purge cost, request economy,
lazy listings, run order and the time-to-live read path."""

import time
from collections import Counter
from typing import Any

import pytest
from pynenc import Pynenc
from pynenc.arguments import Arguments
from pynenc.call import Call
from pynenc.invocation.dist_invocation import DistributedInvocation
from pynenc.invocation.status import InvocationStatus
from pynenc.task import Task
from pynenc.workflow import WorkflowIdentity

from pynenc_dynamodb.table import builders, schema
from tests.conftest import AppFactory
from tests.helpers import contract_tasks
from tests.helpers.endpoints import ENDPOINTS

pytestmark = pytest.mark.endpoints(*ENDPOINTS)


def _invocation(app: Pynenc, invocation_id: str | None = None) -> DistributedInvocation:
    task = Task(app, contract_tasks.add.func, {})
    call = Call(task, Arguments({"x": 1, "y": 2}))
    return DistributedInvocation(call, invocation_id=invocation_id, stored_in_backend=True)


def _counts(app: Pynenc) -> Counter[str]:
    return Counter(app.state_backend.store.client.request_counts)


def _fill(app: Pynenc, invocation_id: str, workflow_id: str) -> DistributedInvocation:
    sb = app.state_backend
    inv = _invocation(app, invocation_id)
    sb.upsert_invocation(inv)
    sb.add_history(inv, InvocationStatus.REGISTERED)
    sb.set_result(inv, f"result of {app.app_id}")
    wf = WorkflowIdentity("tests.helpers.contract_tasks.add", workflow_id)
    sb.store_workflow_run(wf)
    sb.set_workflow_data(wf, "k", app.app_id)
    sb.store_workflow_sub_invocation(workflow_id, invocation_id)
    sb.wait_for_all_async_operations()
    return inv


def test_two_apps_share_a_table_and_purge_only_their_own(
    make_app: AppFactory, dynamodb_config: dict[str, Any]
) -> None:
    a, b = make_app(dynamodb_config), make_app(dynamodb_config)
    inv_a = _fill(a, "same-id", "same-wf")
    inv_b = _fill(b, "same-id", "same-wf")
    assert a.state_backend.get_result(inv_a) == f"result of {a.app_id}"
    assert b.state_backend.get_result(inv_b) == f"result of {b.app_id}"

    before = _counts(a)
    a.state_backend.purge()
    used = _counts(a) - before
    assert "Scan" not in used
    assert used["Query"] == len(schema.app_partitions(a.app_id))
    assert used["BatchWriteItem"] == 1  # 7 items fit one 25-item batch

    sb = b.state_backend
    wf = WorkflowIdentity("tests.helpers.contract_tasks.add", "same-wf")
    assert sb.get_result(inv_b) == f"result of {b.app_id}"
    assert [h.status for h in sb.get_history(inv_b)] == [InvocationStatus.REGISTERED]
    assert list(sb.get_all_workflows_runs()) == [wf]
    assert sb.get_workflow_data(wf, "k") == b.app_id
    assert list(sb.get_workflow_sub_invocations("same-wf")) == ["same-id"]
    with pytest.raises(KeyError):
        a.state_backend.get_result(inv_a)


def test_purge_deletes_25_items_per_request(
    make_app: AppFactory, dynamodb_config: dict[str, Any]
) -> None:
    app = make_app(dynamodb_config)
    for n in range(60):
        app.state_backend.store_workflow_sub_invocation("wf", f"sub-{n}")
    before = _counts(app)
    app.state_backend.purge()
    assert (_counts(app) - before)["BatchWriteItem"] == 3  # 25 + 25 + 10


def test_single_item_operations_are_one_request(
    make_app: AppFactory, dynamodb_config: dict[str, Any]
) -> None:
    app = make_app(dynamodb_config)
    sb = app.state_backend
    inv = _invocation(app)
    wf = WorkflowIdentity("tests.helpers.contract_tasks.add", "wf-economy")
    operations = {
        "upsert_invocation": (lambda: sb.upsert_invocation(inv), "PutItem"),
        "get_invocation": (lambda: sb.get_invocation(inv.invocation_id), "GetItem"),
        "set_result": (lambda: sb.set_result(inv, 1), "PutItem"),
        "get_result": (lambda: sb.get_result(inv), "GetItem"),
        "set_exception": (lambda: sb.set_exception(inv, ValueError("x")), "PutItem"),
        "get_exception": (lambda: sb.get_exception(inv), "GetItem"),
        "set_workflow_data": (lambda: sb.set_workflow_data(wf, "k", 1), "PutItem"),
        "get_workflow_data": (lambda: sb.get_workflow_data(wf, "k"), "GetItem"),
        # The type's entry, then the run (which answers with the run it replaced).
        "store_workflow_run": (lambda: sb.store_workflow_run(wf), "PutItem"),
        "store_sub_invocation": (
            lambda: sb.store_workflow_sub_invocation("wf-economy", "s"),
            "PutItem",
        ),
    }
    for name, (operation, request) in operations.items():
        before = _counts(app)
        operation()
        requests = 2 if name == "store_workflow_run" else 1
        assert _counts(app) - before == {request: requests}, name


def test_listings_fetch_pages_lazily(make_app: AppFactory, dynamodb_config: dict[str, Any]) -> None:
    app = make_app({**dynamodb_config, "dynamodb_page_size": 2})
    sb = app.state_backend
    for n in range(5):
        sb.store_workflow_sub_invocation("wf-lazy", f"sub-{n}")
    before = _counts(app)
    listing = sb.get_workflow_sub_invocations("wf-lazy")
    assert (_counts(app) - before)["Query"] == 0
    assert next(listing) == "sub-0"
    assert (_counts(app) - before)["Query"] == 1
    assert list(listing) == ["sub-1", "sub-2", "sub-3", "sub-4"]
    assert (_counts(app) - before)["Query"] == 3


def test_runs_of_a_type_are_listed_newest_first(
    make_app: AppFactory, dynamodb_config: dict[str, Any]
) -> None:
    app = make_app({**dynamodb_config, "dynamodb_page_size": 2})
    runs = [WorkflowIdentity("tests.helpers.contract_tasks.add", f"run-{n}") for n in range(5)]
    for run in runs:
        app.state_backend.store_workflow_run(run)
        time.sleep(0.002)
    assert (
        list(app.state_backend.get_workflow_runs("tests.helpers.contract_tasks.add")) == runs[::-1]
    )


def test_history_is_ordered_by_timestamp_not_by_arrival(
    make_app: AppFactory, dynamodb_config: dict[str, Any]
) -> None:
    app = make_app(dynamodb_config)
    store = app.state_backend.store
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 1, 1, tzinfo=UTC)
    for offset in [3, 1, 2, 0]:
        store.add_history("inv-order", start + timedelta(seconds=offset), str(offset))
    assert list(store.get_history("inv-order")) == ["0", "1", "2", "3"]


def test_time_to_live_is_written_and_expired_items_read_as_absent(
    make_app: AppFactory, dynamodb_config: dict[str, Any]
) -> None:
    app = make_app({**dynamodb_config, "dynamodb_ttl_seconds": 3600})
    sb = app.state_backend
    inv = _invocation(app)
    sb.set_result(inv, 7)
    raw = sb.store.client.get(
        builders.get_item(sb.store.table, schema.result_key(app.app_id, inv.invocation_id))
    )
    assert raw is not None
    assert int(raw[schema.EXPIRES_AT]["N"]) == pytest.approx(time.time() + 3600, abs=60)
    # pynenc registers an app once, at start: its registry entry never expires.
    info = sb.store.client.get(builders.get_item(sb.store.table, schema.app_info_key(app.app_id)))
    assert info is not None and schema.EXPIRES_AT not in info

    # DynamoDB deletes expired items lazily (moto never does): reads must skip them.
    expired = int(time.time()) - 1
    wf = WorkflowIdentity("tests.helpers.contract_tasks.add", "wf-ttl")
    for key, body in [
        (schema.result_key(app.app_id, inv.invocation_id), "7"),
        (schema.workflow_data_key(app.app_id, "wf-ttl", "k"), '"old"'),
        (schema.sub_invocation_key(app.app_id, "wf-ttl", "gone"), "gone"),
    ]:
        item = builders.build_item(key, body, expired)
        sb.store.client.put(builders.put_item(sb.store.table, item))
    with pytest.raises(KeyError):
        sb.get_result(inv)
    assert sb.get_workflow_data(wf, "k", "default") == "default"
    assert list(sb.get_workflow_sub_invocations("wf-ttl")) == []
