"""pynenc 0.1 finds the plugin through its entry points alone, and the builder's validator
rejects contradictory settings naming the setting."""

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from pynenc import PynencBuilder

from pynenc_dynamodb import ConfigurationError
from pynenc_dynamodb.local.endpoint import LocalEndpointProcess
from tests.conftest import TABLE, unique_app_id

FRESH_APP = """
import json, sys
import pynenc
assert "pynenc_dynamodb" not in sys.modules
from pynenc import PynencBuilder
builder = PynencBuilder().app_id(sys.argv[1])
app = builder.dynamodb(table=sys.argv[2], endpoint_url=sys.argv[3], create_queue=True).build()
app.client_data_store._store("k", "a value")
found = app.client_data_store._retrieve("k")
queued = app.broker.count_invocations()
app.purge()
print(json.dumps({
    "state_backend": type(app.state_backend).__module__ + "." + type(app.state_backend).__name__,
    "client_data_store": type(app.client_data_store).__name__,
    "others": [type(c).__name__ for c in (app.broker, app.orchestrator, app.trigger)],
    "found": found,
    "queued": queued,
}))
"""

BY_NAME = """
import sys
from pynenc import Pynenc
config = {"app_id": sys.argv[1], "state_backend_cls": "DynamoDBStateBackend",
          "client_data_store_cls": "DynamoDBClientDataStore",
          "dynamodb_table_name": sys.argv[2], "dynamodb_endpoint_url": sys.argv[3]}
app = Pynenc(config_values=config)
print(type(app.state_backend).__name__, type(app.client_data_store).__name__)
"""

QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo"

HOOK = """
import pynenc.context, pynenc.util.subclasses
wrapped = getattr(pynenc.context.set_current_runner, "_pynenc_dynamodb_warm_up", False)
print(wrapped, pynenc.util.subclasses.get_all_subclasses.__module__)
"""


def fresh_python(code: str, *args: str, **env: str) -> str:
    """Run ``code`` in a new interpreter of this environment; its standard output."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_builder_method_comes_from_the_entry_points(endpoint: LocalEndpointProcess) -> None:
    # The autoload hook off: only the pynenc.plugins entry points can register the method.
    out = fresh_python(
        FRESH_APP, unique_app_id(), TABLE, endpoint.url, PYNENC_DYNAMODB_NO_AUTOLOAD="1"
    )
    assert json.loads(out) == {
        "state_backend": "pynenc_dynamodb.plugin.state_backend.dynamodb_state_backend."
        "DynamoDBStateBackend",
        "client_data_store": "DynamoDBClientDataStore",
        "others": ["SQSBroker", "DynamoDBOrchestrator", "DynamoDBTrigger"],
        "found": "a value",
        "queued": 0,
    }


def test_classes_are_found_by_name_without_the_builder(endpoint: LocalEndpointProcess) -> None:
    out = fresh_python(
        BY_NAME, unique_app_id(), TABLE, endpoint.url, PYNENC_DYNAMODB_NO_AUTOLOAD="1"
    )
    assert out == "DynamoDBStateBackend DynamoDBClientDataStore"


def test_autoload_hook_wraps_nothing_under_pynenc_01() -> None:
    assert fresh_python(HOOK) == "False pynenc.util.subclasses"


def test_builder_writes_only_the_settings_given() -> None:
    config = PynencBuilder().dynamodb(table="orders-state", region="eu-west-1")._config
    assert config == {
        "dynamodb_table_name": "orders-state",
        "dynamodb_region": "eu-west-1",
        "state_backend_cls": "DynamoDBStateBackend",
        "client_data_store_cls": "DynamoDBClientDataStore",
        "broker_cls": "SQSBroker",
        "orchestrator_cls": "DynamoDBOrchestrator",
        "trigger_cls": "DynamoDBTrigger",
    }
    # No endpoint named: boto3's chain decides, never the local endpoint.
    assert "dynamodb_endpoint_url" not in config
    queue = PynencBuilder().dynamodb(queue_url=QUEUE, message_groups=4)._config
    assert (queue["sqs_queue_url"], queue["sqs_message_groups"]) == (QUEUE, 4)


def test_builder_state_only_keeps_the_other_components() -> None:
    builder = PynencBuilder().custom_config(broker_cls="RedisBroker", orchestrator_cls="X")
    config = builder.dynamodb(table="orders-state", state_only=True)._config
    assert config["state_backend_cls"] == "DynamoDBStateBackend"
    assert (config["broker_cls"], config["orchestrator_cls"]) == ("RedisBroker", "X")
    assert "trigger_cls" not in config


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"api_url": "https://abc.example.com", "queue_url": QUEUE}, "drop queue_url"),
        ({"state_only": True, "create_queue": True}, "drop create_queue"),
    ],
)
def test_builder_refuses_queue_settings_without_the_queue(
    settings: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named):
        PynencBuilder().dynamodb(**settings)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"message_groups": 0}, "sqs_message_groups=0 must be a whole number between 1"),
        ({"queue_url": QUEUE, "create_queue": True}, "sqs_create_queue=True cannot be on"),
    ],
)
def test_validator_names_the_queue_setting_at_build(settings: dict[str, Any], named: str) -> None:
    builder = PynencBuilder().app_id(unique_app_id()).dynamodb(table="orders-state", **settings)
    with pytest.raises(ValueError, match=named):
        builder.build()


def test_builder_with_api_url_selects_the_api_components() -> None:
    config = PynencBuilder().dynamodb(api_url="https://abc.example.com", region="eu-west-1")._config
    assert config == {
        "dynamodb_api_url": "https://abc.example.com",
        "dynamodb_api_region": "eu-west-1",
        "state_backend_cls": "DynamoDBApiStateBackend",
        "client_data_store_cls": "DynamoDBApiClientDataStore",
    }


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"endpoint_url": "127.0.0.1:8765"}, "dynamodb_endpoint_url='127.0.0.1:8765' is not a URL"),
        ({"table": ""}, "dynamodb_table_name=''"),
        ({"table": "no spaces allowed"}, "dynamodb_table_name='no spaces allowed' must be"),
    ],
)
def test_validator_rejects_bad_table_settings(settings: dict[str, Any], named: str) -> None:
    builder = PynencBuilder().app_id(unique_app_id()).dynamodb(**settings)
    with pytest.raises(ValueError, match=named.replace("(", r"\(")):
        builder.build()


def test_validator_rejects_api_url_with_an_endpoint() -> None:
    builder = PynencBuilder().dynamodb(api_url="https://abc.example.com")
    builder.custom_config(dynamodb_endpoint_url="http://127.0.0.1:8765")
    with pytest.raises(ValueError, match="dynamodb_api_url and dynamodb_endpoint_url"):
        builder.build()


def test_validator_rejects_api_url_with_the_table_backend() -> None:
    builder = PynencBuilder().dynamodb(table="orders-state")
    builder.custom_config(dynamodb_api_url="https://abc.example.com")
    with pytest.raises(ValueError, match="dynamodb_api_url is set"):
        builder.build()


def test_validator_rejects_the_api_backend_without_its_url() -> None:
    builder = PynencBuilder().custom_config(state_backend_cls="DynamoDBApiStateBackend")
    with pytest.raises(ValueError, match="set dynamodb_api_url"):
        builder.build()


def test_api_url_with_table_arguments_is_refused_at_the_call() -> None:
    with pytest.raises(ConfigurationError, match="drop table, endpoint_url"):
        PynencBuilder().dynamodb(
            api_url="https://abc.example.com", table="t-state", endpoint_url="http://x:1"
        )
