"""The contract: the same assertions over every backend class, for every operation of
pynenc's ``BaseStateBackend``. ``MemStateBackend`` is pynenc's reference."""

import inspect
import time
from typing import Any

import pytest
from pynenc import Pynenc
from pynenc.arguments import Arguments
from pynenc.call import Call
from pynenc.exceptions import InvocationNotFoundError, PynencError
from pynenc.invocation.dist_invocation import DistributedInvocation
from pynenc.invocation.status import InvocationStatus
from pynenc.task import Task
from pynenc.util.subclasses import get_all_subclasses
from pynenc.workflow import WorkflowIdentity

from tests.conftest import TABLE, AppFactory, store_endpoint_named
from tests.helpers import contract_tasks
from tests.helpers.endpoints import ENDPOINTS

# Each backend class, and for the table backend each DynamoDB implementation (ENDPOINTS).
BACKENDS = [
    ("MemStateBackend", ""),
    *(("DynamoDBStateBackend", endpoint) for endpoint in ENDPOINTS),
    ("DynamoDBApiStateBackend", "moto"),
]
SERIALIZERS = ["JsonSerializer", "PickleSerializer"]
# The serializer changes the bodies, not the requests: dynalite, which is there to check the
# requests, runs the contract with pynenc's default serializer only.
VARIANTS = [
    (name, endpoint, serializer)
    for name, endpoint in BACKENDS
    for serializer in SERIALIZERS
    if endpoint != "dynalite" or serializer == "JsonSerializer"
]


@pytest.fixture(params=VARIANTS, ids=["-".join(filter(None, v)) for v in VARIANTS])
def variant(request: pytest.FixtureRequest) -> tuple[str, str, str]:
    """A backend class, the DynamoDB implementation under it, and the app's serializer."""
    name, endpoint, serializer = request.param
    return str(name), str(endpoint), str(serializer)


@pytest.fixture
def app(
    variant: tuple[str, str, str],
    make_app: AppFactory,
    request: pytest.FixtureRequest,
) -> Pynenc:
    backend_name, endpoint, serializer = variant
    config: dict[str, Any] = {"serializer_cls": serializer}
    if backend_name == "DynamoDBStateBackend":
        config.update(store_endpoint_named(request, endpoint).config(TABLE))
    elif backend_name == "DynamoDBApiStateBackend":
        # Requested lazily: the API server starts only when an API test runs.
        config.update(request.getfixturevalue("api_config"))
    else:
        config["state_backend_cls"] = backend_name
    app = make_app(config)
    assert type(app.state_backend).__name__ == backend_name
    return app


def invocation(app: Pynenc, x: int = 1, y: int = 2) -> DistributedInvocation:
    # Bound to the app under test, so its arguments use that app's serializer.
    task = Task(app, contract_tasks.add.func, {})
    call = Call(task, Arguments({"x": x, "y": y}))
    return DistributedInvocation(call, stored_in_backend=True)


def test_upsert_and_get_invocation(app: Pynenc) -> None:
    inv = invocation(app, 3, 4)
    app.state_backend.upsert_invocation(inv)
    got = app.state_backend.get_invocation(inv.invocation_id)
    assert got.invocation_id == inv.invocation_id
    assert got.task.task_id == "tests.helpers.contract_tasks.add"
    assert got.arguments.kwargs == {"x": 3, "y": 4}


def test_upsert_overwrites(app: Pynenc) -> None:
    inv = invocation(app, 1, 2)
    app.state_backend.upsert_invocation(inv)
    changed = DistributedInvocation(
        Call(inv.task, Arguments({"x": 5, "y": 6})),
        invocation_id=inv.invocation_id,
        stored_in_backend=True,
    )
    app.state_backend.upsert_invocation(changed)
    got = app.state_backend.get_invocation(inv.invocation_id)
    assert got.invocation_id == inv.invocation_id
    assert got.arguments.kwargs == {"x": 5, "y": 6}


