"""pynenc 0.1's operations of :class:`~pynenc_dynamodb.api.client.ApiStateStore`: batches,
children, workflow members, the time-indexed history, runner contexts and client data.

A batch is one HTTP request while it fits one: at most the route's entries
(:data:`~pynenc_dynamodb.api.routes.MAX_INVOCATIONS_PER_REQUEST` and its siblings) and
:data:`BATCH_REQUEST_BYTES` of body, measured as escaped into API Gateway's event. A larger
batch goes as several requests; its keys are checked here first, so a bad id raises before
any of them is sent, as the direct store raises before it writes.
"""

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar

from pynenc_dynamodb.api import routes
from pynenc_dynamodb.table import schema
from pynenc_dynamodb.table.entries import InvocationEntry

T = TypeVar("T")

# The body of one batch request, as escaped into the event: below both the function's
# MAX_BODY_BYTES (5 MiB by default) and Lambda's 6 MB event, with room to spare.
BATCH_REQUEST_BYTES: Final = 4 * 1024 * 1024


def _event_bytes(value: Any) -> int:
    """Bytes ``value`` takes in a JSON body escaped once more into the event."""
    return len(json.dumps(json.dumps(value, ensure_ascii=False), ensure_ascii=False).encode())


def split(
    values: Sequence[T], max_count: int, max_bytes: int, size: Callable[[T], int]
) -> list[list[T]]:
    """``values`` in order, in groups of at most ``max_count`` and ``max_bytes`` by ``size``;
    a value larger than ``max_bytes`` goes alone (the API then refuses it by name)."""
    groups: list[list[T]] = []
    group: list[T] = []
    used = 0
    for value in values:
        cost = size(value)
        if group and (len(group) == max_count or used + cost > max_bytes):
            groups.append(group)
            group, used = [], 0
        group.append(value)
        used += cost
    if group:
        groups.append(group)
    return groups


