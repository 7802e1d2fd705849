"""The servers a benchmark run starts and stops itself: redis, moto and the state API."""

import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from typing import Any

from pynenc_dynamodb.local.endpoint import LocalEndpointProcess, free_port, request_counts


class RedisServer:
    """A throwaway ``redis-server`` on a free loopback port, without persistence."""

    def __init__(self) -> None:
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> "RedisServer":
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_api(stack: ExitStack, dynamodb_url: str, table: str) -> tuple[str | None, str]:
    """The local state API, or ``None`` and the reason when it is not available.

    :param stack: closes the API server with the benchmark
    :param dynamodb_url: the moto endpoint the API stores into
    :param table: the state table
    """
    try:
        import pynenc_dynamodb.state_backend.api  # noqa: F401 - registers the backend class
        from pynenc_dynamodb.local.api_server import LocalApiProcess, default_handler_path
    except ImportError as exc:
        return None, f"DynamoDBApiStateBackend not importable: {exc}"
    if not default_handler_path().is_file():
        return None, f"state API handler missing at {default_handler_path()}"
    api: AbstractContextManager[Any] = LocalApiProcess(dynamodb_url, table)
    return stack.enter_context(api).url, ""


def endpoint(stack: ExitStack, table: str) -> LocalEndpointProcess:
    """A moto endpoint in a child process, stopped with ``stack``."""
    return stack.enter_context(LocalEndpointProcess(table))


class ServerCounter:
    """Per-operation DynamoDB request counts served by a moto endpoint, as differences."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._last = request_counts(url)

    def delta(self) -> Counter[str]:
        """Requests served since the previous call."""
        now = request_counts(self.url)
        diff = now - self._last
        self._last = now
        return diff


def timed(fn: Callable[[], Any]) -> float:
    """Seconds ``fn`` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
