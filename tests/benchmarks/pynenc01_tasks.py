"""The task of ``tests.benchmarks.pynenc01``'s lifecycles, in a module of its own: pynenc
refuses tasks of ``__main__``, and each measured app takes it over (``add.app = app``)."""

from pynenc import PynencBuilder

app = PynencBuilder().app_id("bench01").memory().build()


@app.task
def add(x: int, y: int) -> int:
    return x + y
