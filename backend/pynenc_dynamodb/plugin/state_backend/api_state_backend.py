"""``DynamoDBApiStateBackend`` for pynenc 0.1: pynenc's state through the state API.

Workers that should hold no DynamoDB permissions (or run outside AWS) use this backend:
it talks to the HTTP API of ``template.yaml`` with SigV4-signed requests, and the API's
IAM authorization limits each worker to the apps its policy names.
"""

from functools import cached_property
from typing import TYPE_CHECKING, Any

from pynenc.state_backend.base_state_backend import BaseStateBackend

from pynenc_dynamodb.api.client import ApiStateStore
from pynenc_dynamodb.app_registry import app_infos_by_id
from pynenc_dynamodb.plugin.conf import ConfigStateBackendDynamoDBApi
from pynenc_dynamodb.plugin.state_backend.adapter import PluginStoreBackedStateBackend

if TYPE_CHECKING:
    from pynenc.app_info import AppInfo


class DynamoDBApiStateBackend(PluginStoreBackedStateBackend, BaseStateBackend[Any, Any]):
    """
    pynenc state backend that keeps its state in the DynamoDB table behind the state API.

    Configure it with ``PynencBuilder().dynamodb(api_url=...)`` or
    ``state_backend_cls="DynamoDBApiStateBackend"`` and ``dynamodb_api_url``
    (:class:`~pynenc_dynamodb.ConfigStateBackendDynamoDBApi`). Requests are signed with
    the worker's standard AWS credential chain.

    :param Pynenc app: the pynenc app whose state this backend holds
    """

    @cached_property
    def conf(self) -> ConfigStateBackendDynamoDBApi:
        return ConfigStateBackendDynamoDBApi(
            config_values=self.app.config_values,
            config_filepath=self.app.config_filepath,
        )

    @cached_property
    def store(self) -> ApiStateStore:
        return ApiStateStore(self.conf.api_settings(), self.app.app_id)

    @staticmethod
    def discover_app_infos() -> dict[str, "AppInfo"]:
        """Every app registered behind the API named by the environment's settings."""
        settings = ConfigStateBackendDynamoDBApi().api_settings()
        return app_infos_by_id(ApiStateStore(settings, "pynenc").all_app_infos())
