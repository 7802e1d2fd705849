"""``LambdaRunner``: the pynenc 0.1 runner of a Lambda worker function, which runs the
invocations an SQS event source mapping delivers instead of polling the broker."""

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pynenc import context
from pynenc.exceptions import InvocationStatusError, RunnerNotExecutableError
from pynenc.identifiers.invocation_id import InvocationId
from pynenc.invocation.status import InvocationStatus
from pynenc.runner.base_runner import BaseRunner
from pynenc.runner.runner_context import RunnerContext

from pynenc_dynamodb.plugin.conf.config_runner import ConfigRunnerLambda
from pynenc_dynamodb.plugin.runner.heartbeats import Heartbeats

if TYPE_CHECKING:
    from pynenc.app import Pynenc


class Outcome(StrEnum):
    """What became of one delivered invocation id; every outcome acknowledges the message
    (errors of the stack raise instead, and SQS delivers the message again)."""

    #: run to its end: SUCCESS, FAILED or RETRY (rerouted) as pynenc's rules decide
    RAN = "ran"
    #: already final: a duplicate delivery, dropped
    FINAL = "final"
    #: not available for run (pending or running elsewhere, paused, killed, recovering):
    #: whoever holds it moves it on, or recovery reroutes it with a new message
    HELD = "held"
    #: another runner claimed it first
    TAKEN = "taken"
    #: concurrency control kept it from running (rerouted, or final, per the task)
    CONTROLLED = "controlled"


class UnknownInvocationError(KeyError):
    """The message names an invocation this app's orchestrator never registered."""


class InvocationNotSettledError(RuntimeError):
    """The run ended in an error of the stack itself and left the invocation neither final
    nor retried: this runner's identity is retired so that recovery takes it over."""


