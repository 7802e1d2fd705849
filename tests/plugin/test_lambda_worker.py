"""The BUILT worker function, driven by real-shaped SQS events against the embedded endpoint.

The function is built as ``sam build`` lays it out (``infra/lambda_artifact.py``: the
layer from ``backend/``, ``lambdas/worker/requirements.txt`` installed beside the handler,
the project's tasks copied in) and runs in bare interpreters with Lambda's path order,
each a warm execution environment serving event after event. A stand-in for the event
source mapping receives from the app's FIFO queue, hands batches to them concurrently,
and deletes what their answers do not report as failed. The stack is the plugin's: SQS
broker, DynamoDB orchestrator, state backend and client data store; no Redis anywhere.
"""

import contextlib
import json
import os
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from infra.lambda_artifact import WORKER_SOURCE, BuildError, build, tree_bytes
from pynenc import Pynenc, context
from pynenc.core_tasks import recover_running_invocations
from pynenc.identifiers.invocation_id import InvocationId
from pynenc.invocation.status import InvocationStatus
from pynenc.runner.runner_context import RunnerContext

from pynenc_dynamodb.local.endpoint import (
    DEFAULT_BUCKET,
    SQS_COUNT_PREFIX,
    LocalEndpointProcess,
    request_counts,
)
from pynenc_dynamodb.plugin.broker import SQSBroker
from pynenc_dynamodb.queue import names
from tests.conftest import TABLE, unique_app_id
from tests.helpers.sqs_events import WorkerProcess, lambda_environment, scheduled_event, sqs_event

PROJECT = Path(__file__).resolve().parents[1] / "helpers" / "lambda_project"
REGION = "us-east-1"
DEADLINE_SECONDS = 180


def may_skip(error: BuildError) -> bool:
    """As the state API's artifact test: only for want of the registry, never in CI
    unless the network failed."""
    if os.environ.get("CI", "").lower() in ("true", "1"):
        return error.network
    return error.offline


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    try:
        built = build(tmp_path_factory.mktemp("worker"), WORKER_SOURCE, (PROJECT,))
    except BuildError as exc:
        if may_skip(exc):
            pytest.skip(f"pip cannot reach the package registry: {str(exc)[-300:]}")
        raise
    sizes = {"function": tree_bytes(built.function), "layer": tree_bytes(built.layer.parent)}
    print(f"\nBuilt worker artifact (bytes, unzipped): {sizes}")
    return {"function": built.function, "layer": built.layer, "runtime": built.runtime}


