"""pynenc 0.1's routes of the state API through the real handler, with real-shaped API
Gateway events: batches, children, workflow members, the time-indexed history, runner
contexts and client data; bad shapes are 400s naming the field, nothing written; listings
page in order across several pages; each request's Queries are bounded."""

import json
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any
from urllib.parse import unquote

import pytest

from pynenc_dynamodb.api import index_pages, pages, routes
from tests.helpers.api_events import call, listing, seg


def entry(inv: str, wf: str = "wf", wf_type: str = "type#A", parent: str | None = None) -> Any:
    return {
        "invocation_id": inv,
        "body": f"body of {inv}",
        "workflow_id": wf,
        "workflow_type": wf_type,
        "parent_id": parent,
    }


def test_invocations_children_and_members(api: ModuleType, base: str) -> None:
    entries = [entry("root", wf="root", wf_type="type#A")]
    entries += [entry(f"c{n}", wf="root", wf_type="type#A", parent="root") for n in range(5)]
    entries += [entry(f"o{n}", wf="other", wf_type="type#B") for n in range(3)]
    assert call(api, "POST", f"{base}/invocations", {"entries": entries}) == (201, {})
    assert call(api, "GET", f"{base}/invocations/c3") == (200, {"body": "body of c3"})
    children, pages = listing(api, f"{base}/invocations/root/children", 2)
    assert sorted(children) == [f"c{n}" for n in range(5)] and pages >= 3
    path = f"{base}/invocations"
    by_workflow, _ = listing(api, path, 2, workflow_id="root")
    assert sorted(by_workflow) == sorted(["root"] + [f"c{n}" for n in range(5)])
    by_type, _ = listing(api, path, 2, workflow_type="type#B")
    assert sorted(by_type) == ["o0", "o1", "o2"]
    both, _ = listing(api, path, 2, workflow_id="other", workflow_type="type#A")
    assert both == []
    everything, _ = listing(api, path, 3)
    assert sorted(everything) == sorted(e["invocation_id"] for e in entries)


def test_member_listing_caps_its_queries(api: ModuleType, base: str) -> None:
    """Every id of the app reads 16 index shards: at most MAX_QUERIES_PER_PAGE per request."""
    call(api, "POST", f"{base}/invocations", {"entries": [entry("only")]})
    counts: list[int] = []
    params = {"limit": "100"}
    items: list[str] = []
    while True:
        before = api.CLIENT.request_counts["Query"]
        status, answer = call(api, "GET", f"{base}/invocations", query=params)
        assert status == 200, answer
        counts.append(api.CLIENT.request_counts["Query"] - before)
        items += answer["items"]
        if not answer["next_cursor"]:
            break
        params = {"limit": "100", "cursor": answer["next_cursor"]}
    assert items == ["only"]
    assert max(counts) <= pages.MAX_QUERIES_PER_PAGE
    assert sum(counts) == 16


def test_cursors_are_bound_to_the_filters(api: ModuleType, base: str) -> None:
    call(api, "POST", f"{base}/invocations", {"entries": [entry(f"i{n}") for n in range(3)]})
    status, answer = call(
        api, "GET", f"{base}/invocations", query={"limit": "1", "workflow_id": "wf"}
    )
    assert status == 200 and answer["next_cursor"]
    query = {"limit": "1", "workflow_id": "another", "cursor": answer["next_cursor"]}
    status, answer = call(api, "GET", f"{base}/invocations", query=query)
    assert status == 400 and answer["error"]["code"] == "InvalidCursor"


def history(ids: list[str], when: datetime, body: str, record: str | None = None) -> Any:
    return {
        "invocation_ids": ids,
        "timestamp": when.isoformat(),
        "body": body,
        "record_id": record,
    }


def test_history_in_a_time_range_pages_in_time_order(api: ModuleType, base: str) -> None:
    """Records over three hours and many shards, read back in pages of 3: one order."""
    t0 = datetime(2024, 5, 1, 10, 59, 58, tzinfo=UTC)
    expected: list[tuple[datetime, str]] = []
    for n in range(12):
        when = t0 + timedelta(minutes=25 * n)
        ids = [f"inv-{n}-{k}" for k in range(n % 3 + 1)]
        assert call(api, "POST", f"{base}/history", history(ids, when, f"h{n:02d}"))[0] == 201
        expected += [(when, f"h{n:02d}")] * len(ids)
    path = f"{base}/history"
    start, end = t0 + timedelta(minutes=25), t0 + timedelta(minutes=25 * 10)
    query = {"start": start.isoformat(), "end": end.isoformat()}
    items, pages = listing(api, path, 3, **query)
    assert items == [body for when, body in expected if start <= when <= end]
    assert pages >= 6
    ids, _ = listing(api, f"{base}/history/invocation-ids", 2, **query)
    wanted = [f"inv-{n}-{k}" for n in range(1, 11) for k in range(n % 3 + 1)]
    # Records of one instant come in index sort-key order: by invocation id.
    assert sorted(ids) == sorted(wanted) and len(ids) == len(set(ids))
    # Naive times are UTC.
    naive = {k: v.replace("+00:00", "") for k, v in query.items()}
    assert listing(api, path, 100, **naive)[0] == items


