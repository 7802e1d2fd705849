"""App-scoped state operations on serialized strings: what the pynenc adapter and the
Lambda handlers share. Nothing here deserializes a payload or imports user code."""

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pynenc_dynamodb import builders, schema
from pynenc_dynamodb.builders import Item
from pynenc_dynamodb.client import DynamoDBClient, query_page
from pynenc_dynamodb.payloads import PayloadCodec, PayloadPolicy
from pynenc_dynamodb.table import ensure_table


class DynamoDBStateStore:
    """Reads and writes one app's state in the single table.

    :param client: the choke point every request goes through
    :param table_name: the state table
    :param app_id: the app whose items this store reads and writes
    :param ttl_seconds: lifetime of every item written; 0 keeps items forever
    :param page_size: items per Query page
    :param create_table: create the table on first use if it is missing
    :param table_wait_seconds: longest wait for a table being created to become ACTIVE
    :param check_ttl: with ``ttl_seconds``, check once that the table's TTL is on
    :param codec: how bodies are stored (compression, S3); inline text by default
    """

    def __init__(
        self,
        *,
        client: DynamoDBClient,
        table_name: str,
        app_id: str,
        ttl_seconds: int = 0,
        page_size: int = 100,
        create_table: bool = False,
        codec: PayloadCodec | None = None,
        table_wait_seconds: float = 120.0,
        check_ttl: bool = True,
    ) -> None:
        schema.validate_app_id(app_id)
        self.codec = codec or PayloadCodec(app_id, PayloadPolicy())
        self.client = client
        self.table = table_name
        self.app_id = app_id
        self.ttl_seconds = ttl_seconds
        self.page_size = page_size
        self.create_table = create_table
        self.table_wait_seconds = table_wait_seconds
        self.check_ttl = check_ttl
        self._checked = False
        self._check_lock = threading.Lock()

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        del state["_check_lock"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._check_lock = threading.Lock()

    def ensure_table(self) -> None:
        """Check the table once per store (create it if allowed) before the first request."""
        if self._checked:
            return
        with self._check_lock:
            if not self._checked:
                ensure_table(
                    self.client,
                    self.table,
                    self.create_table,
                    wait_seconds=self.table_wait_seconds,
                    ttl_seconds=self.ttl_seconds,
                    check_ttl=self.check_ttl,
                )
                self._checked = True

    # -- single items -------------------------------------------------------------------

    def _put(
        self,
        key: schema.Key,
        body: str,
        what: str,
        extra: schema.Key | None = None,
        keep_forever: bool = False,
    ) -> None:
        # Keys are built (and validated) by the caller, and the table checked, before the
        # body can reach S3: a rejected write leaves no object behind.
        self.ensure_table()
        attributes = self.codec.encode(body, what)
        expires_at = None if keep_forever else builders.expiry(self.ttl_seconds)
        item = builders.build_item(key, attributes, expires_at, extra)
        builders.check_size(item, what)
        self.client.put(builders.put_item(self.table, item))

    def _get(self, key: schema.Key) -> str | None:
        self.ensure_table()
        item = self.client.get(builders.get_item(self.table, key))
        if item is None or builders.is_expired(item):
            return None
        return self.codec.decode(item)

    def _query(self, request: builders.Request) -> Iterator[Item]:
        self.ensure_table()
        for item in self.client.query(request):
            if not builders.is_expired(item):
                yield item

    def _bodies(self, request: builders.Request) -> Iterator[str]:
        return (self.codec.decode(item) for item in self._query(request))

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
        """The run and its type's registry entry, in one BatchWriteItem request.

        A batch rather than a transaction: both writes are idempotent puts, and a batch
        costs half the write units of a transaction.
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
        # Rewritten with every run, so the type expires only after its last run does.
        registry = builders.build_item(
            schema.workflow_type_key(self.app_id, workflow_task_id),
            workflow_task_id,
            expires_at,
        )
        builders.check_size(run, "workflow run")
        self.ensure_table()
        for request in builders.batch_writes(self.table, puts=[run, registry]):
            self.client.batch_write(request)

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
        """Delete every item of this app, 25 per request; other apps are never read.

        The shared app-info registry entry is kept, as pynenc's Redis backend does.

        :return: the number of items deleted
        """
        deleted = 0
        batch: list[schema.Key] = []
        # One buffer across partitions, so every request but the last deletes 25 items.
        for pk in schema.app_partitions(self.app_id):
            request = builders.query_partition(self.table, pk, 1000, keys_only=True)
            for item in self._query_all(request):
                batch.append(builders.key_of(item))
                if len(batch) == builders.BATCH_WRITE_LIMIT:
                    deleted += self._delete(batch)
                    batch = []
        if batch:
            deleted += self._delete(batch)
        # Objects go after the items that point at them: no reader follows a dead pointer.
        return deleted + self.codec.purge()

    def _query_all(self, request: builders.Request) -> Iterator[Item]:
        # Expired items are purged too: unlike reads, deletes must not skip them.
        self.ensure_table()
        return self.client.query(request)

    def _delete(self, keys: list[schema.Key]) -> int:
        for request in builders.batch_writes(self.table, deletes=keys):
            self.client.batch_write(request)
        return len(keys)


# -- pages for the state API (additive) ---------------------------------------------------
# One page per call plus the key to resume from: the state API turns that key into a signed
# cursor. Keys still come from schema only; a resume key is whatever DynamoDB returned.

Page = tuple[list[str], Item | None]
# Resume point of the all-runs listing: the workflow type being read and, unless that type
# is finished, the key to resume its runs from.
RunsResume = dict[str, Any]


def _page(store: DynamoDBStateStore, request: builders.Request, start: Item | None) -> Page:
    store.ensure_table()
    items, last_key = query_page(store.client, request, start)
    return [store.codec.decode(i) for i in items if not builders.is_expired(i)], last_key


def history_page(
    store: DynamoDBStateStore, invocation_id: str, start: Item | None, limit: int
) -> Page:
    return _page(store, store.history_request(invocation_id, limit), start)


def sub_invocations_page(
    store: DynamoDBStateStore, workflow_id: str, start: Item | None, limit: int
) -> Page:
    return _page(store, store.sub_invocations_request(workflow_id, limit), start)


def workflow_types_page(store: DynamoDBStateStore, start: Item | None, limit: int) -> Page:
    return _page(store, store.workflow_types_request(limit), start)


def workflow_runs_page(
    store: DynamoDBStateStore, workflow_task_id: str, start: Item | None, limit: int
) -> Page:
    return _page(store, store.workflow_runs_request(workflow_task_id, limit), start)


def app_infos_page(store: DynamoDBStateStore, start: Item | None, limit: int) -> Page:
    return _page(store, store.app_infos_request(limit), start)


def all_workflow_runs_page(
    store: DynamoDBStateStore, start: RunsResume | None, limit: int
) -> tuple[list[str], RunsResume | None]:
    """Up to ``limit`` runs of every type, type by type, and where to resume.

    :param start: ``{"task": workflow_task_id, "key": resume key or None}`` from the
        previous page; ``key`` ``None`` means that type was finished
    """
    bodies: list[str] = []
    task: str | None = start["task"] if start else None
    run_key: Item | None = start["key"] if start else None
    if task is not None and run_key is not None:
        runs, run_key = workflow_runs_page(store, task, run_key, limit)
        bodies += runs
        if run_key is not None or len(bodies) >= limit:
            return bodies, {"task": task, "key": run_key}
    type_key: Item | None = schema.workflow_type_key(store.app_id, task) if task else None
    while True:
        types, type_key = workflow_types_page(store, type_key, limit)
        for task in types:
            run_key = None
            while True:
                runs, run_key = workflow_runs_page(store, task, run_key, limit - len(bodies))
                bodies += runs
                if run_key is None or len(bodies) >= limit:
                    break
            if len(bodies) >= limit:
                return bodies, {"task": task, "key": run_key}
        if type_key is None:
            return bodies, None
