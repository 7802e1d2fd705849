"""How often one process really writes a runner's heartbeat.

pynenc's process runners report their children's heartbeats on every loop iteration
(``runner_loop_sleep_time_sec``, 0.1 s): 10 UpdateItems per second per child, while a
runner counts as dead only after ``runner_considered_dead_after_minutes`` (10). A heartbeat
written by this process less than a twentieth of that window ago, with the same
eligibility, is not written again: a live runner's last heartbeat is never older than
5 % of the window.
"""

import threading

# The share of the dead-runner window within which a heartbeat is not written again.
WINDOW_SHARE = 1 / 20


class HeartbeatPacing:
    """The heartbeats this process wrote last, by runner id; thread-safe."""

    def __init__(self) -> None:
        self._written: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def due(
        self, runner_ids: list[str], can_run_atomic_service: bool, now: float, window: float
    ) -> list[str]:
        """The ones of ``runner_ids`` to write now (and taken as written at ``now``).

        :param window: seconds after which a runner without a heartbeat counts as dead
        """
        interval = window * WINDOW_SHARE
        due = []
        with self._lock:
            for runner_id in dict.fromkeys(runner_ids):
                last = self._written.get(runner_id)
                if last is None or last[1] != can_run_atomic_service or now - last[0] >= interval:
                    due.append(runner_id)
                    self._written[runner_id] = (now, can_run_atomic_service)
        return due

    def forget(self, runner_ids: list[str] | None = None) -> None:
        """Write these heartbeats (every one for ``None``) again next time: their write
        failed, or the items were purged."""
        with self._lock:
            if runner_ids is None:
                self._written.clear()
            for runner_id in runner_ids or []:
                self._written.pop(runner_id, None)
