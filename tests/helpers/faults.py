"""Fault injection for DynamoDB clients, through botocore's ``before-send`` event.

A set share of requests fails before it is sent, as DynamoDB fails under load:
throttling (400 ProvisionedThroughputExceededException / ThrottlingException), a 500,
a refused connection or a dropped one. A further kind, ``lost-response``, sends the request for real
and then drops the connection: the write is applied but the client sees a failure and
retries, which proves retried writes do not double anything.
"""

import json
import random
import threading
from collections import Counter
from typing import Any

import pytest
import urllib3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError
from botocore.retries.standard import ExponentialBackoff

KINDS = ("throughput", "throttling", "server-error", "refused", "dropped", "lost-response")
# Longest wait between retries once :func:`shrink_backoffs` is applied.
TINY_BACKOFF_SECONDS = 0.002
# Not drawn by default: a client mistake (400 ValidationException), which is never retried.
VALIDATION = "validation"


def shrink_backoffs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cap botocore's and our client's waits between retries at a few milliseconds.

    What is under test is that every fault is retried until it succeeds, not how long the
    waits are; botocore waits up to seconds after throttling, which on a loaded 2-core
    machine only stretches the run.
    """
    from pynenc_dynamodb.aws.retry import RetryPolicy

    monkeypatch.setattr(
        RetryPolicy, "delay", lambda self, attempt: random.uniform(0, TINY_BACKOFF_SECONDS)
    )
    monkeypatch.setattr(
        ExponentialBackoff,
        "delay_amount",
        lambda self, context: random.uniform(0, TINY_BACKOFF_SECONDS),
    )


class _RawBody:
    """Just enough of a urllib3 response body for botocore's parser."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data

    def read(self, *_: Any, **__: Any) -> bytes:
        return self._data


def _response(request: Any, status: int, error_type: str) -> AWSResponse:
    body = json.dumps({"__type": error_type, "message": "injected fault"}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "fault"}
    return AWSResponse(request.url, status, headers, _RawBody(body))


class FaultInjector:
    """Fails ``rate`` of the requests of the clients it is installed on.

    :param rate: share of requests to fail, 0 to 1
    :param seed: seed of the random choices, for a repeatable run
    :param kinds: the kinds of fault to draw from
    """

    def __init__(self, rate: float, seed: int = 7, kinds: tuple[str, ...] = KINDS) -> None:
        self.rate = rate
        self.kinds = kinds
        self.injected: Counter[str] = Counter()
        self.requests = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._http = urllib3.PoolManager(maxsize=32)

    def install(self, boto3_client: Any) -> None:
        boto3_client.meta.events.register("before-send.dynamodb", self.before_send)

    def _draw(self) -> str | None:
        with self._lock:
            self.requests += 1
            if self._random.random() >= self.rate:
                return None
            kind = self._random.choice(self.kinds)
            self.injected[kind] += 1
            return kind

    def before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        kind = self._draw()
        if kind is None:
            return None
        if kind == "throughput":
            return _response(
                request,
                400,
                "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
            )
        if kind == "throttling":
            return _response(request, 400, "com.amazonaws.dynamodb.v20120810#ThrottlingException")
        if kind == VALIDATION:
            return _response(request, 400, "com.amazon.coral.validate#ValidationException")
        if kind == "server-error":
            return _response(request, 500, "com.amazon.coral.service#InternalFailure")
        if kind == "refused":
            raise EndpointConnectionError(endpoint_url=request.url)
        if kind == "lost-response":
            self._http.request(
                request.method, request.url, body=request.body, headers=dict(request.headers)
            )
        raise ConnectionClosedError(endpoint_url=request.url)
