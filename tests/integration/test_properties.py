"""Property-based: every id, key and payload is stored and read back exactly, or
rejected with an error naming the field; never anything else."""

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pynenc_dynamodb.errors import InvalidKeyError
from pynenc_dynamodb.local.endpoint import DEFAULT_BUCKET, LocalEndpointProcess
from pynenc_dynamodb.state_backend.conf import ConfigStateBackendDynamoDB
from pynenc_dynamodb.state_backend.dynamodb import build_store
from pynenc_dynamodb.table import schema
from pynenc_dynamodb.table.payloads import PayloadCodec, PayloadPolicy
from pynenc_dynamodb.table.store import DynamoDBStateStore
from tests.conftest import TABLE, unique_app_id

# Any code point, surrogates included: those must be rejected, the rest stored.
ANY_TEXT = st.text(st.characters(codec=None), max_size=40)
DELIMITER_HEAVY = st.text(st.sampled_from(["#", "%", "2", "3", "5", "a", "/", "é", "\x00"]))
IDS = st.one_of(ANY_TEXT, DELIMITER_HEAVY, st.text(min_size=390, max_size=420))
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "60"))
SLOW = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Pure functions, but a loaded 2-core machine can stall any example past hypothesis's
# default 200 ms deadline: only wrong answers may fail these.
PURE = settings(deadline=None)


def _storable(value: str, limit: int, allow_empty: bool = False) -> bool:
    if not value and not allow_empty:
        return False
    try:
        escaped = value.replace("%", "%25").replace("#", "%23").encode("utf-8")
    except UnicodeEncodeError:
        return False
    return len(escaped) <= limit


@PURE
@given(a=IDS, b=IDS)
def test_distinct_ids_never_share_a_key(a: str, b: str) -> None:
    try:
        key_a = schema.invocation_key("app", a)
        key_b = schema.invocation_key("app", b)
    except InvalidKeyError as exc:
        assert exc.field == "invocation_id"
        return
    assert (key_a == key_b) == (a == b)
    prefix = schema.history_prefix("app", a)
    assert not key_b[schema.SK]["S"].startswith(prefix.sk_prefix)


@PURE
@given(value=IDS)
def test_rejection_is_exactly_the_documented_rule(value: str) -> None:
    try:
        schema.sub_invocation_key("app", "wf", value)
    except InvalidKeyError as exc:
        assert exc.field == "sub_invocation_id"
        assert not _storable(value, schema.MAX_ID_BYTES)
    else:
        assert _storable(value, schema.MAX_ID_BYTES)


@pytest.fixture(scope="module")
def store(endpoint: LocalEndpointProcess) -> Any:
    conf = ConfigStateBackendDynamoDB(
        config_values={
            "dynamodb_endpoint_url": endpoint.url,
            "dynamodb_table_name": TABLE,
            "dynamodb_s3_bucket": DEFAULT_BUCKET,
            "dynamodb_offload_min_bytes": 2048,
        }
    )
    store = build_store(conf, unique_app_id("prop"))
    yield store
    store.purge()


@SLOW
@given(workflow_id=IDS, key=IDS, sub=IDS)
def test_ids_and_keys_round_trip_through_the_table(
    store: DynamoDBStateStore, workflow_id: str, key: str, sub: str
) -> None:
    storable = _storable(workflow_id, schema.MAX_ID_BYTES) and _storable(
        key, schema.MAX_DATA_KEY_BYTES, allow_empty=True
    )
    try:
        store.put_workflow_data(workflow_id, key, f"value of {key!r}")
    except InvalidKeyError as exc:
        assert not storable
        assert exc.field in ("workflow_id", "workflow data key")
        return
    assert storable
    assert store.get_workflow_data(workflow_id, key) == f"value of {key!r}"
    try:
        store.put_sub_invocation(workflow_id, sub)
    except InvalidKeyError as exc:
        assert exc.field == "sub_invocation_id"
        assert not _storable(sub, schema.MAX_ID_BYTES)
        return
    assert sub in list(store.sub_invocations(workflow_id))


PAYLOADS = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=5000),
    st.binary(max_size=20_000).map(lambda b: b.hex()),
    st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=20), st.integers(0, 3000)),
)


@SLOW
@given(body=PAYLOADS)
def test_payloads_round_trip_through_the_table(store: DynamoDBStateStore, body: str) -> None:
    store.put_result("inv-payload", body)
    assert store.get_result("inv-payload") == body


@PURE
@given(body=PAYLOADS, compress=st.integers(0, 4096))
def test_inline_codec_round_trips_without_s3(body: str, compress: int) -> None:
    codec = PayloadCodec("app", PayloadPolicy(compress_min_bytes=compress))
    attributes = codec.encode(body, "result")
    assert codec.decode(attributes) == body
