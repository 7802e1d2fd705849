"""Plain-data records the store writes in batches; no pynenc import."""

from dataclasses import dataclass


@dataclass(frozen=True)
class InvocationEntry:
    """One invocation as the store writes it, with what indexes it.

    :param invocation_id: its id
    :param body: the adapter's JSON of the invocation and its call
    :param workflow_id: the workflow it runs in
    :param workflow_type: the key of that workflow's task
    :param parent_id: the invocation that started it, if any
    """

    invocation_id: str
    body: str
    workflow_id: str
    workflow_type: str
    parent_id: str | None
