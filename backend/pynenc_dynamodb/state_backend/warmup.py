"""Workers ready for their first task: when a pynenc worker process starts, a daemon
thread imports boto3, builds the process's DynamoDB client and checks the table.

pynenc 0.0.24 hands a worker its app as configuration only and builds the state backend
on first use, so without this the first task of every fresh ``PersistentProcessRunner`` or
``MultiThreadRunner`` worker pays for all of it. Both workers announce themselves with
``pynenc.context.set_current_runner`` as they start; :func:`install` wraps it (the autoload
hook calls it, and so does importing this package).

Nothing here can hide an error: a warm-up that fails leaves nothing behind, and the first
real request does the same work again and raises what it raises without a warm-up.
"""

import logging
import threading
from dataclasses import replace
from types import ModuleType
from typing import Any

logger = logging.getLogger(__name__)

# The backends whose workers are warmed up, by the name pynenc is configured with.
WARMED_BACKENDS = frozenset({"DynamoDBStateBackend"})
MARKER = "_pynenc_dynamodb_warm_up"


def warm(app: Any) -> None:
    """Build the boto3 client the backends of this worker process share; check the table.

    Runs in a daemon thread of a fresh worker. A worker holds two apps (the one its runner
    was given, the one its task module builds), so two backends: both use this client and
    skip the table check the warm-up made. A request that needs the client or the check
    waits for the warm-up instead of doing the same work beside it.

    :param app: the pynenc app the worker runs
    """
    try:
        if app.conf.state_backend_cls not in WARMED_BACKENDS:
            return
        from pynenc_dynamodb.aws.dynamodb import (
            DynamoDBClient,
            build_boto3_client,
            warmed_client_key,
        )
        from pynenc_dynamodb.aws.per_process import keep, once, preparing
        from pynenc_dynamodb.config_fields import build_store
        from pynenc_dynamodb.state_backend.conf import ConfigStateBackendDynamoDB

        conf = ConfigStateBackendDynamoDB(
            config_values=app.config_values, config_filepath=app.config_filepath
        )
        settings = conf.client_settings()
        key = warmed_client_key(settings)
        built: list[Any] = []

        def build() -> None:
            built.append(build_boto3_client(settings))
            keep(key, built[0])

        with preparing(key):
            once(("warm-up", key), build)
        if not built:
            return  # warmed up already in this process
        client = built[0]
        store = build_store(conf, app.app_id)
        # One round only: a check that fails here is repeated, with every retry, by the
        # worker's first request, which raises; the warm-up delays it by one round at most.
        store.client = DynamoDBClient(replace(settings, max_attempts=1), factory=lambda _: client)
        check = store.table_check_key()
        with preparing(check):  # the worker's backends wait for it, then skip their own
            store.check_table()
            keep(check, True)
    except Exception:
        logger.debug(
            "Warm-up of the DynamoDB backend failed; the first request repeats it",
            exc_info=True,
        )


def start(runner: Any) -> None:
    """Warm up, in a daemon thread, the state backend of the app ``runner`` runs."""
    app = getattr(runner, "app", None)
    if app is not None:
        threading.Thread(target=warm, args=(app,), name=MARKER, daemon=True).start()


def wrap_context(context: ModuleType) -> None:
    """Make ``context.set_current_runner`` (called as a worker starts) start the warm-up."""
    original = context.set_current_runner
    if getattr(original, MARKER, False):
        return

    def set_current_runner(app_id: str, runner: Any) -> None:
        original(app_id, runner)
        start(runner)

    setattr(set_current_runner, MARKER, True)
    setattr(context, "set_current_runner", set_current_runner)  # noqa: B010


def install() -> None:
    """Wrap ``pynenc.context`` of this interpreter (idempotent)."""
    from pynenc import context

    wrap_context(context)
