"""pynenc's plugin suite ``pynenc_tests.unit.app`` on the whole AWS stack: SQS broker,
DynamoDB orchestrator, trigger, state backend and client data store on the embedded
endpoint (pynenc's ``app`` fixture runs them with a ThreadRunner)."""

from collections.abc import Iterator

import pytest
from pynenc import Pynenc, PynencBuilder
from pynenc_tests.unit.app.all_tests import *  # noqa: F403

from pynenc_dynamodb.local.endpoint import DEFAULT_BUCKET, LocalEndpointProcess
from tests.conftest import TABLE, unique_app_id


@pytest.fixture
def app_instance(endpoint: LocalEndpointProcess) -> Iterator[Pynenc]:
    builder = PynencBuilder().app_id(unique_app_id("app"))
    builder = builder.dynamodb(
        table=TABLE, endpoint_url=endpoint.url, s3_bucket=DEFAULT_BUCKET, create_queue=True
    )
    built = builder.build()
    yield built
    built.purge()
