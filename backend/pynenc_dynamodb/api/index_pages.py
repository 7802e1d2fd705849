"""Pages of pynenc 0.1's listings for the state API: children, workflow members, matching
runner contexts and the time-indexed history, each bounded in Queries and answer bytes as
:mod:`pynenc_dynamodb.api.pages` bounds the others.

The time range is merged here, on the server, with the store's own merge
(:func:`~pynenc_dynamodb.table.timerange.merged_timerange`): a client merging per-shard pages
would pay one HTTP request per (hour, shard), sixteen for an empty hour, where one request
here reads up to :data:`TIME_QUERIES_PER_PAGE` Queries, two empty hours or one hour's first
pages and their refills. Every answered entry is a prefix of the range in time order, so the
page resumes from the hour bucket and the index sort key of the last entry it consumed: a
cursor of two short strings, whatever the shard count.
"""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from pynenc_dynamodb.api.pages import (
    AnswerTooLargeError,
    Budget,
    answer_bytes,
    bodies_page,
    fits,
)
from pynenc_dynamodb.table import builders, schema
from pynenc_dynamodb.table.builders import BATCH_GET_LIMIT, Item
from pynenc_dynamodb.table.store import DynamoDBStateStore
from pynenc_dynamodb.table.timerange import merged_timerange

# A page of the time range starts an hour bucket only with a Query left for each shard.
TIME_QUERIES_PER_PAGE: Final = 2 * schema.SHARDS
_BUCKET: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}\Z")

# Resume point of a listing made of several Queries read one after the other: the index of
# the Query being read and the key to resume it from.
SequenceResume = dict[str, Any]
# Resume point of a time range: the hour bucket being read and the index sort key of the
# last entry consumed in it (None: its start).
TimeResume = dict[str, Any]


def children_page(
    store: DynamoDBStateStore, parent_id: str, start: Item | None, limit: int, budget: Budget
) -> tuple[list[str], Item | None]:
    return bodies_page(store, store.children_request(parent_id, limit), start, budget)


def is_sequence_resume(value: Any) -> bool:
    """Whether ``value`` has the shape of a :data:`SequenceResume`."""
    if not (isinstance(value, dict) and set(value) == {"n", "key"}):
        return False
    key, n = value["key"], value["n"]
    return (
        type(n) is int
        and 0 <= n < schema.SHARDS
        and (key is None or (isinstance(key, dict) and all(_is_string(a) for a in key.values())))
    )


def _is_string(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"S"} and isinstance(value["S"], str)


def sequence_page(
    store: DynamoDBStateStore,
    requests: list[builders.Request],
    start: SequenceResume | None,
    limit: int,
    budget: Budget,
    *,
    keep: Callable[[Item], bool] = lambda item: True,
) -> tuple[list[str], SequenceResume | None]:
    """Up to ``limit`` bodies of ``requests`` read in turn, at most ``budget``'s Queries."""
    n, key = (start["n"], start["key"]) if start else (0, None)
    bodies: list[str] = []
    while n < len(requests):
        if budget.exhausted() or len(bodies) >= limit:
            return bodies, {"n": n, "key": key}
        request = dict(requests[n], Limit=limit - len(bodies))
        found, key = bodies_page(store, request, key, budget, keep)
        bodies += found
        if budget.full:
            return bodies, {"n": n, "key": key}
        if key is None:
            n += 1
    return bodies, None


def members_page(
    store: DynamoDBStateStore,
    workflow_id: str | None,
    workflow_type: str | None,
    *,
    start: SequenceResume | None,
    limit: int,
    budget: Budget,
) -> tuple[list[str], SequenceResume | None]:
    """Invocation ids of a workflow, a workflow type, both, or the whole app."""
    requests = store.members_requests(workflow_id, workflow_type, limit)
    return sequence_page(store, requests, start, limit, budget)


def matching_runner_contexts_page(
    store: DynamoDBStateStore,
    partial_id: str,
    start: SequenceResume | None,
    limit: int,
    budget: Budget,
) -> tuple[list[str], SequenceResume | None]:
    """Runner contexts whose id contains ``partial_id``; a run of Queries that match
    nothing ends the page at :data:`~pynenc_dynamodb.api.pages.MAX_QUERIES_PER_PAGE`."""

    def matches(item: Item) -> bool:
        return partial_id in schema.runner_id_of(item)

    requests = [store.runner_contexts_request(limit)]
    return sequence_page(store, requests, start, limit, budget, keep=matches)


