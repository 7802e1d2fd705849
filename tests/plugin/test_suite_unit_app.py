"""pynenc's plugin suite ``pynenc_tests.unit.app`` on the whole AWS stack: SQS broker,
DynamoDB orchestrator, trigger, state backend and client data store on the embedded
endpoint (pynenc's ``app`` fixture runs them with a ThreadRunner)."""

import pytest
from pynenc import Pynenc
from pynenc_tests.unit.app.all_tests import *  # noqa: F403


@pytest.fixture
def app_instance(stack_app_instance: Pynenc) -> Pynenc:
    """The suite's app: the whole stack (``stack_app_instance`` of tests/plugin/conftest.py)."""
    return stack_app_instance
