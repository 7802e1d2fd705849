"""pynenc 0.1 runner of the Lambda worker function (lambdas/worker)."""

from pynenc_dynamodb.plugin.runner.lambda_runner import (
    InvocationNotSettledError,
    LambdaRunner,
    Outcome,
    UnknownInvocationError,
)

__all__ = ["InvocationNotSettledError", "LambdaRunner", "Outcome", "UnknownInvocationError"]
