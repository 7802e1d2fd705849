"""docs/serverless.md's example policies, checked against every route of the API's route
table: the worker policy grants one app's data routes only; the app registry and the
purges (of the state and of the client data) are in the operator policy."""

import json
import re
from fnmatch import fnmatchcase
from pathlib import Path

from pynenc_dynamodb.api import routes

DOC = Path(__file__).resolve().parents[2] / "docs" / "serverless.md"
API = "arn:aws:execute-api:eu-west-1:123456789012:abc123/$default"
# Reading every app's registry and deleting an app's state or client data (pynenc's
# app.purge() does both): operators' actions, not workers'.
OPERATOR_ROUTES = {"all_app_infos", "purge", "purge_client_data"}


def policies() -> dict[str, list[str]]:
    """Resources of each JSON policy of the doc, by the Sid of its statement."""
    found: dict[str, list[str]] = {}
    for block in re.findall(r"```json\n(.*?)```", DOC.read_text(), re.S):
        for statement in json.loads(block)["Statement"]:
            assert statement["Effect"] == "Allow"
            assert statement["Action"] == "execute-api:Invoke"
            resources = statement["Resource"]
            found[statement["Sid"]] = [resources] if isinstance(resources, str) else resources
    return found


def allowed(resources: list[str], method: str, path: str) -> bool:
    # IAM wildcards: '*' matches any run of characters, '/' included; so does fnmatch's.
    return any(fnmatchcase(f"{API}/{method}{path}", pattern) for pattern in resources)


def every_route(app_id: str) -> dict[str, tuple[str, str]]:
    values = {
        "invocation_id": "i",
        "workflow_id": "w",
        "key": "k",
        "task_id": "t",
        "runner_id": "r",
    }
    return {
        route.name: (route.method, routes.path(route.name, app_id=app_id, **values))
        for route in routes.ROUTES
    }


def test_worker_policy_grants_one_apps_data_routes_only() -> None:
    worker = policies()["OrdersWorker"]
    operator_only = OPERATOR_ROUTES
    for name, (method, path) in every_route("orders").items():
        assert allowed(worker, method, path) == (name not in operator_only), name
    for method, path in every_route("billing").values():
        assert not allowed(worker, method, path), path
    # Another spelling of the app would match no policy: the function refuses it anyway.
    assert routes.non_canonical_segment("/apps/%6Frders/info") == "%6Frders"


def test_operator_policy_holds_the_registry_and_purge() -> None:
    operator = policies()["StateOperator"]
    granted = {
        name
        for name, (method, path) in every_route("orders").items()
        if allowed(operator, method, path)
    }
    assert granted == OPERATOR_ROUTES
