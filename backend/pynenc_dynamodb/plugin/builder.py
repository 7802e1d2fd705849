"""``PynencBuilder().dynamodb(...)``: the builder method and the validator pynenc 0.1 finds
through the ``pynenc.plugins`` entry point ``dynamodb_builder``.

The method selects pynenc's components on AWS (the whole stack: state backend, client data
store, SQS broker, DynamoDB orchestrator and trigger; or the state alone) and writes the
same ``dynamodb_*`` / ``sqs_*`` settings a config file would; the validator runs at
``build()`` and rejects settings that contradict each other, naming the setting.
"""

from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from pynenc_dynamodb.config_fields import TABLE_NAME
from pynenc_dynamodb.errors import ConfigurationError

if TYPE_CHECKING:
    from pynenc.builder import PynencBuilder

BROKER = "SQSBroker"
ORCHESTRATOR = "DynamoDBOrchestrator"
TRIGGER = "DynamoDBTrigger"
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
    queue_url: str | None = None,
    create_queue: bool | None = None,
    message_groups: int | None = None,
    state_only: bool = False,
) -> "PynencBuilder":
    """Run the app on AWS: the state backend and client data store in DynamoDB (and S3),
    the broker on SQS, the orchestrator and trigger in the same DynamoDB table. No Redis.

    With ``state_only`` (or ``api_url``) only the state backend and the client data store
    are selected; the broker, orchestrator and trigger stay as configured (for example
    pynenc-redis's). Without ``endpoint_url``, boto3's chain decides where requests go
    (AWS itself, or ``AWS_ENDPOINT_URL_DYNAMODB``): the embedded local endpoint only when
    it is named, and then SQS is reached there too.

    :param table: the state table (``dynamodb_table_name``; default ``pynenc-state``)
    :param region: the AWS region (``dynamodb_region``, or ``dynamodb_api_region`` with
        ``api_url``); default boto3's chain
    :param endpoint_url: the DynamoDB endpoint (``dynamodb_endpoint_url``)
    :param s3_bucket: the bucket for large payloads and client data (``dynamodb_s3_bucket``)
    :param api_url: the state API's URL (``dynamodb_api_url``): workers without table
        permissions; the state alone, and none of the table's or queue's settings
    :param create_table: create the table on first use if missing (``dynamodb_create_table``)
    :param queue_url: the app's SQS queue (``sqs_queue_url``); default a queue named from
        the app id
    :param create_queue: create the app's queue and its dead-letter queue on first use if
        missing (``sqs_create_queue``)
    :param message_groups: FIFO message groups (``sqs_message_groups``): 1 keeps strict
        order, more let more retrievals run at once
    :param state_only: select the state backend and client data store only
    :return: the builder, for chaining
    :raises ConfigurationError: for settings that contradict each other
    """
    config = builder._config
    queue_args: dict[str, object] = {
        "queue_url": queue_url,
        "create_queue": create_queue,
        "message_groups": message_groups,
    }
    if api_url is not None:
        table_args = {
            "table": table,
            "endpoint_url": endpoint_url,
            "s3_bucket": s3_bucket,
            "create_table": create_table,
            **queue_args,
        }
        given = [name for name, value in table_args.items() if value is not None]
        if given:
            raise ConfigurationError(
                f"dynamodb(api_url=...) reaches the state through the state API: drop "
                f"{', '.join(given)}, which only a worker with table and queue access uses."
            )
        config["dynamodb_api_url"] = api_url
        if region is not None:
            config["dynamodb_api_region"] = region
        config.update({"state_backend_cls": API_BACKEND, "client_data_store_cls": API_STORE})
        builder._plugin_components.add("dynamodb")
        return builder
    settings = {
        "dynamodb_table_name": table,
        "dynamodb_region": region,
        "dynamodb_endpoint_url": endpoint_url,
        "dynamodb_s3_bucket": s3_bucket,
        "dynamodb_create_table": create_table,
    }
    config.update({name: value for name, value in settings.items() if value is not None})
    config.update({"state_backend_cls": TABLE_BACKEND, "client_data_store_cls": TABLE_STORE})
    if state_only:
        given = [name for name, value in queue_args.items() if value is not None]
        if given:
            raise ConfigurationError(
                f"dynamodb(state_only=True) keeps the configured broker: drop "
                f"{', '.join(given)}, which configure the SQS broker."
            )
    else:
        queue = {
            "sqs_queue_url": queue_url,
            "sqs_create_queue": create_queue,
            "sqs_message_groups": message_groups,
        }
        config.update({name: value for name, value in queue.items() if value is not None})
        config.update(
            {"broker_cls": BROKER, "orchestrator_cls": ORCHESTRATOR, "trigger_cls": TRIGGER}
        )
        builder._using_memory_components = False
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
        if config.get("broker_cls") == BROKER:
            _validate_queue(config)
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
    if config.get("broker_cls") == BROKER:
        _validate_queue(config)


def _validate_queue(config: dict[str, Any]) -> None:
    """The SQS broker's settings, checked now rather than at its first request."""
    from pynenc_dynamodb.plugin.conf import ConfigBrokerSQS

    conf = ConfigBrokerSQS(config_values=config)
    conf.sqs_client_settings()
    conf.queue_settings(str(config.get("app_id") or "pynenc"))