def test_empty_hours_cost_a_bounded_number_of_queries(api: ModuleType, base: str) -> None:
    start = datetime(2023, 1, 1, tzinfo=UTC)
    query = {"start": start.isoformat(), "end": (start + timedelta(hours=5)).isoformat()}
    counts: list[int] = []
    params = dict(query)
    while True:
        before = api.CLIENT.request_counts["Query"]
        status, answer = call(api, "GET", f"{base}/history", query=params)
        counts.append(api.CLIENT.request_counts["Query"] - before)
        assert status == 200 and answer["items"] == []
        if not answer["next_cursor"]:
            break
        params = {**query, "cursor": answer["next_cursor"]}
    # Six empty hours, 16 shards each, two hours a request.
    assert counts == [2 * 16] * 3
    assert max(counts) <= index_pages.TIME_QUERIES_PER_PAGE


def test_runner_contexts(api: ModuleType, base: str) -> None:
    for runner in ["proc-1", "proc-2", "thread#9", "batch-get"]:
        path = f"{base}/runner-contexts/{seg(runner)}"
        assert call(api, "PUT", path, {"body": f"ctx {runner}"}) == (200, {})
    ids = ["proc-2", "missing", "batch-get", "proc-2", "thread#9"]
    status, answer = call(api, "POST", f"{base}/runner-contexts/batch-get", {"runner_ids": ids})
    assert status == 200, answer
    assert answer == {"items": ["ctx proc-2", "ctx batch-get", "ctx thread#9"], "unread": []}
    found, _ = listing(api, f"{base}/runner-contexts", 1, match="proc")
    assert found == ["ctx proc-1", "ctx proc-2"]
    # '2' is in the escaped form of '#' (%23), not in any id but proc-2.
    assert listing(api, f"{base}/runner-contexts", 10, match="2")[0] == ["ctx proc-2"]


def test_client_data_and_its_purge(api: ModuleType, base: str) -> None:
    key = f"{base}/client-data/{seg('arg#1/ü')}"
    assert call(api, "GET", key)[0] == 404
    assert call(api, "PUT", key, {"body": "large argument"}) == (200, {})
    assert call(api, "GET", key) == (200, {"body": "large argument"})
    call(api, "PUT", f"{base}/invocations/i", {"body": "state"})
    # Purging the state keeps client data; purging client data keeps the state.
    call(api, "DELETE", base)
    assert call(api, "GET", key) == (200, {"body": "large argument"})
    call(api, "PUT", f"{base}/invocations/i", {"body": "state"})
    deleted = 0
    query: dict[str, str] = {}
    while True:
        status, answer = call(api, "DELETE", f"{base}/client-data", query=query)
        assert status == 200, answer
        deleted += answer["deleted"]
        if answer["done"]:
            break
        query = {"cursor": answer["next_cursor"]}
    assert deleted == 2  # the item and its object (the bucket takes every value)
    assert call(api, "GET", key)[0] == 404
    assert call(api, "GET", f"{base}/invocations/i") == (200, {"body": "state"})