class LambdaRunner(BaseRunner):
    """
    Runs pynenc invocations inside a Lambda function, one delivered id at a time.

    The handler calls :meth:`start` once per execution environment, wraps each batch in
    :meth:`batch` and each record in :meth:`run_delivered`. There is no runner loop:
    the event source mapping polls the queue.

    **Identity and recovery.** Invocations are owned by the runner id, which sends
    heartbeats (``register_runner_heartbeats``) only while a batch runs, from a thread the
    handler stops before it returns. A function that times out or crashes stops sending
    them, so pynenc's recovery of dead runners (``recover_running_invocations``) reroutes
    what it held, as for any dead runner. Lambda resets an environment whose run failed;
    should it not, a batch that did not end cleanly (or an invocation left unsettled)
    retires the id, and the next batch runs under a fresh one.

    Select it with ``runner_cls="LambdaRunner"``; settings:
    :class:`~pynenc_dynamodb.ConfigRunnerLambda`.

    :param Pynenc app: the app whose invocations this runner runs
    """

    def __init__(
        self,
        app: "Pynenc",
        runner_cache: dict[Any, Any] | None = None,
        runner_context: RunnerContext | None = None,
    ) -> None:
        self._heartbeats: Heartbeats | None = None
        self._clean = True
        # Set False by a run that left its invocation unsettled: the batch is unclean.
        self._clean_batch = True
        self._stored_context_id = ""
        self._started = False
        super().__init__(app, runner_cache, runner_context or self._new_context())

    @classmethod
    def _new_context(cls) -> RunnerContext:
        return RunnerContext(cls.__name__, f"{cls.__name__}@{uuid.uuid4()}")

    @cached_property
    def conf(self) -> ConfigRunnerLambda:
        return ConfigRunnerLambda(
            config_values=self.app.config_values,
            config_filepath=self.app.config_filepath,
        )

    @staticmethod
    def mem_compatible() -> bool:
        """Lambda executions share no memory with each other: no in-memory components."""
        return False

    @property
    def max_parallel_slots(self) -> int:
        """Records run one after another in an execution."""
        return 1

    def get_active_child_runner_ids(self) -> list[str]:
        return []

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        """Once per execution environment (at cold start): make this the app's current
        runner and register pynenc's core tasks and the deferred triggers, as a runner's
        start does, so that recovery tasks and triggered tasks can run here."""
        if self._started:
            return
        context.set_current_runner(self.app.app_id, self)
        self.on_start()
        self._started = True

    def _on_start(self) -> None:
        pass

    def _on_stop(self) -> None:
        self._stop_heartbeats()

    def _on_stop_runner_loop(self) -> None:
        self._stop_heartbeats()

    def runner_loop_iteration(self) -> None:
        raise RunnerNotExecutableError(
            "LambdaRunner has no loop: the SQS event source mapping delivers the invocations "
            "to the worker function's handler (lambdas/worker)"
        )

    def _waiting_for_results(
        self,
        running_invocation_id: "InvocationId",
        result_invocation_ids: list["InvocationId"],
        runner_args: dict[str, Any] | None = None,
    ) -> None:
        """A waiting parent holds its function (billed) until its results arrive or the
        function times out; recovery then reroutes it. See docs/aws-stack.md."""
        del running_invocation_id, result_invocation_ids, runner_args
        time.sleep(self.conf.invocation_wait_results_sleep_time_sec)

    # -- batches ------------------------------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[RunnerContext]:
        """One handler execution: the runner's identity, stored and heartbeating while the
        batch runs. An id whose previous batch did not end cleanly is retired first."""
        self.start()
        if not self._clean:
            self.app.logger.warning(
                "Retiring runner:%s: its previous batch did not end cleanly", self.runner_id
            )
            self._runner_context = self._new_context()
        self._clean = False
        runner_ctx = self.runner_context
        if self._stored_context_id != runner_ctx.runner_id:
            self.app.state_backend.store_runner_context(runner_ctx)
            self._stored_context_id = runner_ctx.runner_id
        interval = self.conf.heartbeat_seconds(self.app.conf.runner_considered_dead_after_minutes)
        self._heartbeats = Heartbeats(self._beat, interval)
        self._heartbeats.start()
        settled = False
        try:
            yield runner_ctx
            self._wait_for_history()
            settled = True
        finally:
            self._stop_heartbeats()
            self._clean = settled and self._clean_batch
            self._clean_batch = True

    def _wait_for_history(self) -> None:
        """pynenc writes status history in background threads: a frozen environment would
        hold them until its next run, or lose them. The threads are joined, then forgotten
        (pynenc keeps them per invocation for the life of the process)."""
        backend = self.app.state_backend
        backend.wait_for_all_async_operations()
        backend.invocation_threads.clear()

    def _beat(self) -> None:
        self.app.orchestrator.register_runner_heartbeats([self.runner_id])

    def _stop_heartbeats(self) -> None:
        if self._heartbeats is not None:
            self._heartbeats.stop()
            self._heartbeats = None

    # -- one delivered invocation ---------------------------------------------------------

    def run_delivered(self, invocation_id: str) -> Outcome:
        """Run the invocation a message delivered, following pynenc's status rules: claim
        it (PENDING, a conditional transition only one runner wins), then run it
        (``DistributedInvocation.run``: RUNNING, then SUCCESS, FAILED or RETRY).

        A task's exception is the task's outcome, not the message's: pynenc stored it and
        the message is acknowledged.

        :param invocation_id: the message body
        :return: what became of it
        :raises UnknownInvocationError: for an id the orchestrator does not know
        :raises InvocationNotSettledError: when an error of the stack left it unsettled
        """
        inv_id = InvocationId(invocation_id)
        orchestrator = self.app.orchestrator
        runner_ctx = self.runner_context
        try:
            status = orchestrator.get_invocation_status(inv_id)
        except KeyError as exc:
            raise UnknownInvocationError(
                f"invocation {invocation_id!r} is not registered in app {self.app.app_id!r}"
            ) from exc
        if status.is_final():
            return Outcome.FINAL
        if not status.is_available_for_run():
            return Outcome.HELD
        invocation = self.app.state_backend.get_invocation(inv_id)
        try:
            if not orchestrator.is_candidate_to_run_by_concurrency_control(invocation):
                self._hold_back(inv_id, invocation.task.conf.reroute_on_concurrency_control)
                return Outcome.CONTROLLED
            orchestrator.set_invocation_status(inv_id, InvocationStatus.PENDING, runner_ctx)
        except InvocationStatusError:
            return Outcome.TAKEN
        try:
            invocation.run(runner_ctx)
        except Exception as exc:
            # run() stores the task's exception (FAILED, or RETRY and a new routing) and
            # raises it again; an error of the stack itself may have left it unsettled.
            status = orchestrator.get_invocation_status(inv_id)
            if status.is_final() or status == InvocationStatus.RETRY:
                return Outcome.RAN
            self._clean_batch = False
            raise InvocationNotSettledError(
                f"invocation {invocation_id} left {status.value} by {type(exc).__name__}; "
                f"runner {self.runner_id} is retired so that recovery reroutes it"
            ) from exc
        return Outcome.RAN

    def _hold_back(self, invocation_id: InvocationId, reroute: bool) -> None:
        """Concurrency control, as pynenc's runners apply it when they pick an invocation."""
        orchestrator = self.app.orchestrator
        if reroute:
            orchestrator.set_invocation_status(
                invocation_id, InvocationStatus.CONCURRENCY_CONTROLLED, self.runner_context
            )
            orchestrator.reroute_invocations({invocation_id}, self.runner_context)
        else:
            orchestrator.set_invocation_status(
                invocation_id, InvocationStatus.CONCURRENCY_CONTROLLED_FINAL, self.runner_context
            )

    # -- scheduled services -------------------------------------------------------------

    def run_scheduled_services(self) -> None:
        """A scheduled run (EventBridge): pynenc's atomic services (triggers, and through
        them the recovery of pending invocations and of dead runners' ones) under one
        identity per function, so the function counts as one eligible runner however many
        environments the schedule reaches."""
        self.start()
        function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")
        scheduler = RunnerContext(type(self).__name__, f"{type(self).__name__}@{function}#services")
        worker_context = self._runner_context
        self._runner_context = scheduler
        context.set_runner_context(self.app.app_id, scheduler)
        try:
            # pynenc's own check, rate limit off: the schedule sets the pace.
            self._last_atomic_service_check_time = 0.0
            self._check_atomic_services()
        finally:
            self._runner_context = worker_context
            context.set_runner_context(self.app.app_id, worker_context)
