"""LambdaRunner's settings, its selection by name, and the worker's app loading; the
function itself is driven in test_lambda_worker.py."""

from typing import Any

import pytest
from pynenc import PynencBuilder
from pynenc.exceptions import RunnerNotExecutableError

from pynenc_dynamodb import ConfigurationError, LambdaRunner
from pynenc_dynamodb.plugin.conf import ConfigRunnerLambda
from pynenc_dynamodb.plugin.runner.loading import load_app


def config(**values: Any) -> ConfigRunnerLambda:
    return ConfigRunnerLambda(config_values=values)


def test_selectable_by_name_and_without_a_loop() -> None:
    app = PynencBuilder().app_id("lambda-runner").custom_config(runner_cls="LambdaRunner").build()
    runner = app.runner
    assert isinstance(runner, LambdaRunner)
    assert runner.runner_id.startswith("LambdaRunner@")
    assert not LambdaRunner.mem_compatible()
    assert runner.max_parallel_slots == 1
    assert runner.get_active_child_runner_ids() == []
    with pytest.raises(RunnerNotExecutableError, match="event source mapping"):
        runner.runner_loop_iteration()


@pytest.mark.parametrize(("dead_minutes", "expected"), [(10, 60.0), (0.1, 1.5), (2, 30.0)])
def test_heartbeats_come_four_times_per_dead_runner_delay_at_most_every_minute(
    dead_minutes: float, expected: float
) -> None:
    assert config().heartbeat_seconds(dead_minutes) == expected
    assert config(lambda_heartbeat_interval_seconds=5).heartbeat_seconds(dead_minutes) == 5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("lambda_min_remaining_seconds", -1),
        ("lambda_min_remaining_seconds", 901),
        ("lambda_heartbeat_interval_seconds", -0.5),
    ],
)
def test_bad_settings_name_themselves(name: str, value: Any) -> None:
    settings = config(**{name: value})
    with pytest.raises(ConfigurationError, match=f"{name}.*PYNENC__CONFIGRUNNERLAMBDA__"):
        if name == "lambda_min_remaining_seconds":
            settings.min_remaining_seconds()
        else:
            settings.heartbeat_seconds(10)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "must name the module"),
        (":app", "must name the module"),
        ("json:dumps", "not a pynenc app"),
    ],
)
def test_a_spec_that_names_no_app_is_refused_naming_the_variable(spec: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=f"PYNENC_APP.*{message}"):
        load_app(spec)
