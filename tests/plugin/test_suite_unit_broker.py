"""pynenc's plugin suite ``pynenc_tests.unit.broker`` on SQSBroker (a FIFO queue of its
own per test on the embedded endpoint), state in DynamoDBStateBackend."""

import pytest
from pynenc import Pynenc
from pynenc_tests.unit.broker.all_tests import *  # noqa: F403

from tests.plugin.conftest import SQSAppFactory


@pytest.fixture
def app_instance(sqs_apps: SQSAppFactory) -> Pynenc:
    return sqs_apps()
