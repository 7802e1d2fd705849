"""pynenc's plugin suite ``pynenc_tests.integration.app_id_isolation`` on DynamoDBStateBackend and
DynamoDBClientDataStore (``app_instance`` of
tests/plugin/conftest.py)."""

from pynenc_tests.integration.app_id_isolation.all_tests import *  # noqa: F403
