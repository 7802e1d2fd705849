"""One resolver for every AWS client: DynamoDB, S3 and the state API's signer get the
same region, credentials and botocore retries from the same settings."""

import pytest

from pynenc_dynamodb.api.client import ApiSettings, ApiStateStore
from pynenc_dynamodb.aws.dynamodb import build_boto3_client
from pynenc_dynamodb.aws.s3 import S3BlobStore
from pynenc_dynamodb.aws.settings import BOTOCORE_ATTEMPTS, LOCAL_CREDENTIALS, ClientSettings
from pynenc_dynamodb.errors import ConfigurationError

LOOPBACK = "http://127.0.0.1:1"


@pytest.mark.usefixtures("no_aws_environment")
def test_dynamodb_and_s3_share_region_and_botocore_attempts() -> None:
    settings = ClientSettings(region="eu-west-3", endpoint_url=LOOPBACK, max_attempts=8)
    dynamodb = build_boto3_client(settings)
    s3 = S3BlobStore(settings, "bucket").client
    for client in (dynamodb, s3):
        assert client.meta.region_name == "eu-west-3"
        # Our rounds (max_attempts) wrap botocore's; botocore itself makes 3 per round.
        assert client.meta.config.retries["total_max_attempts"] == BOTOCORE_ATTEMPTS
        assert client.meta.config.connect_timeout == settings.connect_timeout
    assert s3.meta.endpoint_url == LOOPBACK
    assert s3.meta.config.s3["addressing_style"] == "path"


@pytest.mark.usefixtures("no_aws_environment")
def test_loopback_endpoints_get_the_local_region_and_credentials() -> None:
    settings = ClientSettings(endpoint_url=LOOPBACK)
    for client in (build_boto3_client(settings), S3BlobStore(settings, "bucket").client):
        assert client.meta.region_name == "us-east-1"
        credentials = client._request_signer._credentials
        assert (credentials.access_key, credentials.secret_key) == LOCAL_CREDENTIALS
    store = ApiStateStore(ApiSettings(LOOPBACK), "app")
    credentials, region = store._credentials()
    assert region == "us-east-1"
    assert (credentials.access_key, credentials.secret_key) == LOCAL_CREDENTIALS


@pytest.mark.usefixtures("no_aws_environment")
def test_the_region_comes_from_the_environment_for_every_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    settings = ClientSettings()
    assert build_boto3_client(settings).meta.region_name == "ap-south-1"
    s3 = S3BlobStore(settings, "bucket", "https://s3.example.invalid").client
    assert s3.meta.region_name == "ap-south-1"
    _, region = ApiStateStore(ApiSettings("https://api.example.invalid"), "app")._credentials()
    assert region == "ap-south-1"


@pytest.mark.usefixtures("no_aws_environment")
def test_a_missing_region_names_each_clients_setting() -> None:
    with pytest.raises(ConfigurationError, match=r"No AWS region for DynamoDB.*dynamodb_region"):
        build_boto3_client(ClientSettings())
    store = S3BlobStore(ClientSettings(), "bucket", "https://s3.example.invalid")
    with pytest.raises(ConfigurationError, match=r"No AWS region for S3.*dynamodb_region"):
        _ = store.client
    api = ApiStateStore(ApiSettings("https://api.example.invalid"), "app")
    with pytest.raises(ConfigurationError, match=r"state API.*dynamodb_api_region"):
        api._credentials()


@pytest.mark.usefixtures("no_aws_environment")
def test_missing_credentials_are_named_for_aws_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    with pytest.raises(ConfigurationError, match="No AWS credentials found for DynamoDB"):
        build_boto3_client(ClientSettings())
    with pytest.raises(ConfigurationError, match="No AWS credentials found for the state API"):
        ApiStateStore(ApiSettings("https://api.example.invalid"), "app")._credentials()


@pytest.mark.usefixtures("no_aws_environment")
def test_aws_region_is_honoured_as_lambda_and_ecs_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "sa-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    assert build_boto3_client(ClientSettings()).meta.region_name == "sa-east-1"


def test_clients_share_the_service_models_of_the_process() -> None:
    """Each client has a session of its own, but the service models are read once per
    process: building a client does not parse them again."""
    dynamodb = build_boto3_client(ClientSettings(endpoint_url="http://127.0.0.1:1"))
    other = build_boto3_client(
        ClientSettings(endpoint_url="http://127.0.0.1:2", region="eu-west-1")
    )
    assert dynamodb._loader is other._loader
    assert other.meta.region_name == "eu-west-1"
