"""The task of ``tests.benchmarks.stack``: an app built from ``PYNENC__`` variables, which the
benchmark and its worker processes share."""

from pynenc import Pynenc

app = Pynenc()


@app.task
def noop(i: int) -> int:
    return i
