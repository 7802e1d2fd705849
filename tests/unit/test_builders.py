"""Request builders tested as plain dicts, with no I/O."""

import pytest

from pynenc_dynamodb.errors import ItemTooLargeError
from pynenc_dynamodb.table import builders, schema


def test_get_item_is_strongly_consistent() -> None:
    key = schema.invocation_key("app", "i")
    assert builders.get_item("t", key) == {"TableName": "t", "Key": key, "ConsistentRead": True}


def test_query_prefix_binds_named_parts() -> None:
    request = builders.query_prefix("t", schema.Prefix("P", "S#"), 50)
    assert request == {
        "TableName": "t",
        "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
        "ExpressionAttributeNames": {"#pk": "pk", "#sk": "sk"},
        "ExpressionAttributeValues": {":pk": {"S": "P"}, ":prefix": {"S": "S#"}},
        "ConsistentRead": True,
        "Limit": 50,
    }


def test_index_query_is_newest_first_and_not_consistent() -> None:
    request = builders.query_index_newest_first("t", "G", 10)
    assert request["IndexName"] == schema.GSI1
    assert request["ScanIndexForward"] is False
    # DynamoDB rejects ConsistentRead on a GSI.
    assert "ConsistentRead" not in request


def test_keys_only_partition_query_projects_keys() -> None:
    request = builders.query_partition("t", "P", 1000, keys_only=True)
    assert request["ProjectionExpression"] == "#pk, #sk"
    assert request["ExpressionAttributeNames"] == {"#pk": "pk", "#sk": "sk"}


def test_batch_writes_hold_at_most_25_writes() -> None:
    keys = [schema.invocation_key("app", f"i{n}") for n in range(60)]
    requests = builders.batch_writes("t", deletes=keys)
    sizes = [len(r["RequestItems"]["t"]) for r in requests]
    assert sizes == [25, 25, 10]
    assert requests[0]["RequestItems"]["t"][0] == {"DeleteRequest": {"Key": keys[0]}}
    assert builders.batch_writes("t") == []


def test_expiry_and_expired() -> None:
    assert builders.expiry(0) is None
    assert builders.expiry(60, now=1000.0) == 1060
    item = builders.build_item(schema.invocation_key("a", "i"), "b", 1060)
    assert item[schema.EXPIRES_AT] == {"N": "1060"}
    assert not builders.is_expired(item, now=1059.0)
    assert builders.is_expired(item, now=1060.0)
    assert not builders.is_expired(builders.build_item(schema.invocation_key("a", "i"), "b", None))


def test_item_size_counts_utf8_names_and_values() -> None:
    item = {"pk": {"S": "é"}, "n": {"N": "123"}, "b": {"B": b"xyz"}}
    assert builders.item_size(item) == (2 + 2) + (1 + 3) + (1 + 3)


def test_oversized_item_is_rejected_before_sending() -> None:
    key = schema.result_key("app", "i")
    item = builders.build_item(key, "x" * schema.MAX_ITEM_BYTES, None)
    with pytest.raises(ItemTooLargeError) as info:
        builders.check_size(item, "result")
    assert info.value.field == "result"
    assert f"at most {schema.MAX_ITEM_BYTES} bytes" in str(info.value)


def test_index_prefix_query_binds_the_index_sort_prefix() -> None:
    request = builders.query_index_prefix("t", "G", "pkg.flow#", 50)
    assert request == {
        "TableName": "t",
        "IndexName": "gsi1",
        "KeyConditionExpression": "#gpk = :gpk AND begins_with(#gsk, :gprefix)",
        "ExpressionAttributeNames": {"#gpk": "gsi1pk", "#gsk": "gsi1sk"},
        "ExpressionAttributeValues": {":gpk": {"S": "G"}, ":gprefix": {"S": "pkg.flow#"}},
        "Limit": 50,
    }
    # No prefix: the whole index partition.
    assert builders.query_index_prefix("t", "G", "", 50)["KeyConditionExpression"] == (
        "#gpk = :gpk"
    )


def test_index_range_query_is_inclusive_and_can_skip_bodies() -> None:
    request = builders.query_index_between("t", "G", "lo", "hi", 100)
    assert request == {
        "TableName": "t",
        "IndexName": "gsi1",
        "KeyConditionExpression": "#gpk = :gpk AND #gsk BETWEEN :low AND :high",
        "ExpressionAttributeNames": {"#gpk": "gsi1pk", "#gsk": "gsi1sk"},
        "ExpressionAttributeValues": {
            ":gpk": {"S": "G"},
            ":low": {"S": "lo"},
            ":high": {"S": "hi"},
        },
        "Limit": 100,
    }
    keys_only = builders.query_index_between("t", "G", "lo", "hi", 100, keys_only=True)
    assert keys_only["ProjectionExpression"] == "#gsk, #exp"
    assert keys_only["ExpressionAttributeNames"]["#exp"] == "expires_at"
    # DynamoDB rejects ConsistentRead on a GSI.
    assert "ConsistentRead" not in keys_only


def test_index_sort_prefix_filter_keeps_the_query_and_adds_a_filter() -> None:
    base = builders.query_prefix("t", schema.Prefix("P", "wf#M#"), 10)
    filtered = builders.with_index_sort_prefix(base, "T#")
    assert filtered["KeyConditionExpression"] == base["KeyConditionExpression"]
    assert filtered["FilterExpression"] == "begins_with(#gsk, :gprefix)"
    assert filtered["ExpressionAttributeNames"] == {"#pk": "pk", "#sk": "sk", "#gsk": "gsi1sk"}
    assert filtered["ExpressionAttributeValues"][":gprefix"] == {"S": "T#"}
    assert "FilterExpression" not in base


def test_batch_gets_hold_at_most_100_consistent_keys() -> None:
    keys = [schema.runner_context_key("app", f"r{n}") for n in range(201)]
    requests = builders.batch_gets("t", keys)
    assert [len(r["RequestItems"]["t"]["Keys"]) for r in requests] == [100, 100, 1]
    assert all(r["RequestItems"]["t"]["ConsistentRead"] is True for r in requests)
    assert [k for r in requests for k in r["RequestItems"]["t"]["Keys"]] == keys
    assert builders.batch_gets("t", []) == []


def test_distinct_items_keep_the_last_write_of_a_key_in_first_position() -> None:
    a1 = builders.build_item(schema.invocation_key("app", "a"), "a1", None)
    b = builders.build_item(schema.invocation_key("app", "b"), "b", None)
    a2 = builders.build_item(schema.invocation_key("app", "a"), "a2", None)
    assert builders.distinct_items([a1, b, a2]) == [a2, b]
