"""pynenc's client data store in the state table: values under keys, in partitions and an
S3 prefix of their own, so that purging the state keeps them and purging them keeps the
state."""

from pynenc_dynamodb.table import schema
from pynenc_dynamodb.table.payloads import PayloadCodec, PayloadPolicy
from pynenc_dynamodb.table.store_core import StoreCore


class ClientData(StoreCore):
    """Client data values by key."""

    @property
    def client_data_codec(self) -> PayloadCodec:
        """The store's codec with objects under the client data prefix; with a bucket, every
        value goes to S3 (client data holds the large arguments pynenc moves out of calls)."""
        policy = PayloadPolicy(self.codec.policy.compress_min_bytes, offload_min_bytes=0)
        return self.codec.with_objects_under(schema.client_data_object_prefix(self.app_id), policy)

    def put_client_data(self, key: str, body: str) -> None:
        item_key = schema.client_data_key(self.app_id, key)
        self._put(item_key, body, "client data value", codec=self.client_data_codec)

    def get_client_data(self, key: str) -> str | None:
        return self._get(schema.client_data_key(self.app_id, key), codec=self.client_data_codec)

    def purge_client_data(self) -> int:
        """Delete the app's client data items, then their objects.

        :return: items and objects deleted
        """
        deleted = self._delete_partitions(schema.client_data_partitions(self.app_id))
        # Objects go after the items that point at them: no reader follows a dead pointer.
        return deleted + self.client_data_codec.purge()

    def purge_client_data_step(
        self, max_items: int, max_seconds: float, start: int = 0
    ) -> tuple[int, int | None]:
        """One bounded piece of :meth:`purge_client_data`, as
        :meth:`~pynenc_dynamodb.table.store.DynamoDBStateStore.purge_step` is of a purge.

        :param start: where the previous step stopped, an index of
            :func:`~pynenc_dynamodb.table.schema.client_data_partitions`; 0 starts over
        :return: how many items or objects were deleted, and where to resume (``None``
            once no client data item or object is left)
        """
        partitions = schema.client_data_partitions(self.app_id)
        codec = self.client_data_codec
        return self._purge_step(partitions, codec, max_items, max_seconds, start)
