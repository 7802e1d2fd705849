"""The state API's routes: one table that the client (:mod:`pynenc_dynamodb.api.client`)
builds its paths from and the Lambda function (``lambdas/state_api/app.py``) routes and
answers 405 with, so an operation is added in one place.

Plain data and the standard library only: the function's layer ships this package without
pynenc.

Every path has exactly one spelling. A parameter travels as :func:`segment` encodes it:
letters, digits and ``-._~`` as themselves, every other byte of its UTF-8 percent-encoded
in upper case, and a value made only of dots (``.``, ``..``) fully encoded, since HTTP
clients and the SigV4 signer remove raw dot segments. The function refuses any other
spelling (:func:`non_canonical_segment`), so an IAM policy naming ``/apps/orders/*`` cannot
be sidestepped by ``/apps/%6Frders/...``.
"""

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote, unquote

_PARAMETER: Final = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Route:
    """One operation of the state API.

    :param name: the operation, also the name of the function's handler
    :param method: HTTP method
    :param template: path with ``{parameter}`` placeholders, one per segment
    """

    name: str
    method: str
    template: str

    @property
    def key(self) -> str:
        """``METHOD template``: how logs and metrics name the route."""
        return f"{self.method} {self.template}"


_INVOCATION: Final = "/apps/{app_id}/invocations/{invocation_id}"
_WORKFLOW: Final = "/apps/{app_id}/workflows/{workflow_id}"
_RUNNER_CONTEXTS: Final = "/apps/{app_id}/runner-contexts"
_CLIENT_DATA: Final = "/apps/{app_id}/client-data"

ROUTES: Final = (
    Route("put_invocation", "PUT", _INVOCATION),
    Route("get_invocation", "GET", _INVOCATION),
    Route("add_history", "POST", _INVOCATION + "/history"),
    Route("get_history", "GET", _INVOCATION + "/history"),
    Route("put_result", "PUT", _INVOCATION + "/result"),
    Route("get_result", "GET", _INVOCATION + "/result"),
    Route("put_exception", "PUT", _INVOCATION + "/exception"),
    Route("get_exception", "GET", _INVOCATION + "/exception"),
    # An empty key is an empty last segment: ``.../data/``.
    Route("put_workflow_data", "PUT", _WORKFLOW + "/data/{key}"),
    Route("get_workflow_data", "GET", _WORKFLOW + "/data/{key}"),
    Route("put_deterministic_value", "PUT", _WORKFLOW + "/deterministic/{key}"),
    Route("get_deterministic_value", "GET", _WORKFLOW + "/deterministic/{key}"),
    Route("put_sub_invocation", "POST", _WORKFLOW + "/sub-invocations"),
    Route("sub_invocations", "GET", _WORKFLOW + "/sub-invocations"),
    Route("put_workflow_run", "POST", "/apps/{app_id}/workflow-runs"),
    Route("all_workflow_runs", "GET", "/apps/{app_id}/workflow-runs"),
    Route("workflow_types", "GET", "/apps/{app_id}/workflow-types"),
    Route("workflow_runs", "GET", "/apps/{app_id}/workflow-types/{task_id}/runs"),
    Route("put_app_info", "PUT", "/apps/{app_id}/info"),
    Route("get_app_info", "GET", "/apps/{app_id}/info"),
    Route("all_app_infos", "GET", "/app-infos"),
    Route("purge", "DELETE", "/apps/{app_id}"),
    # pynenc 0.1: batches are one request each; listings filter by query parameters.
    Route("put_invocations", "POST", "/apps/{app_id}/invocations"),
    Route("invocation_ids_by_workflow", "GET", "/apps/{app_id}/invocations"),
    Route("child_invocations", "GET", _INVOCATION + "/children"),
    Route("add_histories", "POST", "/apps/{app_id}/history"),
    Route("history_in_timerange", "GET", "/apps/{app_id}/history"),
    Route("invocation_ids_in_timerange", "GET", "/apps/{app_id}/history/invocation-ids"),
    Route("put_runner_context", "PUT", _RUNNER_CONTEXTS + "/{runner_id}"),
    # POST, not GET: a list of ids does not fit a URL. A runner named "batch-get" is still
    # PUT to its own path: routes are told apart by method first.
    Route("get_runner_contexts", "POST", _RUNNER_CONTEXTS + "/batch-get"),
    Route("matching_runner_contexts", "GET", _RUNNER_CONTEXTS),
    Route("put_client_data", "PUT", _CLIENT_DATA + "/{key}"),
    Route("get_client_data", "GET", _CLIENT_DATA + "/{key}"),
    Route("purge_client_data", "DELETE", _CLIENT_DATA),
)
BY_NAME: Final = {route.name: route for route in ROUTES}

# Entries one batch request may carry: the function refuses more (400), the client splits
# larger batches. An invocation writes up to 3 items: 500 are at most 60 BatchWriteItem;
# 1,000 history ids 40 BatchWriteItem; 1,000 runner ids 10 BatchGetItem.
MAX_INVOCATIONS_PER_REQUEST: Final = 500
MAX_HISTORY_IDS_PER_REQUEST: Final = 1000
MAX_RUNNER_IDS_PER_REQUEST: Final = 1000


def _compile(template: str) -> re.Pattern[str]:
    # A parameter is one segment, possibly empty: the store refuses empty ids with a 400.
    parts = _PARAMETER.split(template)
    # split() alternates literal text and parameter names.
    pattern = "".join(
        f"(?P<{part}>[^/]*)" if odd else re.escape(part) for odd, part in _alternate(parts)
    )
    return re.compile(pattern + r"\Z")


def _alternate(parts: list[str]) -> list[tuple[bool, str]]:
    return [(index % 2 == 1, part) for index, part in enumerate(parts)]


_PATTERNS: Final = tuple((route, _compile(route.template)) for route in ROUTES)


def segment(value: str) -> str:
    """The one spelling of ``value`` as a path segment."""
    if value and value.strip(".") == "":
        return "%2E" * len(value)
    return quote(value, safe="")


def non_canonical_segment(path: str) -> str | None:
    """The first segment of ``path`` not spelled as :func:`segment` spells it, or ``None``.

    A segment whose percent-encoding does not decode to UTF-8 is left to the store, which
    refuses it as an invalid key.
    """
    for raw in path.split("/")[1:]:
        try:
            value = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            continue
        if segment(value) != raw:
            return raw
    return None


def path(name: str, **parameters: str) -> str:
    """The path of operation ``name`` for ``parameters``, each in its one spelling."""
    template = BY_NAME[name].template
    return _PARAMETER.sub(lambda m: segment(parameters[m.group(1)]), template)


def match(method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
    """The route serving ``method`` on ``raw_path`` and its still-encoded parameters."""
    for route, pattern in _PATTERNS:
        if route.method == method:
            found = pattern.match(raw_path)
            if found:
                return route, found.groupdict()
    return None


def allowed_methods(raw_path: str) -> list[str]:
    """The methods some route serves on ``raw_path``: the ``Allow`` of a 405."""
    return sorted({route.method for route, pattern in _PATTERNS if pattern.match(raw_path)})
