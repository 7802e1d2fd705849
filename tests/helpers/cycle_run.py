"""One run of the cycle in a fresh interpreter: ``python -m tests.helpers.cycle_run RUNNER``.

Starts the runner, calls ``ping(1)`` (which waits on ``pong(1)``, which waits on
``ping(1)``) and prints, as JSON, the exception the caller got."""

import json
import sys
import threading


def main(runner_cls: str) -> None:
    from tests.helpers import cycle_app

    app = cycle_app.app
    assert type(app.runner).__name__ == runner_cls, app.runner
    thread = threading.Thread(target=app.runner.run, daemon=True)
    thread.start()
    invocation = cycle_app.ping(1)
    try:
        outcome = {"result": invocation.result}
    except Exception as exc:
        error = type(exc)
        outcome = {
            "error": f"{error.__module__}.{error.__qualname__}",
            "message": str(exc),
            "call_ids": getattr(exc, "call_ids", None),
        }
    app.runner.stop_runner_loop()
    thread.join(timeout=60)
    app.state_backend.purge()
    print(json.dumps(outcome))


if __name__ == "__main__":
    main(sys.argv[1])
