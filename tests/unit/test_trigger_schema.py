"""The trigger's keys and its conditional writes, as data: partitions of its own derived from
the app id, links that list by prefix, and the exact PutItem requests that make a cron slot
and a trigger run go to one runner."""

import pytest

from pynenc_dynamodb.errors import InvalidKeyError
from pynenc_dynamodb.table import builders, schema, trigger_builders


def sk(key: schema.Key) -> str:
    return key[schema.SK]["S"]


def pk(key: schema.Key) -> str:
    return key[schema.PK]["S"]


def every_trigger_key(app: str) -> list[schema.Key]:
    return [
        schema.condition_key(app, "cond"),
        schema.cron_last_execution_key(app, "cond"),
        schema.trigger_key(app, "trg"),
        schema.task_trigger_key(app, "mod.task", "trg"),
        schema.condition_trigger_key(app, "cond", "trg"),
        schema.source_condition_key(app, "mod.task", "cond"),
        schema.valid_condition_key(app, "valid_condition_cond_context_x"),
        schema.trigger_run_claim_key(app, "run"),
    ]


def test_trigger_partitions_hold_every_trigger_key_and_nothing_of_the_state() -> None:
    partitions = set(schema.trigger_partitions("app"))
    assert len(partitions) == 6 + 2 * schema.SHARDS
    assert {pk(key) for key in every_trigger_key("app")} <= partitions
    assert not partitions & set(schema.app_partitions("app"))
    assert not partitions & set(schema.client_data_partitions("app"))
    assert not partitions & set(schema.trigger_partitions("app2"))
    # Exact partitions, never prefixes: "A#app#T" (workflow types) is not a trigger one.
    assert schema.workflow_types_partition("app") not in partitions


def test_conditional_items_are_apart_from_the_conditions() -> None:
    """Registering a condition again rewrites its item, never its last execution."""
    assert schema.condition_key("app", "c") != schema.cron_last_execution_key("app", "c")
    assert pk(schema.condition_key("app", "c")) == schema.conditions_partition("app")


def test_link_prefixes_match_only_their_own_items() -> None:
    task_link = sk(schema.task_trigger_key("app", "mod.task", "trg"))
    assert task_link.startswith(schema.task_triggers_prefix("app", "mod.task").sk_prefix)
    assert not task_link.startswith(schema.task_triggers_prefix("app", "mod.ta").sk_prefix)
    link = schema.condition_trigger_key("app", "cron_* * * * *", "trg")
    prefix = schema.condition_triggers_prefix("app", "cron_* * * * *")
    assert (pk(link), sk(link).startswith(prefix.sk_prefix)) == (prefix.pk, True)
    # A condition id holding the delimiter (event#code#filter) is escaped: no collision.
    event = schema.condition_triggers_prefix("app", "event#a")
    assert not sk(schema.condition_trigger_key("app", "event#a#b", "t")).startswith(event.sk_prefix)
    source = schema.source_condition_key("app", "mod.task", "event#a#b")
    source_prefix = schema.source_conditions_prefix("app", "mod.task")
    assert (pk(source), sk(source).startswith(source_prefix.sk_prefix)) == (source_prefix.pk, True)
    assert schema.linked_id_of(source) == "event#a#b"
    assert schema.linked_id_of(schema.task_trigger_key("app", "m.t", "trg")) == "trg"


def test_valid_conditions_spread_over_the_shards_and_keep_their_id() -> None:
    keys = [schema.valid_condition_key("app", f"valid_condition_c_context_{n}") for n in range(200)]
    assert {pk(key) for key in keys} == set(schema.valid_condition_partitions("app"))
    assert schema.valid_condition_id_of(keys[3]) == "valid_condition_c_context_3"


def test_trigger_ids_are_validated_naming_the_field() -> None:
    with pytest.raises(InvalidKeyError) as info:
        schema.condition_key("app", "")
    assert info.value.field == "condition_id"
    with pytest.raises(InvalidKeyError) as info:
        schema.task_trigger_key("app", "x" * (schema.MAX_ID_BYTES + 1), "t")
    assert info.value.field == "task_id"
    # The longest ids still make keys DynamoDB accepts.
    app, longest = "a" * schema.MAX_APP_ID_BYTES, "x" * schema.MAX_ID_BYTES
    for key in [
        schema.condition_trigger_key(app, longest, longest),
        schema.source_condition_key(app, longest, longest),
        schema.valid_condition_key(app, "v" * schema.MAX_SORT_KEY_BYTES),
        schema.trigger_run_claim_key(app, "r" * schema.MAX_SORT_KEY_BYTES),
    ]:
        assert len(pk(key).encode()) <= schema.MAX_PARTITION_KEY_BYTES
        assert len(sk(key).encode()) <= schema.MAX_SORT_KEY_BYTES


def test_the_first_cron_execution_is_stored_only_if_none_is() -> None:
    key = schema.cron_last_execution_key("app", "cron_x")
    request = trigger_builders.put_cron_last_execution("t", key, "2024-01-01T12", "tok1", None)
    assert request == {
        "TableName": "t",
        "Item": {**key, "last": {"S": "2024-01-01T12"}, "tok": {"S": "tok1"}},
        "ConditionExpression": "attribute_not_exists(#pk)",
        "ExpressionAttributeNames": {"#pk": "pk"},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def test_a_later_cron_execution_is_stored_only_over_the_value_read() -> None:
    key = schema.cron_last_execution_key("app", "cron_x")
    request = trigger_builders.put_cron_last_execution("t", key, "13", "tok2", "12")
    assert request == {
        "TableName": "t",
        "Item": {**key, "last": {"S": "13"}, "tok": {"S": "tok2"}},
        "ConditionExpression": "#last = :expected",
        "ExpressionAttributeNames": {"#last": "last"},
        "ExpressionAttributeValues": {":expected": {"S": "12"}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def test_a_run_claim_is_written_only_over_nothing_or_an_expired_claim() -> None:
    key = schema.trigger_run_claim_key("app", "run")
    request = trigger_builders.put_run_claim("t", key, "tok", now=1000, expires_at=1060)
    assert request == {
        "TableName": "t",
        "Item": {**key, "expires_at": {"N": "1060"}, "tok": {"S": "tok"}},
        "ConditionExpression": "attribute_not_exists(#pk) OR #exp <= :now",
        "ExpressionAttributeNames": {"#pk": "pk", "#exp": "expires_at"},
        "ExpressionAttributeValues": {":now": {"N": "1000"}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    # The claim's expiry is the table's TTL attribute: old claims are deleted by DynamoDB.
    assert builders.is_expired(request["Item"], now=1060)


def test_only_the_writes_own_token_counts_as_won() -> None:
    assert trigger_builders.is_own_write({"tok": {"S": "mine"}}, "mine")
    assert not trigger_builders.is_own_write({"tok": {"S": "theirs"}}, "mine")
    assert not trigger_builders.is_own_write({"last": {"S": "x"}}, "mine")
    assert not trigger_builders.is_own_write(None, "mine")


def test_task_links_keep_the_condition_ids_even_when_there_are_none() -> None:
    for ids in ([], ["a", "event#b"]):
        extra = trigger_builders.task_link_extra(ids)
        assert trigger_builders.condition_ids_of(extra) == ids
    assert trigger_builders.condition_ids_of({}) == []
