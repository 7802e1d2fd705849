"""pynenc's plugin suite ``pynenc_tests.integration.state_backend`` through
DynamoDBApiStateBackend and DynamoDBApiClientDataStore, on the local state API server."""

import pytest
from pynenc import Pynenc
from pynenc_tests.integration.state_backend.all_tests import *  # noqa: F403


@pytest.fixture
def app_instance(api_app_instance: Pynenc) -> Pynenc:
    return api_app_instance
