"""The base of the app-scoped store: configuration, the table check, and single-item and
query helpers shared by the store's groups of operations."""

import threading
import time
from collections.abc import Iterator

from pynenc_dynamodb.aws.dynamodb import DynamoDBClient, query_page
from pynenc_dynamodb.aws.per_process import kept
from pynenc_dynamodb.table import builders, schema
from pynenc_dynamodb.table.builders import Item
from pynenc_dynamodb.table.lifecycle import ensure_table
from pynenc_dynamodb.table.payloads import PayloadCodec, PayloadPolicy


class StoreCore:
    """What every operation of the store builds on: one app's items in the single table,
    read and written through the choke point.

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

    # The indexes this store queries: a table must have them (the state needs gsi1 only,
    # so a table deployed before the orchestrator's gsi2 still serves the state).
    required_indexes: frozenset[str] = frozenset({schema.GSI1})

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
        # Workflow types whose registry entry this store wrote, and when (monotonic).
        self._registered_types: dict[str, float] = {}

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        del state["_check_lock"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._check_lock = threading.Lock()

    def ensure_table(self) -> None:
        """Check the table once per store (create it if allowed) before the first request;
        in a worker whose warm-up checked it already (see warmup.py), not again."""
        if self._checked:
            return
        with self._check_lock:
            if not self._checked:
                if kept(self.table_check_key()) is None:
                    self.check_table()
                self._checked = True

    def table_check_key(self) -> tuple[object, ...]:
        """What a check of the table depends on: where it is, and how it is checked."""
        settings = self.client.settings
        ttl = self.ttl_seconds > 0 and self.check_ttl
        where = (settings.region, settings.effective_endpoint(), self.table)
        return ("table-check", *where, self.create_table, ttl, self.required_indexes)

    def check_table(self) -> None:
        """Check the table now (create it if allowed); see :func:`table.ensure_table`."""
        ensure_table(
            self.client,
            self.table,
            self.create_table,
            wait_seconds=self.table_wait_seconds,
            ttl_seconds=self.ttl_seconds,
            check_ttl=self.check_ttl,
            required_indexes=self.required_indexes,
        )

    # -- single items -------------------------------------------------------------------

    def _put(
        self,
        key: schema.Key,
        body: str,
        what: str,
        extra: schema.Key | None = None,
        *,
        keep_forever: bool = False,
        codec: PayloadCodec | None = None,
    ) -> None:
        # Keys are built (and validated) by the caller, and the table checked, before the
        # body can reach S3: a rejected write leaves no object behind.
        self.ensure_table()
        attributes = (codec or self.codec).encode(body, what)
        expires_at = None if keep_forever else builders.expiry(self.ttl_seconds)
        item = builders.build_item(key, attributes, expires_at, extra)
        builders.check_size(item, what)
        self.client.put(builders.put_item(self.table, item))

    def _get(self, key: schema.Key, codec: PayloadCodec | None = None) -> str | None:
        self.ensure_table()
        item = self.client.get(builders.get_item(self.table, key))
        if item is None or builders.is_expired(item):
            return None
        return (codec or self.codec).decode(item)

    def _query(self, request: builders.Request) -> Iterator[Item]:
        self.ensure_table()
        for item in self.client.query(request):
            if not builders.is_expired(item):
                yield item

    def _bodies(self, request: builders.Request) -> Iterator[str]:
        return (self.codec.decode(item) for item in self._query(request))

    def _write(self, items: list[Item]) -> None:
        """Put ``items`` in batches of 25; of two items under one key the last is kept."""
        for request in builders.batch_writes(self.table, puts=builders.distinct_items(items)):
            self.client.batch_write(request)

    def _delete_partitions(self, partitions: list[str]) -> int:
        """Delete every item of ``partitions``, 25 per request; the number deleted."""
        deleted = 0
        batch: list[schema.Key] = []
        # One buffer across partitions, so every request but the last deletes 25 items.
        for pk in partitions:
            request = builders.query_partition(self.table, pk, 1000, keys_only=True)
            for item in self._query_all(request):
                batch.append(builders.key_of(item))
                if len(batch) == builders.BATCH_WRITE_LIMIT:
                    deleted += self._delete(batch)
                    batch = []
        if batch:
            deleted += self._delete(batch)
        return deleted

    def _purge_step(
        self,
        partitions: list[str],
        codec: PayloadCodec,
        max_items: int,
        max_seconds: float,
        start: int,
    ) -> tuple[int, int | None]:
        """One bounded piece of emptying ``partitions``: delete at most ``max_items`` items,
        from partition ``start`` on, starting no Query after ``max_seconds`` (the first
        always runs); once no partition holds an item, delete one page (up to 1,000) of
        ``codec``'s objects instead.

        :param start: where the previous step stopped; 0 starts over
        :return: how many items or objects were deleted, and where to resume (``None``
            once neither items nor objects are left)
        """
        deadline = time.monotonic() + max_seconds
        position, deleted, queries = start, 0, 0
        while position < len(partitions):
            if deleted >= max_items or (queries and time.monotonic() >= deadline):
                return deleted, position
            limit = min(1000, max_items - deleted)
            request = builders.query_partition(self.table, partitions[position], limit, True)
            self.ensure_table()
            items, more = query_page(self.client, request)
            queries += 1
            if items:
                deleted += self._delete([builders.key_of(item) for item in items])
            if more is None:
                position += 1
        if deleted:
            return deleted, position
        # Objects go after the items that point at them: no reader follows a dead pointer.
        objects = codec.purge_page()
        return objects, position if objects else None

    def _query_all(self, request: builders.Request) -> Iterator[Item]:
        # Expired items are purged too: unlike reads, deletes must not skip them.
        self.ensure_table()
        return self.client.query(request)

    def _delete(self, keys: list[schema.Key]) -> int:
        for request in builders.batch_writes(self.table, deletes=keys):
            self.client.batch_write(request)
        return len(keys)
