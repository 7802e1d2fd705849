"""pynenc's plugin suite ``pynenc_tests.unit.orchestrator`` on DynamoDBOrchestrator with
DynamoDBStateBackend (``app_instance`` of tests/plugin/conftest.py, selected by the
``orchestrator`` marker of this module)."""

import pytest
from pynenc_tests.unit.orchestrator.all_tests import *  # noqa: F403

pytestmark = pytest.mark.orchestrator
