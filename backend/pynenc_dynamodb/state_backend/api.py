"""``DynamoDBApiStateBackend``: pynenc's state through the serverless state API.

Workers that should hold no DynamoDB permissions (or run outside AWS) use this backend:
it talks to the HTTP API of ``template.yaml`` with SigV4-signed requests, and the API's
IAM authorization limits each worker to the apps its policy names.
"""

from functools import cached_property
from typing import TYPE_CHECKING

from pynenc.conf.config_state_backend import ConfigStateBackend
from pynenc.state_backend.base_state_backend import BaseStateBackend

from pynenc_dynamodb.api.client import ApiStateStore
from pynenc_dynamodb.app_registry import app_infos_by_id
from pynenc_dynamodb.config_fields import ConfigDynamoDBApi
from pynenc_dynamodb.state_backend.adapter import StoreBackedStateBackend
from pynenc_dynamodb.state_backend.app_infos import instance_or_class_method

if TYPE_CHECKING:
    from pynenc.app import AppInfo, Pynenc


class ConfigStateBackendDynamoDBApi(ConfigStateBackend, ConfigDynamoDBApi):
    """
    Settings of :class:`~pynenc_dynamodb.DynamoDBApiStateBackend`: pynenc's state backend
    settings and those of :class:`~pynenc_dynamodb.config_fields.ConfigDynamoDBApi`.

    Each can also be set as ``PYNENC__CONFIGSTATEBACKENDDYNAMODBAPI__<SETTING>``.
    """


class DynamoDBApiStateBackend(StoreBackedStateBackend, BaseStateBackend):
    """
    pynenc state backend that keeps its state in the DynamoDB table behind the state API.

    Select it with ``state_backend_cls="DynamoDBApiStateBackend"`` and set
    ``dynamodb_api_url`` (:class:`~pynenc_dynamodb.ConfigStateBackendDynamoDBApi`).
    Requests are signed with the standard AWS credential chain of the worker.

    :param Pynenc app: the pynenc app whose state this backend holds
    """

    def __init__(self, app: "Pynenc") -> None:
        super().__init__(app)

    @cached_property
    def conf(self) -> ConfigStateBackendDynamoDBApi:
        return ConfigStateBackendDynamoDBApi(
            config_values=self.app.config_values,
            config_filepath=self.app.config_filepath,
        )

    @cached_property
    def store(self) -> ApiStateStore:
        return ApiStateStore(self.conf.api_settings(), self.app.app_id)

    # Called as pynenc's static method it takes no argument, as declared; mypy cannot
    # see that through a descriptor.
    @instance_or_class_method
    def get_all_app_infos(  # type: ignore[override]
        backend: "DynamoDBApiStateBackend | None", cls: type["DynamoDBApiStateBackend"]
    ) -> dict[str, "AppInfo"]:
        """Every app registered behind the API: on a backend, with its settings; on the
        class, with the settings of the environment and config file."""
        if backend is not None:
            store = backend.store
        else:
            store = ApiStateStore(ConfigStateBackendDynamoDBApi().api_settings(), "pynenc")
        return app_infos_by_id(store.all_app_infos())