@pytest.mark.parametrize(
    ("route", "payload", "code", "names"),
    [
        ("put_invocations", {}, "MissingField", "'entries'"),
        ("put_invocations", {"entries": []}, "InvalidField", "'entries'"),
        ("put_invocations", {"entries": "x"}, "InvalidField", "'entries'"),
        ("put_invocations", {"entries": [entry("a"), 5]}, "InvalidField", "'entries[1]'"),
        (
            "put_invocations",
            {"entries": [entry("a"), {**entry("b"), "workflow_id": 3}]},
            "InvalidField",
            "'entries[1].workflow_id'",
        ),
        (
            "put_invocations",
            {"entries": [{k: v for k, v in entry("a").items() if k != "body"}]},
            "MissingField",
            "'entries[0].body'",
        ),
        (
            "put_invocations",
            {"entries": [{**entry("a"), "extra": 1}]},
            "UnknownField",
            "entries[0].extra",
        ),
        (
            "put_invocations",
            {"entries": [entry(f"i{n}") for n in range(routes.MAX_INVOCATIONS_PER_REQUEST + 1)]},
            "InvalidField",
            str(routes.MAX_INVOCATIONS_PER_REQUEST),
        ),
        (
            "add_histories",
            {"timestamp": "2024-01-01T00:00:00", "body": "b"},
            "MissingField",
            "'invocation_ids'",
        ),
        (
            "add_histories",
            {"invocation_ids": ["a", None], "timestamp": "2024-01-01T00:00:00", "body": "b"},
            "InvalidField",
            "'invocation_ids[1]'",
        ),
        (
            "add_histories",
            {"invocation_ids": ["a"], "timestamp": "soon", "body": "b"},
            "InvalidField",
            "'timestamp'",
        ),
        ("get_runner_contexts", {"runner_ids": {"a": 1}}, "InvalidField", "'runner_ids'"),
    ],
)
def test_bad_batch_shapes_are_400_naming_the_field(
    api: ModuleType, base: str, *, route: str, payload: Any, code: str, names: str
) -> None:
    path = base + routes.BY_NAME[route].template.removeprefix("/apps/{app_id}")
    status, answer = call(api, routes.BY_NAME[route].method, path, payload)
    assert status == 400, answer
    assert answer["error"]["code"] == code
    assert names in answer["error"]["message"]
    # Nothing of the batch was written.
    assert call(api, "GET", f"{base}/invocations/a")[0] == 404
    assert listing(api, f"{base}/invocations", 100)[0] == []


def test_a_bad_key_in_a_batch_writes_nothing(api: ModuleType, base: str) -> None:
    entries = [entry("good"), entry("bad", parent="p" * 600)]
    status, answer = call(api, "POST", f"{base}/invocations", {"entries": entries})
    assert status == 400 and answer["error"]["field"] == "parent_id"
    assert call(api, "GET", f"{base}/invocations/good")[0] == 404


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({"end": "2024-01-01T00:00:00"}, "'start'"),
        ({"start": "2024-01-01T00:00:00", "end": "later"}, "'end'"),
    ],
)
def test_bad_time_ranges_are_400(
    api: ModuleType, base: str, query: dict[str, str], names: str
) -> None:
    for path in (f"{base}/history", f"{base}/history/invocation-ids"):
        status, answer = call(api, "GET", path, query=query)
        assert status == 400 and names in answer["error"]["message"], answer


def test_time_range_cursor_of_another_range_is_400(api: ModuleType, base: str) -> None:
    when = datetime(2024, 2, 2, 2, tzinfo=UTC)
    call(api, "POST", f"{base}/history", history(["a", "b", "c"], when, "x"))
    query = {"start": when.isoformat(), "end": when.isoformat(), "limit": "1"}
    status, answer = call(api, "GET", f"{base}/history", query=query)
    assert status == 200 and answer["items"] == ["x"] and answer["next_cursor"]
    other = {**query, "end": (when + timedelta(hours=1)).isoformat()}
    status, answer = call(
        api, "GET", f"{base}/history", query={**other, "cursor": answer["next_cursor"]}
    )
    assert status == 400 and answer["error"]["code"] == "InvalidCursor"


def test_every_new_route_answers_json(api: ModuleType, base: str) -> None:
    """The app id of ``base`` has a delimiter and non-ASCII: every route takes it."""
    app_id = unquote(base.removeprefix("/apps/"))
    assert "#" in app_id
    status, answer = call(api, "GET", f"{base}/runner-contexts", query={"match": ""})
    assert status == 200 and json.dumps(answer)


def test_runner_contexts_beyond_one_answer_come_back_unread(api: ModuleType, base: str) -> None:
    """Contexts that do not fit in one answer are named in ``unread``, in order; a first
    group too large together is read in halves, so each answer holds at least one."""
    app_id = unquote(base.removeprefix("/apps/"))
    store = api.store(app_id)
    ids = [f"r{n:03d}" for n in range(150)]
    for runner_id in ids:
        store.put_runner_context(runner_id, f"{runner_id}:" + "x" * 100)
    one = pages.answer_bytes(f"r000:{'x' * 100}") + 2
    # Room for 120 contexts: the first group of 100 fits, the second (50) does not.
    items, unread = index_pages.runner_contexts_answer(store, ids, pages.Budget(120 * one))
    assert [item[:4] for item in items] == ids[:100]
    assert unread == ids[100:]
    # Room for 30: the first group is read again in halves until a part fits.
    items, unread = index_pages.runner_contexts_answer(store, ids, pages.Budget(30 * one))
    assert [item[:4] for item in items] == ids[:25]
    assert unread == ids[25:]
    with pytest.raises(pages.AnswerTooLargeError):
        index_pages.runner_contexts_answer(store, ids, pages.Budget(one - 1))