@pytest.fixture(scope="module")
def settings(endpoint: LocalEndpointProcess) -> Iterator[dict[str, str]]:
    """The project's settings, in this process's environment and the functions'."""
    values = {
        "WORKER_APP_ID": unique_app_id("worker"),
        "WORKER_TABLE": TABLE,
        "WORKER_ENDPOINT": endpoint.url,
        "WORKER_BUCKET": DEFAULT_BUCKET,
        # Small, so the dead function of the recovery test is found dead soon.
        "WORKER_DEAD_MINUTES": "0.1",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in values.items():
            patch.setenv(name, value)
        patch.syspath_prepend(str(PROJECT))
        yield values


@pytest.fixture(scope="module")
def project(settings: dict[str, str]) -> Iterator[Any]:
    """The project's module in this process: the producer of the invocations."""
    import worker_tasks

    yield worker_tasks
    worker_tasks.app.purge()
    sys.modules.pop("worker_tasks", None)


@pytest.fixture(scope="module")
def start_worker(
    artifact: dict[str, Path], settings: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[], WorkerProcess]]:
    started: list[WorkerProcess] = []
    logs = tmp_path_factory.mktemp("worker-logs")
    environment = lambda_environment({**settings, "PYNENC_APP": "worker_tasks:app"})

    def start() -> WorkerProcess:
        worker = WorkerProcess(artifact, environment, logs / f"worker-{len(started)}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.close()


class Mapping:
    """Stand-in for the event source mapping of the app's queue."""

    def __init__(self, app: Pynenc) -> None:
        broker = app.broker
        assert isinstance(broker, SQSBroker)
        self.url = broker.queue_url
        self.sqs = boto3.client(
            "sqs",
            endpoint_url=app.config_values["dynamodb_endpoint_url"],
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.arn = self.attribute(self.url, "QueueArn")
        dlq_name = names.dead_letter_queue_name(broker.queue.name)
        self.dlq_url = self.sqs.get_queue_url(QueueName=dlq_name)["QueueUrl"]
        self.answers: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self._lock = threading.Lock()

    def attribute(self, url: str, name: str) -> str:
        return str(
            self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[name])["Attributes"][name]
        )

    def receive(self) -> list[dict[str, Any]]:
        return list(
            self.sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,
                AttributeNames=["All"],
                MessageSystemAttributeNames=["All"],
            ).get("Messages", [])
        )

    def deliver(
        self, worker: WorkerProcess, messages: list[dict[str, Any]], **kw: Any
    ) -> dict[str, Any]:
        """One handler run on ``messages``; deletes those not reported as failed."""
        event = sqs_event(messages, self.arn, REGION)
        answer = worker.invoke(event, **kw)
        failed = {item["itemIdentifier"] for item in answer["answer"]["batchItemFailures"]}
        for message in messages:
            if message["MessageId"] not in failed:
                # A receipt that expired meanwhile (the message went to another worker)
                # is refused; the mapping would log it, and SQS redelivers.
                with contextlib.suppress(self.sqs.exceptions.ClientError):
                    self.sqs.delete_message(
                        QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"]
                    )
        with self._lock:
            self.answers.append((event, answer))
        return answer

    def run(self, workers: list[WorkerProcess], done: Callable[[], bool]) -> None:
        """Poll with one thread per worker until ``done`` (bounded)."""
        stop = threading.Event()
        errors: list[BaseException] = []

        def poll(worker: WorkerProcess) -> None:
            try:
                while not stop.is_set():
                    if messages := self.receive():
                        self.deliver(worker, messages)
            except BaseException as exc:  # surfaced below
                errors.append(exc)
                stop.set()

        threads = [threading.Thread(target=poll, args=(w,), daemon=True) for w in workers]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + DEADLINE_SECONDS
        try:
            while not stop.is_set() and not done():
                assert time.monotonic() < deadline, "the workers did not finish in time"
                time.sleep(0.5)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        assert not errors, errors

    def pending(self) -> int:
        """Messages visible or in flight (moto's counts are exact; AWS's approximate)."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        got = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=names)
        return sum(int(got["Attributes"][name]) for name in names)

    def dead_letters(self) -> list[str]:
        bodies = []
        while True:
            got = self.sqs.receive_message(
                QueueUrl=self.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            )
            messages = got.get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                bodies.append(message["Body"])
                self.sqs.delete_message(
                    QueueUrl=self.dlq_url, ReceiptHandle=message["ReceiptHandle"]
                )


def send_raw(mapping: Mapping, body: str) -> None:
    mapping.sqs.send_message(
        QueueUrl=mapping.url,
        MessageBody=body,
        MessageGroupId="g0",
        MessageDeduplicationId=uuid.uuid4().hex,
    )


def statuses(app: Pynenc, ids: list[str]) -> dict[str, InvocationStatus]:
    return {inv: app.orchestrator.get_invocation_status(InvocationId(inv)) for inv in ids}


def history_counts(app: Pynenc, inv: str) -> Counter[str]:
    return Counter(
        h.status_record.status.value for h in app.state_backend.get_history(InvocationId(inv))
    )


def test_concurrent_workers_run_every_invocation_once_and_fail_only_poisoned_messages(
    project: Any, start_worker: Callable[[], WorkerProcess]
) -> None:
    app = project.app
    mapping = Mapping(app)
    workers = [start_worker() for _ in range(3)]
    added = [project.add(n, n) for n in range(24)]
    failing = [project.fails(n) for n in range(3)]
    retried = [project.always_retried(n) for n in range(2)]
    send_raw(mapping, f"unknown-{uuid.uuid4().hex}")
    send_raw(mapping, json.dumps({"not": "an id"}))
    every = [i.invocation_id for i in added + failing + retried]
    final = InvocationStatus.get_final_statuses()
    dead: list[str] = []

    def done() -> bool:
        if any(s not in final for s in statuses(app, every).values()):
            return False
        dead.extend(mapping.dead_letters())
        return len(dead) >= 2

    mapping.run(workers, done)

    assert [i.result for i in added] == [n + n for n in range(24)]
    assert set(statuses(app, [i.invocation_id for i in failing]).values()) == {
        InvocationStatus.FAILED
    }
    assert set(statuses(app, [i.invocation_id for i in retried]).values()) == {
        InvocationStatus.FAILED
    }
    # Exactly once: one run per invocation (two for a retried one), one final status.
    for inv in [i.invocation_id for i in added + failing]:
        counts = history_counts(app, inv)
        assert counts["running"] == 1, (inv, counts)
        assert sum(counts[s.value] for s in final) == 1, (inv, counts)
    for inv in [i.invocation_id for i in retried]:
        counts = history_counts(app, inv)
        assert (counts["running"], counts["retry"], counts["failed"]) == (2, 1, 1), counts
    # Only the poisoned messages were ever reported, each in a batch whose other records
    # went through; a task's exception is not a message failure.
    poisoned = set()
    for event, answer in mapping.answers:
        failures = {f["itemIdentifier"] for f in answer["answer"]["batchItemFailures"]}
        bodies = {r["messageId"]: r["body"] for r in event["Records"]}
        for message_id in failures:
            assert bodies[message_id] not in every
            poisoned.add(bodies[message_id])
    assert len(poisoned) == 2
    assert sorted(dead) == sorted(poisoned)
    # The handler and the app came from the artifact.
    files = mapping.answers[0][1]["files"]
    assert "/function/" in files["app"] and "/function/" in files["worker_tasks"]
    assert "/layer/python/" in files["pynenc_dynamodb"]


def test_a_duplicate_delivery_is_acknowledged_and_runs_nothing(
    project: Any, start_worker: Callable[[], WorkerProcess]
) -> None:
    """Two deliveries of the same messages at once (at-least-once delivery): one run each,
    the other handler acknowledges them (claimed first by the other, or already final)."""
    app = project.app
    mapping = Mapping(app)
    first, second = start_worker(), start_worker()
    invocations = [project.add(n, 1) for n in range(8)]
    messages: list[dict[str, Any]] = []
    while len(messages) < 8:
        messages += mapping.receive()
    answers: list[dict[str, Any]] = []
    threads = [
        threading.Thread(target=lambda w=w: answers.append(mapping.deliver(w, messages)))
        for w in (first, second)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a["answer"]["batchItemFailures"] for a in answers] == [[], []]
    for invocation in invocations:
        counts = history_counts(app, invocation.invocation_id)
        assert (counts["running"], counts["success"]) == (1, 1), counts


def test_records_are_not_started_when_the_function_is_out_of_time(
    project: Any, start_worker: Callable[[], WorkerProcess]
) -> None:
    app = project.app
    mapping = Mapping(app)
    invocation = project.add(40, 2)
    messages = mapping.receive()
    answer = mapping.deliver(start_worker(), messages, remaining_ms=500)
    assert {f["itemIdentifier"] for f in answer["answer"]["batchItemFailures"]} == {
        m["MessageId"] for m in messages
    }
    assert (
        app.orchestrator.get_invocation_status(invocation.invocation_id)
        == InvocationStatus.REGISTERED
    )


def test_an_invocation_of_a_function_that_died_is_recovered_like_a_dead_runners(
    project: Any, start_worker: Callable[[], WorkerProcess], tmp_path: Path
) -> None:
    """A function killed mid-task (as a timeout ends it) stops heartbeating: pynenc's
    recovery of dead runners finds its invocation, reroutes it, and it runs again."""
    app = project.app
    mapping = Mapping(app)
    marker = tmp_path / "started"
    invocation = project.sleeps_on_first_run(str(marker))
    inv = invocation.invocation_id
    messages: list[dict[str, Any]] = []
    while not messages:
        messages = mapping.receive()
    doomed = start_worker()
    doomed.send(sqs_event(messages, mapping.arn, REGION))
    deadline = time.monotonic() + 60
    while app.orchestrator.get_invocation_status(inv) != InvocationStatus.RUNNING:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert inv not in set(app.orchestrator.get_running_invocations_for_recovery())
    doomed.kill()
    while inv not in set(app.orchestrator.get_running_invocations_for_recovery()):
        assert time.monotonic() < deadline + 60, "the dead function's runner stayed alive"
        time.sleep(0.5)
    # pynenc's own recovery task, as the scheduled services would run it.
    context.set_current_app(app)
    context.set_runner_context(app.app_id, RunnerContext("RecoveryTest"))
    recover_running_invocations()
    assert app.orchestrator.get_invocation_status(inv) == InvocationStatus.REROUTED
    mapping.run([start_worker()], lambda: app.orchestrator.get_invocation_status(inv).is_final())
    assert invocation.result == "done"
    counts = history_counts(app, inv)
    assert (counts["running"], counts["running_recovery"], counts["success"]) == (2, 1, 1)


def test_a_scheduled_event_runs_the_services_under_the_functions_one_identity(
    project: Any, start_worker: Callable[[], WorkerProcess]
) -> None:
    app = project.app
    worker = start_worker()
    for _ in range(2):
        assert worker.invoke(scheduled_event())["answer"] == {"scheduled": True}
    eligible = [
        r.runner_id for r in app.orchestrator.get_active_runners(can_run_atomic_service=True)
    ]
    assert eligible.count("LambdaRunner@pynenc-worker-artifact#services") == 1


def test_requests_per_plain_task_run_on_a_warm_worker(
    project: Any, start_worker: Callable[[], WorkerProcess], endpoint: LocalEndpointProcess
) -> None:
    """What the handler itself sends per run of a plain task (the mapping's receives and
    deletes are Lambda's, not the function's): DynamoDB requests only, no SQS."""
    app = project.app
    mapping = Mapping(app)
    worker = start_worker()
    # What earlier tests left (messages coming back, routed recovery tasks) goes first.
    mapping.run([worker], lambda: mapping.pending() == 0)
    count = 10
    invocations = [project.add(n, 2) for n in range(count)]
    messages: list[dict[str, Any]] = []
    while len(messages) < count:
        messages += mapping.receive()
    before = request_counts(endpoint.url)
    answer = worker.invoke(sqs_event(messages, mapping.arn, REGION))
    spent = request_counts(endpoint.url) - before
    assert answer["answer"]["batchItemFailures"] == []
    assert [i.result for i in invocations] == [n + 2 for n in range(count)]
    per_run = {op: round(n / count, 1) for op, n in sorted(spent.items())}
    print(f"\nRequests per plain task run in one batch of {count}: {per_run}")
    assert not [op for op in spent if op.startswith(SQS_COUNT_PREFIX)]
