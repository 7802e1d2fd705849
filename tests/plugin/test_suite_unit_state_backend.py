"""pynenc's plugin suite ``pynenc_tests.unit.state_backend`` on DynamoDBStateBackend and
DynamoDBClientDataStore (``app_instance`` of
tests/plugin/conftest.py)."""

from pynenc_tests.unit.state_backend.all_tests import *  # noqa: F403