class IndexOperations:
    """The pynenc 0.1 operations over the state API; the transport is the subclass's."""

    app_id: str

    # The subclass's transport: requests, paths, listings, single reads, purge loops.
    request: Callable[..., tuple[int, dict[str, Any]]]
    _path: Callable[..., str]
    _list: Callable[..., Iterator[str]]
    _get_body: Callable[[str], str | None]
    _purge_steps: Callable[[str], int]

    # -- invocations -------------------------------------------------------------------

    def put_invocations(self, entries: Sequence[InvocationEntry]) -> None:
        """Store invocations with their member and child items: one request per
        :data:`~pynenc_dynamodb.api.routes.MAX_INVOCATIONS_PER_REQUEST` entries."""
        payloads = [
            {
                "invocation_id": entry.invocation_id,
                "body": entry.body,
                "workflow_id": entry.workflow_id,
                "workflow_type": entry.workflow_type,
                "parent_id": entry.parent_id,
            }
            for entry in entries
        ]
        if not payloads:
            return
        groups = split(
            payloads, routes.MAX_INVOCATIONS_PER_REQUEST, BATCH_REQUEST_BYTES, _event_bytes
        )
        if len(groups) > 1:
            for entry in entries:
                schema.invocation_key(self.app_id, entry.invocation_id)
                schema.member_index_keys(
                    self.app_id, entry.workflow_id, entry.workflow_type, entry.invocation_id
                )
                if entry.parent_id is not None:
                    schema.child_key(self.app_id, entry.parent_id, entry.invocation_id)
        path = self._path("put_invocations")
        for group in groups:
            self.request("POST", path, {"entries": group})

    def child_invocations(self, parent_id: str) -> Iterator[str]:
        return self._list(self._path("child_invocations", invocation_id=parent_id))

    def invocation_ids_by_workflow(
        self, workflow_id: str | None, workflow_type: str | None
    ) -> Iterator[str]:
        """Ids of a workflow's invocations, a workflow type's, both, or (both ``None``)
        every invocation id of the app."""
        query = {"workflow_id": workflow_id, "workflow_type": workflow_type}
        filters = {name: value for name, value in query.items() if value is not None}
        return self._list(self._path("invocation_ids_by_workflow"), filters)

    # -- history -----------------------------------------------------------------------

    def add_histories(
        self,
        invocation_ids: Sequence[str],
        timestamp: datetime,
        body: str,
        record_id: str | None = None,
    ) -> None:
        """One time-indexed history record per id: one request per
        :data:`~pynenc_dynamodb.api.routes.MAX_HISTORY_IDS_PER_REQUEST` ids."""
        if not invocation_ids:
            return
        # Chosen here, so a retried request overwrites and never doubles.
        record = record_id or uuid.uuid4().hex
        room = max(BATCH_REQUEST_BYTES - _event_bytes(body), 0)
        groups = split(list(invocation_ids), routes.MAX_HISTORY_IDS_PER_REQUEST, room, _event_bytes)
        if len(groups) > 1:
            for invocation_id in invocation_ids:
                schema.history_index_keys(self.app_id, invocation_id, timestamp, record)
        path = self._path("add_histories")
        for group in groups:
            payload = {
                "invocation_ids": group,
                "timestamp": timestamp.isoformat(),
                "body": body,
                "record_id": record,
            }
            self.request("POST", path, payload)

    def _range(self, start: datetime, end: datetime) -> dict[str, str]:
        return {"start": start.isoformat(), "end": end.isoformat()}

    def history_in_timerange(self, start: datetime, end: datetime) -> Iterator[str]:
        """Time-indexed history bodies with ``start <= ts <= end``, oldest first: the API
        merges the shards of each hour (see :mod:`pynenc_dynamodb.api.index_pages`)."""
        return self._list(self._path("history_in_timerange"), self._range(start, end))

    def invocation_ids_in_timerange(self, start: datetime, end: datetime) -> Iterator[str]:
        """Each invocation id with history in the range once, by first record."""
        path = self._path("invocation_ids_in_timerange")
        seen: set[str] = set()
        # A page holds each id once; an id seen on an earlier page is left out here.
        for invocation_id in self._list(path, self._range(start, end)):
            if invocation_id not in seen:
                seen.add(invocation_id)
                yield invocation_id

    # -- runner contexts ---------------------------------------------------------------

    def put_runner_context(self, runner_id: str, body: str) -> None:
        path = self._path("put_runner_context", runner_id=runner_id)
        self.request("PUT", path, {"body": body})

    def get_runner_contexts(self, runner_ids: Sequence[str]) -> list[str]:
        """Bodies of the stored contexts among ``runner_ids`` (each asked once), in the order
        asked: one request per
        :data:`~pynenc_dynamodb.api.routes.MAX_RUNNER_IDS_PER_REQUEST` ids, and another for
        any left unread because the answer was full."""
        pending = list(dict.fromkeys(runner_ids))
        groups = split(
            pending, routes.MAX_RUNNER_IDS_PER_REQUEST, BATCH_REQUEST_BYTES, _event_bytes
        )
        if len(groups) > 1:
            for runner_id in pending:
                schema.runner_context_key(self.app_id, runner_id)
        path = self._path("get_runner_contexts")
        found: list[str] = []
        while groups:
            _, answer = self.request("POST", path, {"runner_ids": groups.pop(0)})
            found += [str(item) for item in answer.get("items", [])]
            unread = [str(runner_id) for runner_id in answer.get("unread", [])]
            if unread:
                groups.insert(0, unread)
        return found

    def matching_runner_contexts(self, partial_id: str) -> Iterator[str]:
        path = self._path("matching_runner_contexts")
        return self._list(path, {"match": partial_id})

    # -- client data -------------------------------------------------------------------

    def put_client_data(self, key: str, body: str) -> None:
        self.request("PUT", self._path("put_client_data", key=key), {"body": body})

    def get_client_data(self, key: str) -> str | None:
        return self._get_body(self._path("get_client_data", key=key))

    def purge_client_data(self) -> int:
        """Delete the app's client data, one bounded request at a time.

        :return: how many items and objects were deleted
        """
        return self._purge_steps(self._path("purge_client_data"))
