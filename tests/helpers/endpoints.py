"""The DynamoDB implementations the tests run against: moto's server (the embedded local
endpoint) and dynalite, which validates requests as DynamoDB does (batch sizes, duplicate
keys, key sizes) and keeps a new table CREATING for a while, as DynamoDB does."""

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from pynenc_dynamodb.local.endpoint import DEFAULT_BUCKET, ChildServer, free_port

ROOT = Path(__file__).resolve().parents[2]
DYNALITE = ROOT / "node_modules" / "dynalite" / "cli.js"
ENDPOINTS = ["moto", "dynalite"]
# How long dynalite keeps a new table CREATING: every table a test creates there goes
# through a window in which DynamoDB refuses reads and writes.
CREATE_TABLE_MS = 1000


@dataclass(frozen=True)
class StoreEndpoint:
    """Where a test's table lives, and where its payload bucket lives.

    :param name: ``moto`` or ``dynalite``
    :param url: the DynamoDB endpoint
    :param s3_url: the S3 endpoint (moto's: dynalite serves DynamoDB only)
    """

    name: str
    url: str
    s3_url: str

    def config(self, table: str) -> dict[str, Any]:
        """The settings of a ``DynamoDBStateBackend`` app whose state lives here."""
        config: dict[str, Any] = {
            "state_backend_cls": "DynamoDBStateBackend",
            "dynamodb_endpoint_url": self.url,
            "dynamodb_table_name": table,
            "dynamodb_s3_bucket": DEFAULT_BUCKET,
        }
        if self.s3_url != self.url:
            config["dynamodb_s3_endpoint_url"] = self.s3_url
        return config


class DynaliteProcess(ChildServer):
    """dynalite (installed by ``npm ci``) on a free loopback port, in memory.

    :param create_table_ms: how long a new table stays CREATING
    :param update_table_ms: how long an updated table stays UPDATING
    """

    def __init__(self, create_table_ms: int = CREATE_TABLE_MS, update_table_ms: int = 500) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.create_table_ms = create_table_ms
        self.update_table_ms = update_table_ms
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> Self:
        node = shutil.which("node")
        if node is None or not DYNALITE.exists():
            raise RuntimeError(
                f"dynalite is not installed ({DYNALITE}): run `make test`, whose install "
                "step runs `npm ci` (Node 20+)"
            )
        command = [node, str(DYNALITE), "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--createTableMs", str(self.create_table_ms)]
        command += ["--updateTableMs", str(self.update_table_ms)]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"dynalite exited with {self._process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise TimeoutError(f"dynalite did not listen on {self.url}") from None
                time.sleep(0.05)
