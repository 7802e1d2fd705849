"""The wait methods over pynenc's background history writes, while other threads keep
registering writes (a runner's threads do, during a purge or a wait)."""

import threading
import time
from collections import defaultdict

import pytest

from pynenc_dynamodb.async_writes import KeptWriteErrors
from pynenc_dynamodb.errors import AsyncWriteError


class Backend(KeptWriteErrors):
    """The attribute pynenc's ``BaseStateBackend`` gives the mixin."""

    def __init__(self) -> None:
        self.invocation_threads: dict[str, list[threading.Thread]] = defaultdict(list)

    def add_history(self, invocation_id: str, then: "str | None" = None) -> threading.Thread:
        """As pynenc does: register the write's thread, then start it. The write of
        ``then`` is registered by this one's thread, before it finishes."""

        def write() -> None:
            if then is not None:
                # Late enough for the waiting thread to be joining this one by then.
                time.sleep(0.2)
                self.add_history(then)

        thread = threading.Thread(target=write)
        self.invocation_threads[invocation_id].append(thread)
        thread.start()
        return thread


def test_settling_while_writes_are_registered_waits_for_those_it_saw() -> None:
    backend = Backend()
    first = backend.add_history("a", then="b")
    backend._settle_writes()
    assert not first.is_alive()
    # The write registered during the wait is another invocation's: still waited for
    # by its own wait method.
    backend.wait_for_all_async_operations()
    assert not backend.invocation_threads


def test_waiting_for_all_while_writes_are_registered() -> None:
    backend = Backend()
    backend.add_history("a", then="b")
    backend._keep_error("b", OSError("lost"))
    with pytest.raises(AsyncWriteError):
        backend.wait_for_all_async_operations()


def test_a_write_registered_but_not_yet_started_is_waited_for() -> None:
    backend = Backend()
    ran = threading.Event()
    thread = threading.Thread(target=ran.set)
    # pynenc appends the thread before it starts it: a wait can fall in between.
    backend.invocation_threads["a"].append(thread)
    starter = threading.Timer(0.05, thread.start)
    starter.start()
    backend.wait_for_invocation_async_operations("a")
    assert ran.is_set()
    starter.join()
