"""The handlers of pynenc 0.1's operations: batches, children, workflow members, the
time-indexed history, runner contexts and client data.

A batch is one request: its body lists every entry, validated whole (a bad entry is a 400
naming it, ``entries[3].workflow_id``) before anything is written, and bounded in entries so
that one request's work stays far inside API Gateway's 30 s; the client splits larger
batches. Listings filtered by query parameters bind their cursors to those parameters too.

The handlers read the current request through :class:`Served`, which ``app.py`` builds from
its own configuration: this module holds no state and reads no environment.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

from answers import ok, readable, single
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from cursors import CursorSigner, is_key
from request_parsing import ListOf, query_text, query_time, timestamp

from pynenc_dynamodb.api import index_pages, pages, routes
from pynenc_dynamodb.table import schema
from pynenc_dynamodb.table.entries import InvocationEntry
from pynenc_dynamodb.table.store import DynamoDBStateStore

MAX_INVOCATIONS: Final = routes.MAX_INVOCATIONS_PER_REQUEST
MAX_HISTORY_IDS: Final = routes.MAX_HISTORY_IDS_PER_REQUEST
MAX_RUNNER_IDS: Final = routes.MAX_RUNNER_IDS_PER_REQUEST

ENTRY: Final = {
    "invocation_id": str,
    "body": str,
    "workflow_id": str,
    "workflow_type": str,
    "parent_id": str | None,
}


@dataclass(frozen=True)
class Served:
    """What these handlers need of the function.

    :param event: the current request
    :param json_body: the request's JSON object with exactly the given fields
    :param limit: the request's page size
    :param cursors: the function's cursor signer
    :param budget: a fresh answer budget
    :param store: the store of an app
    :param purge_step: most items and seconds of one purge step
    """

    event: Callable[[], APIGatewayProxyEventV2]
    json_body: Callable[..., dict[str, Any]]
    limit: Callable[[], int]
    cursors: CursorSigner
    budget: Callable[[], pages.Budget]
    store: Callable[[str], DynamoDBStateStore]
    purge_step: tuple[int, float]


class IndexHandlers:
    """One method per route, named as the route.

    :param served: the function's request helpers
    """

    def __init__(self, served: Served) -> None:
        self.served = served

    # -- request helpers ---------------------------------------------------------------

    def _binding(self, **parameters: str | None) -> str:
        """What a cursor of this listing is bound to: the path and its filters."""
        path = self.served.event().path
        given = {name: value for name, value in sorted(parameters.items()) if value is not None}
        return f"{path}?{urlencode(given)}" if given else path

    def _cursor(self, binding: str, shape: Callable[[Any], bool] = is_key) -> Any:
        cursor = self.served.event().get_query_string_value("cursor", "") or ""
        return self.served.cursors.decode(cursor, binding, shape)

    def _listing(self, binding: str, page: tuple[list[str], Any]) -> Response[str]:
        items, position = page
        return ok({"items": items, "next_cursor": self.served.cursors.encode(binding, position)})

    # -- invocations -------------------------------------------------------------------

    def put_invocations(self, app_id: str) -> Response[str]:
        data = self.served.json_body(entries=ListOf(MAX_INVOCATIONS, ENTRY))
        entries = [
            InvocationEntry(
                invocation_id=entry["invocation_id"],
                body=readable(entry["body"]),
                workflow_id=entry["workflow_id"],
                workflow_type=entry["workflow_type"],
                parent_id=entry["parent_id"],
            )
            for entry in data["entries"]
        ]
        self.served.store(app_id).put_invocations(entries)
        return ok({}, 201)

    def child_invocations(self, app_id: str, invocation_id: str) -> Response[str]:
        store, binding = self.served.store(app_id), self._binding()
        start, limit = self._cursor(binding), self.served.limit()
        page = index_pages.children_page(store, invocation_id, start, limit, self.served.budget())
        return self._listing(binding, page)

    def invocation_ids_by_workflow(self, app_id: str) -> Response[str]:
        event = self.served.event()
        workflow_id = query_text(event, "workflow_id")
        workflow_type = query_text(event, "workflow_type")
        binding = self._binding(workflow_id=workflow_id, workflow_type=workflow_type)
        start = self._cursor(binding, index_pages.is_sequence_resume)
        store, limit, budget = self.served.store(app_id), self.served.limit(), self.served.budget()
        page = index_pages.members_page(
            store, workflow_id, workflow_type, start=start, limit=limit, budget=budget
        )
        return self._listing(binding, page)

    # -- history -----------------------------------------------------------------------

    def add_histories(self, app_id: str) -> Response[str]:
        data = self.served.json_body(
            invocation_ids=ListOf(MAX_HISTORY_IDS),
            timestamp=str,
            body=str,
            record_id=str | None,
        )
        when = timestamp(data["timestamp"])
        body = readable(data["body"])
        store = self.served.store(app_id)
        store.add_histories(data["invocation_ids"], when, body, data["record_id"])
        return ok({}, 201)

    def _timerange(self, app_id: str, ids_only: bool) -> Response[str]:
        event = self.served.event()
        # Naive times are UTC, as in the store; a start after the end is an empty range.
        start, end = query_time(event, "start"), query_time(event, "end")
        binding = self._binding(start=start.isoformat(), end=end.isoformat())
        resume = self._cursor(binding, index_pages.is_time_resume)
        store, limit, budget = self.served.store(app_id), self.served.limit(), self.served.budget()
        budget.queries_left = index_pages.TIME_QUERIES_PER_PAGE
        page = index_pages.timerange_page(
            store, start, end, resume=resume, limit=limit, budget=budget, ids_only=ids_only
        )
        return self._listing(binding, page)

    def history_in_timerange(self, app_id: str) -> Response[str]:
        return self._timerange(app_id, ids_only=False)

    def invocation_ids_in_timerange(self, app_id: str) -> Response[str]:
        return self._timerange(app_id, ids_only=True)

    # -- runner contexts ---------------------------------------------------------------

    def put_runner_context(self, app_id: str, runner_id: str) -> Response[str]:
        body = readable(str(self.served.json_body(body=str)["body"]))
        self.served.store(app_id).put_runner_context(runner_id, body)
        return ok({})

    def get_runner_contexts(self, app_id: str) -> Response[str]:
        """The stored contexts among ``runner_ids``; those that did not fit in the answer
        come back in ``unread`` for the client to ask again."""
        ids = self.served.json_body(runner_ids=ListOf(MAX_RUNNER_IDS))["runner_ids"]
        store, budget = self.served.store(app_id), self.served.budget()
        items, unread = index_pages.runner_contexts_answer(store, list(dict.fromkeys(ids)), budget)
        return ok({"items": items, "unread": unread})

    def matching_runner_contexts(self, app_id: str) -> Response[str]:
        partial = query_text(self.served.event(), "match") or ""
        binding = self._binding(match=partial)
        start = self._cursor(binding, index_pages.is_sequence_resume)
        store, limit, budget = self.served.store(app_id), self.served.limit(), self.served.budget()
        page = index_pages.matching_runner_contexts_page(store, partial, start, limit, budget)
        return self._listing(binding, page)

    # -- client data -------------------------------------------------------------------

    def put_client_data(self, app_id: str, key: str) -> Response[str]:
        body = readable(str(self.served.json_body(body=str)["body"]))
        self.served.store(app_id).put_client_data(key, body)
        return ok({})

    def get_client_data(self, app_id: str, key: str) -> Response[str]:
        return single(self.served.store(app_id).get_client_data(key))

    def purge_client_data(self, app_id: str) -> Response[str]:
        """One bounded step, as ``DELETE /apps/{app_id}``; the client repeats it until
        ``done``."""
        store = self.served.store(app_id)
        last = len(schema.client_data_partitions(store.app_id))
        binding = self._binding()
        start = self._cursor(binding, lambda v: type(v) is int and 0 <= v <= last) or 0
        deleted, position = store.purge_client_data_step(*self.served.purge_step, start)
        cursor = self.served.cursors.encode(binding, position)
        return ok({"deleted": deleted, "done": position is None, "next_cursor": cursor})

    def handlers(self) -> dict[str, Callable[..., Response[str]]]:
        """This module's handler of each route it serves, by route name."""
        return {
            route.name: getattr(self, route.name)
            for route in routes.ROUTES
            if hasattr(self, route.name) and not route.name.startswith("_")
        }
