"""The HTTP state store: error translation, retries and lazy listings over the local API."""

import os
from typing import Any

import pytest

from pynenc_dynamodb.api_store import ApiSettings, ApiStateStore, StateApiError
from pynenc_dynamodb.errors import InvalidKeyError, ItemTooLargeError
from pynenc_dynamodb.local import free_port
from tests.conftest import unique_app_id


def test_key_and_size_errors_come_back_as_the_stores_own(state_api: Any) -> None:
    store = ApiStateStore(ApiSettings(state_api.url), unique_app_id())
    with pytest.raises(InvalidKeyError) as info:
        store.put_invocation("x" * 600, "body")
    assert info.value.field == "invocation_id"
    with pytest.raises(ItemTooLargeError):
        store.put_result("inv", os.urandom(350 * 1024).hex())
    assert store.get_invocation("x" * 10) is None


def test_listings_are_lazy_and_follow_cursors(state_api: Any) -> None:
    store = ApiStateStore(ApiSettings(state_api.url), unique_app_id())
    for n in range(250):  # more than one page of the API's default 100
        store.put_sub_invocation("wf", f"s{n:03d}")
    listing = store.sub_invocations("wf")
    assert next(listing) == "s000"
    assert sorted(listing) == [f"s{n:03d}" for n in range(1, 250)]
    assert store.purge() == 250


def test_connection_errors_are_retried_then_raised() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    store = ApiStateStore(ApiSettings(url, max_attempts=2, connect_timeout=0.5), "app")
    with pytest.raises(StateApiError) as info:
        store.get_invocation("inv")
    assert info.value.status == 0
