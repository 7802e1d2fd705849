"""``DynamoDBTrigger`` for pynenc 0.1: conditions, trigger definitions, valid conditions, cron
last executions and run claims in the state table.

The store (:class:`~pynenc_dynamodb.table.triggers.TriggerStore`) holds strings; this class
turns pynenc's objects into them and back.
"""

import json
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pynenc.identifiers.task_id import TaskId
from pynenc.models.trigger_definition_dto import TriggerDefinitionDTO
from pynenc.trigger.base_trigger import BaseTrigger
from pynenc.trigger.conditions import (
    CompositeLogic,
    ConditionContext,
    TriggerCondition,
    ValidCondition,
)

from pynenc_dynamodb.config_fields import build_store
from pynenc_dynamodb.plugin.conf import ConfigTriggerDynamoDB
from pynenc_dynamodb.table import schema
from pynenc_dynamodb.table.triggers import TriggerStore

if TYPE_CHECKING:
    from pynenc.trigger.types import ConditionId

# How schema.timestamp_component writes a time: fixed width, UTC, microseconds.
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# pynenc reports every status change, result and failure of every task to the trigger,
# which reads the conditions watching that task each time: a process keeps what it read
# this long, so a task run does not pay about six Queries for triggers it may not have.
SOURCE_CONDITIONS_SECONDS = 5.0


