"""The embedded local endpoint: moto's server (DynamoDB, S3, SQS) on loopback, for the
demo, the tests and a developer's laptop. It counts the DynamoDB and SQS requests it
serves, so a run can report how many it really made, whichever processes made them."""

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from ipaddress import ip_address
from typing import Self
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from pynenc_dynamodb.aws.dynamodb import DynamoDBClient
from pynenc_dynamodb.aws.s3 import S3BlobStore
from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.table.lifecycle import ensure_table

STATS_PATH = "/_pynenc_dynamodb/stats"
DEFAULT_PORT = 8765
DEFAULT_BUCKET = "pynenc-payloads"
_TARGET_PREFIX = "DynamoDB_20120810."
# SQS requests (JSON protocol) are counted as "SQS.<operation>", apart from DynamoDB's.
_SQS_TARGET_PREFIX = "AmazonSQS."
SQS_COUNT_PREFIX = "SQS."


class RequestCounter:
    """WSGI middleware counting DynamoDB and SQS requests by operation; serves them as
    JSON."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == STATS_PATH:
            with self._lock:
                payload = json.dumps(dict(self.counts)).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [payload]
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if target.startswith(_TARGET_PREFIX):
            with self._lock:
                self.counts[target[len(_TARGET_PREFIX) :]] += 1
        elif target.startswith(_SQS_TARGET_PREFIX):
            with self._lock:
                self.counts[SQS_COUNT_PREFIX + target[len(_SQS_TARGET_PREFIX) :]] += 1
        return self.app(environ, start_response)


class AtomicWrites:
    """WSGI middleware that serves one DynamoDB write at a time, and never beside a Query
    or a Scan.

    DynamoDB applies each write (its condition included) atomically per item: two
    conditional writes on one item never both pass. moto's server handles requests in
    threads and checks a condition, then writes, with no lock in between, so two racing
    conditional writes could both pass; serializing the writes gives the embedded
    endpoint the guarantee the orchestrator's transitions rely on, as on AWS.

    moto answers a Scan by walking the table's dict of items, and a Query by walking the
    attributes of the items it found: a write in another thread meanwhile (UpdateItem
    changes an item in place) makes it fail ("dictionary changed size during iteration",
    an HTTP 500 the client retries), so those wait for the writes too.
    """

    WRITES = frozenset(
        {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
    )
    SERIALIZED = WRITES | {"Query", "Scan"}

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if target.startswith(_TARGET_PREFIX) and target[len(_TARGET_PREFIX) :] in self.SERIALIZED:
            with self._lock:
                # The whole answer is computed under the lock, not just started.
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


def check_loopback(host: str) -> None:
    """The embedded endpoint holds no authentication: it never listens beyond loopback."""
    if host != "localhost" and not ip_address(host).is_loopback:
        raise ValueError(f"host {host!r} is not a loopback address; use 127.0.0.1")


class LoopbackServer:
    """A WSGI application served on a loopback address by a background thread.

    :param app: the WSGI application
    :param host: loopback address to listen on
    :param port: port; 0 picks a free one
    """

    def __init__(self, app: WSGIApplication, host: str = "127.0.0.1", port: int = 0) -> None:
        from werkzeug.serving import make_server

        check_loopback(host)
        # One line per request drowns what the server's users print.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = make_server(host, port, app, threaded=True)
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()


class LocalEndpoint(LoopbackServer):
    """A moto DynamoDB (and S3, SQS) server in a background thread of this process.

    :param host: loopback address to listen on
    :param port: port; 0 picks a free one
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            create_backend_app,
        )

        from pynenc_dynamodb.local import partition_reads
        from pynenc_dynamodb.local.sqs_long_polling import patch_long_polling

        partition_reads.install()
        patch_long_polling()
        moto_app = DomainDispatcherApplication(create_backend_app)
        self.counter = RequestCounter(AtomicWrites(moto_app))
        super().__init__(self.counter, host, port)


def request_counts(url: str) -> Counter[str]:
    """Requests served so far by the local endpoint at ``url``, by operation (SQS ones
    as ``SQS.<operation>``)."""
    with urllib.request.urlopen(url + STATS_PATH, timeout=5) as response:
        return Counter(json.loads(response.read()))


def create_table(url: str, table_name: str, bucket: str = DEFAULT_BUCKET) -> None:
    """Create the state table and the payload bucket at the local endpoint (idempotent)."""
    settings = ClientSettings(endpoint_url=url)
    ensure_table(DynamoDBClient(settings), table_name, create=True)
    s3 = S3BlobStore(settings, bucket).client
    if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=bucket)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_until_answers(url: str, alive: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll ``url`` until it answers 200, failing fast if the server process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"the server for {url} exited while starting")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


class ChildServer:
    """A server in a child process: stopped (terminated, killed if it lingers) on exit."""

    _process: "subprocess.Popen[bytes] | None" = None

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class CliProcess(ChildServer):
    """A ``pynenc-dynamodb`` server command in a child process, so that the servers the
    demo and the tests use do not share one interpreter's GIL with the workers.

    :param arguments: the subcommand and its options
    :param port: its port; 0 picks a free one
    :param ready_path: a path of the server that answers 200 once it is up
    """

    def __init__(self, arguments: list[str], port: int, ready_path: str) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._command = [sys.executable, "-m", "pynenc_dynamodb", *arguments]
        self._command += ["--port", str(self.port), "--quiet"]
        self._ready_url = self.url + ready_path
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        process = subprocess.Popen(self._command, env=dict(os.environ))
        self._process = process
        wait_until_answers(self._ready_url, alive=lambda: process.poll() is None)
        return self


class LocalEndpointProcess(CliProcess):
    """``pynenc-dynamodb local`` in a child process, its table and bucket created.

    :param table_name: table to create once the endpoint is up
    :param port: port; 0 picks a free one
    """

    def __init__(self, table_name: str, port: int = 0) -> None:
        super().__init__(["local", "--table", table_name], port, STATS_PATH)
        self.table_name = table_name

    def start(self) -> Self:
        super().start()
        create_table(self.url, self.table_name)
        return self


def point_app_at(url: str, table_name: str) -> dict[str, str]:
    """The environment variables that point a pynenc app at the local endpoint."""
    return {
        "PYNENC__STATE_BACKEND_CLS": "DynamoDBStateBackend",
        "PYNENC__DYNAMODB_ENDPOINT_URL": url,
        "PYNENC__DYNAMODB_TABLE_NAME": table_name,
        "PYNENC__DYNAMODB_S3_BUCKET": DEFAULT_BUCKET,
    }
