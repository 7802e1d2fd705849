"""Module-level tasks the contract tests build invocations of (pynenc resolves a task by
its module path when it deserializes an invocation)."""

from pynenc import Pynenc

app = Pynenc(app_id="contract-tasks")


@app.task
def add(x: int, y: int) -> int:
    return x + y


@app.task
def echo(value: object) -> object:
    return value
