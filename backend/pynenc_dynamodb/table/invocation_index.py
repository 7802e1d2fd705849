"""Invocations written in batches, with what finds them again: the children of an
invocation and the members of a workflow (indexed by workflow type in gsi1)."""

from collections.abc import Iterator, Sequence

from pynenc_dynamodb.table import builders, schema
from pynenc_dynamodb.table.builders import Item
from pynenc_dynamodb.table.entries import InvocationEntry
from pynenc_dynamodb.table.store_core import StoreCore


class InvocationIndex(StoreCore):
    """Batched invocation writes, child and workflow-member listings."""

    def put_invocations(self, entries: Sequence[InvocationEntry]) -> None:
        """Store invocations with their member and child items, 25 items per request.

        Every key is built (and validated) before a body is encoded or anything is sent:
        one bad entry raises :class:`~pynenc_dynamodb.errors.InvalidKeyError` and nothing of
        the batch is written. Two entries of one invocation: the last one is kept.
        """
        expires_at = builders.expiry(self.ttl_seconds)
        keys = [schema.invocation_key(self.app_id, e.invocation_id) for e in entries]
        indexes = [self._index_items(entry, expires_at) for entry in entries]
        # Bodies may go to S3: only once every key is known to be valid.
        self.ensure_table()
        items: list[Item] = []
        for key, entry, index_items in zip(keys, entries, indexes, strict=True):
            attributes = self.codec.encode(entry.body, "invocation")
            item = builders.build_item(key, attributes, expires_at)
            items += [builders.check_size(item, "invocation"), *index_items]
        self._write(items)

    def _index_items(self, entry: InvocationEntry, expires_at: int | None) -> list[Item]:
        """The member item of an entry, and its child item if it has a parent."""
        inv = entry.invocation_id
        index_keys = schema.member_index_keys(
            self.app_id, entry.workflow_id, entry.workflow_type, inv
        )
        member_key = schema.member_key(self.app_id, entry.workflow_id, inv)
        items = [builders.build_item(member_key, inv, expires_at, index_keys)]
        if entry.parent_id is not None:
            child_key = schema.child_key(self.app_id, entry.parent_id, inv)
            items.append(builders.build_item(child_key, inv, expires_at))
        return items

    def children_request(self, parent_id: str, limit: int = 0) -> builders.Request:
        prefix = schema.children_prefix(self.app_id, parent_id)
        return builders.query_prefix(self.table, prefix, limit or self.page_size)

    def child_invocations(self, parent_id: str) -> Iterator[str]:
        """Ids of the invocations ``parent_id`` started, one Query page at a time."""
        return self._bodies(self.children_request(parent_id))

    def members_requests(
        self, workflow_id: str | None, workflow_type: str | None, limit: int = 0
    ) -> list[builders.Request]:
        """The Queries that list the members asked for, read one after the other.

        With a workflow id: its partition's members (one Query, of that type only if a type
        is given). Otherwise the ``SHARDS`` member partitions of gsi1, restricted to one
        type's sort-key prefix if a type is given.
        """
        page_size = limit or self.page_size
        type_prefix = "" if workflow_type is None else schema.member_type_prefix(workflow_type)
        if workflow_id is not None:
            prefix = schema.members_prefix(self.app_id, workflow_id)
            request = builders.query_prefix(self.table, prefix, page_size)
            return (
                [builders.with_index_sort_prefix(request, type_prefix)]
                if type_prefix
                else [request]
            )
        return [
            builders.query_index_prefix(self.table, pk, type_prefix, page_size)
            for pk in schema.member_index_partitions(self.app_id)
        ]

    def invocation_ids_by_workflow(
        self, workflow_id: str | None, workflow_type: str | None
    ) -> Iterator[str]:
        """Ids of the invocations of a workflow, of a workflow type, of both, or (both
        ``None``) every invocation of the app; read lazily, a page at a time."""
        for request in self.members_requests(workflow_id, workflow_type):
            yield from self._bodies(request)
