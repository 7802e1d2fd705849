"""One route table for the client and the function, and one spelling per path: a path
spelled any other way is a 400, so an IAM policy naming a path cannot be sidestepped, and
no id or key (``.``, ``..``, empty) is lost to dot-segment removal on the way."""

from datetime import UTC, datetime
from types import ModuleType
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pynenc_dynamodb.api import routes
from pynenc_dynamodb.api.client import ApiSettings, ApiStateStore
from pynenc_dynamodb.table.entries import InvocationEntry
from tests.conftest import unique_app_id
from tests.helpers.api_events import call


def test_every_route_has_a_handler_and_a_client_operation(api: ModuleType) -> None:
    names = {route.name for route in routes.ROUTES}
    assert set(api.HANDLERS) == names
    # Every operation of the client goes to the route of its own name, from the table.
    sent: list[tuple[str, str]] = []

    def record(method: str, path: str, *args: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        sent.append((method, path))
        return 200, {"items": [], "next_cursor": None, "body": "x", "done": True}

    store = ApiStateStore(ApiSettings("http://127.0.0.1:1"), "orders")
    store.request = record  # type: ignore[method-assign]
    when = datetime.now(UTC)
    operations = {
        "put_invocation": lambda: store.put_invocation("i", "b"),
        "get_invocation": lambda: store.get_invocation("i"),
        "add_history": lambda: store.add_history("i", when, "b"),
        "get_history": lambda: list(store.get_history("i")),
        "put_result": lambda: store.put_result("i", "b"),
        "get_result": lambda: store.get_result("i"),
        "put_exception": lambda: store.put_exception("i", "b"),
        "get_exception": lambda: store.get_exception("i"),
        "put_workflow_data": lambda: store.put_workflow_data("w", "k", "b"),
        "get_workflow_data": lambda: store.get_workflow_data("w", "k"),
        "put_deterministic_value": lambda: store.put_deterministic_value("w", "k", "b"),
        "get_deterministic_value": lambda: store.get_deterministic_value("w", "k"),
        "put_sub_invocation": lambda: store.put_sub_invocation("w", "s"),
        "sub_invocations": lambda: list(store.sub_invocations("w")),
        "put_workflow_run": lambda: store.put_workflow_run("t", "w", "b"),
        "all_workflow_runs": lambda: list(store.all_workflow_runs()),
        "workflow_types": lambda: list(store.workflow_types()),
        "workflow_runs": lambda: list(store.workflow_runs("t")),
        "put_app_info": lambda: store.put_app_info("orders", "b"),
        "get_app_info": lambda: store.get_app_info("orders"),
        "all_app_infos": lambda: list(store.all_app_infos()),
        "purge": store.purge,
        "put_invocations": lambda: store.put_invocations(
            [InvocationEntry("i", "b", "w", "t", None)]
        ),
        "invocation_ids_by_workflow": lambda: list(store.invocation_ids_by_workflow("w", None)),
        "child_invocations": lambda: list(store.child_invocations("i")),
        "add_histories": lambda: store.add_histories(["i"], when, "b"),
        "history_in_timerange": lambda: list(store.history_in_timerange(when, when)),
        "invocation_ids_in_timerange": lambda: list(store.invocation_ids_in_timerange(when, when)),
        "put_runner_context": lambda: store.put_runner_context("r", "b"),
        "get_runner_contexts": lambda: store.get_runner_contexts(["r"]),
        "matching_runner_contexts": lambda: list(store.matching_runner_contexts("r")),
        "put_client_data": lambda: store.put_client_data("k", "b"),
        "get_client_data": lambda: store.get_client_data("k"),
        "purge_client_data": store.purge_client_data,
    }
    assert set(operations) == names
    for name, operation in operations.items():
        sent.clear()
        operation()
        (method, path), *_ = sent
        found = routes.match(method, path)
        assert found is not None and found[0].name == name, (name, method, path)


@pytest.mark.parametrize(
    "path",
    [
        "/apps/%6Frders/invocations/i",  # 'o' encoded: a second spelling of /apps/orders
        "/apps/orders/invocations/caf%c3%a9",  # lower-case hex
        "/apps/orders/invocations/café",  # raw non-ASCII
        "/apps/orders/invocations/a%2Db",  # '-' needs no encoding
        "/apps/orders/invocations/%2e",  # lower-case dot
        "/apps/orders/invocations/./result",  # raw dot segment
        "/apps/orders/invocations/..",
        "/apps/orders/workflows/w/data/.",
        "/apps/orders/workflows/w/data/a b",
    ],
)
def test_other_spellings_of_a_path_are_400(api: ModuleType, path: str) -> None:
    for method in ("PUT", "GET"):
        status, answer = call(api, method, path, {"body": "x"} if method == "PUT" else None)
        assert status == 400, (method, answer)
        assert answer["error"]["code"] == "NonCanonicalPath"
    # Nothing was written under the canonical spelling either.
    segments = [routes.segment(unquote(s)) for s in path.split("/")[1:]]
    canonical = "/" + "/".join(segments)
    assert call(api, "GET", canonical)[0] in (404, 400)


def test_the_one_spelling_is_served(api: ModuleType) -> None:
    app_id = unique_app_id("spell")
    path = routes.path("put_invocation", app_id=app_id, invocation_id="café/#.")
    assert path.endswith("/caf%C3%A9%2F%23.")
    assert call(api, "PUT", path, {"body": "x"})[0] == 200
    assert call(api, "GET", path) == (200, {"body": "x"})
    call(api, "DELETE", routes.path("purge", app_id=app_id))


def test_dot_ids_and_keys_are_their_own_items(state_api: Any) -> None:
    """urllib3 and the signer drop raw ``.``/``..`` segments: ``put_result(".")`` would
    land on invocation ``result``, key ``.`` on key ``""``."""
    store = ApiStateStore(ApiSettings(state_api.url), unique_app_id("dots"))
    store.put_invocation("result", "the invocation")
    store.put_result(".", "result of '.'")
    store.put_result("..", "result of '..'")
    for key in ("", ".", "..", "..."):
        store.put_workflow_data("wf", key, f"data {key!r}")
        store.put_deterministic_value(".", key, f"value {key!r}")
    assert store.get_invocation("result") == "the invocation"
    assert store.get_result(".") == "result of '.'"
    assert store.get_result("..") == "result of '..'"
    assert store.get_invocation(".") is None
    for key in ("", ".", "..", "..."):
        assert store.get_workflow_data("wf", key) == f"data {key!r}"
        assert store.get_deterministic_value(".", key) == f"value {key!r}"
    store.purge()


@given(st.text(max_size=20))
def test_segment_is_the_one_spelling_and_decodes_back(value: str) -> None:
    spelled = routes.segment(value)
    assert unquote(spelled) == value
    assert spelled not in (".", "..")
    assert routes.non_canonical_segment("/" + spelled) is None
    assert "/" not in spelled


def test_router_and_405_use_the_same_pattern(api: ModuleType) -> None:
    for route in routes.ROUTES:
        names = ("app_id", "invocation_id", "workflow_id", "key", "task_id", "runner_id")
        parameters = dict.fromkeys(names, "x")
        path = routes.path(route.name, **parameters)
        found = routes.match(route.method, path)
        assert found is not None and found[0] == route
        assert route.method in routes.allowed_methods(path)
    status, answer = call(api, "PATCH", "/apps/x/invocations/i")
    assert status == 405
    assert answer["error"]["message"].endswith("use GET, PUT.")
