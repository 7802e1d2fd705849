"""The orchestrator's keys and requests as plain data: conditional transitions, counters,
blocking sets, heartbeats, index Queries; no I/O."""

from datetime import UTC, datetime

from pynenc_dynamodb.table import builders, schema
from pynenc_dynamodb.table import orchestration_builders as ob
from pynenc_dynamodb.table.schema import orchestration as orch

T = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def test_orchestrator_partitions_are_derived_from_the_app_alone_and_not_state_ones() -> None:
    partitions = orch.orchestrator_partitions("app")
    assert len(partitions) == 6 * schema.SHARDS == len(set(partitions))
    assert not set(partitions) & set(schema.app_partitions("app"))
    assert not set(partitions) & set(schema.client_data_partitions("app"))
    keys = [
        orch.status_key("app", "i"),
        orch.blocking_key("app", "i"),
        orch.args_record_key("app", "i"),
        orch.registration_key("app", "c", "i"),
        orch.arg_key("app", "task", orch.arg_token("x", '"1"'), "i"),
        orch.purge_marker_key("app", "i", T),
        orch.heartbeat_key("app", "runner"),
        orch.running_slot_key("app", "task", None),
        orch.running_slot_key("app", "task", {"x": '"1"'}),
    ]
    assert {k[schema.PK]["S"] for k in keys} <= set(partitions)
    # An invocation's status, blocking and argument record share its partition.
    assert len({k[schema.PK]["S"] for k in keys[:3]}) == 1


def test_status_index_keys_shard_by_invocation_and_sort_by_time() -> None:
    keys = orch.status_index_keys("app", "mod.task", "inv#1", "running", T)
    shard = keys[schema.GSI2_PK]["S"][-2:]
    assert keys[schema.GSI1_PK]["S"] == f"A#app#OT#mod.task#{shard}"
    assert keys[schema.GSI1_SK]["S"] == "running#2026-01-02T03:04:05.678901Z#inv%231"
    assert keys[schema.GSI2_PK]["S"] == f"A#app#OS#running#{shard}"
    assert keys[schema.GSI2_SK]["S"] == "2026-01-02T03:04:05.678901Z#inv%231"
    assert keys[schema.GSI2_PK]["S"] in orch.status_partitions("app", "running")
    assert keys[schema.GSI1_PK]["S"] in orch.task_status_partitions("app", "mod.task")
    assert orch.invocation_of_index_key(keys[schema.GSI1_SK]["S"]) == "inv#1"
    assert orch.time_of_index_key(keys[schema.GSI1_SK]["S"]) == "2026-01-02T03:04:05.678901Z"
    assert orch.parse_time(orch.time_of_index_key(keys[schema.GSI2_SK]["S"])) == T
    change = orch.status_change_index_keys("app", "inv#1", "running", T)
    assert change == {k: v for k, v in keys.items() if k != schema.GSI1_PK}


def test_time_upper_bound_includes_its_own_time() -> None:
    keys = orch.status_index_keys("app", "t", "i", "pending", T)
    assert keys[schema.GSI2_SK]["S"] < orch.time_upper_bound(T)


def test_registration_is_in_its_calls_partition_indexed_by_task_and_app() -> None:
    key = orch.registration_key("app", "call#1", "inv")
    prefix = orch.call_prefix("app", "call#1")
    assert key[schema.PK]["S"] == prefix.pk
    assert key[schema.SK]["S"] == f"{prefix.sk_prefix}inv" == "call%231#inv"
    keys = orch.registration_index_keys("app", "task", "inv", T)
    assert keys[schema.GSI1_PK]["S"] in orch.task_registration_partitions("app", "task")
    assert keys[schema.GSI2_PK]["S"] in orch.registration_partitions("app")


def test_argument_tokens_digest_values_and_escape_names() -> None:
    token = orch.arg_token("a#b", "x" * 10_000)
    name, digest = token.split("#", 1)[0], token.rsplit("#", 1)[1]
    assert name == "a%23b"
    assert len(digest) == 40
    assert orch.arg_token("a", '"1"') != orch.arg_token("a", '"2"')
    prefix = orch.arg_prefix("app", "task", orch.arg_token("a", '"1"'))
    assert orch.arg_key("app", "task", orch.arg_token("a", '"1"'), "i")[schema.SK]["S"] == (
        prefix.sk_prefix + "i"
    )


