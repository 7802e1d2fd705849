"""pynenc 0.1's trigger component in the state table, on serialized strings: conditions,
trigger definitions and their links, valid conditions, cron last executions and run claims.

Nothing here parses a pynenc body; the plugin's ``DynamoDBTrigger`` does. Every item is kept
forever (``dynamodb_ttl_seconds`` does not apply: a trigger definition must outlive any
TTL), except run claims, which expire by design. Keys come from
:mod:`pynenc_dynamodb.table.schema.triggers`, conditional writes from
:mod:`pynenc_dynamodb.table.trigger_builders`.
"""

import math
import time
import uuid
from collections.abc import Iterator, Sequence

from pynenc_dynamodb.errors import ConditionFailedError
from pynenc_dynamodb.table import builders, schema, trigger_builders
from pynenc_dynamodb.table.builders import Item
from pynenc_dynamodb.table.payloads import PayloadCodec
from pynenc_dynamodb.table.store_core import StoreCore


class TriggerStore(StoreCore):
    """One app's trigger items; see :class:`~pynenc_dynamodb.table.store_core.StoreCore`
    for its parameters."""

    @property
    def trigger_codec(self) -> PayloadCodec:
        """The store's codec with objects under the trigger's prefix: a valid condition that
        holds a large result goes to S3 there, and the trigger's purge deletes it."""
        return self.codec.with_objects_under(
            schema.trigger_object_prefix(self.app_id), self.codec.policy
        )

    def _put_body(self, key: schema.Key, body: str, what: str) -> None:
        self._put(key, body, what, keep_forever=True, codec=self.trigger_codec)

    def _item(
        self, key: schema.Key, attributes: Item, what: str, extra: Item | None = None
    ) -> Item:
        return builders.check_size(builders.build_item(key, attributes, None, extra), what)

    def _prefix_bodies(self, prefix: schema.Prefix) -> Iterator[str]:
        request = builders.query_prefix(self.table, prefix, self.page_size)
        return (self.trigger_codec.decode(item) for item in self._query(request))

    # -- conditions ---------------------------------------------------------------------

    def put_condition(self, condition_id: str, body: str) -> None:
        self._put_body(schema.condition_key(self.app_id, condition_id), body, "trigger condition")

    def get_condition(self, condition_id: str) -> str | None:
        key = schema.condition_key(self.app_id, condition_id)
        return self._get(key, codec=self.trigger_codec)

    def conditions(self) -> Iterator[str]:
        """Every condition of the app: a Query of one partition, page by page."""
        pk = schema.conditions_partition(self.app_id)
        request = builders.query_partition(self.table, pk, self.page_size)
        return (self.trigger_codec.decode(item) for item in self._query(request))

    def put_source_condition(self, task_key: str, condition_id: str, body: str | None) -> None:
        """Record that ``condition_id`` watches task ``task_key``, with the condition's body
        when known, so that reading a task's conditions is one Query.

        :param body: the condition's JSON, or ``None`` to look it up when read
        """
        key = schema.source_condition_key(self.app_id, task_key, condition_id)
        if body is not None:
            self._put_body(key, body, "source task condition")
            return
        self.ensure_table()
        item: Item = {**key}
        self.client.put(builders.put_item(self.table, item))

    def source_conditions(self, task_key: str) -> list[tuple[str, str | None]]:
        """The conditions watching ``task_key``: (condition id, body or ``None`` when it was
        recorded without one), from one Query of the task's shard."""
        prefix = schema.source_conditions_prefix(self.app_id, task_key)
        request = builders.query_prefix(self.table, prefix, self.page_size)
        found = []
        for item in self._query(request):
            stored = schema.BODY in item or schema.OBJECT_KEY in item
            body = self.trigger_codec.decode(item) if stored else None
            found.append((schema.linked_id_of(item), body))
        return found

    # -- trigger definitions ------------------------------------------------------------

    def put_trigger(
        self, trigger_id: str, task_key: str, condition_ids: Sequence[str], body: str
    ) -> None:
        """Store a definition, its task link and one link per condition (each with the
        definition): ``ceil((2 + conditions) / 25)`` BatchWriteItem requests."""
        what = "trigger definition"
        definition = schema.trigger_key(self.app_id, trigger_id)
        task_link = schema.task_trigger_key(self.app_id, task_key, trigger_id)
        links = [schema.condition_trigger_key(self.app_id, c, trigger_id) for c in condition_ids]
        self.ensure_table()
        # One body under several keys: encoded (and uploaded, if large) once.
        attributes = self.trigger_codec.encode(body, what)
        extra = trigger_builders.task_link_extra(list(condition_ids))
        items = [self._item(definition, attributes, what)]
        items.append(self._item(task_link, attributes, what, extra))
        items += [self._item(link, attributes, what) for link in links]
        self._write(items)

    def get_trigger(self, trigger_id: str) -> str | None:
        key = schema.trigger_key(self.app_id, trigger_id)
        return self._get(key, codec=self.trigger_codec)

    def condition_triggers(self, condition_id: str) -> list[str]:
        """Definitions of the triggers that depend on ``condition_id``: one Query."""
        return list(
            self._prefix_bodies(schema.condition_triggers_prefix(self.app_id, condition_id))
        )

    def delete_task_triggers(self, task_key: str) -> int:
        """Delete every trigger of ``task_key`` with its links: one Query of the task's links,
        then ``ceil(deletes / 25)`` BatchWriteItem requests (none if it has no trigger).

        :return: the number of items deleted
        """
        prefix = schema.task_triggers_prefix(self.app_id, task_key)
        request = builders.query_prefix(self.table, prefix, self.page_size)
        request["ProjectionExpression"] = "#pk, #sk, #cids"
        request["ExpressionAttributeNames"]["#cids"] = schema.CONDITION_IDS
        keys: list[schema.Key] = []
        for link in self._query_all(request):
            trigger_id = schema.linked_id_of(link)
            keys.append(builders.key_of(link))
            keys.append(schema.trigger_key(self.app_id, trigger_id))
            for condition_id in trigger_builders.condition_ids_of(link):
                keys.append(schema.condition_trigger_key(self.app_id, condition_id, trigger_id))
        return self._delete(_distinct(keys)) if keys else 0

    # -- valid conditions ---------------------------------------------------------------

    def put_valid_conditions(self, valid_conditions: Sequence[tuple[str, str]]) -> None:
        """Store (id, body) pairs: ``ceil(N / 25)`` BatchWriteItem requests; of two with one
        id, the last is kept."""
        what = "valid condition"
        keys = [schema.valid_condition_key(self.app_id, vc_id) for vc_id, _ in valid_conditions]
        if not keys:
            return
        self.ensure_table()
        bodies = (self.trigger_codec.encode(body, what) for _, body in valid_conditions)
        self._write(
            [self._item(k, attributes, what) for k, attributes in zip(keys, bodies, strict=True)]
        )

    def valid_conditions(self) -> Iterator[str]:
        """Bodies of every valid condition: one Query per shard, read lazily."""
        for pk in schema.valid_condition_partitions(self.app_id):
            request = builders.query_partition(self.table, pk, self.page_size)
            for item in self._query(request):
                yield self.trigger_codec.decode(item)

    def delete_valid_conditions(self, valid_condition_ids: Sequence[str]) -> int:
        """Delete valid conditions by id: ``ceil(N / 25)`` BatchWriteItem requests (an id
        given twice is deleted once; a missing one is no error)."""
        keys = [schema.valid_condition_key(self.app_id, vc_id) for vc_id in valid_condition_ids]
        return self._delete(_distinct(keys)) if keys else 0

    # -- cron last executions and run claims: conditional writes ------------------------

    def cron_last_execution(self, condition_id: str) -> str | None:
        """The last execution stored for a cron condition (strongly consistent GetItem)."""
        self.ensure_table()
        key = schema.cron_last_execution_key(self.app_id, condition_id)
        item = self.client.get(builders.get_item(self.table, key))
        return str(item[schema.LAST_EXECUTION]["S"]) if item else None

    def store_cron_last_execution(self, condition_id: str, last: str, expected: str | None) -> bool:
        """Set the last execution to ``last`` if it still is ``expected`` (``None``: if never
        set): one conditional PutItem. Of any number of runners that read the same value and
        race, exactly one gets ``True``.

        :param last: the new value, a fixed-width UTC timestamp
        :param expected: the value the caller read
        """
        key = schema.cron_last_execution_key(self.app_id, condition_id)
        token = uuid.uuid4().hex
        request = trigger_builders.put_cron_last_execution(self.table, key, last, token, expected)
        return self._put_if(request, token)

    def claim_trigger_run(
        self, trigger_run_id: str, expiration_seconds: float, now: float | None = None
    ) -> bool:
        """Claim a trigger run for ``expiration_seconds``: one conditional PutItem. While a
        claim has not expired, no other call gets ``True``; once it has, the next does.

        :param now: the caller's clock in epoch seconds; ``time.time()`` by default
        """
        current = time.time() if now is None else now
        key = schema.trigger_run_claim_key(self.app_id, trigger_run_id)
        token = uuid.uuid4().hex
        # Whole seconds, rounded so that a claim never lapses early.
        expires_at = math.ceil(current + expiration_seconds)
        request = trigger_builders.put_run_claim(
            self.table, key, token, math.floor(current), expires_at
        )
        return self._put_if(request, token)

    def _put_if(self, request: builders.Request, token: str) -> bool:
        self.ensure_table()
        try:
            self.client.put(request)
        except ConditionFailedError as failed:
            return trigger_builders.is_own_write(failed.item, token)
        return True

    # -- purge --------------------------------------------------------------------------

    def purge_trigger(self) -> int:
        """Delete the app's trigger items (a Query per trigger partition, 25 deletes per
        request), then the trigger's S3 objects. The state and client data stay.

        :return: items and objects deleted
        """
        deleted = self._delete_partitions(schema.trigger_partitions(self.app_id))
        return deleted + self.trigger_codec.purge()


def _distinct(keys: list[schema.Key]) -> list[schema.Key]:
    # A batch that names one key twice is rejected by DynamoDB.
    by_key = {(k[schema.PK]["S"], k[schema.SK]["S"]): k for k in keys}
    return list(by_key.values())
