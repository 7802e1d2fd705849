"""Settings of :class:`~pynenc_dynamodb.LambdaRunner`: pynenc's runner settings and the
``lambda_*`` ones of a worker function."""

from cistell import ConfigField
from pynenc.conf.config_runner import ConfigRunner

from pynenc_dynamodb.errors import ConfigurationError

# Lambda's longest run: no setting of time may exceed it.
LAMBDA_MAX_SECONDS = 900


class ConfigRunnerLambda(ConfigRunner):
    """
    Settings of the runner of a Lambda worker function.

    Each can also be set as ``PYNENC__CONFIGRUNNERLAMBDA__<SETTING>``.

    :cvar ConfigField[float] lambda_min_remaining_seconds:
        A record is not started when less than this many seconds of the function's run
        remain (``context.get_remaining_time_in_millis()``): it is reported as a batch item
        failure and SQS delivers it again after the queue's visibility timeout. Set it to
        the longest run of a task the function serves; 0 starts every record.
    :cvar ConfigField[float] lambda_heartbeat_interval_seconds:
        Seconds between two heartbeats of the runner while a batch runs. 0: a quarter of
        pynenc's ``runner_considered_dead_after_minutes``, at most 60 s, so a live
        function is never taken for dead.
    """

    lambda_min_remaining_seconds = ConfigField(10.0)
    lambda_heartbeat_interval_seconds = ConfigField(0.0)

    def min_remaining_seconds(self) -> float:
        """The validated ``lambda_min_remaining_seconds``."""
        return self._seconds("lambda_min_remaining_seconds", self.lambda_min_remaining_seconds)

    def heartbeat_seconds(self, dead_after_minutes: float) -> float:
        """The heartbeat interval, validated or derived from pynenc's dead-runner delay.

        :param dead_after_minutes: pynenc's ``runner_considered_dead_after_minutes``
        """
        given = self._seconds(
            "lambda_heartbeat_interval_seconds", self.lambda_heartbeat_interval_seconds
        )
        if given:
            return given
        return max(0.05, min(60.0, dead_after_minutes * 60 / 4))

    def _seconds(self, name: str, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            value = None
        if value is None or not 0 <= float(value) <= LAMBDA_MAX_SECONDS:
            raise ConfigurationError(
                f"Setting {name}={getattr(self, name)!r} must be a number of seconds between "
                f"0 and {LAMBDA_MAX_SECONDS} (PYNENC__CONFIGRUNNERLAMBDA__{name.upper()})."
            )
        return float(value)
