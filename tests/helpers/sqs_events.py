"""Real-shaped SQS events for the worker function, and a small stand-in for Lambda's event
source mapping: it receives from the queue, hands batches to a worker process (a warm
execution environment of the built function) and deletes what the answer does not report
as failed, as the mapping does with ``ReportBatchItemFailures``."""

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import IO, Any

# The system attributes Lambda passes on for a FIFO queue's message.
RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
)
RESPONSE_MARK = "@@response@@"
READY_MARK = "@@ready@@"


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of an SQS event, from a message as ReceiveMessage returns it."""
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {k: attributes[k] for k in RECORD_ATTRIBUTES if k in attributes},
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    return {"Records": [sqs_record(m, queue_arn, region) for m in messages]}


def scheduled_event(region: str = "us-east-1") -> dict[str, Any]:
    """What an EventBridge schedule sends."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2024-01-01T00:00:00Z",
        "region": region,
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/pynenc-services"],
        "detail": {},
    }


# Runs in a bare interpreter with Lambda's path order: imports the handler (the cold
# start), then serves one event per stdin line, as a warm execution environment would.
WORKER = textwrap.dedent(
    f"""
    import json, sys, time
    paths = json.loads(sys.argv[1])
    sys.path[:0] = [paths["function"], paths["layer"], paths["runtime"]]

    class Context:
        function_name = "pynenc-worker-artifact"
        function_version = "$LATEST"
        memory_limit_in_mb = 1024
        invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:worker"
        aws_request_id = "worker-test"
        def __init__(self, remaining_ms):
            self.deadline = time.monotonic() + remaining_ms / 1000
        def get_remaining_time_in_millis(self):
            return int((self.deadline - time.monotonic()) * 1000)

    import app
    print({READY_MARK!r}, flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        answer = app.handler(request["event"], Context(request["remaining_ms"]))
        main = ("app", "pynenc_dynamodb", "pynenc", "worker_tasks")
        files = {{name: getattr(sys.modules[name], "__file__", "") for name in main}}
        print({RESPONSE_MARK!r} + json.dumps({{"answer": answer, "files": files}}), flush=True)
    """
)


class WorkerProcess:
    """One execution environment of the built worker function."""

    def __init__(self, paths: dict[str, Path], environment: dict[str, str], log: Path) -> None:
        self._log: IO[str] = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-S", "-c", WORKER, json.dumps({k: str(v) for k, v in paths.items()})],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=environment,
        )
        self._read_until(READY_MARK)

    def _read_until(self, mark: str) -> str:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith(mark):
                return line[len(mark) :]
        raise RuntimeError(
            f"worker process ended (exit {self.process.wait()}); see {self._log.name}"
        )

    def send(self, event: dict[str, Any], remaining_ms: int = 60_000) -> None:
        """Hand an event over without waiting for the answer."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"event": event, "remaining_ms": remaining_ms}) + "\n")
        self.process.stdin.flush()

    def answer(self) -> dict[str, Any]:
        return dict(json.loads(self._read_until(RESPONSE_MARK)))

    def invoke(self, event: dict[str, Any], remaining_ms: int = 60_000) -> dict[str, Any]:
        """The handler's answer to ``event``, and the files its main modules came from."""
        self.send(event, remaining_ms)
        return self.answer()

    def kill(self) -> None:
        """End it as a timeout does: at once, nothing cleaned up."""
        self.process.kill()
        self.process.wait()

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


def lambda_environment(extra: dict[str, str]) -> dict[str, str]:
    """A function's environment: no site-packages, no credentials but local ones."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": "pynenc-worker-artifact",
        "POWERTOOLS_SERVICE_NAME": "pynenc-worker",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        **extra,
    }
