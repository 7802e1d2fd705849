"""The key schema: every id maps to exactly one key, prefixes never collide, and ids that
cannot be stored are rejected with an error naming the field and the limit."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pynenc_dynamodb.errors import InvalidKeyError
from pynenc_dynamodb.table import schema


def sk(key: schema.Key) -> str:
    return key[schema.SK]["S"]


def pk(key: schema.Key) -> str:
    return key[schema.PK]["S"]


def test_invocation_items_share_one_partition() -> None:
    keys = [
        schema.invocation_key("app", "inv-1"),
        schema.result_key("app", "inv-1"),
        schema.exception_key("app", "inv-1"),
        schema.history_key("app", "inv-1", datetime(2026, 1, 1, tzinfo=UTC), "r1"),
    ]
    assert len({pk(k) for k in keys}) == 1
    assert pk(keys[0]) in schema.app_partitions("app")
    assert [sk(k) for k in keys[:3]] == ["inv-1#I", "inv-1#R", "inv-1#E"]


def test_delimiter_is_escaped_so_prefixes_do_not_collide() -> None:
    # Without escaping, "a#H#x" would read as history of invocation "a".
    tricky = schema.invocation_key("app", "a#H#x")
    assert sk(tricky) == "a%23H%23x#I"
    prefix = schema.history_prefix("app", "a")
    assert not sk(tricky).startswith(prefix.sk_prefix)
    assert sk(schema.invocation_key("app", "50%")) == "50%25#I"


def test_escaping_is_injective() -> None:
    ids = ["a#b", "a%23b", "a%b", "a%25b", "a", "a#", "a%"]
    keys = {sk(schema.invocation_key("app", i)) for i in ids}
    assert len(keys) == len(ids)


def test_history_keys_sort_by_time_across_time_zones() -> None:
    early = datetime(2026, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=5)))  # 07:00 UTC
    late = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    a = sk(schema.history_key("app", "i", late, "a"))
    b = sk(schema.history_key("app", "i", early, "b"))
    assert b < a


def test_shard_is_stable_and_bounded() -> None:
    partitions = {pk(schema.invocation_key("app", f"inv-{n}")) for n in range(500)}
    assert partitions <= set(schema.app_partitions("app"))
    assert len(partitions) == schema.SHARDS  # 500 ids spread over every shard
    assert pk(schema.invocation_key("app", "x")) == pk(schema.invocation_key("app", "x"))


def test_app_partitions_are_the_apps_own() -> None:
    mine = schema.app_partitions("app")
    theirs = schema.app_partitions("app2")
    assert not set(mine) & set(theirs)
    assert len(mine) == 2 * schema.SHARDS + 2
    assert pk(schema.workflow_type_key("app", "t")) in mine
    assert pk(schema.workflow_data_key("app", "wf", "k")) in mine
    assert pk(schema.app_info_key("app")) not in mine


def test_purge_partitions_hold_every_new_kind_but_client_data() -> None:
    """Children, members and indexed history share their owner's partition; runner
    contexts have the app's own; client data is purged apart."""
    state = set(schema.app_partitions("app"))
    when = datetime(2026, 1, 1, tzinfo=UTC)
    assert pk(schema.child_key("app", "parent", "child")) in state
    assert pk(schema.member_key("app", "wf", "inv")) in state
    assert pk(schema.history_key("app", "inv", when, "r")) in state
    assert pk(schema.runner_context_key("app", "runner")) in state
    client_data = set(schema.client_data_partitions("app"))
    assert pk(schema.client_data_key("app", "k")) in client_data
    assert not client_data & state
    assert not client_data & set(schema.client_data_partitions("app2"))


def test_children_and_members_prefixes_match_only_their_items() -> None:
    child = sk(schema.child_key("app", "p", "c"))
    assert child.startswith(schema.children_prefix("app", "p").sk_prefix)
    assert not child.startswith(schema.children_prefix("app", "p#C").sk_prefix)
    member = sk(schema.member_key("app", "wf", "i"))
    assert member.startswith(schema.members_prefix("app", "wf").sk_prefix)
    assert not sk(schema.sub_invocation_key("app", "wf", "i")).startswith(
        schema.members_prefix("app", "wf").sk_prefix
    )


def test_member_type_prefix_does_not_match_a_longer_type() -> None:
    keys = schema.member_index_keys("app", "wf", "pkg.flow2", "i")
    assert not keys[schema.GSI1_SK]["S"].startswith(schema.member_type_prefix("pkg.flow"))
    keys = schema.member_index_keys("app", "wf", "pkg.flow", "i")
    assert keys[schema.GSI1_SK]["S"].startswith(schema.member_type_prefix("pkg.flow"))


