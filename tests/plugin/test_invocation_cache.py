"""An invocation's record never changes once written, and pynenc 0.1 reads it about five
times and writes it twice per task run: the backend serves it from memory after its first
write or read, and does not send an identical record again. Requests are counted where
they land, by the embedded endpoint."""

from collections import Counter
from collections.abc import Callable

import pytest
from pynenc import Pynenc, PynencBuilder
from pynenc.exceptions import InvocationNotFoundError
from pynenc.identifiers.call_id import CallId
from pynenc.identifiers.invocation_id import InvocationId
from pynenc.identifiers.task_id import TaskId
from pynenc.models.call_dto import CallDTO
from pynenc.models.invocation_dto import InvocationDTO
from pynenc.workflow import WorkflowIdentity

from pynenc_dynamodb.local.endpoint import LocalEndpointProcess, request_counts
from tests.conftest import TABLE

TASK = TaskId("tests.plugin.tasks", "add")


def _pair(invocation_id: str, args: str = "1") -> tuple[InvocationDTO, CallDTO]:
    call_id = CallId(TASK, f"args-{args}")
    workflow = WorkflowIdentity(workflow_id=InvocationId(invocation_id), workflow_type=TASK)
    invocation = InvocationDTO(
        invocation_id=InvocationId(invocation_id),
        call_id=call_id,
        workflow=workflow,
        parent_invocation_id=None,
    )
    return invocation, CallDTO(call_id=call_id, serialized_arguments={"x": args})


def _served(endpoint: LocalEndpointProcess, operation: Callable[[], object]) -> Counter[str]:
    before = request_counts(endpoint.url)
    operation()
    return request_counts(endpoint.url) - before


def _same_app(app: Pynenc, endpoint: LocalEndpointProcess) -> Pynenc:
    """Another backend of the same app, as another worker process would have."""
    builder = PynencBuilder().app_id(app.app_id)
    builder = builder.dynamodb(table=TABLE, endpoint_url=endpoint.url, state_only=True)
    return builder.build()


def test_an_invocation_written_here_is_read_without_a_request(
    app_instance: Pynenc, endpoint: LocalEndpointProcess
) -> None:
    backend = app_instance.state_backend
    pair = _pair("inv-cached")
    backend._upsert_invocations([pair])
    for _ in range(5):
        assert _served(endpoint, lambda: backend._get_invocation(pair[0].invocation_id)) == {}
    assert backend._get_invocation(pair[0].invocation_id) == pair


def test_another_process_reads_an_invocation_once(
    app_instance: Pynenc, endpoint: LocalEndpointProcess
) -> None:
    pair = _pair("inv-elsewhere")
    app_instance.state_backend._upsert_invocations([pair])
    other = _same_app(app_instance, endpoint).state_backend
    other._get_invocation(pair[0].invocation_id)  # the table check happens on first use
    fresh = _same_app(app_instance, endpoint).state_backend
    fresh.store.ensure_table()
    first = _served(endpoint, lambda: fresh._get_invocation(pair[0].invocation_id))
    assert first == Counter({"GetItem": 1})
    assert _served(endpoint, lambda: fresh._get_invocation(pair[0].invocation_id)) == {}


def test_an_identical_record_is_not_written_again(
    app_instance: Pynenc, endpoint: LocalEndpointProcess
) -> None:
    backend = app_instance.state_backend
    pair = _pair("inv-twice")
    assert _served(endpoint, lambda: backend._upsert_invocations([pair])) == Counter(
        {"BatchWriteItem": 1}
    )
    assert _served(endpoint, lambda: backend._upsert_invocations([pair])) == {}
    # A batch with one new record sends that one only: a single 2-item write.
    both = [pair, _pair("inv-new")]
    assert _served(endpoint, lambda: backend._upsert_invocations(both)) == Counter(
        {"BatchWriteItem": 1}
    )
    # A different record under the same id is written.
    changed = _pair("inv-twice", args="2")
    assert _served(endpoint, lambda: backend._upsert_invocations([changed])) == Counter(
        {"BatchWriteItem": 1}
    )
    reader = _same_app(app_instance, endpoint).state_backend
    assert reader._get_invocation(InvocationId("inv-twice")) == changed


def test_purge_forgets_the_cached_invocations(
    app_instance: Pynenc, endpoint: LocalEndpointProcess
) -> None:
    backend = app_instance.state_backend
    pair = _pair("inv-purged")
    backend._upsert_invocations([pair])
    backend.purge()
    with pytest.raises(InvocationNotFoundError):
        backend.get_invocation(pair[0].invocation_id)
    # Written again after the purge, not skipped as already written.
    backend._upsert_invocations([pair])
    reader = _same_app(app_instance, endpoint).state_backend
    assert reader._get_invocation(pair[0].invocation_id) == pair
