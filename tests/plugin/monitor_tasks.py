"""Tasks of the monitor check (pynenc tasks are defined at module level; the test moves them
onto its own app with ``task.app = app``, as pynenc's suites do)."""

from pynenc import PynencBuilder

app = PynencBuilder().app_id("monitor-tasks").memory().build()


@app.task
def square(x: int) -> int:
    return x * x


@app.task
def sum_of_squares(n: int) -> int:
    """A workflow: its sub-tasks run as their own invocations, then it adds their results."""
    return sum(square.parallelize([(i,) for i in range(n)]).results)


@app.task
def fail(reason: str) -> None:
    raise ValueError(reason)
