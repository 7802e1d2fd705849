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
