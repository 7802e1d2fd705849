"""pynenc 0.1's invocation DTOs and workflow identities as the JSON bodies the store keeps.

One body per invocation holds its ``InvocationDTO`` and ``CallDTO`` (the serialized
arguments included, inline or as client data store references): one item, one read.
"""

import json
from typing import Any

from pynenc.identifiers.call_id import CallId
from pynenc.identifiers.invocation_id import InvocationId
from pynenc.identifiers.task_id import TaskId
from pynenc.models.call_dto import CallDTO
from pynenc.models.invocation_dto import InvocationDTO
from pynenc.workflow import WorkflowIdentity

from pynenc_dynamodb.table.entries import InvocationEntry


def _task(task_id: TaskId) -> list[str]:
    # Module and name apart: a TaskId key splits on its last dot only.
    return [task_id.module, task_id.func_name]


def _workflow_fields(workflow: WorkflowIdentity) -> dict[str, Any]:
    return {
        "workflow_id": workflow.workflow_id,
        "workflow_type": _task(workflow.workflow_type),
        "parent_workflow_id": workflow.parent_workflow_id,
    }


def _workflow_of(fields: dict[str, Any]) -> WorkflowIdentity:
    parent = fields.get("parent_workflow_id")
    return WorkflowIdentity(
        workflow_id=InvocationId(fields["workflow_id"]),
        workflow_type=TaskId(*fields["workflow_type"]),
        parent_workflow_id=InvocationId(parent) if parent else None,
    )


def workflow_to_json(workflow: WorkflowIdentity) -> str:
    """A workflow run's body."""
    return json.dumps(_workflow_fields(workflow))


def workflow_from_json(body: str) -> WorkflowIdentity:
    return _workflow_of(json.loads(body))


def invocation_entry(invocation: InvocationDTO, call: CallDTO) -> InvocationEntry:
    """The store's record of one invocation: its body and what indexes it."""
    body = {
        "invocation_id": invocation.invocation_id,
        "task": _task(call.call_id.task_id),
        "args_id": call.call_id.args_id,
        "workflow": _workflow_fields(invocation.workflow),
        "parent_invocation_id": invocation.parent_invocation_id,
        "serialized_arguments": call.serialized_arguments,
    }
    return InvocationEntry(
        invocation_id=invocation.invocation_id,
        body=json.dumps(body),
        workflow_id=invocation.workflow.workflow_id,
        workflow_type=invocation.workflow.workflow_type.key,
        parent_id=invocation.parent_invocation_id,
    )


def invocation_from_json(body: str) -> tuple[InvocationDTO, CallDTO]:
    """The DTOs of an invocation body."""
    fields = json.loads(body)
    call_id = CallId(task_id=TaskId(*fields["task"]), args_id=fields["args_id"])
    parent = fields.get("parent_invocation_id")
    invocation = InvocationDTO(
        invocation_id=InvocationId(fields["invocation_id"]),
        call_id=call_id,
        workflow=_workflow_of(fields["workflow"]),
        parent_invocation_id=InvocationId(parent) if parent else None,
    )
    arguments: dict[str, str] = fields.get("serialized_arguments") or {}
    return invocation, CallDTO(call_id=call_id, serialized_arguments=arguments)
