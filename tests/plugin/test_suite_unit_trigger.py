"""pynenc's plugin suite ``pynenc_tests.unit.trigger`` on DynamoDBTrigger: the app's state
in DynamoDBStateBackend and its trigger in the same table (memory broker and orchestrator,
as the suite needs nothing else)."""

from collections.abc import Iterator

import pytest
from pynenc import Pynenc, PynencBuilder
from pynenc_tests.unit.trigger.all_tests import *  # noqa: F403

from pynenc_dynamodb.local.endpoint import DEFAULT_BUCKET, LocalEndpointProcess
from tests.conftest import TABLE, unique_app_id


@pytest.fixture
def app_instance(endpoint: LocalEndpointProcess) -> Iterator[Pynenc]:
    """An app whose state and trigger are in the test table."""
    builder = PynencBuilder().app_id(unique_app_id("trigger"))
    builder = builder.dynamodb(
        table=TABLE, endpoint_url=endpoint.url, s3_bucket=DEFAULT_BUCKET, state_only=True
    )
    built = builder.custom_config(trigger_cls="DynamoDBTrigger").build()
    yield built
    built.purge()
