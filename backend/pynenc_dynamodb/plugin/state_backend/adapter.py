"""The pynenc 0.1 side of the backends: pynenc's DTOs and records over a state store.

The mixin holds no DynamoDB expression and no key; it turns pynenc objects into JSON
bodies and hands them to a store (the table directly, or the state API), so both backend
classes share one implementation of pynenc's contract.
"""

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

from pynenc.exceptions import PynencError
from pynenc.identifiers.invocation_id import InvocationId
from pynenc.identifiers.task_id import TaskId
from pynenc.runner.runner_context import RunnerContext
from pynenc.state_backend.base_state_backend import InvocationHistory

from pynenc_dynamodb.app_registry import AppRegistry
from pynenc_dynamodb.async_writes import KeptWriteErrors
from pynenc_dynamodb.errors import UnrestoredTaskError
from pynenc_dynamodb.plugin.state_backend.serialization import (
    invocation_entry,
    invocation_from_json,
    workflow_from_json,
    workflow_to_json,
)
from pynenc_dynamodb.store_contract import PluginStateStore

if TYPE_CHECKING:
    from pynenc.app import Pynenc
    from pynenc.models.call_dto import CallDTO
    from pynenc.models.invocation_dto import InvocationDTO
    from pynenc.workflow import WorkflowIdentity

logger = logging.getLogger(__name__)

