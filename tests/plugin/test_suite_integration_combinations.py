"""pynenc's ``integration.combinations`` suite on the whole AWS stack: every pynenc runner,
each with a serializer (cycled, as pynenc pairs them), over ``SQSBroker``,
``DynamoDBOrchestrator``, ``DynamoDBTrigger``, ``DynamoDBStateBackend`` and
``DynamoDBClientDataStore`` on the embedded endpoint.

pynenc builds these apps from ``PYNENC__`` variables, which the runners' worker processes
read again: the override below sets ours the same way.
"""

# ruff: noqa: F403
from collections.abc import Iterator

import pytest
from pynenc import Pynenc
from pynenc.serializer.base_serializer import BaseSerializer
from pynenc.util.subclasses import get_all_subclasses
from pynenc_tests import util
from pynenc_tests.integration.combinations.all_tests import *
from pynenc_tests.integration.combinations.conftest import *
from pynenc_tests.util.subclasses import get_runner_subclasses

from pynenc_dynamodb.aws.dynamodb import DynamoDBClient
from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.local.endpoint import DEFAULT_BUCKET, LocalEndpointProcess
from pynenc_dynamodb.table.lifecycle import ensure_table
from tests.conftest import TABLE, unique_app_id


def _combinations() -> list[tuple[type, type]]:
    # pynenc's runners only: a runner class of this package (the Lambda worker's) runs
    # invocations handed to it by SQS, not a loop these tests can start.
    runners = [
        runner
        for runner in sorted(get_runner_subclasses(), key=lambda cls: cls.__name__)
        if runner.__module__.startswith("pynenc.")
    ]
    serializers = sorted(get_all_subclasses(BaseSerializer), key=lambda cls: cls.__name__)  # type: ignore[type-abstract]
    return [(runner, serializers[i % len(serializers)]) for i, runner in enumerate(runners)]


@pytest.fixture(
    params=_combinations(),
    ids=lambda pair: (
        f"AWS {pair[0].__name__.replace('Runner', '')} {pair[1].__name__.replace('Serializer', '')}"
    ),
)
def app_combination_instance(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, endpoint: LocalEndpointProcess
) -> Iterator[Pynenc]:
    runner, serializer = request.param
    _test_module, test_name = util.get_module_name(request)
    # A table of the test's own: moto answers each Query by scanning (and sorting) the
    # whole table, so items of earlier tests in a shared one would slow every later test,
    # and deleting a table is one request where a purge is dozens.
    table = unique_app_id(TABLE)
    client = DynamoDBClient(ClientSettings(endpoint_url=endpoint.url))
    ensure_table(client, table, True)
    settings = {
        "APP_ID": unique_app_id(test_name[:40]),
        "CLIENT_DATA_STORE_CLS": "DynamoDBClientDataStore",
        "ORCHESTRATOR_CLS": "DynamoDBOrchestrator",
        "BROKER_CLS": "SQSBroker",
        "SERIALIZER_CLS": serializer.__name__,
        "STATE_BACKEND_CLS": "DynamoDBStateBackend",
        "TRIGGER_CLS": "DynamoDBTrigger",
        "RUNNER_CLS": runner.__name__,
        "DYNAMODB_TABLE_NAME": table,
        "DYNAMODB_ENDPOINT_URL": endpoint.url,
        "DYNAMODB_S3_BUCKET": DEFAULT_BUCKET,
        "SQS_CREATE_QUEUE": "True",
        "LOGGING_LEVEL": "info",
        "PRINT_ARGUMENTS": "False",
        "RUNNER_LOOP_SLEEP_TIME_SEC": "0.01",
        "INVOCATION_WAIT_RESULTS_SLEEP_TIME_SEC": "0.01",
    }
    for name, value in settings.items():
        monkeypatch.setenv(f"PYNENC__{name}", value)
    yield Pynenc()
    # After pynenc's ``app`` fixture has stopped the runner and killed its processes.
    client.call("DeleteTable", {"TableName": table})
