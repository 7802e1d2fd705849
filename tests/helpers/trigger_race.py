"""Runners racing for the same cron slots and trigger runs, for tests/plugin's race tests.

Each racer is a runner of its own: its own app object (same app id), so its own
``DynamoDBTrigger`` with its own local cache and boto3 client, as in separate workers. All
racers wait on one barrier before each slot, so they hit DynamoDB together. Usable from
threads of the test process and from spawned processes (``race_in_process``).
"""

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from pynenc import Pynenc, PynencBuilder
from pynenc.trigger.conditions import CronCondition

CRON = "* * * * *"
# The first slot: a minute boundary, so every racer's time is inside its check window.
FIRST_SLOT = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
BARRIER_TIMEOUT = 120.0


def racer_app(endpoint_url: str, table: str, app_id: str, bucket: str | None = None) -> Pynenc:
    """A runner's app: state and trigger in ``table`` on ``endpoint_url`` (large bodies in
    ``bucket``, if given)."""
    builder = PynencBuilder().app_id(app_id)
    builder = builder.dynamodb(
        table=table, endpoint_url=endpoint_url, s3_bucket=bucket, state_only=True
    )
    return builder.custom_config(trigger_cls="DynamoDBTrigger").build()


def slot_time(slot: int, racer: int) -> datetime:
    """When racer ``racer`` checks slot ``slot``: within seconds of the slot's minute."""
    return FIRST_SLOT + timedelta(minutes=slot, milliseconds=100 * racer)


def race(app: Pynenc, racer: int, slots: int, barrier: Any, kind: str) -> list[tuple[int, bool]]:
    """Race for ``slots`` slots: cron slots through pynenc's own
    ``_should_trigger_cron_condition`` (read, check, conditional store), or trigger runs
    through ``claim_trigger_run``.

    :param racer: this racer's number (its check time within each slot)
    :param barrier: shared by every racer, of threads or processes
    :param kind: ``"cron"`` or ``"claim"``
    :return: (slot, won) for each slot
    """
    trigger = app.trigger
    condition = CronCondition(CRON)
    outcomes = []
    for slot in range(slots):
        barrier.wait(BARRIER_TIMEOUT)
        if kind == "cron":
            won = trigger._should_trigger_cron_condition(condition, slot_time(slot, racer))
            outcomes.append((slot, won is not None))
        else:
            outcomes.append((slot, trigger.claim_trigger_run(f"run-{slot}", 600)))
    return outcomes


def race_threads(
    endpoint_url: str,
    table: str,
    app_id: str,
    *,
    slots: int,
    threads: int,
    barrier: Any,
    kind: str,
    first_racer: int = 0,
) -> list[tuple[int, bool]]:
    """``threads`` racers in threads of this process; every outcome."""
    apps = [racer_app(endpoint_url, table, app_id) for _ in range(threads)]
    for app in apps:
        # Build each racer's store and check the table before the race starts.
        app.trigger.get_last_cron_execution("warm-up")
    outcomes: list[tuple[int, bool]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            found = race(apps[index], first_racer + index, slots, barrier, kind)
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()
            return
        with lock:
            outcomes.extend(found)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]
    return outcomes


def race_in_process(results: Any, *args: Any, **kwargs: Any) -> None:
    """Target of a spawned process: :func:`race_threads` with these arguments, its outcomes
    (or its error) put on ``results``."""
    try:
        results.put(("ok", race_threads(*args, **kwargs)))
    except BaseException as exc:
        results.put(("error", repr(exc)))
        raise