T = TypeVar("T")
# Invocations kept per backend instance for reads: see PluginStoreBackedStateBackend.
INVOCATION_CACHE_SIZE = 4096


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of up to ``size`` items, pulled from ``items`` only as each is needed."""
    iterator = iter(items)
    while batch := list(islice(iterator, max(size, 1))):
        yield batch


class InvocationCache:
    """The last :data:`INVOCATION_CACHE_SIZE` invocations, by id, safe across threads."""

    def __init__(self) -> None:
        self._pairs: OrderedDict[str, tuple[InvocationDTO, CallDTO]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, invocation_id: str) -> "tuple[InvocationDTO, CallDTO] | None":
        with self._lock:
            pair = self._pairs.get(invocation_id)
            if pair is not None:
                self._pairs.move_to_end(invocation_id)
            return pair

    def put(self, pair: "tuple[InvocationDTO, CallDTO]") -> None:
        with self._lock:
            self._pairs[pair[0].invocation_id] = pair
            self._pairs.move_to_end(pair[0].invocation_id)
            while len(self._pairs) > INVOCATION_CACHE_SIZE:
                self._pairs.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pairs.clear()


class PluginStoreBackedStateBackend(KeptWriteErrors, AppRegistry):
    """Implements every abstract operation of pynenc 0.1's ``BaseStateBackend`` over
    :attr:`store` (``discover_app_infos`` aside: each backend reads its own settings).

    Mixed in before ``BaseStateBackend`` by the concrete backends.

    An invocation's record never changes once written (pynenc 0.1 keeps its status in the
    orchestrator), yet pynenc reads it about five times per task run and writes it twice:
    the last :data:`INVOCATION_CACHE_SIZE` invocations written or read by this backend are
    served from memory, and an identical record is not written again. A record deleted by
    another process's purge can still be read here, and is not written again, until it
    leaves the cache; this process's own purge empties it.
    """

    app: "Pynenc"
    _runner_context_cache: dict[str, RunnerContext]

    @property
    def store(self) -> PluginStateStore:
        raise NotImplementedError

    # -- invocations --------------------------------------------------------------------

    @property
    def _invocation_cache(self) -> "InvocationCache":
        # Created lazily: BaseStateBackend.__init__ runs after the mixin's attributes.
        cache: InvocationCache | None = self.__dict__.get("_invocations")
        if cache is None:
            cache = self.__dict__.setdefault("_invocations", InvocationCache())
        return cache

    def _upsert_invocations(self, entries: "list[tuple[InvocationDTO, CallDTO]]") -> None:
        # pynenc upserts each invocation twice per run (when it registers it, and when the
        # invocation stores itself): a record this backend holds as written is not resent.
        fresh = [
            pair for pair in entries if self._invocation_cache.get(pair[0].invocation_id) != pair
        ]
        if fresh:
            self.store.put_invocations([invocation_entry(inv, call) for inv, call in fresh])
        for pair in fresh:
            self._invocation_cache.put(pair)

    def _get_invocation(
        self, invocation_id: InvocationId
    ) -> "tuple[InvocationDTO, CallDTO] | None":
        cached = self._invocation_cache.get(invocation_id)
        if cached is not None:
            return cached
        body = self.store.get_invocation(invocation_id)
        if body is None:
            return None
        pair = invocation_from_json(body)
        self._invocation_cache.put(pair)
        return pair

    def get_child_invocations(self, parent_invocation_id: InvocationId) -> Iterator[InvocationId]:
        return (InvocationId(i) for i in self.store.child_invocations(parent_invocation_id))

    def get_invocation_ids_by_workflow(
        self, workflow_id: str | None = None, workflow_type_key: str | None = None
    ) -> Iterator[InvocationId]:
        ids = self.store.invocation_ids_by_workflow(workflow_id or None, workflow_type_key or None)
        return (InvocationId(i) for i in ids)

    # -- history ------------------------------------------------------------------------

    def _add_histories(
        self, invocation_ids: list[InvocationId], invocation_history: InvocationHistory
    ) -> None:
        # pynenc runs this in a thread of its own: a failure must be kept, or it is lost.
        try:
            self.store.add_histories(
                invocation_ids, invocation_history.timestamp, invocation_history.to_json()
            )
        except Exception as exc:  # kept, then raised by the wait methods
            logger.exception("History record of invocations %s was not written", invocation_ids)
            for invocation_id in invocation_ids:
                self._keep_error(invocation_id, exc)

    def _get_history(self, invocation_id: InvocationId) -> list[InvocationHistory]:
        return [InvocationHistory.from_json(b) for b in self.store.get_history(invocation_id)]

    def iter_history_in_timerange(
        self, start_time: datetime, end_time: datetime, batch_size: int = 100
    ) -> Iterator[list[InvocationHistory]]:
        bodies = self.store.history_in_timerange(start_time, end_time)
        return batched((InvocationHistory.from_json(body) for body in bodies), batch_size)

    def iter_invocations_in_timerange(
        self, start_time: datetime, end_time: datetime, batch_size: int = 100
    ) -> Iterator[list[InvocationId]]:
        ids = self.store.invocation_ids_in_timerange(start_time, end_time)
        return batched((InvocationId(i) for i in ids), batch_size)

    # -- results and exceptions ---------------------------------------------------------

    def _set_result(self, invocation_id: InvocationId, serialized_result: str) -> None:
        self.store.put_result(invocation_id, serialized_result)

    def _get_result(self, invocation_id: InvocationId) -> str:
        body = self.store.get_result(invocation_id)
        if body is None:
            raise KeyError(f"Result for invocation {invocation_id} not found")
        return body

    def _set_exception(self, invocation_id: InvocationId, serialized_exception: str) -> None:
        self.store.put_exception(invocation_id, serialized_exception)

    def _get_exception(self, invocation_id: InvocationId) -> str:
        body = self.store.get_exception(invocation_id)
        if body is None:
            raise KeyError(f"Exception for invocation {invocation_id} not found")
        return body

    def deserialize_exception(self, serialized: str) -> Exception:
        """pynenc's envelope; an exception the serializer cannot rebuild (pynenc's
        ``JsonSerializer`` rebuilds builtin ones only) comes back as
        :class:`~pynenc_dynamodb.UnrestoredTaskError`, readable, instead of a non-exception."""
        envelope = json.loads(serialized)
        if envelope["pynenc_error"]:
            return PynencError.from_json(envelope["error_name"], envelope["error_data"])
        restored = self.app.client_data_store.deserialize(envelope["error_data"])
        if isinstance(restored, Exception):
            return restored
        return UnrestoredTaskError(envelope["error_name"], restored)

    # -- workflows ----------------------------------------------------------------------

    def set_workflow_data(
        self, workflow_identity: "WorkflowIdentity", key: str, value: Any
    ) -> None:
        body = self.app.client_data_store.serialize(value)
        self.store.put_workflow_data(workflow_identity.workflow_id, key, body)

    def get_workflow_data(
        self, workflow_identity: "WorkflowIdentity", key: str, default: Any = None
    ) -> Any:
        body = self.store.get_workflow_data(workflow_identity.workflow_id, key)
        return default if body is None else self.app.client_data_store.deserialize(body)

    def store_workflow_run(self, workflow_identity: "WorkflowIdentity") -> None:
        self.store.put_workflow_run(
            workflow_identity.workflow_type.key,
            workflow_identity.workflow_id,
            workflow_to_json(workflow_identity),
        )

    def get_all_workflow_types(self) -> Iterator[TaskId]:
        return (TaskId.from_key(key) for key in self.store.workflow_types())

    def get_all_workflow_runs(self) -> Iterator["WorkflowIdentity"]:
        return (workflow_from_json(body) for body in self.store.all_workflow_runs())

    def get_workflow_runs(self, workflow_type: TaskId) -> Iterator["WorkflowIdentity"]:
        return (workflow_from_json(b) for b in self.store.workflow_runs(workflow_type.key))

    def store_workflow_sub_invocation(
        self, parent_workflow_id: InvocationId, sub_invocation_id: InvocationId
    ) -> None:
        self.store.put_sub_invocation(parent_workflow_id, sub_invocation_id)

    def get_workflow_sub_invocations(self, workflow_id: InvocationId) -> Iterator[InvocationId]:
        return (InvocationId(i) for i in self.store.sub_invocations(workflow_id))

    # -- runner contexts ----------------------------------------------------------------

    def _store_runner_context(self, runner_context: RunnerContext) -> None:
        self.store.put_runner_context(runner_context.runner_id, runner_context.to_json())

    def _get_runner_context(self, runner_id: str) -> RunnerContext | None:
        contexts = self._get_runner_contexts([runner_id])
        return contexts[0] if contexts else None

    def _get_runner_contexts(self, runner_ids: list[str]) -> list[RunnerContext]:
        bodies = self.store.get_runner_contexts(runner_ids)
        return [RunnerContext.from_json(body) for body in bodies]

    def get_matching_runner_contexts(self, partial_id: str) -> Iterator[RunnerContext]:
        bodies = self.store.matching_runner_contexts(partial_id)
        return (RunnerContext.from_json(body) for body in bodies)

    # -- purge -------------------------------------------------------------------------

    def purge(self) -> None:
        """Delete every item of the current app (its client data aside, which pynenc purges
        through the client data store); other apps sharing the table are untouched."""
        self._settle_writes()
        # Contexts cached as stored would never be written again.
        self._runner_context_cache.clear()
        self._invocation_cache.clear()
        self.store.purge()
