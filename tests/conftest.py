"""Shared fixtures: the embedded endpoint (moto's server over HTTP, in its own process),
and pynenc apps that use it, each with an app id of its own."""

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pynenc import Pynenc

import pynenc_dynamodb  # noqa: F401 - registers the backend classes
from pynenc_dynamodb.local import DEFAULT_BUCKET, LocalEndpointProcess

TABLE = "pynenc-tests"

# Never let boto3's credential chain reach for an instance metadata address.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


@pytest.fixture(scope="session")
def endpoint() -> Iterator[LocalEndpointProcess]:
    with LocalEndpointProcess(TABLE) as local:
        yield local


def unique_app_id(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


AppFactory = Callable[..., Pynenc]


@pytest.fixture
def dynamodb_config(endpoint: LocalEndpointProcess) -> dict[str, Any]:
    return {
        "state_backend_cls": "DynamoDBStateBackend",
        "dynamodb_endpoint_url": endpoint.url,
        "dynamodb_table_name": TABLE,
        "dynamodb_s3_bucket": DEFAULT_BUCKET,
    }


@pytest.fixture
def make_app(request: pytest.FixtureRequest) -> Iterator[AppFactory]:
    """Build apps; each is purged when the test ends."""
    apps: list[Pynenc] = []

    def factory(config: dict[str, Any], app_id: str | None = None) -> Pynenc:
        app = Pynenc(app_id=app_id or unique_app_id(), config_values=dict(config))
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.state_backend.purge()


# -- the state API (issue 3) ----------------------------------------------------------------


@pytest.fixture(scope="session")
def state_api(endpoint: LocalEndpointProcess) -> Iterator[Any]:
    """The state API's handler behind a local HTTP server, storing into ``endpoint``."""
    from pynenc_dynamodb.api_server import LocalApiProcess

    with LocalApiProcess(endpoint.url, TABLE) as api:
        yield api


@pytest.fixture
def api_config(state_api: Any) -> dict[str, Any]:
    return {
        "state_backend_cls": "DynamoDBApiStateBackend",
        "dynamodb_api_url": state_api.url,
    }
