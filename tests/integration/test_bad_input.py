"""Bad input and bad settings: a clear error naming the field or setting, before anything
is written."""

import base64
import os
from typing import Any

import boto3
import pytest
from pynenc import Pynenc
from pynenc.arguments import Arguments
from pynenc.call import Call
from pynenc.invocation.dist_invocation import DistributedInvocation
from pynenc.invocation.status import InvocationStatus
from pynenc.task import Task

from pynenc_dynamodb import (
    AsyncWriteError,
    ConfigurationError,
    InvalidKeyError,
    ItemTooLargeError,
    TableNotFoundError,
    TableSchemaError,
)
from tests.conftest import AppFactory, unique_app_id
from tests.helpers import contract_tasks
from tests.helpers.endpoints import ENDPOINTS, StoreEndpoint

pytestmark = pytest.mark.endpoints(*ENDPOINTS)


def _invocation(app: Pynenc, invocation_id: str | None = None) -> DistributedInvocation:
    task = Task(app, contract_tasks.add.func, {})
    call = Call(task, Arguments({"x": 1, "y": 2}))
    return DistributedInvocation(call, invocation_id=invocation_id, stored_in_backend=True)


def _writes(app: Pynenc) -> int:
    counts = app.state_backend.store.client.request_counts
    return sum(counts[op] for op in ("PutItem", "BatchWriteItem", "DeleteItem"))


@pytest.fixture
def app(make_app: AppFactory, dynamodb_config: dict[str, Any]) -> Pynenc:
    return make_app(dynamodb_config)


def test_empty_ids_name_the_field(app: Pynenc) -> None:
    with pytest.raises(InvalidKeyError, match="invocation_id: must not be empty"):
        app.state_backend.get_invocation("")
    before = _writes(app)
    with pytest.raises(InvalidKeyError, match="workflow_id: must not be empty"):
        app.state_backend.store_workflow_sub_invocation("", "sub")
    with pytest.raises(InvalidKeyError, match="sub_invocation_id: must not be empty"):
        app.state_backend.store_workflow_sub_invocation("wf", "")
    assert _writes(app) == before


def test_over_long_workflow_key_names_the_limit(app: Pynenc) -> None:
    from pynenc.workflow import WorkflowIdentity

    wf = WorkflowIdentity("tests.helpers.contract_tasks.add", "wf")
    before = _writes(app)
    with pytest.raises(InvalidKeyError, match=r"workflow data key.*limit is 500 bytes"):
        app.state_backend.set_workflow_data(wf, "k" * 501, 1)
    assert _writes(app) == before


def test_oversized_result_without_a_bucket_is_rejected_and_nothing_written(
    make_app: AppFactory, dynamodb_config: dict[str, Any]
) -> None:
    app = make_app({**dynamodb_config, "dynamodb_s3_bucket": ""})
    inv = _invocation(app)
    before = _writes(app)
    incompressible = base64.b64encode(os.urandom(450_000)).decode()
    with pytest.raises(ItemTooLargeError, match="result; set dynamodb_s3_bucket"):
        app.state_backend.set_result(inv, incompressible)
    assert _writes(app) == before
    with pytest.raises(KeyError):
        app.state_backend.get_result(inv)


def test_failed_background_history_write_is_raised_by_wait(app: Pynenc) -> None:
    inv = _invocation(app, invocation_id="i" * 401)
    app.state_backend.add_history(inv, InvocationStatus.REGISTERED)
    with pytest.raises(AsyncWriteError, match="invocation_id") as info:
        app.state_backend.wait_for_invocation_async_operations(inv.invocation_id)
    assert isinstance(info.value.__cause__, InvalidKeyError)
    # Reported once: the next wait has nothing left to raise.
    app.state_backend.wait_for_all_async_operations()


def test_missing_table_with_auto_create_off(dynamodb_config: dict[str, Any]) -> None:
    config = {**dynamodb_config, "dynamodb_table_name": "no-such-table"}
    with pytest.raises(TableNotFoundError, match="dynamodb_create_table"):
        Pynenc(app_id=unique_app_id(), config_values=config)


def test_missing_table_is_created_when_allowed(
    make_app: AppFactory, dynamodb_config: dict[str, Any]
) -> None:
    table = f"created-{unique_app_id()}"
    app = make_app({**dynamodb_config, "dynamodb_table_name": table, "dynamodb_create_table": True})
    assert app.state_backend.get_app_info().app_id == app.app_id


