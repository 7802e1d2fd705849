"""Listings of a :class:`~pynenc_dynamodb.table.store.DynamoDBStateStore` one page per request,
for the state API: each page plus the key to resume from, which the API signs into a cursor.

Every page is bounded twice. In work: a page makes at most :data:`MAX_QUERIES_PER_PAGE`
Queries and then hands out a cursor, however many empty workflow types it meets. In size:
a page stops before its answer would pass ``max_bytes`` and resumes just after the last
item it holds, so no stored body makes an answer exceed what Lambda can return.
"""

import json
from collections.abc import Callable
from typing import Any, Final

from pynenc_dynamodb.aws.dynamodb import query_page
from pynenc_dynamodb.errors import ItemTooLargeError
from pynenc_dynamodb.table import builders, schema
from pynenc_dynamodb.table.builders import Item
from pynenc_dynamodb.table.store import DynamoDBStateStore

# Queries one request of the all-runs listing may make before it answers with a cursor.
MAX_QUERIES_PER_PAGE: Final = 8

Page = tuple[list[str], Item | None]
# Resume point of the all-runs listing: the workflow type being read and, unless that type
# is finished, the key to resume its runs from.
RunsResume = dict[str, Any]


class AnswerTooLargeError(ItemTooLargeError):
    """A stored body that no answer of the state API can hold (Lambda returns 6 MB).

    An :class:`~pynenc_dynamodb.errors.ItemTooLargeError`, answered as one (413).

    :param field: what was being read
    :param size: bytes it would take in the answer
    :param limit: the most an answer holds
    """

    def __init__(self, field: str, size: int, limit: int) -> None:
        self.field = field
        self.size = size
        self.limit = limit
        Exception.__init__(
            self,
            f"The {field} would be {size} bytes in the answer; state API answers hold at "
            f"most {limit} bytes (Lambda's 6 MB response limit). Read it with "
            "DynamoDBStateBackend directly.",
        )


def answer_bytes(text: str) -> int:
    """Bytes ``text`` takes in the answer as Lambda returns it: a JSON string (no ASCII
    escaping) inside the answer's JSON, itself a string of Lambda's response JSON."""
    inner = json.dumps(text, ensure_ascii=False)
    return len(json.dumps(inner, ensure_ascii=False).encode()) - 2


class Budget:
    """Bytes and Queries left to one page.

    :param max_bytes: the most an answer's items may take, see :func:`answer_bytes`
    :param max_queries: the most Queries the page may make
    """

    def __init__(self, max_bytes: int, max_queries: int = MAX_QUERIES_PER_PAGE) -> None:
        self.bytes_left = max_bytes
        self.max_bytes = max_bytes
        self.queries_left = max_queries
        # Set when an item did not fit: the page ends there.
        self.full = False

    def exhausted(self) -> bool:
        return self.full or self.queries_left <= 0


def fits(value: str, budget: Budget) -> bool:
    """Take ``value``'s bytes from ``budget`` if it fits; mark the page full otherwise.

    :raises AnswerTooLargeError: if ``value`` fits in no answer at all
    """
    # The separator between items, besides the item itself.
    size = answer_bytes(value) + 2
    if size > budget.max_bytes:
        raise AnswerTooLargeError("listed item", size, budget.max_bytes)
    if size > budget.bytes_left:
        budget.full = True
        return False
    budget.bytes_left -= size
    return True


def bodies_page(
    store: DynamoDBStateStore,
    request: builders.Request,
    start: Item | None,
    budget: Budget,
    keep: Callable[[Item], bool] = lambda item: True,
) -> Page:
    """One Query page: the bodies of the items ``keep`` accepts, and where to resume.

    Items left out still move the resume point on, so a page of no match makes progress.
    """
    store.ensure_table()
    budget.queries_left -= 1
    items, last_key = query_page(store.client, request, start)
    bodies: list[str] = []
    previous: Item | None = None
    for item in items:
        if not builders.is_expired(item) and keep(item):
            if not fits(body := store.codec.decode(item), budget):
                return bodies, builders.resume_key(request, previous) if previous else start
            bodies.append(body)
        previous = item
    return bodies, last_key


