"""Runner contexts: one item per runner in the app's runner partition."""

from collections.abc import Iterator, Sequence

from pynenc_dynamodb.table import builders, schema
from pynenc_dynamodb.table.store_core import StoreCore


class RunnerContexts(StoreCore):
    """Runner contexts by id, in batches, and by part of their id."""

    def put_runner_context(self, runner_id: str, body: str) -> None:
        self._put(schema.runner_context_key(self.app_id, runner_id), body, "runner context")

    def get_runner_contexts(self, runner_ids: Sequence[str]) -> list[str]:
        """Bodies of the stored runner contexts among ``runner_ids``, in the order asked
        (each once; missing ones skipped), 100 per BatchGetItem.

        Every id is validated before the first request.
        """
        keys = {schema.runner_id_of(k): k for k in self._runner_keys(runner_ids)}
        if not keys:
            return []
        self.ensure_table()
        found: dict[str, str] = {}
        for request in builders.batch_gets(self.table, list(keys.values())):
            for item in self.client.batch_get(request):
                if not builders.is_expired(item):
                    found[schema.runner_id_of(item)] = self.codec.decode(item)
        return [found[runner_id] for runner_id in keys if runner_id in found]

    def _runner_keys(self, runner_ids: Sequence[str]) -> list[schema.Key]:
        return [schema.runner_context_key(self.app_id, runner_id) for runner_id in runner_ids]

    def runner_contexts_request(self, limit: int = 0) -> builders.Request:
        pk = schema.runner_contexts_partition(self.app_id)
        return builders.query_partition(self.table, pk, limit or self.page_size)

    def matching_runner_contexts(self, partial_id: str) -> Iterator[str]:
        """Bodies of the runner contexts whose id contains ``partial_id``: a Query of the
        app's runner partition, matched on the id (not its escaped form)."""
        for item in self._query(self.runner_contexts_request()):
            if partial_id in schema.runner_id_of(item):
                yield self.codec.decode(item)