def runner_contexts_answer(
    store: DynamoDBStateStore, runner_ids: list[str], budget: Budget
) -> tuple[list[str], list[str]]:
    """The stored contexts of ``runner_ids`` (distinct), read 100 per BatchGetItem, that fit
    in one answer, and the ids left unread for the next request.

    A first group whose contexts do not fit together is read again in halves, so every
    answer holds at least one context; one that fits in no answer is refused.
    """
    groups = [
        runner_ids[i : i + BATCH_GET_LIMIT] for i in range(0, len(runner_ids), BATCH_GET_LIMIT)
    ]
    items: list[str] = []
    while groups:
        group = groups.pop(0)
        bodies = store.get_runner_contexts(group)
        size = sum(answer_bytes(body) + 2 for body in bodies)
        if size <= budget.bytes_left:
            budget.bytes_left -= size
            items += bodies
        elif items:
            return items, [runner_id for rest in [group, *groups] for runner_id in rest]
        elif len(group) > 1:
            half = len(group) // 2
            groups[:0] = [group[:half], group[half:]]
        else:
            raise AnswerTooLargeError("runner context", size, budget.max_bytes)
    return items, []


# -- time ranges -----------------------------------------------------------------------------


def is_time_resume(value: Any) -> bool:
    """Whether ``value`` has the shape of a :data:`TimeResume`."""
    return (
        isinstance(value, dict)
        and set(value) == {"bucket", "after"}
        and isinstance(value["bucket"], str)
        and bool(_BUCKET.match(value["bucket"]))
        and (value["after"] is None or isinstance(value["after"], str))
    )


class _OutOfQueries(Exception):
    """The page's Queries are spent: it ends with what it holds."""


def timerange_page(
    store: DynamoDBStateStore,
    start: datetime,
    end: datetime,
    *,
    resume: TimeResume | None,
    limit: int,
    budget: Budget,
    ids_only: bool = False,
) -> tuple[list[str], TimeResume | None]:
    """Up to ``limit`` history bodies (or, ``ids_only``, invocation ids, each once per
    page) with ``start <= ts <= end``, in time order, and where to resume.

    A page starts a further hour bucket only with a Query left for each of its shards, and
    stops at its Query budget once it has made progress (consumed an entry or finished a
    bucket), so every page moves on and none makes more Queries than it needs to.
    """
    first = resume["bucket"] if resume else schema.hour_bucket(start)
    resume_after = resume["after"] if resume else None
    position: TimeResume = {"bucket": first, "after": resume_after}
    started: list[str] = []
    consumed = False

    def fetch(bucket: str, shard: str, key: Any) -> tuple[list[tuple[str, str]], Any]:
        if bucket not in started:
            # Every earlier bucket of this page is finished: resume at this one's start.
            if started and budget.queries_left < schema.SHARDS:
                position.update(bucket=bucket, after=None)
                raise _OutOfQueries
            started.append(bucket)
            position.update(bucket=bucket, after=resume_after if bucket == first else None)
        elif (consumed or len(started) > 1) and budget.queries_left <= 0:
            raise _OutOfQueries
        budget.queries_left -= 1
        return store.history_timerange_page(
            bucket,
            shard,
            start,
            end,
            start_key=key,
            limit=limit,
            keys_only=ids_only,
            after=resume_after if bucket == first else None,
        )

    found: list[str] = []
    seen: set[str] = set()
    try:
        for sort_key, body in merged_timerange(_bucket_start(first, start), end, fetch):
            value = schema.history_index_invocation(sort_key) if ids_only else body
            if value not in seen:
                if not fits(value, budget):
                    return found, position
                found.append(value)
                if ids_only:
                    seen.add(value)
            position["after"], consumed = sort_key, True
            if len(found) >= limit:
                return found, position
    except _OutOfQueries:
        return found, position
    return found, None


def _bucket_start(bucket: str, start: datetime) -> datetime:
    """The later of ``start`` and the first instant of hour ``bucket`` (UTC)."""
    instant = datetime.strptime(bucket, "%Y-%m-%dT%H").replace(tzinfo=UTC)
    return max(start if start.tzinfo else start.replace(tzinfo=UTC), instant)
