"""``DynamoDBStateBackend`` for pynenc 0.1: pynenc's state in one DynamoDB table."""

from functools import cached_property
from typing import TYPE_CHECKING, Any

from pynenc.state_backend.base_state_backend import BaseStateBackend

from pynenc_dynamodb.app_registry import app_infos_by_id
from pynenc_dynamodb.config_fields import build_store
from pynenc_dynamodb.plugin.conf import ConfigStateBackendDynamoDB
from pynenc_dynamodb.plugin.state_backend.adapter import PluginStoreBackedStateBackend
from pynenc_dynamodb.table.store import DynamoDBStateStore

if TYPE_CHECKING:
    from pynenc.app_info import AppInfo


class DynamoDBStateBackend(PluginStoreBackedStateBackend, BaseStateBackend[Any, Any]):
    """
    pynenc state backend that keeps every invocation, status history, result, exception,
    workflow record and runner context in one DynamoDB table.

    Configure it with ``PynencBuilder().dynamodb(table=...)`` or
    ``state_backend_cls="DynamoDBStateBackend"`` and the settings of
    :class:`~pynenc_dynamodb.ConfigStateBackendDynamoDB`. Each process builds its own
    boto3 client, so the backend works under thread and process runners alike.

    :param Pynenc app: the pynenc app whose state this backend holds
    """

    @cached_property
    def conf(self) -> ConfigStateBackendDynamoDB:
        return ConfigStateBackendDynamoDB(
            config_values=self.app.config_values,
            config_filepath=self.app.config_filepath,
        )

    @cached_property
    def store(self) -> DynamoDBStateStore:
        return build_store(self.conf, self.app.app_id)

    @staticmethod
    def discover_app_infos() -> dict[str, "AppInfo"]:
        """Every app registered in the table named by the environment's settings
        (``PYNENC__...`` variables, ``PYNENC__FILEPATH``, ``pyproject.toml``)."""
        return app_infos_by_id(build_store(ConfigStateBackendDynamoDB(), "pynenc").all_app_infos())