def test_status_condition_binds_free_and_owned_sources() -> None:
    expression, names, values = ob.status_condition(["registered", "retry"], ["pending"], "r1")
    assert expression == "(#st IN (:f0, :f1)) OR (#st IN (:o0) AND #own = :runner)"
    assert names == {"#st": "st", "#own": "own"}
    assert values == {
        ":f0": {"S": "registered"},
        ":f1": {"S": "retry"},
        ":o0": {"S": "pending"},
        ":runner": {"S": "r1"},
    }
    # DynamoDB refuses redundant parentheses: a single part has none.
    assert ob.status_condition([], ["running"], "r")[0] == "#st IN (:o0) AND #own = :runner"
    assert ob.status_condition(["running"], [], None)[0] == "#st IN (:f0)"
    # Without a runner, owned sources cannot match.
    assert ob.status_condition([], ["running"], None)[0] == ""


def test_transition_is_one_conditional_update_answering_either_way() -> None:
    key = orch.status_key("app", "i")
    index = orch.status_change_index_keys("app", "i", "running", T)
    request = ob.transition(
        "t",
        key,
        status="running",
        status_time="ts",
        index_keys=index,
        owner=ob.KEEP_OWNER,
        token="tok",
        condition=ob.status_condition([], ["pending"], "r"),
    )
    assert request["Key"] == key
    assert request["UpdateExpression"] == (
        "SET #st = :st, #sts = :sts, #tok = :tok, #g1s = :g1s, #g2p = :g2p, #g2s = :g2s "
        "ADD #ver :one"
    )
    assert request["ConditionExpression"] == (
        "attribute_exists(#pk) AND #st IN (:o0) AND #own = :runner"
    )
    assert request["ReturnValues"] == "ALL_NEW"
    assert request["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    assert request["ExpressionAttributeValues"][":g2p"] == index[schema.GSI2_PK]
    released = ob.transition(
        "t",
        key,
        status="success",
        status_time="ts",
        index_keys=index,
        owner=None,
        token="tok",
        condition=ob.version_condition(3),
    )
    assert released["UpdateExpression"].endswith("ADD #ver :one REMOVE #own")
    assert released["ConditionExpression"] == "attribute_exists(#pk) AND #ver = :expected"
    assert released["ExpressionAttributeValues"][":expected"] == {"N": "3"}
    taken = ob.transition(
        "t",
        key,
        status="pending",
        status_time="ts",
        index_keys=index,
        owner="r",
        token="tok",
        condition=ob.status_condition(["registered"], ["pending"], "r"),
    )
    assert "#own = :own" in taken["UpdateExpression"]
    assert taken["ConditionExpression"] == (
        "attribute_exists(#pk) AND ((#st IN (:f0)) OR (#st IN (:o0) AND #own = :runner))"
    )


def test_registration_never_overwrites_a_status() -> None:
    request = ob.register_status("t", {"pk": {"S": "p"}, "sk": {"S": "s"}})
    assert request["ConditionExpression"] == "attribute_not_exists(#pk)"


def test_retries_are_an_atomic_add() -> None:
    request = ob.add_to_number("t", orch.status_key("a", "i"), orch.RETRIES)
    assert request["UpdateExpression"] == "ADD #n :amount"
    assert request["ExpressionAttributeValues"] == {":amount": {"N": "1"}}


def test_counts_select_count_and_listings_project_the_index() -> None:
    count = ob.query_index("t", schema.GSI1, "P", 100, sort_prefix="running#", count=True)
    assert count["Select"] == "COUNT"
    assert "Limit" not in count
    assert count["KeyConditionExpression"] == "#ipk = :ipk AND begins_with(#isk, :prefix)"
    assert count["ExpressionAttributeNames"] == {"#ipk": "gsi1pk", "#isk": "gsi1sk"}
    listing = ob.query_index("t", schema.GSI2, "P", 10, below="b", newest_first=True)
    assert listing["IndexName"] == "gsi2"
    assert listing["ScanIndexForward"] is False
    assert listing["KeyConditionExpression"] == "#ipk = :ipk AND #isk < :below"
    assert "ConsistentRead" not in listing  # DynamoDB refuses it on a GSI
    assert ob.count_prefix("t", schema.Prefix("P", "x#"))["Select"] == "COUNT"


def test_blocking_sets_and_heartbeats() -> None:
    key = orch.blocking_key("a", "w")
    index = orch.waited_index_keys("a", "w", T)
    waiter = ob.add_waiter("t", key, "x", index)
    assert waiter["UpdateExpression"].startswith("ADD #by :waiter")
    assert "if_not_exists(#g2s, :g2s)" in waiter["UpdateExpression"]
    assert ob.add_waiting_for("t", key, ["b", "a", "b"])["ExpressionAttributeValues"] == {
        ":waited": {"SS": ["a", "b"]}
    }
    assert ob.remove_waiting_for("t", key, "a")["ConditionExpression"] == "attribute_exists(#pk)"
    beat = ob.heartbeat("t", orch.heartbeat_key("a", "r"), 12.5, True, 99)
    assert "#cr = if_not_exists(#cr, :now)" in beat["UpdateExpression"]
    assert beat["ExpressionAttributeValues"][":atomic"] == {"BOOL": True}
    # Every heartbeat pushes the item's expiry (the table's TTL attribute) on.
    assert "#exp = :exp" in beat["UpdateExpression"]
    assert beat["ExpressionAttributeNames"]["#exp"] == schema.EXPIRES_AT
    assert beat["ExpressionAttributeValues"][":exp"] == {"N": "99"}
    waited = ob.mark_waited("t", orch.status_key("a", "i"), ["success", "failed"])
    assert waited["ConditionExpression"] == "attribute_exists(#pk) AND NOT (#st IN (:f0, :f1))"
    assert waited["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    service = ob.atomic_service_execution("t", orch.heartbeat_key("a", "r"), "s", "e")
    assert service["ConditionExpression"] == (
        "attribute_exists(#hb) AND (attribute_not_exists(#ss) OR #ss <= :start)"
    )


def test_batch_gets_project_keys_and_attributes_in_hundreds() -> None:
    keys = [orch.status_key("a", str(i)) for i in range(150)]
    requests = ob.batch_get_attributes("t", keys, [orch.STATUS])
    assert [len(r["RequestItems"]["t"]["Keys"]) for r in requests] == [100, 50]
    assert requests[0]["RequestItems"]["t"]["ProjectionExpression"] == "#a0, #a1, #a2"
    assert builders.BATCH_GET_LIMIT == 100


def test_running_slots_are_one_per_task_or_per_task_and_key_arguments() -> None:
    task = orch.running_slot_key("app", "mod.task", None)
    assert task[schema.SK] == {"S": "mod.task"}
    one = orch.running_slot_key("app", "mod.task", {"a": "1", "b": "2"})
    assert one == orch.running_slot_key("app", "mod.task", {"b": "2", "a": "1"})
    assert one[schema.SK]["S"].startswith("mod.task#")
    assert one != orch.running_slot_key("app", "mod.task", {"a": "1", "b": "3"})
    assert one != orch.running_slot_key("app", "other.task", {"a": "1", "b": "2"})
    big = orch.running_slot_key("app", "mod.task", {"a": "x" * 100_000})
    assert len(big[schema.SK]["S"]) == len("mod.task#") + 40  # digested


def test_a_claim_takes_a_free_slot_or_its_own_and_answers_with_the_holder() -> None:
    key = orch.running_slot_key("app", "t", None)
    assert ob.claim_running_slot("tbl", key, "inv", "tok1", None) == {
        "TableName": "tbl",
        "Item": {**key, orch.HOLDER: {"S": "inv"}, orch.TOKEN: {"S": "tok1"}},
        "ConditionExpression": "attribute_not_exists(#pk) OR #hold = :holder",
        "ExpressionAttributeNames": {"#pk": schema.PK, "#hold": orch.HOLDER},
        "ExpressionAttributeValues": {":holder": {"S": "inv"}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def test_a_takeover_is_conditional_on_the_stale_claim_read() -> None:
    key = orch.running_slot_key("app", "t", None)
    request = ob.claim_running_slot("tbl", key, "inv", "tok2", "tok1")
    assert request["ConditionExpression"] == "#tok = :replacing"
    assert request["ExpressionAttributeNames"] == {"#tok": orch.TOKEN}
    assert request["ExpressionAttributeValues"] == {":replacing": {"S": "tok1"}}
    assert request["Item"][orch.TOKEN] == {"S": "tok2"}


def test_a_release_deletes_only_its_own_claim() -> None:
    key = orch.running_slot_key("app", "t", None)
    assert ob.release_running_slot("tbl", key, "tok1") == {
        "TableName": "tbl",
        "Key": key,
        "ConditionExpression": "#tok = :tok",
        "ExpressionAttributeNames": {"#tok": orch.TOKEN},
        "ExpressionAttributeValues": {":tok": {"S": "tok1"}},
    }
