"""A project's tasks as the worker function ships them (copied beside the handler by the
artifact test, imported as ``worker_tasks`` by the test process too, so task ids match).

The app is the full AWS stack on the embedded endpoint: SQS broker, DynamoDB
orchestrator, state backend and client data store; no Redis component. Its settings
come from the environment, as a deployed function's would.
"""

import os

from pynenc import PynencBuilder


class Flaky(Exception):
    """Retried by ``always_retried`` (pynenc's retry rules)."""


app = (
    PynencBuilder()
    .app_id(os.environ["WORKER_APP_ID"])
    .dynamodb(
        table=os.environ["WORKER_TABLE"],
        endpoint_url=os.environ["WORKER_ENDPOINT"],
        s3_bucket=os.environ["WORKER_BUCKET"],
    )
    .custom_config(
        broker_cls="SQSBroker",
        orchestrator_cls="DynamoDBOrchestrator",
        sqs_create_queue=True,
        sqs_message_groups=4,
        sqs_visibility_timeout_seconds=int(os.environ.get("WORKER_VISIBILITY", "5")),
        sqs_max_receive_count=2,
        sqs_wait_time_seconds=1,
        runner_considered_dead_after_minutes=float(os.environ.get("WORKER_DEAD_MINUTES", "10")),
        lambda_min_remaining_seconds=1.0,
    )
    .build()
)


@app.task
def add(x: int, y: int) -> int:
    return x + y


@app.task
def fails(n: int) -> int:
    raise ValueError(f"task {n} fails on purpose")


@app.task(retry_for=(Flaky,), max_retries=1)
def always_retried(n: int) -> int:
    raise Flaky(f"attempt of {n} fails")


@app.task
def sleeps_on_first_run(marker: str) -> str:
    """Blocks the first time (until its process is killed, as a timeout would), returns
    the second time."""
    if not os.path.exists(marker):
        with open(marker, "w") as file:
            file.write("started")
        import time

        time.sleep(600)
    return "done"
