"""The table's life on a real DynamoDB: a table still being created (CREATING refuses
reads and writes; dynalite keeps that window, moto does not), a table being updated (it
serves requests), and a time-to-live left off by a creator that died."""

import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from pynenc import Pynenc

from pynenc_dynamodb import TableNotFoundError, TableSchemaError
from pynenc_dynamodb.aws.dynamodb import DynamoDBClient
from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.table import schema
from pynenc_dynamodb.table.orchestration_runtime import OrchestrationStore
from pynenc_dynamodb.table.store import DynamoDBStateStore
from tests.conftest import AppFactory, unique_app_id
from tests.helpers.endpoints import DynaliteProcess, StoreEndpoint


def _raw(url: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def _counts(app: Pynenc) -> Counter[str]:
    return Counter(app.state_backend.store.client.request_counts)


def _new_table(url: str, raw: Any = None) -> str:
    """A table made as another process (or ``template.yaml``) would, without TTL."""
    table = f"life-{unique_app_id()}"
    (raw or _raw(url)).create_table(**schema.table_definition(table))
    return table


# -- a table being created ------------------------------------------------------------------


@pytest.fixture(scope="module")
def creating_for_seconds(endpoint: Any) -> Iterator[StoreEndpoint]:
    """dynalite whose tables stay CREATING for 3 s, UPDATING for 10 s: time to see it."""
    with DynaliteProcess(create_table_ms=3000, update_table_ms=10_000) as process:
        yield StoreEndpoint("dynalite", process.url, endpoint.url)


def test_first_write_waits_for_a_table_another_process_is_creating(
    creating_for_seconds: StoreEndpoint, make_app: AppFactory
) -> None:
    raw = _raw(creating_for_seconds.url)
    table = _new_table(creating_for_seconds.url, raw)
    # The window is real: DynamoDB refuses a write to a CREATING table.
    with pytest.raises(raw.exceptions.ResourceNotFoundException):
        raw.put_item(TableName=table, Item={"pk": {"S": "p"}, "sk": {"S": "s"}})

    # Registering the app is its first write: it waits for ACTIVE, then succeeds.
    app = make_app(creating_for_seconds.config(table))
    assert app.state_backend.get_app_info().app_id == app.app_id
    assert _counts(app)["DescribeTable"] >= 2
    assert raw.describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE"


def test_table_created_by_the_backend_is_waited_for(
    dynalite: StoreEndpoint, make_app: AppFactory
) -> None:
    table = f"life-{unique_app_id()}"
    app = make_app({**dynalite.config(table), "dynamodb_create_table": True})
    assert _counts(app)["CreateTable"] == 1
    app.state_backend.set_workflow_data(_workflow(), "k", "v")
    assert app.state_backend.get_workflow_data(_workflow(), "k") == "v"


def _workflow() -> Any:
    from pynenc.workflow import WorkflowIdentity

    return WorkflowIdentity("tests.helpers.contract_tasks.add", "wf-life")


@pytest.fixture(scope="module")
def creating_forever(endpoint: Any) -> Iterator[StoreEndpoint]:
    """dynalite whose new tables stay CREATING for ten minutes."""
    with DynaliteProcess(create_table_ms=600_000) as process:
        yield StoreEndpoint("dynalite", process.url, endpoint.url)


def test_wait_for_a_table_that_stays_creating_is_bounded(creating_forever: StoreEndpoint) -> None:
    table = _new_table(creating_forever.url)
    config = {**creating_forever.config(table), "dynamodb_table_wait_seconds": 0.3}
    with pytest.raises(TableNotFoundError) as info:
        Pynenc(app_id=unique_app_id(), config_values=config)
    message = str(info.value)
    assert repr(table) in message
    assert "still CREATING" in message
    assert "dynamodb_table_wait_seconds=0.3s" in message


def test_an_updating_table_serves_at_once(
    creating_for_seconds: StoreEndpoint, make_app: AppFactory
) -> None:
    raw = _raw(creating_for_seconds.url)
    table = _new_table(creating_for_seconds.url, raw)
    make_app(creating_for_seconds.config(table))  # waits for ACTIVE
    throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    # Every index needs its own throughput once the table is provisioned.
    indexes = schema.table_definition(table)["GlobalSecondaryIndexes"]
    answer = raw.update_table(
        TableName=table,
        BillingMode="PROVISIONED",
        ProvisionedThroughput=throughput,
        GlobalSecondaryIndexUpdates=[
            {"Update": {"IndexName": index["IndexName"], "ProvisionedThroughput": throughput}}
            for index in indexes
        ],
    )
    assert answer["TableDescription"]["TableStatus"] == "UPDATING"
    app = make_app(creating_for_seconds.config(table))
    assert app.state_backend.get_app_info().app_id == app.app_id
    assert _counts(app)["DescribeTable"] == 1
    assert raw.describe_table(TableName=table)["Table"]["TableStatus"] == "UPDATING"


# -- time-to-live (on moto: dynalite has no TTL API) ---------------------------------------


def _ttl_status(url: str, table: str) -> str:
    answer = _raw(url).describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    return str(answer["TimeToLiveStatus"])


def test_ttl_left_off_is_enabled_when_creation_is_allowed(
    store_endpoint: StoreEndpoint, make_app: AppFactory
) -> None:
    # A creator that died between CreateTable and UpdateTimeToLive left this table.
    table = _new_table(store_endpoint.url)
    assert _ttl_status(store_endpoint.url, table) == "DISABLED"
    config = {
        **store_endpoint.config(table),
        "dynamodb_create_table": True,
        "dynamodb_ttl_seconds": 3600,
    }
    app = make_app(config)
    app.state_backend.set_workflow_data(_workflow(), "k", "v")
    assert _ttl_status(store_endpoint.url, table) == "ENABLED"
    assert _counts(app)["DescribeTimeToLive"] == 1
    assert _counts(app)["UpdateTimeToLive"] == 1

    # The next process finds it on and changes nothing.
    again = make_app(config)
    again.state_backend.get_workflow_data(_workflow(), "k")
    assert _counts(again)["DescribeTimeToLive"] == 1
    assert _counts(again)["UpdateTimeToLive"] == 0


def test_ttl_left_off_is_reported_once_when_creation_is_not_allowed(
    store_endpoint: StoreEndpoint, make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    table = _new_table(store_endpoint.url)
    config = {**store_endpoint.config(table), "dynamodb_ttl_seconds": 3600}
    with caplog.at_level(logging.WARNING, logger="pynenc_dynamodb"):
        app = make_app(config)
        for n in range(3):
            app.state_backend.set_workflow_data(_workflow(), f"k{n}", n)
    warnings = [r.getMessage() for r in caplog.records if "time-to-live" in r.getMessage()]
    assert len(warnings) == 1
    assert table in warnings[0] and "DISABLED" in warnings[0]
    assert _ttl_status(store_endpoint.url, table) == "DISABLED"
    assert _counts(app)["UpdateTimeToLive"] == 0


def test_no_ttl_check_without_a_ttl(store_endpoint: StoreEndpoint, make_app: AppFactory) -> None:
    table = _new_table(store_endpoint.url)
    app = make_app({**store_endpoint.config(table), "dynamodb_create_table": True})
    assert _counts(app)["DescribeTimeToLive"] == 0
    assert _counts(app)["UpdateTimeToLive"] == 0


class _DeniesTtlCheck:
    """A boto3 client under a role without dynamodb:DescribeTimeToLive."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def describe_time_to_live(self, **request: Any) -> Any:
        from botocore.exceptions import ClientError

        error = {"Code": "AccessDeniedException", "Message": "not authorized"}
        raise ClientError({"Error": error}, "DescribeTimeToLive")


def test_ttl_check_denied_by_iam_does_not_stop_the_worker(
    store_endpoint: StoreEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    from pynenc_dynamodb.aws.dynamodb import DynamoDBClient, build_boto3_client
    from pynenc_dynamodb.aws.settings import ClientSettings
    from pynenc_dynamodb.table.lifecycle import ensure_table

    table = _new_table(store_endpoint.url)
    client = DynamoDBClient(
        ClientSettings(endpoint_url=store_endpoint.url),
        factory=lambda settings: _DeniesTtlCheck(build_boto3_client(settings)),
    )
    with caplog.at_level(logging.WARNING, logger="pynenc_dynamodb"):
        ensure_table(client, table, create=False, ttl_seconds=3600)
    assert client.request_counts["DescribeTimeToLive"] == 1
    assert any("dynamodb:DescribeTimeToLive" in r.getMessage() for r in caplog.records)


# -- a table deployed before the orchestrator's index -----------------------------------


def test_a_table_without_gsi2_serves_the_state_and_the_orchestrator_names_it(
    endpoint: Any,
) -> None:
    """gsi2 is the orchestrator's: the state store checks gsi1 only, the orchestrator's
    store refuses a table without gsi2 and says which index is missing."""
    definition = schema.table_definition(f"life-{unique_app_id()}")
    definition["GlobalSecondaryIndexes"] = [
        index for index in definition["GlobalSecondaryIndexes"] if index["IndexName"] == schema.GSI1
    ]
    definition["AttributeDefinitions"] = [
        a for a in definition["AttributeDefinitions"] if not a["AttributeName"].startswith("gsi2")
    ]
    _raw(endpoint.url).create_table(**definition)
    client = DynamoDBClient(ClientSettings(endpoint_url=endpoint.url))
    table = definition["TableName"]
    state = DynamoDBStateStore(client=client, table_name=table, app_id="a")
    state.put_invocation("i", "{}")
    assert state.get_invocation("i") == "{}"
    orchestration = OrchestrationStore(client=client, table_name=table, app_id="a")
    with pytest.raises(TableSchemaError, match="gsi2 is missing"):
        orchestration.ensure_table()
