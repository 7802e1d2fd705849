"""History by time: records written by ``add_histories`` are indexed in gsi1 by UTC hour
and shard, and a range read merges the shards of each hour in time order, lazily.

The merge is a pure function over a page source, so the state API's client merges the
pages it fetches over HTTP exactly as the store merges the pages of its Queries:

    fetch_page(bucket, shard, cursor) -> (entries, next_cursor)

``bucket`` is a :func:`~pynenc_dynamodb.table.schema.hour_bucket` (``YYYY-MM-DDTHH``),
``shard`` one of :func:`~pynenc_dynamodb.table.schema.shard_names` (``"00"``..``"15"``),
``cursor`` ``None`` for the first page; ``entries`` are ``(index sort key, value)`` pairs
in index sort-key order, within the range; ``next_cursor`` is ``None`` after the last page.
"""

import heapq
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any, TypeVar

from pynenc_dynamodb.aws.dynamodb import query_page
from pynenc_dynamodb.table import builders, schema
from pynenc_dynamodb.table.builders import Item
from pynenc_dynamodb.table.store_core import StoreCore

V = TypeVar("V")
Entry = tuple[str, V]
PageFetch = Callable[[str, str, Any], tuple[Sequence[tuple[str, V]], Any]]


def hour_buckets(start: datetime, end: datetime) -> Iterator[str]:
    """Every UTC hour bucket from ``start``'s to ``end``'s, both included, oldest first;
    none when ``start`` is after ``end``. Naive datetimes are UTC."""
    start, end = schema.as_utc(start), schema.as_utc(end)
    if start > end:
        return
    hour = start.replace(minute=0, second=0, microsecond=0)
    while hour <= end:
        yield schema.hour_bucket(hour)
        hour += timedelta(hours=1)


def shard_entries(fetch_page: PageFetch[V], bucket: str, shard: str) -> Iterator[Entry[V]]:
    """Every entry of one (hour bucket, shard), fetching a page only when it is needed."""
    cursor: Any = None
    while True:
        entries, cursor = fetch_page(bucket, shard, cursor)
        yield from entries
        if cursor is None:
            return


def merged_timerange(
    start: datetime, end: datetime, fetch_page: PageFetch[V]
) -> Iterator[Entry[V]]:
    """The entries of ``start <= ts <= end``, in time order, hour bucket by hour bucket:
    a bucket's first page of every shard is fetched when its first entry is needed (an
    empty hour costs one page per shard), the next pages as the merge reaches them.

    :param start: first instant of the range (naive means UTC)
    :param end: last instant of the range, included (naive means UTC)
    :param fetch_page: the page source (see the module's documentation)
    """
    for bucket in hour_buckets(start, end):
        shards = [shard_entries(fetch_page, bucket, shard) for shard in schema.shard_names()]
        yield from heapq.merge(*shards, key=itemgetter(0))


def distinct_invocation_ids(entries: Iterable[Entry[Any]]) -> Iterator[str]:
    """Each invocation id of time-indexed history entries once, in order of first record."""
    seen: set[str] = set()
    for sort_key, _ in entries:
        invocation_id = schema.history_index_invocation(sort_key)
        if invocation_id not in seen:
            seen.add(invocation_id)
            yield invocation_id


class TimeIndex(StoreCore):
    """Time-indexed history: batched appends and range reads."""

    def add_histories(
        self,
        invocation_ids: Sequence[str],
        timestamp: datetime,
        body: str,
        record_id: str | None = None,
    ) -> None:
        """One time-indexed history record (the same body) per invocation, 25 per request.

        Every key is validated before anything is sent; an id given twice is written once.

        :param record_id: unique per record; a retry with the same id overwrites, never doubles
        """
        record = record_id or uuid.uuid4().hex
        keys = [
            (
                schema.history_key(self.app_id, inv, timestamp, record),
                schema.history_index_keys(self.app_id, inv, timestamp, record),
            )
            for inv in invocation_ids
        ]
        # gsi1 projects the body, not the pointer: an indexed record stays in its item.
        attributes = self.codec.encode(body, "history record", allow_offload=False)
        expires_at = builders.expiry(self.ttl_seconds)
        items = [
            builders.check_size(
                builders.build_item(key, attributes, expires_at, index_keys), "history record"
            )
            for key, index_keys in keys
        ]
        self.ensure_table()
        self._write(items)

    def history_timerange_request(
        self,
        bucket: str,
        shard: str,
        start: datetime,
        end: datetime,
        *,
        limit: int = 0,
        keys_only: bool = False,
        after: str | None = None,
    ) -> builders.Request:
        """The Query of one (hour bucket, shard) of the time index, within the range.

        :param after: an index sort key of the range: read from it on (it included)
        """
        low, high = schema.history_time_bounds(start, end)
        low = max(low, after or low)
        pk = schema.history_time_partition(self.app_id, bucket, shard)
        return builders.query_index_between(
            self.table, pk, low, high, limit or self.page_size, keys_only=keys_only
        )

    def history_timerange_page(
        self,
        bucket: str,
        shard: str,
        start: datetime,
        end: datetime,
        *,
        start_key: Item | None = None,
        limit: int = 0,
        keys_only: bool = False,
        after: str | None = None,
    ) -> tuple[list[Entry[str]], Item | None]:
        """One page of one (hour bucket, shard): ``(index sort key, body)`` pairs (bodies
        empty with ``keys_only``), and the key to resume from (``None`` when done).
        Expired records are left out.

        :param after: an index sort key: only entries past it (how the state API resumes a
            merge of every shard from the last entry it answered, in whichever shard)
        """
        request = self.history_timerange_request(
            bucket, shard, start, end, limit=limit, keys_only=keys_only, after=after
        )
        self.ensure_table()
        items, last_key = query_page(self.client, request, start_key)
        entries = [
            (item[schema.GSI1_SK]["S"], "" if keys_only else self.codec.decode(item))
            for item in items
            if not builders.is_expired(item) and item[schema.GSI1_SK]["S"] != after
        ]
        return entries, last_key

    def history_in_timerange(self, start: datetime, end: datetime) -> Iterator[str]:
        """Bodies of the time-indexed records with ``start <= ts <= end``, oldest first,
        read lazily hour by hour (eventually consistent: gsi1 is an index)."""

        def fetch(bucket: str, shard: str, cursor: Any) -> tuple[list[Entry[str]], Any]:
            return self.history_timerange_page(bucket, shard, start, end, start_key=cursor)

        return (body for _, body in merged_timerange(start, end, fetch))

    def invocation_ids_in_timerange(self, start: datetime, end: datetime) -> Iterator[str]:
        """Each invocation id with a time-indexed record in the range once, by first record."""

        def fetch(bucket: str, shard: str, cursor: Any) -> tuple[list[Entry[str]], Any]:
            return self.history_timerange_page(
                bucket, shard, start, end, start_key=cursor, keys_only=True
            )

        return distinct_invocation_ids(merged_timerange(start, end, fetch))
