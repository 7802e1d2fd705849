"""App-scoped state operations on serialized strings: what the pynenc adapter and the
Lambda handlers share. Nothing here deserializes a payload or imports user code."""

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

from pynenc_dynamodb.aws.dynamodb import query_page
from pynenc_dynamodb.table import builders, schema
from pynenc_dynamodb.table.client_data import ClientData
from pynenc_dynamodb.table.invocation_index import InvocationIndex
from pynenc_dynamodb.table.runner_contexts import RunnerContexts
from pynenc_dynamodb.table.timerange import TimeIndex

# A type's registry entry is written at most once per this many seconds by one store, and
# expires this much later than the run stored with it, so it outlives every run stored
# before its next rewrite.
REGISTRY_REFRESH_SECONDS = 60


class DynamoDBStateStore(InvocationIndex, TimeIndex, RunnerContexts, ClientData):
    """Reads and writes one app's state in the single table; see
    :class:`~pynenc_dynamodb.table.store_core.StoreCore` for its parameters.

    Operations of pynenc 0.1 live in the mixins: :mod:`.invocation_index` (batched
    invocations, children, workflow members), :mod:`.timerange` (time-indexed history),
    :mod:`.runner_contexts` and :mod:`.client_data`.
    """

    # -- listing requests: shared by the lazy iterators and the state API's pages -------

    def history_request(self, invocation_id: str, limit: int = 0) -> builders.Request:
        prefix = schema.history_prefix(self.app_id, invocation_id)
        return builders.query_prefix(self.table, prefix, limit or self.page_size)

    def sub_invocations_request(self, workflow_id: str, limit: int = 0) -> builders.Request:
        prefix = schema.sub_invocations_prefix(self.app_id, workflow_id)
        return builders.query_prefix(self.table, prefix, limit or self.page_size)

    def workflow_types_request(self, limit: int = 0) -> builders.Request:
        pk = schema.workflow_types_partition(self.app_id)
        return builders.query_partition(self.table, pk, limit or self.page_size)

    def workflow_runs_request(self, workflow_task_id: str, limit: int = 0) -> builders.Request:
        """Runs of one workflow type, newest first, through the GSI."""
        pk = schema.workflow_runs_partition(self.app_id, workflow_task_id)
        return builders.query_index_newest_first(self.table, pk, limit or self.page_size)

    def app_infos_request(self, limit: int = 0) -> builders.Request:
        return builders.query_partition(self.table, schema.APPS_PARTITION, limit or self.page_size)

    # -- single items and their listings ------------------------------------------------

    def put_invocation(self, invocation_id: str, body: str) -> None:
        self._put(schema.invocation_key(self.app_id, invocation_id), body, "invocation")

    def get_invocation(self, invocation_id: str) -> str | None:
        return self._get(schema.invocation_key(self.app_id, invocation_id))

    def add_history(
        self, invocation_id: str, timestamp: datetime, body: str, record_id: str | None = None
    ) -> None:
        """Append one history record as its own item; earlier records are never rewritten.

        :param record_id: unique per record; a retry with the same id overwrites, never doubles
        """
        key = schema.history_key(
            self.app_id, invocation_id, timestamp, record_id or uuid.uuid4().hex
        )
        self._put(key, body, "history record")

    def get_history(self, invocation_id: str) -> Iterator[str]:
        """History records in timestamp order, one page at a time."""
        return self._bodies(self.history_request(invocation_id))

    def put_result(self, invocation_id: str, body: str) -> None:
        self._put(schema.result_key(self.app_id, invocation_id), body, "result")

    def get_result(self, invocation_id: str) -> str | None:
        return self._get(schema.result_key(self.app_id, invocation_id))

    def put_exception(self, invocation_id: str, body: str) -> None:
        self._put(schema.exception_key(self.app_id, invocation_id), body, "exception")

    def get_exception(self, invocation_id: str) -> str | None:
        return self._get(schema.exception_key(self.app_id, invocation_id))

    def put_workflow_data(self, workflow_id: str, key: str, body: str) -> None:
        item_key = schema.workflow_data_key(self.app_id, workflow_id, key)
        self._put(item_key, body, "workflow data value")

    def get_workflow_data(self, workflow_id: str, key: str) -> str | None:
        return self._get(schema.workflow_data_key(self.app_id, workflow_id, key))

    def put_deterministic_value(self, workflow_id: str, key: str, body: str) -> None:
        item_key = schema.deterministic_value_key(self.app_id, workflow_id, key)
        self._put(item_key, body, "deterministic value")

    def get_deterministic_value(self, workflow_id: str, key: str) -> str | None:
        return self._get(schema.deterministic_value_key(self.app_id, workflow_id, key))

    def put_app_info(self, app_id: str, body: str) -> None:
        # pynenc registers an app once, when it starts: its entry must outlive the TTL.
        self._put(schema.app_info_key(app_id), body, "app info", keep_forever=True)

    def get_app_info(self, app_id: str) -> str | None:
        return self._get(schema.app_info_key(app_id))

    def all_app_infos(self) -> Iterator[str]:
        return self._bodies(self.app_infos_request())

    # -- workflows ----------------------------------------------------------------------

    def put_sub_invocation(self, workflow_id: str, sub_invocation_id: str) -> None:
        key = schema.sub_invocation_key(self.app_id, workflow_id, sub_invocation_id)
        self._put(key, sub_invocation_id, "sub-invocation")

    def sub_invocations(self, workflow_id: str) -> Iterator[str]:
        return self._bodies(self.sub_invocations_request(workflow_id))

    def put_workflow_run(
        self,
        workflow_task_id: str,
        workflow_id: str,
        body: str,
        timestamp: datetime | None = None,
    ) -> None:
        """The type's registry entry, then the run; a workflow id stored again under
        another type takes that type's entry away once it has no other run.

        The entry is written with the first run of its type in this store and again at
        most every :data:`REGISTRY_REFRESH_SECONDS` (pynenc 0.1 stores a run for every
        task run): one PutItem per run, two when the entry is written. The run's PutItem
        answers with the run it replaced, which is how a type change is seen without a read.
        A type whose entry another process deleted (a purge, a type change) is listed again
        within :data:`REGISTRY_REFRESH_SECONDS` of its next run here.
        """
        timestamp = timestamp or datetime.now(UTC)
        expires_at = builders.expiry(self.ttl_seconds)
        index_keys = schema.workflow_run_index_keys(
            self.app_id, workflow_task_id, workflow_id, timestamp
        )
        # The GSI projects the body, not the pointer: a run stays in its item.
        attributes = self.codec.encode(body, "workflow run", allow_offload=False)
        run = builders.build_item(
            schema.workflow_run_key(self.app_id, workflow_id), attributes, expires_at, index_keys
        )
        registry_key = schema.workflow_type_key(self.app_id, workflow_task_id)
        builders.check_size(run, "workflow run")
        self.ensure_table()
        # The entry first: a listed type may briefly have no run, a run never lacks its type.
        written = self._registered_types.get(workflow_task_id)
        now = time.monotonic()
        if written is None or now - written >= REGISTRY_REFRESH_SECONDS:
            keep = self.ttl_seconds + REGISTRY_REFRESH_SECONDS if self.ttl_seconds > 0 else 0
            registry = builders.build_item(registry_key, workflow_task_id, builders.expiry(keep))
            self.client.put(builders.put_item(self.table, registry))
            self._registered_types[workflow_task_id] = now
        answer = self.client.call("PutItem", builders.put_item_returning_old(self.table, run))
        old_runs = (answer.get("Attributes") or {}).get(schema.GSI1_PK, {}).get("S")
        if old_runs and old_runs != index_keys[schema.GSI1_PK]["S"]:
            self._drop_type_if_empty(old_runs, run[schema.GSI1_SK]["S"])

    def _drop_type_if_empty(self, runs_partition: str, moved_sort_key: str) -> None:
        """Delete the registry entry of the type whose runs are ``runs_partition`` when the
        index holds no run of it but the one that moved away (still listed while the index
        catches up). A first run of that type stored in the same instant by another
        worker may not be in the index yet: its next run lists the type again.
        """
        moved = schema.run_index_workflow(moved_sort_key)
        request = builders.query_index_newest_first(self.table, runs_partition, 2)
        items, _ = query_page(self.client, request)
        others = [i for i in items if schema.run_index_workflow(i[schema.GSI1_SK]["S"]) != moved]
        key = schema.workflow_type_key_of_runs_partition(self.app_id, runs_partition)
        if not others and key is not None:
            self.client.call("DeleteItem", builders.delete_item(self.table, key))
            # Which type it was is in the key only: write every entry again on its next run.
            self._registered_types.clear()

    def workflow_types(self) -> Iterator[str]:
        return self._bodies(self.workflow_types_request())

    def workflow_runs(self, workflow_task_id: str) -> Iterator[str]:
        """Runs of one workflow type, newest first, through the GSI."""
        return self._bodies(self.workflow_runs_request(workflow_task_id))

    def all_workflow_runs(self) -> Iterator[str]:
        for workflow_task_id in self.workflow_types():
            yield from self.workflow_runs(workflow_task_id)

    # -- purge --------------------------------------------------------------------------

    def purge(self) -> int:
        """Delete every state item of this app, 25 per request; other apps are never read.

        The shared app-info registry entry is kept, as pynenc's Redis backend does, and so
        is the app's client data, which pynenc purges apart (:meth:`purge_client_data`).

        :return: the number of items deleted
        """
        self._registered_types.clear()
        deleted = self._delete_partitions(schema.app_partitions(self.app_id))
        # Objects go after the items that point at them: no reader follows a dead pointer.
        return deleted + self.codec.purge()

    def purge_step(
        self, max_items: int, max_seconds: float, start: int = 0
    ) -> tuple[int, int | None]:
        """One bounded piece of a purge: delete at most ``max_items`` items, from partition
        ``start`` of :func:`~pynenc_dynamodb.table.schema.app_partitions` on, starting no Query
        after ``max_seconds`` (the first always runs); once no partition holds an item,
        delete one page (up to 1,000) of the app's payload objects instead.

        :param start: where the previous step stopped; 0 starts over
        :return: how many items or objects were deleted, and where to resume (``None``
            once the app has neither items nor objects left)
        """
        self._registered_types.clear()
        partitions = schema.app_partitions(self.app_id)
        return self._purge_step(partitions, self.codec, max_items, max_seconds, start)
