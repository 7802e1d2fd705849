"""One value per process, built on first use: boto3 clients and connection pools must
not cross a fork, and spawned workers must build their own."""

import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

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
