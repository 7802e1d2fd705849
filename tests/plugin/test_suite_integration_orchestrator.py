"""pynenc's plugin suite ``pynenc_tests.integration.orchestrator`` on DynamoDBOrchestrator
with DynamoDBStateBackend, DynamoDBTrigger and SQSBroker: the whole stack of
``PynencBuilder().dynamodb(...)`` (``stack_app_instance`` of tests/plugin/conftest.py)."""

import pytest
from pynenc import Pynenc
from pynenc_tests.integration.orchestrator.all_tests import *  # noqa: F403
from pynenc_tests.integration.orchestrator.conftest import (  # noqa: F401 - its fixtures
    dummy_invocation_io,
    task_concat_io,
    task_dummy_io,
    task_key_arg_io,
    task_mirror_io,
    task_sum_io,
)


@pytest.fixture
def app_instance(stack_app_instance: Pynenc) -> Pynenc:
    """The suite's app: the whole DynamoDB and SQS stack."""
    return stack_app_instance
