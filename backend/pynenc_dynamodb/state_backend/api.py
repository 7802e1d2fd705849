"""``DynamoDBApiStateBackend``: pynenc's state through the serverless state API.

Workers that should hold no DynamoDB permissions (or run outside AWS) use this backend:
it talks to the HTTP API of ``template.yaml`` with SigV4-signed requests, and the API's
IAM authorization limits each worker to the apps its policy names.
"""

from functools import cached_property
from typing import TYPE_CHECKING

from cistell import ConfigField
from pynenc.conf.config_state_backend import ConfigStateBackend
from pynenc.state_backend.base_state_backend import BaseStateBackend

from pynenc_dynamodb.api.client import SETTINGS_HINT, ApiSettings, ApiStateStore
from pynenc_dynamodb.errors import ConfigurationError
from pynenc_dynamodb.state_backend.adapter import StoreBackedStateBackend
from pynenc_dynamodb.state_backend.app_infos import app_infos_by_id, instance_or_class_method

if TYPE_CHECKING:
    from pynenc.app import AppInfo, Pynenc


class ConfigStateBackendDynamoDBApi(ConfigStateBackend):
    """
    Settings of :class:`~pynenc_dynamodb.DynamoDBApiStateBackend`.

    Like every pynenc setting, each can be given in ``config_values``, in a config file, or
    as an environment variable: ``PYNENC__DYNAMODB_API_URL`` or
    ``PYNENC__CONFIGSTATEBACKENDDYNAMODBAPI__DYNAMODB_API_URL``.

    :cvar ConfigField[str] dynamodb_api_url:
        Base URL of the state API: the ``ApiUrl`` output of the deployed stack, or the URL
        that ``pynenc-dynamodb api`` prints for the local API server.
    :cvar ConfigField[str] dynamodb_api_region:
        Region the API is deployed in, used to sign requests. Empty means boto3's own chain
        (``AWS_REGION``, ``AWS_DEFAULT_REGION``); a loopback URL defaults to us-east-1.
    :cvar ConfigField[int] dynamodb_api_max_attempts:
        Attempts per request, the first included. 5xx answers and connection errors are
        retried with jittered exponential backoff, and so is 429 (API Gateway throttling);
        other 4xx answers are never retried.
    :cvar ConfigField[float] dynamodb_api_connect_timeout:
        Seconds to wait for a connection to the API.
    :cvar ConfigField[float] dynamodb_api_read_timeout:
        Seconds to wait for an answer (API Gateway itself gives up after 30 seconds).
    """

    dynamodb_api_url = ConfigField("")
    dynamodb_api_region = ConfigField("")
    dynamodb_api_max_attempts = ConfigField(5)
    dynamodb_api_connect_timeout = ConfigField(5.0)
    dynamodb_api_read_timeout = ConfigField(30.0)

    def api_settings(self) -> ApiSettings:
        """The connection settings, validated."""
        if self.dynamodb_api_max_attempts < 1:
            raise ConfigurationError(
                f"Setting dynamodb_api_max_attempts={self.dynamodb_api_max_attempts!r} must "
                f"be >= 1 ({SETTINGS_HINT}DYNAMODB_API_MAX_ATTEMPTS)."
            )
        return ApiSettings(
            url=self.dynamodb_api_url,
            region=self.dynamodb_api_region,
            max_attempts=self.dynamodb_api_max_attempts,
            connect_timeout=self.dynamodb_api_connect_timeout,
            read_timeout=self.dynamodb_api_read_timeout,
        )


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
