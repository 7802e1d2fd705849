"""The pynenc side of the backends: serialization and pynenc semantics over a state store.

The mixin holds no DynamoDB expression and no key; it turns pynenc objects into the
strings pynenc already produces and hands them to a store (the table directly, or the
state API), so every backend class shares one implementation of pynenc's contract.
"""

import json
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pynenc import exceptions
from pynenc.invocation.dist_invocation import DistributedInvocation
from pynenc.state_backend.base_state_backend import InvocationHistory
from pynenc.workflow import WorkflowIdentity

from pynenc_dynamodb.app_registry import AppRegistry
from pynenc_dynamodb.async_writes import KeptWriteErrors
from pynenc_dynamodb.errors import UnrestoredTaskError
from pynenc_dynamodb.store_contract import StateStore

if TYPE_CHECKING:
    from pynenc.app import Pynenc

logger = logging.getLogger(__name__)

Invocation = DistributedInvocation[Any, Any]


def exception_to_json(exception: Exception, serialize: Any) -> str:
    """The envelope pynenc's Redis backend uses: PynencErrors keep their own JSON form."""
    if isinstance(exception, exceptions.PynencError):
        envelope: dict[str, str | bool] = {
            "error_name": exception.__class__.__name__,
            "pynenc_error": True,
            "error_data": exception.to_json(),
        }
    else:
        envelope = {
            "error_name": exception.__class__.__name__,
            "pynenc_error": False,
            "error_data": serialize(exception),
        }
    return json.dumps(envelope)


def exception_from_json(body: str, deserialize: Any) -> Exception:
    envelope = json.loads(body)
    if envelope["pynenc_error"]:
        return exceptions.PynencError.from_json(envelope["error_name"], envelope["error_data"])
    restored = deserialize(envelope["error_data"])
    if isinstance(restored, Exception):
        return restored
    # pynenc's JsonSerializer rebuilds builtin exceptions only: keep the rest readable.
    return UnrestoredTaskError(envelope["error_name"], restored)


class MissingInvocationError(exceptions.InvocationNotFoundError, KeyError):
    """An invocation that is not stored.

    pynenc's ``InvocationNotFoundError``, and a ``KeyError`` as the Mem and Redis backends
    raise: pynenc's RedisOrchestrator (``auto_purge``, ``get_invocation``) catches KeyError.
    """


class StoreBackedStateBackend(KeptWriteErrors, AppRegistry):
    """Implements every operation of ``BaseStateBackend`` over :attr:`store`.

    Mixed in before ``BaseStateBackend`` by the concrete backends, which stay its direct
    subclasses (pynenc discovers backends through ``BaseStateBackend.__subclasses__()``).
    """

    app: "Pynenc"

    @property
    def store(self) -> StateStore:
        raise NotImplementedError

    # -- background history writes ------------------------------------------------------

    def _add_history(self, invocation: Invocation, invocation_history: InvocationHistory) -> None:
        # Runs in a thread of its own: a failure must be kept, or it would be lost.
        try:
            self.store.add_history(
                invocation.invocation_id,
                invocation_history.timestamp,
                invocation_history.to_json(),
            )
        except Exception as exc:  # kept, then raised by the wait methods
            logger.exception(
                "History record of invocation %s was not written", invocation.invocation_id
            )
            self._keep_error(invocation.invocation_id, exc)

    # -- invocations --------------------------------------------------------------------

    def _upsert_invocation(self, invocation: Invocation) -> None:
        self.store.put_invocation(invocation.invocation_id, invocation.to_json())

    def _get_invocation(self, invocation_id: str) -> Invocation:
        body = self.store.get_invocation(invocation_id)
        if body is None:
            raise MissingInvocationError(invocation_id, "The invocation wasn't stored")
        return DistributedInvocation.from_json(self.app, body)

    def _get_history(self, invocation: Invocation) -> list[InvocationHistory]:
        bodies = self.store.get_history(invocation.invocation_id)
        return [InvocationHistory.from_json(body) for body in bodies]

    def _set_result(self, invocation: Invocation, result: Any) -> None:
        self.store.put_result(invocation.invocation_id, self.app.serializer.serialize(result))

    def _get_result(self, invocation: Invocation) -> Any:
        body = self.store.get_result(invocation.invocation_id)
        if body is None:
            raise KeyError(f"Result for invocation {invocation.invocation_id} not found")
        return self.app.serializer.deserialize(body)

    def _set_exception(self, invocation: Invocation, exception: Exception) -> None:
        body = exception_to_json(exception, self.app.serializer.serialize)
        self.store.put_exception(invocation.invocation_id, body)

    def _get_exception(self, invocation: Invocation) -> Exception:
        body = self.store.get_exception(invocation.invocation_id)
        if body is None:
            raise KeyError(f"Exception for invocation {invocation.invocation_id} not found")
        return exception_from_json(body, self.app.serializer.deserialize)

    # -- workflows ----------------------------------------------------------------------

    def set_workflow_data(self, workflow_identity: WorkflowIdentity, key: str, value: Any) -> None:
        body = self.app.serializer.serialize(value)
        self.store.put_workflow_data(workflow_identity.workflow_id, key, body)

    def get_workflow_data(
        self, workflow_identity: WorkflowIdentity, key: str, default: Any = None
    ) -> Any:
        body = self.store.get_workflow_data(workflow_identity.workflow_id, key)
        return default if body is None else self.app.serializer.deserialize(body)

    def get_workflow_deterministic_value(self, workflow: WorkflowIdentity, key: str) -> Any:
        body = self.store.get_deterministic_value(workflow.workflow_id, key)
        return None if body is None else self.app.serializer.deserialize(body)

    def set_workflow_deterministic_value(
        self, workflow: WorkflowIdentity, key: str, value: Any
    ) -> None:
        body = self.app.serializer.serialize(value)
        self.store.put_deterministic_value(workflow.workflow_id, key, body)

    def store_workflow_run(self, workflow_identity: WorkflowIdentity) -> None:
        self.store.put_workflow_run(
            workflow_identity.workflow_task_id,
            workflow_identity.workflow_id,
            workflow_identity.to_json(),
        )

    def get_all_workflows(self) -> Iterator[str]:
        return self.store.workflow_types()

    def get_all_workflows_runs(self) -> Iterator[WorkflowIdentity]:
        return (WorkflowIdentity.from_json(b) for b in self.store.all_workflow_runs())

    def get_workflow_runs(self, workflow_task_id: str) -> Iterator[WorkflowIdentity]:
        runs = self.store.workflow_runs(workflow_task_id)
        return (WorkflowIdentity.from_json(body) for body in runs)

    def store_workflow_sub_invocation(
        self, parent_workflow_id: str, sub_invocation_id: str
    ) -> None:
        self.store.put_sub_invocation(parent_workflow_id, sub_invocation_id)

    def get_workflow_sub_invocations(self, workflow_id: str) -> Iterator[str]:
        return self.store.sub_invocations(workflow_id)

    # -- purge -------------------------------------------------------------------------

    def purge(self) -> None:
        """Delete every item of the current app; other apps sharing the table are untouched."""
        self._settle_writes()
        self.store.purge()