def history_page(
    store: DynamoDBStateStore, invocation_id: str, start: Item | None, limit: int, budget: Budget
) -> Page:
    return bodies_page(store, store.history_request(invocation_id, limit), start, budget)


def sub_invocations_page(
    store: DynamoDBStateStore, workflow_id: str, start: Item | None, limit: int, budget: Budget
) -> Page:
    return bodies_page(store, store.sub_invocations_request(workflow_id, limit), start, budget)


def workflow_types_page(
    store: DynamoDBStateStore, start: Item | None, limit: int, budget: Budget
) -> Page:
    return bodies_page(store, store.workflow_types_request(limit), start, budget)


def workflow_runs_page(
    store: DynamoDBStateStore,
    workflow_task_id: str,
    start: Item | None,
    limit: int,
    budget: Budget,
) -> Page:
    return bodies_page(store, store.workflow_runs_request(workflow_task_id, limit), start, budget)


def app_infos_page(
    store: DynamoDBStateStore, start: Item | None, limit: int, budget: Budget
) -> Page:
    return bodies_page(store, store.app_infos_request(limit), start, budget)


def is_runs_resume(value: Any) -> bool:
    """Whether ``value`` has the shape of a :data:`RunsResume`."""
    if not (isinstance(value, dict) and set(value) == {"task", "key", "done"}):
        return False
    key = value["key"]
    return (
        isinstance(value["task"], str)
        and isinstance(value["done"], bool)
        and (key is None or (isinstance(key, dict) and all(_is_attribute(a) for a in key.values())))
    )


def _is_attribute(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"S"} and isinstance(value["S"], str)


def all_workflow_runs_page(
    store: DynamoDBStateStore, start: RunsResume | None, limit: int, budget: Budget
) -> tuple[list[str], RunsResume | None]:
    """Up to ``limit`` runs of every type, type by type, and where to resume.

    :param start: from the previous page: ``{"task", "key", "done"}``, the type being read
        and the key to resume its runs from (``None``: its first run), or with ``done`` the
        last type finished
    """
    bodies: list[str] = []
    pending: tuple[str, Item | None] | None = None
    after: str | None = None
    if start is not None and start["done"]:
        after = start["task"]
    elif start is not None:
        pending = (start["task"], start["key"])
    # Types are listed from just after the last one finished, once known.
    type_key: Item | None = None
    fetched = False
    types: list[str] = []
    while True:
        if pending is not None:
            stop = _read_type(store, pending, limit, budget, bodies)
            if stop is not None:
                return bodies, stop
            after, pending = pending[0], None
            if len(bodies) >= limit:
                return bodies, {"task": after, "key": None, "done": True}
        elif types:
            pending = (types.pop(0), None)
        elif fetched and type_key is None:
            return bodies, None
        elif budget.exhausted() and after is not None:
            return bodies, {"task": after, "key": None, "done": True}
        else:
            if not fetched and after is not None:
                type_key = schema.workflow_type_key(store.app_id, after)
            types, type_key = workflow_types_page(store, type_key, limit, budget)
            fetched = True


def _read_type(
    store: DynamoDBStateStore,
    pending: tuple[str, Item | None],
    limit: int,
    budget: Budget,
    bodies: list[str],
) -> RunsResume | None:
    """Add the runs of one type to ``bodies``; where to resume if the page ends within it,
    ``None`` once the type is finished."""
    task, key = pending
    while True:
        if budget.exhausted():
            return {"task": task, "key": key, "done": False}
        runs, key = workflow_runs_page(store, task, key, limit - len(bodies), budget)
        bodies += runs
        if budget.full or (key is not None and len(bodies) >= limit):
            return {"task": task, "key": key, "done": False}
        if key is None:
            return None
