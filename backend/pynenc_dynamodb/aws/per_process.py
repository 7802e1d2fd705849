"""One value per process, built on first use: boto3 clients and connection pools must
not cross a fork, and spawned workers must build their own.

Also the process-wide state a worker's warm-up shares with the backends of that process:
the boto3 client it built ahead of time, and the checks that run once per process.
Every lock here is replaced in a forked child: a lock held by another thread at the fork
would stay held for ever in the child, where that thread does not exist.
"""

import os
import threading
import weakref
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class PerProcess(Generic[T]):
    """Holds what ``build`` returns for the current process; builds it again after a fork.

    :param build: makes the value; called at most once per process
    """

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._pid = 0
        self._lock = threading.Lock()
        _holders.add(self)

    def get(self) -> T:
        pid = os.getpid()
        value = self._value
        if value is None or self._pid != pid:
            with self._lock:
                if self._value is None or self._pid != pid:
                    self._value = self._build()
                    self._pid = pid
                value = self._value
        return value


_holders: "weakref.WeakSet[PerProcess[Any]]" = weakref.WeakSet()


class _Registry:
    """What this process keeps; its locks are replaced in a forked child."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key_locks: dict[Hashable, threading.Lock] = {}
        self.kept: dict[Hashable, Any] = {}
        self.done: set[Hashable] = set()

    def key_lock(self, key: Hashable) -> threading.Lock:
        with self.lock:
            return self.key_locks.setdefault(key, threading.Lock())


_registry = _Registry()


@contextmanager
def preparing(key: Hashable) -> Iterator[None]:
    """Hold the lock of ``key``: :func:`kept` and :func:`once` of the same key wait."""
    with _registry.key_lock(key):
        yield


def keep(key: Hashable, value: Any) -> None:
    """Keep ``value`` under ``key`` for the rest of this process (forgotten in a fork)."""
    with _registry.lock:
        _registry.kept[key] = value


def kept(key: Hashable) -> Any | None:
    """The value kept under ``key``, waiting while it is being prepared; ``None`` if none."""
    with _registry.key_lock(key), _registry.lock:
        return _registry.kept.get(key)


def once(key: Hashable, action: Callable[[], None]) -> None:
    """Run ``action`` until it succeeds once in this process; callers of one key wait for
    the one running it. A failure is raised to its caller, and the next caller tries again.
    """
    if key in _registry.done:
        return
    with _registry.key_lock(key):
        if key not in _registry.done:
            action()
            _registry.done.add(key)


def _after_fork_in_child() -> None:
    _registry.lock = threading.Lock()
    _registry.key_locks.clear()
    # Clients must not cross a fork; what ``once`` checked (a table) stays true in the child.
    _registry.kept.clear()
    for holder in list(_holders):
        holder._lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