@pytest.fixture
def raw_client(store_endpoint: StoreEndpoint) -> Any:
    """A plain boto3 client of the endpoint, to make tables the backend did not."""
    return boto3.client(
        "dynamodb",
        endpoint_url=store_endpoint.url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def test_table_with_wrong_key_schema(raw_client: Any, dynamodb_config: dict[str, Any]) -> None:
    client = raw_client
    table = f"wrong-{unique_app_id()}"
    client.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    config = {**dynamodb_config, "dynamodb_table_name": table, "dynamodb_create_table": True}
    with pytest.raises(TableSchemaError, match=r"key schema is \[\('id', 'HASH'\)\]") as info:
        Pynenc(app_id=unique_app_id(), config_values=config)
    assert "dynamodb_table_name" in str(info.value)
    assert client.scan(TableName=table)["Count"] == 0


def test_table_whose_index_lacks_the_body_is_refused(
    raw_client: Any, dynamodb_config: dict[str, Any]
) -> None:
    from pynenc_dynamodb.table import schema

    client = raw_client
    table = f"keys-only-{unique_app_id()}"
    definition = schema.table_definition(table)
    definition["GlobalSecondaryIndexes"][0]["Projection"] = {"ProjectionType": "KEYS_ONLY"}
    client.create_table(**definition)
    config = {**dynamodb_config, "dynamodb_table_name": table}
    with pytest.raises(TableSchemaError, match="index gsi1 projects"):
        Pynenc(app_id=unique_app_id(), config_values=config)


def test_background_errors_kept_are_bounded(app: Pynenc, monkeypatch: pytest.MonkeyPatch) -> None:
    from pynenc_dynamodb import async_writes

    monkeypatch.setattr(async_writes, "MAX_KEPT_ERRORS", 2)
    invocations = [_invocation(app, invocation_id=f"{n}" + "i" * 401) for n in range(3)]
    for inv in invocations:
        app.state_backend.add_history(inv, InvocationStatus.REGISTERED)
        for thread in app.state_backend.invocation_threads[inv.invocation_id]:
            thread.join()
    kept = app.state_backend._async_errors
    assert list(kept) == [invocations[1].invocation_id, invocations[2].invocation_id]
    assert all(error.__traceback__ is None for error in kept.values())
    with pytest.raises(AsyncWriteError):
        app.state_backend.wait_for_all_async_operations()


@pytest.mark.usefixtures("no_aws_environment")
def test_missing_region_names_the_setting() -> None:
    with pytest.raises(ConfigurationError, match="dynamodb_region") as info:
        Pynenc(app_id=unique_app_id(), config_values={"state_backend_cls": "DynamoDBStateBackend"})
    assert "AWS_REGION" in str(info.value)


@pytest.mark.usefixtures("no_aws_environment")
def test_missing_credentials_names_the_chain() -> None:
    config = {"state_backend_cls": "DynamoDBStateBackend", "dynamodb_region": "eu-west-1"}
    with pytest.raises(ConfigurationError, match="No AWS credentials") as info:
        Pynenc(app_id=unique_app_id(), config_values=config)
    assert "dynamodb_endpoint_url" in str(info.value)


@pytest.mark.parametrize(
    ("setting", "value", "rule"),
    [
        ("dynamodb_table_name", "x", "3 to 255 characters"),
        ("dynamodb_table_name", "bad name!", "3 to 255 characters"),
        ("dynamodb_page_size", 0, "between 1 and 10000"),
        ("dynamodb_ttl_seconds", -1, ">= 0"),
        ("dynamodb_retry_mode", "legacy", "'standard' or 'adaptive'"),
        ("dynamodb_max_attempts", 0, ">= 1"),
        ("dynamodb_table_wait_seconds", -1, "between 0 and 3600"),
    ],
)
def test_invalid_settings_name_the_setting(
    dynamodb_config: dict[str, Any], setting: str, value: object, rule: str
) -> None:
    config = {**dynamodb_config, setting: value}
    with pytest.raises(ConfigurationError, match=rule) as info:
        Pynenc(app_id=unique_app_id(), config_values=config)
    assert setting in str(info.value)
