"""How every AWS client of pynenc-dynamodb is set up: region, credentials, botocore config.

DynamoDB, S3 and the state API's SigV4 signer resolve them here, in one way: an explicit
setting, else boto3's chain; against a loopback endpoint (the embedded local one) a region
and credentials that moto accepts. A missing region or credentials is a
:class:`ConfigurationError` naming the setting to change.
"""

import os
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlparse

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config

from pynenc_dynamodb.aws.retry import RetryPolicy
from pynenc_dynamodb.errors import ConfigurationError

LOCAL_REGION = "us-east-1"
# moto accepts any credentials; these are only used against loopback endpoints.
LOCAL_CREDENTIALS = ("pynenc-local", "pynenc-local")
# botocore's attempts within one of our rounds: the standard mode's default.
BOTOCORE_ATTEMPTS = 3
CREDENTIALS_CHAIN = (
    "the standard chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
    "an instance or task role)"
)


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (the embedded local endpoint)."""
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ClientSettings:
    """How to reach AWS.

    :param region: AWS region; empty means boto3's chain (``AWS_REGION``, config file)
    :param endpoint_url: DynamoDB endpoint; empty means boto3's chain
        (``AWS_ENDPOINT_URL_DYNAMODB``, ``AWS_ENDPOINT_URL``)
    :param max_attempts: rounds per request, the first included; each round is botocore's
        own retrying send of up to :data:`BOTOCORE_ATTEMPTS` attempts
    :param retry_mode: botocore retry mode, ``standard`` or ``adaptive``
    :param connect_timeout: seconds to wait for a connection
    :param read_timeout: seconds to wait for a response
    """

    region: str = ""
    endpoint_url: str = ""
    max_attempts: int = 8
    retry_mode: str = "standard"
    connect_timeout: float = 5.0
    read_timeout: float = 30.0

    def effective_endpoint(self) -> str:
        """The DynamoDB endpoint boto3 will use, explicit or from the environment."""
        return (
            self.endpoint_url
            or os.environ.get("AWS_ENDPOINT_URL_DYNAMODB", "")
            or os.environ.get("AWS_ENDPOINT_URL", "")
        )

    def companion_endpoint(self, explicit: str) -> str:
        """The endpoint of another service (S3, SQS) used beside DynamoDB: ``explicit``
        when set, else the DynamoDB endpoint when that is loopback (the embedded local
        endpoint serves every service), else empty, which leaves it to boto3's chain
        (``AWS_ENDPOINT_URL_S3``, ``AWS_ENDPOINT_URL_SQS``, ``AWS_ENDPOINT_URL``).

        :param explicit: the service's own endpoint setting
        """
        if explicit:
            return explicit
        dynamodb_endpoint = self.effective_endpoint()
        return dynamodb_endpoint if dynamodb_endpoint and is_loopback(dynamodb_endpoint) else ""

    def retry_policy(self) -> RetryPolicy:
        """Our rounds over botocore's own retries."""
        return RetryPolicy(attempts=self.max_attempts)

    def botocore_config(self, path_style: bool = False) -> Config:
        """botocore's retries (:data:`BOTOCORE_ATTEMPTS` per round) and timeouts.

        :param path_style: address S3 buckets by path, as the local endpoint needs
        """
        return Config(
            retries={
                "mode": "adaptive" if self.retry_mode == "adaptive" else "standard",
                "total_max_attempts": BOTOCORE_ATTEMPTS,
            },
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            tcp_keepalive=True,
            s3={"addressing_style": "path"} if path_style else None,
        )


# The service models every client of this process reads, parsed once: a session of its own
# per client would parse them again, about 0.1 s per client (more for S3's), which a
# process that pynenc starts per invocation (ProcessRunner) pays on each. The loader holds
# only what it read from botocore's files, so a forked child keeps it.
_MODELS = botocore.loaders.create_loader()


def _botocore_session() -> botocore.session.Session:
    """A botocore session of its own (credentials and region are per session), reading
    the service models from the process's one loader."""
    session = botocore.session.Session()
    session.register_component("data_loader", _MODELS)
    return session


def resolve_session(
    endpoint: str, region: str, service: str, region_setting: str, credentials_hint: str = ""
) -> tuple[boto3.session.Session, str]:
    """A boto3 session that has credentials, and the region to use.

    :param endpoint: the URL requests go to; empty means AWS itself
    :param region: the region setting; empty means boto3's chain
    :param service: what the client is for, as errors name it (``DynamoDB``, ``S3``)
    :param region_setting: the setting that sets ``region``, with its variable
    :param credentials_hint: what else to try when no credentials are found
    :raises ConfigurationError: without a region or credentials, naming what to set
    """
    local = bool(endpoint) and is_loopback(endpoint)
    if local and not os.environ.get("AWS_ACCESS_KEY_ID"):
        key_id, secret = LOCAL_CREDENTIALS
        session = boto3.session.Session(
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            botocore_session=_botocore_session(),
        )
    else:
        session = boto3.session.Session(botocore_session=_botocore_session())
    # boto3 reads AWS_DEFAULT_REGION only; Lambda, ECS and the other SDKs set AWS_REGION.
    region = (
        region
        or session.region_name
        or os.environ.get("AWS_REGION", "")
        or (LOCAL_REGION if local else "")
    )
    if not region:
        raise ConfigurationError(
            f"No AWS region for {service}: set the {region_setting} setting "
            "or AWS_REGION / AWS_DEFAULT_REGION."
        )
    if session.get_credentials() is None:
        raise ConfigurationError(
            f"No AWS credentials found for {service}: configure {CREDENTIALS_CHAIN}"
            f"{credentials_hint}."
        )
    return session, region


def build_client(
    service: str,
    settings: ClientSettings,
    endpoint: str,
    region_setting: str,
    credentials_hint: str = "",
) -> Any:
    """A boto3 client for ``service`` (``dynamodb``, ``s3``, ``sqs``) with our settings.

    :param endpoint: the service's endpoint; empty means boto3's chain
    :raises ConfigurationError: without a region or credentials, or with a bad endpoint
    """
    detect = endpoint or (settings.effective_endpoint() if service == "dynamodb" else "")
    label = {"dynamodb": "DynamoDB", "s3": "S3", "sqs": "SQS"}.get(service, service)
    session, region = resolve_session(
        detect, settings.region, label, region_setting, credentials_hint
    )
    local = bool(detect) and is_loopback(detect)
    # boto3's stubs type each service's client apart; this one serves several.
    new_client: Any = session.client
    try:
        return new_client(
            service,
            region_name=region,
            endpoint_url=endpoint or None,
            config=settings.botocore_config(path_style=service == "s3" and local),
        )
    except ValueError as exc:
        raise ConfigurationError(f"Cannot build the {label} client: {exc}") from exc
