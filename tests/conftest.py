"""Shared fixtures: the embedded endpoint (moto's server over HTTP, in its own process),
and pynenc apps that use it, each with an app id of its own.

Each environment collects its own tests. Under pynenc 0.1 (``.venv-pynenc01``) only
``tests/plugin/`` runs; under pynenc 0.0.24 (``.venv``) everything else does, the
pynenc-free modules (store, API, template, schema) included, so those run once.
"""

import importlib.util
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pynenc import Pynenc

import pynenc_dynamodb  # registers the backend classes
from pynenc_dynamodb.aws.dynamodb import DynamoDBClient
from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.local.endpoint import DEFAULT_BUCKET, LocalEndpointProcess
from pynenc_dynamodb.table.lifecycle import ensure_table
from tests.helpers.api_events import HANDLER, purge, seg
from tests.helpers.endpoints import DynaliteProcess, StoreEndpoint

TABLE = "pynenc-tests"

# Paths relative to this file, as pytest reads them.
if pynenc_dynamodb.PYNENC_01:
    collect_ignore = [
        p.name for p in Path(__file__).parent.iterdir() if p.is_dir() and p.name != "plugin"
    ]
else:
    collect_ignore = ["plugin"]

# Never let boto3's credential chain reach for an instance metadata address.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


@pytest.fixture(scope="session")
def endpoint() -> Iterator[LocalEndpointProcess]:
    with LocalEndpointProcess(TABLE) as local:
        yield local


@pytest.fixture
def no_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No region, credentials or endpoint from the environment or the config files."""
    for name in [
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_S3",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def unique_app_id(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


AppFactory = Callable[..., Pynenc]


@pytest.fixture(scope="session")
def dynalite(endpoint: LocalEndpointProcess) -> Iterator[StoreEndpoint]:
    """dynalite on loopback with the test table; payloads stay on moto's S3."""
    with DynaliteProcess() as process:
        ensure_table(DynamoDBClient(ClientSettings(endpoint_url=process.url)), TABLE, True)
        yield StoreEndpoint("dynalite", process.url, endpoint.url)


def store_endpoint_named(request: pytest.FixtureRequest, name: str) -> StoreEndpoint:
    """The running DynamoDB implementation ``name`` (one of
    :data:`tests.helpers.endpoints.ENDPOINTS`)."""
    if name == "dynalite":
        found: StoreEndpoint = request.getfixturevalue("dynalite")
        return found
    moto: LocalEndpointProcess = request.getfixturevalue("endpoint")
    return StoreEndpoint("moto", moto.url, moto.url)


@pytest.fixture
def store_endpoint(request: pytest.FixtureRequest) -> StoreEndpoint:
    """moto, unless the module is marked ``endpoints(...)``: then each of those in turn."""
    return store_endpoint_named(request, getattr(request, "param", "moto"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("endpoints")
    if marker is not None and "store_endpoint" in metafunc.fixturenames:
        metafunc.parametrize("store_endpoint", list(marker.args), indirect=True)


@pytest.fixture
def dynamodb_config(store_endpoint: StoreEndpoint) -> dict[str, Any]:
    return store_endpoint.config(TABLE)


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


# -- the state API -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def state_api(endpoint: LocalEndpointProcess) -> Iterator[Any]:
    """The state API's handler behind a local HTTP server, storing into ``endpoint``."""
    from pynenc_dynamodb.local.api_server import LocalApiProcess

    with LocalApiProcess(endpoint.url, TABLE) as api:
        yield api


@pytest.fixture
def api_config(state_api: Any) -> dict[str, Any]:
    return {
        "state_backend_cls": "DynamoDBApiStateBackend",
        "dynamodb_api_url": state_api.url,
    }


# -- the state API's handler, imported as Lambda would (one import per test module) --------


@pytest.fixture(scope="module")
def api(endpoint: LocalEndpointProcess) -> Iterator[ModuleType]:
    """The handler module, imported with the function's environment as Lambda would."""
    from pynenc_dynamodb.local.api_server import create_cursor_secret

    environment = {
        "STATE_TABLE_NAME": TABLE,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint.url,
        "PAYLOAD_BUCKET": DEFAULT_BUCKET,
        # The cursor key, read from Secrets Manager (the embedded endpoint's) at import.
        "CURSOR_SECRET_ARN": create_cursor_secret(endpoint.url),
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint.url,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "pynenc-local",
        "AWS_SECRET_ACCESS_KEY": "pynenc-local",
        "POWERTOOLS_SERVICE_NAME": "pynenc-state-api",
        "POWERTOOLS_METRICS_NAMESPACE": "PynencStateApiTests",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    with pytest.MonkeyPatch.context() as env:
        env.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
        for name, value in environment.items():
            env.setenv(name, value)
        # As Lambda does with the code root: the handler imports its sibling modules.
        env.syspath_prepend(str(HANDLER.parent))
        spec = importlib.util.spec_from_file_location("state_api_under_test", HANDLER)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module


@pytest.fixture
def base(api: ModuleType) -> Iterator[str]:
    """The path prefix of a fresh app (with delimiter and unicode), purged afterwards."""
    app_id = f"app#{uuid.uuid4().hex[:8]}/ü"
    yield f"/apps/{seg(app_id)}"
    purge(api, f"/apps/{seg(app_id)}")
