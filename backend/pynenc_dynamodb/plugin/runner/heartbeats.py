"""A runner's heartbeats while a Lambda batch runs, in a background thread."""

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Heartbeats:
    """Calls ``beat`` at once and then every ``interval`` seconds until :meth:`stop`.

    Lambda freezes an execution environment between two runs of its handler: a thread
    left running would resume mid-request at the next thaw. :meth:`stop` therefore joins
    the thread before the handler returns. A failed heartbeat is logged and tried again
    at the next beat: one missed beat is far inside pynenc's dead-runner delay.

    :param beat: sends one heartbeat
    :param interval: seconds between two heartbeats
    """

    def __init__(self, beat: Callable[[], None], interval: float) -> None:
        self._beat = beat
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Send the first heartbeat (raising if it fails: no runner may own an invocation
        without one) and start the thread that sends the next ones."""
        self._beat()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="pynenc-heartbeats", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it (at most one heartbeat request)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._beat()
            except Exception:  # noqa: BLE001 - logged, tried again at the next beat
                logger.warning("Runner heartbeat failed; trying again in %ss", self._interval)