def test_unknown_invocation_raises_not_found(app: Pynenc) -> None:
    # Mem and Redis raise KeyError, which pynenc's RedisOrchestrator catches; ours is also
    # pynenc's InvocationNotFoundError, as BaseStateBackend.get_invocation documents.
    with pytest.raises(KeyError) as info:
        app.state_backend.get_invocation("no-such-invocation")
    if type(app.state_backend).__name__ != "MemStateBackend":
        assert isinstance(info.value, InvocationNotFoundError)


def test_history_in_order(app: Pynenc) -> None:
    inv = invocation(app)
    statuses = [
        InvocationStatus.REGISTERED,
        InvocationStatus.PENDING,
        InvocationStatus.RUNNING,
        InvocationStatus.SUCCESS,
    ]
    for status in statuses:
        app.state_backend.add_history(inv, status)
        # Background writes: give each record its own timestamp order, as a runner does.
        app.state_backend.wait_for_invocation_async_operations(inv.invocation_id)
        time.sleep(0.002)
    history = app.state_backend.get_history(inv)
    assert [h.status for h in history] == statuses
    assert all(h.invocation_id == inv.invocation_id for h in history)
    assert [h.timestamp for h in history] == sorted(h.timestamp for h in history)


def test_history_of_unknown_invocation_is_empty(app: Pynenc) -> None:
    assert app.state_backend.get_history(invocation(app)) == []


@pytest.mark.parametrize(
    "value",
    [0, 42, "text with # and % and ünïcødé", [1, "a", None], {"k": {"n": [1.5]}}, None],
    ids=["zero", "int", "text", "list", "dict", "none"],
)
def test_result_round_trip(app: Pynenc, value: Any) -> None:
    inv = invocation(app)
    app.state_backend.set_result(inv, value)
    assert app.state_backend.get_result(inv) == value


def test_missing_result_raises_key_error(app: Pynenc) -> None:
    with pytest.raises(KeyError):
        app.state_backend.get_result(invocation(app))


def test_builtin_exception_round_trip(app: Pynenc) -> None:
    inv = invocation(app)
    app.state_backend.set_exception(inv, ValueError("bad value", 7))
    restored = app.state_backend.get_exception(inv)
    assert type(restored) is ValueError
    assert restored.args == ("bad value", 7)


def test_missing_exception_raises_key_error(app: Pynenc) -> None:
    with pytest.raises(KeyError):
        app.state_backend.get_exception(invocation(app))


def _build_error(cls: type[PynencError]) -> PynencError:
    """An instance of any PynencError subclass, its arguments filled from its signature."""
    kwargs: dict[str, Any] = {}
    for name, param in list(inspect.signature(cls.__init__).parameters.items())[1:]:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = str(param.annotation)
        if "list" in annotation:
            kwargs[name] = [f"{name}-1", f"{name}-2"]
        elif "dict" in annotation:
            kwargs[name] = {"key": f"{name}-value"}
        else:
            kwargs[name] = f"{name}-value"
    return cls(**kwargs)


@pytest.mark.parametrize(
    "error_cls",
    sorted([*get_all_subclasses(PynencError), PynencError], key=lambda c: c.__name__),
    ids=lambda c: c.__name__,
)
def test_every_pynenc_error_round_trips(app: Pynenc, error_cls: type[PynencError]) -> None:
    inv = invocation(app)
    error = _build_error(error_cls)
    app.state_backend.set_exception(inv, error)
    restored = app.state_backend.get_exception(inv)
    assert type(restored) is error_cls
    if type(app.state_backend).__name__ != "MemStateBackend":
        assert restored.to_json() == error.to_json()


