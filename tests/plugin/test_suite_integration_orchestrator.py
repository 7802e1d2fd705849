"""pynenc's plugin suite ``pynenc_tests.integration.orchestrator`` on DynamoDBOrchestrator
with DynamoDBStateBackend (``app_instance`` of tests/plugin/conftest.py)."""

import pytest
from pynenc_tests.integration.orchestrator.all_tests import *  # noqa: F403
from pynenc_tests.integration.orchestrator.conftest import (  # noqa: F401 - its fixtures
    dummy_invocation_io,
    task_concat_io,
    task_dummy_io,
    task_key_arg_io,
    task_mirror_io,
    task_sum_io,
)

pytestmark = pytest.mark.orchestrator
