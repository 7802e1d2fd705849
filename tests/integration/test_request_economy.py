"""Requests counted where they land: by the local endpoint, which counts every DynamoDB
request it serves (``GET /_pynenc_dynamodb/stats``), whichever process sent it. The same
counts hold for ``DynamoDBStateBackend`` and ``DynamoDBApiStateBackend`` (whose requests
the state API's handler makes)."""

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from pynenc import Pynenc
from pynenc.arguments import Arguments
from pynenc.call import Call
from pynenc.invocation.dist_invocation import DistributedInvocation
from pynenc.invocation.status import InvocationStatus
from pynenc.task import Task
from pynenc.workflow import WorkflowIdentity

from pynenc_dynamodb.aws.dynamodb import DynamoDBClient
from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.local.endpoint import LocalEndpointProcess, request_counts
from pynenc_dynamodb.table import builders, schema
from tests.conftest import TABLE, AppFactory
from tests.helpers import contract_tasks

BACKENDS = ["DynamoDBStateBackend", "DynamoDBApiStateBackend"]
# More than one 1,000-item purge page in one partition, and not a multiple of 25.
PURGE_ITEMS = 1_010


@pytest.fixture(params=BACKENDS)
def app(
    request: pytest.FixtureRequest, make_app: AppFactory, dynamodb_config: dict[str, Any]
) -> Pynenc:
    if request.param == "DynamoDBApiStateBackend":
        config = request.getfixturevalue("api_config")
    else:
        config = dynamodb_config
    app = make_app(config)
    assert type(app.state_backend).__name__ == request.param
    # The first request of a store describes the table, once: not what is counted here.
    app.state_backend.get_app_info()
    return app


def _served(endpoint: LocalEndpointProcess, operation: Callable[[], object]) -> Counter[str]:
    """The DynamoDB requests the endpoint served while ``operation`` ran."""
    before = request_counts(endpoint.url)
    operation()
    return request_counts(endpoint.url) - before


def test_every_single_item_operation_is_one_request(
    app: Pynenc, endpoint: LocalEndpointProcess
) -> None:
    sb = app.state_backend
    task = Task(app, contract_tasks.add.func, {})
    inv = DistributedInvocation(Call(task, Arguments({"x": 1, "y": 2})), stored_in_backend=True)
    wf = WorkflowIdentity("tests.helpers.contract_tasks.add", "wf-economy")
    info = sb.get_app_info()

    def add_history() -> None:
        sb.add_history(inv, InvocationStatus.REGISTERED)
        sb.wait_for_invocation_async_operations(inv.invocation_id)

    operations: dict[str, tuple[Callable[[], object], str | Counter[str]]] = {
        "upsert_invocation": (lambda: sb.upsert_invocation(inv), "PutItem"),
        "get_invocation": (lambda: sb.get_invocation(inv.invocation_id), "GetItem"),
        "add_history": (add_history, "PutItem"),
        "get_history": (lambda: sb.get_history(inv), "Query"),
        "set_result": (lambda: sb.set_result(inv, 1), "PutItem"),
        "get_result": (lambda: sb.get_result(inv), "GetItem"),
        "set_exception": (lambda: sb.set_exception(inv, ValueError("x")), "PutItem"),
        "get_exception": (lambda: sb.get_exception(inv), "GetItem"),
        "set_workflow_data": (lambda: sb.set_workflow_data(wf, "k", 1), "PutItem"),
        "get_workflow_data": (lambda: sb.get_workflow_data(wf, "k"), "GetItem"),
        "get_workflow_data (missing)": (lambda: sb.get_workflow_data(wf, "none"), "GetItem"),
        "set_workflow_deterministic_value": (
            lambda: sb.set_workflow_deterministic_value(wf, "r", 0.5),
            "PutItem",
        ),
        "get_workflow_deterministic_value": (
            lambda: sb.get_workflow_deterministic_value(wf, "r"),
            "GetItem",
        ),
        # Two items, the run and its type's registry entry: the run's put returns the run
        # it replaced, so a workflow moved to another type leaves no empty type behind.
        "store_workflow_run": (lambda: sb.store_workflow_run(wf), Counter({"PutItem": 2})),
        "store_workflow_sub_invocation": (
            lambda: sb.store_workflow_sub_invocation("wf-economy", "s"),
            "PutItem",
        ),
        "first sub-invocation": (
            lambda: next(iter(sb.get_workflow_sub_invocations("wf-economy"))),
            "Query",
        ),
        "store_app_info": (lambda: sb.store_app_info(info), "PutItem"),
        "get_app_info": (sb.get_app_info, "GetItem"),
    }
    served = {name: _served(endpoint, operation) for name, (operation, _) in operations.items()}
    assert served == {
        name: request if isinstance(request, Counter) else Counter({request: 1})
        for name, (_, request) in operations.items()
    }


def _fill_one_partition(endpoint: LocalEndpointProcess, app_id: str, count: int) -> None:
    """``count`` sub-invocations of one workflow: all in one partition, 25 per request."""
    client = DynamoDBClient(ClientSettings(endpoint_url=endpoint.url))
    items = [
        builders.build_item(schema.sub_invocation_key(app_id, "wf", f"sub-{n:04d}"), "s", None)
        for n in range(count)
    ]
    for request in builders.batch_writes(TABLE, puts=items):
        client.batch_write(request)


def test_purge_pages_through_a_partition_of_more_than_1000_items(
    app: Pynenc, endpoint: LocalEndpointProcess
) -> None:
    _fill_one_partition(endpoint, app.app_id, PURGE_ITEMS)
    served = _served(endpoint, app.state_backend.purge)
    # 34 partitions, one Query each, plus the second page of the full one; 1,010 deletes
    # in 40 batches of 25 and one of 10.
    assert served == Counter({"Query": 35, "BatchWriteItem": 41})
    assert list(app.state_backend.get_workflow_sub_invocations("wf")) == []
    # The shared registry entry is kept, as pynenc's Redis backend keeps it.
    assert app.state_backend.get_app_info().app_id == app.app_id
