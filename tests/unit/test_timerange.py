"""The time-range merge over a page source, with no I/O: hour buckets in order, shards
merged by sort key, pages fetched only when the merge needs them."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from pynenc_dynamodb.table import schema
from pynenc_dynamodb.table.timerange import (
    distinct_invocation_ids,
    hour_buckets,
    merged_timerange,
)

START = datetime(1970, 1, 1, 0, 30, tzinfo=UTC)


class Pages:
    """A page source over fixed entries per (bucket, shard), two entries a page."""

    def __init__(self, entries: dict[tuple[str, str], list[tuple[str, str]]]) -> None:
        self.entries = entries
        self.fetched: list[tuple[str, str, Any]] = []

    def __call__(self, bucket: str, shard: str, cursor: Any) -> tuple[list[Any], Any]:
        self.fetched.append((bucket, shard, cursor))
        entries = self.entries.get((bucket, shard), [])
        position = cursor or 0
        page = entries[position : position + 2]
        return page, position + 2 if position + 2 < len(entries) else None


def test_hour_buckets_cover_both_ends_in_utc() -> None:
    end = datetime(1970, 1, 1, 4, 0, tzinfo=timezone(timedelta(hours=2)))  # 02:00 UTC
    assert list(hour_buckets(START, end)) == ["1970-01-01T00", "1970-01-01T01", "1970-01-01T02"]
    assert list(hour_buckets(START.replace(tzinfo=None), START)) == ["1970-01-01T00"]
    assert list(hour_buckets(START, START - timedelta(microseconds=1))) == []


def test_merge_orders_across_shards_and_buckets_lazily() -> None:
    pages = Pages(
        {
            ("1970-01-01T00", "03"): [("00:31", "a"), ("00:40", "c"), ("00:50", "e")],
            ("1970-01-01T00", "11"): [("00:35", "b"), ("00:45", "d")],
            ("1970-01-01T01", "00"): [("01:10", "f")],
        }
    )
    merged = merged_timerange(START, START + timedelta(hours=1), pages)
    assert next(merged) == ("00:31", "a")
    # The first hour's shards only: one page each.
    assert {f[0] for f in pages.fetched} == {"1970-01-01T00"}
    assert len(pages.fetched) == schema.SHARDS
    assert [v for _, v in merged] == ["b", "c", "d", "e", "f"]
    assert len(pages.fetched) == 2 * schema.SHARDS + 1  # shard 03's second page


def test_an_empty_hour_costs_one_page_per_shard() -> None:
    pages = Pages({})
    assert list(merged_timerange(START, START, pages)) == []
    assert [(f[1], f[2]) for f in pages.fetched] == [(s, None) for s in schema.shard_names()]


def test_distinct_invocation_ids_in_order_of_first_record() -> None:
    ts = schema.timestamp_component(START)
    entries = [(f"{ts}#b#r1", ""), (f"{ts}#a%231#r1", ""), (f"{ts}#b#r2", "")]
    assert list(distinct_invocation_ids(entries)) == ["b", "a#1"]