def test_workflow_data(app: Pynenc) -> None:
    wf = WorkflowIdentity("tests.helpers.contract_tasks.add", "wf-1")
    other = WorkflowIdentity("tests.helpers.contract_tasks.add", "wf-2")
    sb = app.state_backend
    assert sb.get_workflow_data(wf, "stage") is None
    assert sb.get_workflow_data(wf, "stage", "default") == "default"
    sb.set_workflow_data(wf, "stage", {"step": 1})
    sb.set_workflow_data(wf, "stage", {"step": 2})
    sb.set_workflow_data(wf, "a#b%c", [1, 2])
    sb.set_workflow_data(wf, "", "empty key")
    assert sb.get_workflow_data(wf, "stage") == {"step": 2}
    assert sb.get_workflow_data(wf, "a#b%c") == [1, 2]
    assert sb.get_workflow_data(wf, "") == "empty key"
    assert sb.get_workflow_data(other, "stage", "absent") == "absent"


def test_deterministic_values(app: Pynenc) -> None:
    wf = WorkflowIdentity("tests.helpers.contract_tasks.add", "wf-det")
    sb = app.state_backend
    assert sb.get_workflow_deterministic_value(wf, "random:0") is None
    sb.set_workflow_deterministic_value(wf, "random:0", 0.25)
    sb.set_workflow_deterministic_value(wf, "uuid:0", "0f42")
    assert sb.get_workflow_deterministic_value(wf, "random:0") == 0.25
    assert sb.get_workflow_deterministic_value(wf, "uuid:0") == "0f42"
    # Deterministic values and workflow data with the same key do not mix.
    assert sb.get_workflow_data(wf, "random:0") is None


def test_workflow_runs_and_types(app: Pynenc) -> None:
    sb = app.state_backend
    parent = WorkflowIdentity("tests.helpers.contract_tasks.add", "run-1")
    runs = [
        parent,
        WorkflowIdentity("tests.helpers.contract_tasks.add", "run-2"),
        WorkflowIdentity("tests.helpers.contract_tasks.echo", "run-3", parent_workflow=parent),
    ]
    for run in runs:
        sb.store_workflow_run(run)
    assert set(sb.get_all_workflows()) == {
        "tests.helpers.contract_tasks.add",
        "tests.helpers.contract_tasks.echo",
    }
    assert set(sb.get_workflow_runs("tests.helpers.contract_tasks.add")) == set(runs[:2])
    assert list(sb.get_workflow_runs("tests.helpers.contract_tasks.echo")) == [runs[2]]
    assert list(sb.get_workflow_runs("tests.unknown")) == []
    assert sorted(sb.get_all_workflows_runs(), key=lambda r: r.workflow_id) == runs


def test_sub_invocations(app: Pynenc) -> None:
    sb = app.state_backend
    for sub in ["s1", "s2", "s3"]:
        sb.store_workflow_sub_invocation("wf-parent", sub)
    sb.store_workflow_sub_invocation("wf-parent", "s2")
    sb.store_workflow_sub_invocation("wf-other", "s9")
    assert sorted(sb.get_workflow_sub_invocations("wf-parent")) == ["s1", "s2", "s3"]
    assert list(sb.get_workflow_sub_invocations("wf-empty")) == []


def test_app_info(app: Pynenc) -> None:
    info = app.state_backend.get_app_info()
    assert info.app_id == app.app_id
    assert info.config_values == app.config_values


def test_purge(app: Pynenc) -> None:
    sb = app.state_backend
    inv = invocation(app)
    sb.upsert_invocation(inv)
    sb.add_history(inv, InvocationStatus.REGISTERED)
    sb.set_result(inv, 5)
    wf = WorkflowIdentity("tests.helpers.contract_tasks.add", "wf-purge")
    sb.store_workflow_run(wf)
    sb.store_workflow_sub_invocation("wf-purge", inv.invocation_id)
    sb.purge()
    with pytest.raises((InvocationNotFoundError, KeyError)):
        sb.get_invocation(inv.invocation_id)
    assert sb.get_history(inv) == []
    with pytest.raises(KeyError):
        sb.get_result(inv)
    assert list(sb.get_all_workflows()) == []
    assert list(sb.get_all_workflows_runs()) == []
    assert list(sb.get_workflow_sub_invocations("wf-purge")) == []
