"""pynenc's plugin suite ``pynenc_tests.unit.client_data_store`` on DynamoDBStateBackend and
DynamoDBClientDataStore (``app_instance`` of
tests/plugin/conftest.py)."""

from pynenc_tests.unit.client_data_store.all_tests import *  # noqa: F403
