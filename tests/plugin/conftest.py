"""pynenc 0.1 apps on the embedded endpoint, for pynenc's own plugin suites and ours.

pynenc's suites (``pynenc_tests.<suite>.all_tests``) build their app from the
``app_instance`` fixture: here it is a fresh app (an app id of its own) on
``DynamoDBStateBackend`` and ``DynamoDBClientDataStore``, configured with
``PynencBuilder().dynamodb(...)`` and purged when the test ends. The other fixtures
those suites use (``task_id``, ``call_id``, the autouse ``reset_mock_classes``...)
come from ``pynenc_tests.conftest``.
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pynenc import Pynenc, PynencBuilder
from pynenc_tests.conftest import (  # noqa: F401 - fixtures of pynenc's suites
    call_id,
    inv_id,
    other_call_id,
    other_inv_id,
    other_task_id,
    reset_mock_classes,
    task_id,
)

from pynenc_dynamodb.local.endpoint import DEFAULT_BUCKET, LocalEndpointProcess
from tests.conftest import TABLE, unique_app_id


@pytest.fixture
def app_instance(endpoint: LocalEndpointProcess) -> Iterator[Pynenc]:
    """An app whose state and client data are in the test table and the local bucket."""
    builder = PynencBuilder().app_id(unique_app_id("suite"))
    app = builder.dynamodb(
        table=TABLE, endpoint_url=endpoint.url, s3_bucket=DEFAULT_BUCKET, state_only=True
    )
    built = app.build()
    yield built
    built.purge()


@pytest.fixture
def stack_app_instance(endpoint: LocalEndpointProcess) -> Iterator[Pynenc]:
    """An app on the whole stack of ``PynencBuilder().dynamodb(...)``: state, client data,
    DynamoDBOrchestrator, DynamoDBTrigger and SQSBroker (its queue created on first use),
    for the suites of the components beyond the state."""
    builder = PynencBuilder().app_id(unique_app_id("stack"))
    app = builder.dynamodb(
        table=TABLE, endpoint_url=endpoint.url, s3_bucket=DEFAULT_BUCKET, create_queue=True
    )
    built = app.build()
    yield built
    built.purge()


@pytest.fixture
def api_app_instance(state_api: Any) -> Iterator[Pynenc]:
    """An app whose state and client data go through the local state API server."""
    builder = PynencBuilder().app_id(unique_app_id("suite-api"))
    built = builder.dynamodb(api_url=state_api.url).build()
    yield built
    built.purge()


SQSAppFactory = Callable[..., Pynenc]


def build_sqs_app(endpoint_url: str, app_id: str | None = None, **settings: Any) -> Pynenc:
    """An app whose broker is ``SQSBroker`` (its queue created on first use) and whose
    state is ``DynamoDBStateBackend``, both on the embedded endpoint; ``settings`` are
    extra config values (``sqs_*``...). The orchestrator and runner stay pynenc's
    defaults."""
    builder = PynencBuilder().app_id(app_id or unique_app_id("sqs"))
    builder = builder.dynamodb(
        table=TABLE, endpoint_url=endpoint_url, s3_bucket=DEFAULT_BUCKET, state_only=True
    )
    config = {"broker_cls": "SQSBroker", "sqs_create_queue": True, **settings}
    return builder.custom_config(**config).build()


@pytest.fixture
def sqs_apps(endpoint: LocalEndpointProcess) -> Iterator[SQSAppFactory]:
    """Build apps on SQSBroker; each is purged when the test ends."""
    apps: list[Pynenc] = []

    def factory(app_id: str | None = None, **settings: Any) -> Pynenc:
        app = build_sqs_app(endpoint.url, app_id, **settings)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.purge()
