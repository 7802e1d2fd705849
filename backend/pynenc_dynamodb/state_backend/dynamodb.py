"""``DynamoDBStateBackend``: pynenc's state in one DynamoDB table, reached with boto3."""

from functools import cached_property
from typing import TYPE_CHECKING

from pynenc.state_backend.base_state_backend import BaseStateBackend

from pynenc_dynamodb.app_registry import app_infos_by_id
from pynenc_dynamodb.config_fields import build_store
from pynenc_dynamodb.state_backend.adapter import StoreBackedStateBackend
from pynenc_dynamodb.state_backend.app_infos import instance_or_class_method
from pynenc_dynamodb.state_backend.conf import ConfigStateBackendDynamoDB
from pynenc_dynamodb.table.store import DynamoDBStateStore

if TYPE_CHECKING:
    from pynenc.app import AppInfo, Pynenc


class DynamoDBStateBackend(StoreBackedStateBackend, BaseStateBackend):
    """
    pynenc state backend that keeps every invocation, status history, result, exception
    and workflow record in one DynamoDB table.

    Select it with ``state_backend_cls="DynamoDBStateBackend"`` and configure it with
    :class:`~pynenc_dynamodb.ConfigStateBackendDynamoDB`. Each process builds its own
    boto3 client, so the backend works under thread and process runners alike.

    :param Pynenc app: the pynenc app whose state this backend holds
    """

    def __init__(self, app: "Pynenc") -> None:
        super().__init__(app)

    @cached_property
    def conf(self) -> ConfigStateBackendDynamoDB:
        return ConfigStateBackendDynamoDB(
            config_values=self.app.config_values,
            config_filepath=self.app.config_filepath,
        )

    @cached_property
    def store(self) -> DynamoDBStateStore:
        return build_store(self.conf, self.app.app_id)

    # Called as pynenc's static method it takes no argument, as declared; mypy cannot
    # see that through a descriptor.
    @instance_or_class_method
    def get_all_app_infos(  # type: ignore[override]
        backend: "DynamoDBStateBackend | None", cls: type["DynamoDBStateBackend"]
    ) -> dict[str, "AppInfo"]:
        """Every app registered in the table.

        Called on a backend (as pynenc's monitor does), with that backend's settings, so
        an app configured in code is found. Called on the class (pynenc's API declares it
        static), with :class:`ConfigStateBackendDynamoDB` read from ``PYNENC__...``
        variables, ``PYNENC__FILEPATH`` and ``pyproject.toml`` only.
        """
        store = backend.store if backend else build_store(ConfigStateBackendDynamoDB(), "pynenc")
        return app_infos_by_id(store.all_app_infos())
