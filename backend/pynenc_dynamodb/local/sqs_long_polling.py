"""SQS long polling on the embedded endpoint, as SQS does it for FIFO queues.

moto's ``receive_message`` notes the message groups in flight once, when a long poll
starts, and skips their messages until the wait ends: a runner that starts polling while
another holds a message of the group (between its receive and its delete) gets nothing
for the whole ``WaitTimeSeconds``, even after that message is deleted and others arrive,
and meanwhile spins on the queue, taking the server's CPU from every other request. SQS
hands out the group's next message as soon as the one in flight is deleted. Here each
long poll is a series of moto's short polls (each with the groups in flight of that
moment), waiting between them until a message is sent or a short interval passes.
"""

import time
from typing import Any

# Between two looks at the queue during a long poll: how late a message of a group
# whose message in flight was just deleted can be handed out.
RECHECK_SECONDS = 0.01

_PATCHED = "_pynenc_dynamodb_long_polling"


def patch_long_polling() -> None:
    """Make moto's SQS backend long-poll as SQS does (see the module); idempotent."""
    from moto.sqs.models import SQSBackend

    short_poll = SQSBackend.receive_message
    if getattr(short_poll, _PATCHED, False):
        return

    def receive_message(  # noqa: PLR0917 - moto's signature, called positionally
        self: Any,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> Any:
        deadline = time.monotonic() + wait_seconds_timeout
        while True:
            found = short_poll(
                self, queue_name, count, 0, visibility_timeout, message_attribute_names
            )
            if found or time.monotonic() >= deadline:
                return found
            # moto notifies this condition when a message is sent to the queue.
            condition = self.get_queue(queue_name)._messages_lock
            with condition:
                condition.wait(RECHECK_SECONDS)

    setattr(receive_message, _PATCHED, True)
    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
