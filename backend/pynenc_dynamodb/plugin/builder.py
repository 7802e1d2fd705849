"""``PynencBuilder().dynamodb(...)``: the builder method and the validator pynenc 0.1 finds
through the ``pynenc.plugins`` entry point ``dynamodb_builder``.

The method selects the state backend and the client data store and writes the same
``dynamodb_*`` settings a config file would; the validator runs at ``build()`` and rejects
settings that contradict each other, naming the setting.
"""

from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from pynenc_dynamodb.config_fields import TABLE_NAME
from pynenc_dynamodb.errors import ConfigurationError

if TYPE_CHECKING:
    from pynenc.builder import PynencBuilder

TABLE_BACKEND = "DynamoDBStateBackend"
API_BACKEND = "DynamoDBApiStateBackend"
TABLE_STORE = "DynamoDBClientDataStore"
API_STORE = "DynamoDBApiClientDataStore"
URL_SETTINGS = ("dynamodb_endpoint_url", "dynamodb_s3_endpoint_url", "dynamodb_api_url")
# Settings of the table itself, which a worker on the state API never reads.
TABLE_SETTINGS = ("dynamodb_endpoint_url", "dynamodb_s3_bucket", "dynamodb_s3_endpoint_url")


class DynamoDBBuilderPlugin:
    """Registers ``dynamodb(...)`` and its validator with ``PynencBuilder``."""

    @staticmethod
    def register_builder_methods(builder_class: type["PynencBuilder"]) -> None:
        """Called by pynenc when it discovers the plugin through its entry points.

        :param builder_class: the ``PynencBuilder`` class to extend
        """
        builder_class.register_plugin_method("dynamodb", dynamodb)
        builder_class.register_plugin_validator(validate_dynamodb_config)


def dynamodb(
    builder: "PynencBuilder",
    *,
    table: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    s3_bucket: str | None = None,
    api_url: str | None = None,
    create_table: bool | None = None,
) -> "PynencBuilder":
    """Keep the app's state and client data in DynamoDB: in the table directly, or (with
    ``api_url``) through the state API. The broker, orchestrator and runner stay as
    configured.

    With no ``endpoint_url``, boto3's chain decides where requests go (AWS itself, or
    ``AWS_ENDPOINT_URL_DYNAMODB``): the embedded local endpoint only when it is named.

    :param table: the state table (``dynamodb_table_name``; default ``pynenc-state``)
    :param region: the AWS region (``dynamodb_region``, or ``dynamodb_api_region`` with
        ``api_url``); default boto3's chain
    :param endpoint_url: the DynamoDB endpoint (``dynamodb_endpoint_url``)
    :param s3_bucket: the bucket for large payloads and client data (``dynamodb_s3_bucket``)
    :param api_url: the state API's URL (``dynamodb_api_url``): workers without table
        permissions; excludes ``table``, ``endpoint_url``, ``s3_bucket`` and ``create_table``
    :param create_table: create the table on first use if missing (``dynamodb_create_table``)
    :return: the builder, for chaining
    :raises ConfigurationError: for ``api_url`` with a setting of the table itself
    """
    config = builder._config
    if api_url is not None:
        table_args = {
            "table": table,
            "endpoint_url": endpoint_url,
            "s3_bucket": s3_bucket,
            "create_table": create_table,
        }
        given = [name for name, value in table_args.items() if value is not None]
        if given:
            raise ConfigurationError(
                f"dynamodb(api_url=...) reaches the table through the state API: drop "
                f"{', '.join(given)}, which only a worker with table access uses."
            )
        config["dynamodb_api_url"] = api_url
        if region is not None:
            config["dynamodb_api_region"] = region
        config.update({"state_backend_cls": API_BACKEND, "client_data_store_cls": API_STORE})
    else:
        settings = {
            "dynamodb_table_name": table,
            "dynamodb_region": region,
            "dynamodb_endpoint_url": endpoint_url,
            "dynamodb_s3_bucket": s3_bucket,
            "dynamodb_create_table": create_table,
        }
        config.update({name: value for name, value in settings.items() if value is not None})
        config.update({"state_backend_cls": TABLE_BACKEND, "client_data_store_cls": TABLE_STORE})
    builder._plugin_components.add("dynamodb")
    return builder


def _is_url(value: str) -> bool:
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def validate_dynamodb_config(config: dict[str, Any]) -> None:
    """Reject contradictory DynamoDB settings before the app is built.

    :param config: the builder's configuration
    :raises ConfigurationError: naming the setting at fault
    """
    components = {config.get("state_backend_cls"), config.get("client_data_store_cls")}
    if not components & {TABLE_BACKEND, API_BACKEND, TABLE_STORE, API_STORE}:
        return
    for name in URL_SETTINGS:
        value = config.get(name)
        if value and not (isinstance(value, str) and _is_url(value)):
            raise ConfigurationError(
                f"Setting {name}={value!r} is not a URL: give scheme and host, "
                "e.g. 'http://127.0.0.1:8765' or 'https://dynamodb.eu-west-1.amazonaws.com'."
            )
    uses_table = bool(components & {TABLE_BACKEND, TABLE_STORE})
    table = config.get("dynamodb_table_name")
    if uses_table and table is not None and not (isinstance(table, str) and table):
        raise ConfigurationError(
            f"Setting dynamodb_table_name={table!r}: the DynamoDB state backend needs a "
            "table name (dynamodb(table=...)); leave it unset for 'pynenc-state'."
        )
    if uses_table and table and not TABLE_NAME.fullmatch(table):
        raise ConfigurationError(
            f"Setting dynamodb_table_name={table!r} must be 3 to 255 characters of "
            "a-z, A-Z, 0-9, '_', '-' and '.'."
        )
    if config.get("dynamodb_api_url"):
        if uses_table:
            raise ConfigurationError(
                "Setting dynamodb_api_url is set, but the state backend or client data store "
                f"is {TABLE_BACKEND}/{TABLE_STORE}, which use the table directly: use "
                "dynamodb(api_url=...) alone, or drop dynamodb_api_url."
            )
        for name in TABLE_SETTINGS:
            if config.get(name):
                raise ConfigurationError(
                    f"Settings dynamodb_api_url and {name} contradict each other: a worker "
                    f"on the state API never reaches the table itself; drop {name}."
                )
    if API_BACKEND in components and not config.get("dynamodb_api_url"):
        raise ConfigurationError(
            f"{API_BACKEND} needs the state API's URL: set dynamodb_api_url "
            "(dynamodb(api_url=...))."
        )
