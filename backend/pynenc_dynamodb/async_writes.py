"""Background history writes whose failure must not be lost, for both pynenc adapters.

pynenc writes history records in threads of their own: an exception there would vanish.
The adapters keep the first failure of each invocation and raise it, as
:class:`AsyncWriteError`, from the wait methods pynenc declares for those threads.
"""

import logging
import threading
import time

from pynenc_dynamodb.errors import AsyncWriteError

logger = logging.getLogger(__name__)

# Background history write errors kept for the wait methods, at most.
MAX_KEPT_ERRORS = 1000
# How long a wait gives a write registered by pynenc, but not yet started, to start.
START_WAIT_SECONDS = 5.0


def join_write(thread: threading.Thread) -> None:
    """Wait for a background write's thread.

    pynenc registers the thread in ``invocation_threads`` before it starts it, and another
    thread may wait in between: joining then raises, so wait for the start first.

    :param thread: the write's thread, started or about to be
    """
    deadline = time.monotonic() + START_WAIT_SECONDS
    while True:
        try:
            thread.join()
        except RuntimeError:
            if thread.is_alive() or time.monotonic() > deadline:
                raise
            time.sleep(0.001)
        else:
            return


class KeptWriteErrors:
    """The wait methods of pynenc's state backends, raising what a background write kept.

    Mixed in before ``BaseStateBackend``, which sets :attr:`invocation_threads`.
    """

    invocation_threads: dict[str, list[threading.Thread]]

    @property
    def _async_errors(self) -> dict[str, BaseException]:
        # Created lazily: BaseStateBackend.__init__ runs after the mixin's attributes.
        errors: dict[str, BaseException] | None = self.__dict__.get("_errors")
        if errors is None:
            errors = self.__dict__.setdefault("_errors", {})
        return errors

    def _keep_error(self, invocation_id: str, error: BaseException) -> None:
        # pynenc's runners never call the wait methods, so a worker could keep errors for
        # ever: keep the first per invocation, without its frames, and a bounded number.
        errors = self._async_errors
        errors.setdefault(invocation_id, error.with_traceback(None))
        while len(errors) > MAX_KEPT_ERRORS:
            dropped = next(iter(errors))
            logger.warning("Forgetting the history write error of invocation %s", dropped)
            errors.pop(dropped, None)

    def wait_for_invocation_async_operations(self, invocation_id: str) -> None:
        """Wait for the invocation's background writes; raise the first that failed.

        :raises AsyncWriteError: if a history record of the invocation was not written
        """
        for thread in self.invocation_threads.pop(invocation_id, []):
            join_write(thread)
        error = self._async_errors.pop(invocation_id, None)
        if error is not None:
            raise AsyncWriteError(invocation_id, error) from error

    def wait_for_all_async_operations(self) -> None:
        """Wait for every background write; raise the first that failed."""
        # A copy of the ids: runner threads register writes meanwhile.
        for invocation_id in list(self.invocation_threads):
            self.wait_for_invocation_async_operations(invocation_id)
        for invocation_id in list(self._async_errors):
            self.wait_for_invocation_async_operations(invocation_id)

    def _settle_writes(self) -> None:
        """Wait for every background write and forget its errors (before a purge: a
        record still in flight would land after it, and its failure no longer matters).

        Runner threads may register writes meanwhile: those registered once it has begun
        are left to their own wait."""
        for invocation_id in list(self.invocation_threads):
            for thread in self.invocation_threads.pop(invocation_id, []):
                join_write(thread)
        self._async_errors.clear()