def test_history_time_index_buckets_by_utc_hour_and_bounds_are_inclusive() -> None:
    naive = datetime(1970, 1, 1, 0, 59, 59, 999999)
    aware = datetime(1970, 1, 1, 2, 59, 59, 999999, tzinfo=timezone(timedelta(hours=2)))
    assert schema.hour_bucket(naive) == schema.hour_bucket(aware) == "1970-01-01T00"
    keys = schema.history_index_keys("app", "inv#1", naive, "r")
    sort_key = keys[schema.GSI1_SK]["S"]
    assert keys[schema.GSI1_PK]["S"].startswith("A#app#HT#1970-01-01T00#")
    low, high = schema.history_time_bounds(naive, naive)
    assert low <= sort_key <= high
    assert schema.history_index_invocation(sort_key) == "inv#1"


@pytest.mark.parametrize("value", ["a#b", "a%23b", "a%b", "a%25b", "%", "#", "%#%23", ""])
def test_unescape_inverts_escape(value: str) -> None:
    assert schema.unescape(schema.escape(value, "x", 100, allow_empty=True)) == value


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: schema.invocation_key("", "i"), "app_id"),
        (lambda: schema.invocation_key("app", ""), "invocation_id"),
        (lambda: schema.workflow_data_key("app", "", "k"), "workflow_id"),
        (lambda: schema.sub_invocation_key("app", "wf", ""), "sub_invocation_id"),
        (lambda: schema.workflow_type_key("app", ""), "workflow_task_id"),
    ],
)
def test_empty_ids_are_rejected(build: object, field: str) -> None:
    with pytest.raises(InvalidKeyError, match="must not be empty") as info:
        build()  # type: ignore[operator]
    assert info.value.field == field


def test_over_long_ids_name_the_limit() -> None:
    with pytest.raises(InvalidKeyError) as info:
        schema.invocation_key("app", "x" * (schema.MAX_ID_BYTES + 1))
    assert info.value.field == "invocation_id"
    assert f"the limit is {schema.MAX_ID_BYTES} bytes" in str(info.value)
    # The limit counts escaped UTF-8 bytes, not characters.
    with pytest.raises(InvalidKeyError, match="once '%' and '#' are escaped"):
        schema.invocation_key("app", "#" * (schema.MAX_ID_BYTES // 3 + 1))
    schema.invocation_key("app", "x" * schema.MAX_ID_BYTES)


def test_largest_keys_fit_dynamodb_limits() -> None:
    app = "a" * schema.MAX_APP_ID_BYTES
    wf = "w" * schema.MAX_ID_BYTES
    key = schema.workflow_data_key(app, wf, "k" * schema.MAX_DATA_KEY_BYTES)
    assert len(pk(key).encode()) <= schema.MAX_PARTITION_KEY_BYTES
    assert len(sk(key).encode()) <= schema.MAX_SORT_KEY_BYTES
    hist = schema.history_key(app, wf, datetime.now(UTC), "r" * schema.MAX_ID_BYTES)
    assert len(sk(hist).encode()) <= schema.MAX_SORT_KEY_BYTES


def test_invalid_text_is_rejected() -> None:
    with pytest.raises(InvalidKeyError, match="not valid Unicode") as info:
        schema.invocation_key("app", "bad\ud800surrogate")
    assert info.value.field == "invocation_id"
    with pytest.raises(InvalidKeyError, match="expected text, got int"):
        schema.invocation_key("app", 42)  # type: ignore[arg-type]


def test_data_keys_may_be_empty_or_hold_any_text() -> None:
    assert sk(schema.workflow_data_key("app", "wf", "")) == "wf#D#"
    assert sk(schema.workflow_data_key("app", "wf", "é#/ %")) == "wf#D#é%23/ %25"


def test_table_definition_matches_key_names() -> None:
    table = schema.table_definition("t")
    assert table["KeySchema"] == [
        {"AttributeName": schema.PK, "KeyType": "HASH"},
        {"AttributeName": schema.SK, "KeyType": "RANGE"},
    ]
    gsi, gsi2 = table["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == schema.GSI1
    assert set(gsi["Projection"]["NonKeyAttributes"]) == {
        schema.BODY,
        schema.ENCODING,
        schema.EXPIRES_AT,
    }
    # The orchestrator's index copies its keys and the owner of a status, nothing else.
    assert gsi2["IndexName"] == schema.GSI2
    assert gsi2["KeySchema"] == [
        {"AttributeName": schema.GSI2_PK, "KeyType": "HASH"},
        {"AttributeName": schema.GSI2_SK, "KeyType": "RANGE"},
    ]
    assert gsi2["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": [schema.OWNER]}