class DynamoDBTrigger(BaseTrigger):
    """
    pynenc trigger component in the DynamoDB table of
    :class:`~pynenc_dynamodb.DynamoDBStateBackend`, configured by the same ``dynamodb_*``
    settings (:class:`~pynenc_dynamodb.plugin.conf.ConfigTriggerDynamoDB`).

    The cron last execution and the trigger-run claims are conditional writes: however
    many runners race for one cron slot or one run, exactly one wins. Select it with
    ``trigger_cls="DynamoDBTrigger"``.

    :param Pynenc app: the pynenc app whose triggers this component holds
    """

    @cached_property
    def conf(self) -> ConfigTriggerDynamoDB:
        return ConfigTriggerDynamoDB(
            config_values=self.app.config_values,
            config_filepath=self.app.config_filepath,
        )

    @cached_property
    def store(self) -> TriggerStore:
        return build_store(self.conf, self.app.app_id, TriggerStore)

    @cached_property
    def _source_conditions(self) -> dict[str, tuple[float, list[tuple[str, str | None]]]]:
        """Conditions watching each task, as last read, and when (monotonic seconds)."""
        return {}

    def _conditions_watching(self, task_key: str) -> list[tuple[str, str | None]]:
        now = time.monotonic()
        cached = self._source_conditions.get(task_key)
        if cached is not None and now - cached[0] < SOURCE_CONDITIONS_SECONDS:
            return cached[1]
        links = list(self.store.source_conditions(task_key))
        self._source_conditions[task_key] = (now, links)
        return links

    # -- conditions ---------------------------------------------------------------------

    def _register_condition(self, condition: TriggerCondition[Any]) -> None:
        self.store.put_condition(condition.condition_id, condition.to_json(self.app))

    def get_condition(self, condition_id: str) -> TriggerCondition[Any] | None:
        body = self.store.get_condition(condition_id)
        return TriggerCondition.from_json(body, self.app) if body is not None else None

    def _get_all_conditions(self) -> list[TriggerCondition[Any]]:
        return [TriggerCondition.from_json(body, self.app) for body in self.store.conditions()]

    def _register_source_task_condition(self, task_id: TaskId, condition_id: "ConditionId") -> None:
        # The condition travels with the link (base registers it first), so that a status
        # change reads its task's conditions in one Query.
        condition = self._registered_conditions.get(condition_id)
        body = condition.to_json(self.app) if condition is not None else None
        self.store.put_source_condition(task_id.key, condition_id, body)
        self._source_conditions.pop(task_id.key, None)

    def get_conditions_sourced_from_task(
        self, task_id: TaskId, context_type: type[ConditionContext] | None = None
    ) -> list[TriggerCondition[Any]]:
        """The conditions watching ``task_id``, as read from the table at most
        :data:`SOURCE_CONDITIONS_SECONDS` ago by this process (at once for a condition this
        process registered: its own writes drop what it kept)."""
        conditions: list[TriggerCondition[Any]] = []
        for condition_id, body in self._conditions_watching(task_id.key):
            condition = (
                TriggerCondition.from_json(body, self.app)
                if body is not None
                else self.get_condition(condition_id)
            )
            if condition is None:
                continue
            if context_type is None or condition.context_type == context_type:
                conditions.append(condition)
        return conditions

    # -- trigger definitions ------------------------------------------------------------

    def register_trigger(self, trigger: TriggerDefinitionDTO) -> None:
        self.store.put_trigger(
            trigger.trigger_id, trigger.task_id.key, trigger.condition_ids, _dto_to_json(trigger)
        )

    def _get_trigger(self, trigger_id: str) -> TriggerDefinitionDTO | None:
        body = self.store.get_trigger(trigger_id)
        return _dto_from_json(body) if body is not None else None

    def get_triggers_for_condition(self, condition_id: str) -> list[TriggerDefinitionDTO]:
        return [_dto_from_json(body) for body in self.store.condition_triggers(condition_id)]

    def clean_task_trigger_definitions(self, task_id: TaskId) -> None:
        self.store.delete_task_triggers(task_id.key)
        self._source_conditions.clear()

    # -- valid conditions ---------------------------------------------------------------

    def record_valid_condition(self, valid_condition: ValidCondition) -> None:
        self.record_valid_conditions([valid_condition])

    def record_valid_conditions(self, valid_conditions: list[ValidCondition]) -> None:
        self.store.put_valid_conditions(
            [(vc.valid_condition_id, vc.to_json(self.app)) for vc in valid_conditions]
        )

    def get_valid_conditions(self) -> dict[str, ValidCondition]:
        found = (ValidCondition.from_json(body, self.app) for body in self.store.valid_conditions())
        return {vc.valid_condition_id: vc for vc in found}

    def clear_valid_conditions(self, conditions: Iterable[ValidCondition]) -> None:
        self.store.delete_valid_conditions([vc.valid_condition_id for vc in conditions])

    # -- cron and run claims ------------------------------------------------------------

    def get_last_cron_execution(self, condition_id: "ConditionId") -> datetime | None:
        stored = self.store.cron_last_execution(condition_id)
        if stored is None:
            return None
        return datetime.strptime(stored, _TIMESTAMP_FORMAT).replace(tzinfo=UTC)

    def store_last_cron_execution(
        self,
        condition_id: "ConditionId",
        execution_time: datetime,
        expected_last_execution: datetime | None = None,
    ) -> bool:
        """Store the last execution only if it still is ``expected_last_execution``; with
        ``None``, only if none was stored yet (as pynenc's Redis trigger does): a runner
        that saw no execution cannot overwrite one another runner stored meanwhile.

        Times are stored in UTC to the microsecond; a naive time is taken to be UTC.
        """
        expected = expected_last_execution
        return self.store.store_cron_last_execution(
            condition_id,
            schema.timestamp_component(execution_time),
            schema.timestamp_component(expected) if expected is not None else None,
        )

    def claim_trigger_run(self, trigger_run_id: str, expiration_seconds: int = 60) -> bool:
        return self.store.claim_trigger_run(trigger_run_id, expiration_seconds)

    def _purge(self) -> None:
        self._source_conditions.clear()
        self.store.purge_trigger()


def _dto_to_json(trigger: TriggerDefinitionDTO) -> str:
    return json.dumps(
        {
            "trigger_id": trigger.trigger_id,
            "task_id": trigger.task_id.key,
            "condition_ids": list(trigger.condition_ids),
            "logic": trigger.logic.value,
            "argument_provider_json": trigger.argument_provider_json,
        }
    )


def _dto_from_json(body: str) -> TriggerDefinitionDTO:
    data = json.loads(body)
    return TriggerDefinitionDTO(
        trigger_id=data["trigger_id"],
        task_id=TaskId.from_key(data["task_id"]),
        condition_ids=list(data["condition_ids"]),
        logic=CompositeLogic(data["logic"]),
        argument_provider_json=data["argument_provider_json"],
    )
