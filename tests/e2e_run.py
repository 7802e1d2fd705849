"""One end-to-end run in a fresh interpreter: ``python -m tests.e2e_run RUNNER``.

Starts the runner, submits the workload, waits for every result and prints the
invocation ids as JSON. The calling test reads the outcome back from DynamoDB."""

import json
import sys
import threading


def main(runner_cls: str) -> None:
    from tests import e2e_app

    app = e2e_app.app
    assert type(app.runner).__name__ == runner_cls, app.runner
    thread = threading.Thread(target=app.runner.run, daemon=True)
    thread.start()
    squares = [e2e_app.square(n) for n in range(8)]
    failing = e2e_app.fail("boom")
    flaky = e2e_app.flaky("flaky-1")
    pipeline = e2e_app.pipeline([1, 2, 3])
    results = {
        "squares": [inv.result for inv in squares],
        "flaky": flaky.result,
        "pipeline": pipeline.result,
    }
    try:
        results["fail"] = f"unexpected result {failing.result!r}"
    except ValueError as exc:
        results["fail"] = str(exc)
    app.runner.stop_runner_loop()
    thread.join(timeout=60)
    app.state_backend.wait_for_all_async_operations()
    ids = {
        "squares": [inv.invocation_id for inv in squares],
        "fail": failing.invocation_id,
        "flaky": flaky.invocation_id,
        "pipeline": pipeline.invocation_id,
    }
    print(json.dumps({"results": results, "ids": ids}))


if __name__ == "__main__":
    main(sys.argv[1])
