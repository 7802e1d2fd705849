"""The BUILT state API, not the source tree, imports and serves requests.

Builds what ``sam build`` deploys, the way SAM builds it: the layer is ``backend/`` copied
into ``python/`` (``ContentUri: backend/``, ``BuildMethod: python3.12``), the function is
``lambdas/state_api/requirements.txt`` pip-installed next to the handler's files. Then a
bare interpreter (``-S``: no site-packages) with Lambda's path order (function, layer, the
runtime's boto3) imports ``app.handler`` and serves real-shaped API Gateway events against
the embedded endpoint. A module missing from the artifact, or a sibling import that only
works from the source tree, fails here.
"""

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from infra.lambda_artifact import BuildError, build, tree_bytes

from pynenc_dynamodb.local.api_server import build_event, create_cursor_secret
from pynenc_dynamodb.local.endpoint import DEFAULT_BUCKET, LocalEndpointProcess
from tests.conftest import TABLE, unique_app_id


def may_skip(error: BuildError, environ: Mapping[str, str]) -> bool:
    """Skip for want of the registry on a laptop; in CI only when the network failed, so a
    wrong pin or a missing package fails the build there."""
    if environ.get("CI", "").lower() in ("true", "1"):
        return error.network
    return error.offline


@pytest.mark.parametrize(
    ("offline", "network", "ci", "skipped"),
    [
        (True, True, "true", True),
        (True, False, "true", False),
        (False, False, "true", False),
        (True, False, "", True),
        (False, False, "", False),
    ],
)
def test_only_a_network_failure_skips_in_ci(
    offline: bool, network: bool, ci: str, skipped: bool
) -> None:
    assert may_skip(BuildError("pip failed", offline, network), {"CI": ci}) is skipped


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The function, layer and runtime directories, as Lambda would mount them."""
    try:
        built = build(tmp_path_factory.mktemp("artifact"))
    except BuildError as exc:
        if may_skip(exc, os.environ):
            pytest.skip(f"pip cannot reach the package registry: {str(exc)[-300:]}")
        raise
    sizes = {"function": tree_bytes(built.function), "layer": tree_bytes(built.layer.parent)}
    print(f"\nBuilt state API artifact (bytes, unzipped): {sizes}")
    return {"function": built.function, "layer": built.layer, "runtime": built.runtime}


# Runs in the bare interpreter: Lambda's path order, then one event per line of stdin.
RUNNER = textwrap.dedent(
    """
    import json, sys
    paths = json.loads(sys.argv[1])
    sys.path[:0] = [paths["function"], paths["layer"], paths["runtime"]]

    class Context:
        function_name = "pynenc-state-api-artifact"
        function_version = "$LATEST"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:artifact"
        aws_request_id = "artifact-test"
        def get_remaining_time_in_millis(self):
            return 30000

    import app
    responses = [app.handler(json.loads(line), Context()) for line in sys.stdin if line.strip()]
    modules = {
        name: getattr(module, "__file__", None) or ""
        for name, module in list(sys.modules.items())
    }
    print(json.dumps({"responses": responses, "modules": modules}))
    """
)


def api_event(method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API event, built by the local API server's own translation."""
    body = json.dumps(payload).encode() if payload is not None else b""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "RAW_URI": path,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "api-id.execute-api.us-east-1.amazonaws.com",
        "HTTP_AUTHORIZATION": (
            "AWS4-HMAC-SHA256 Credential=AKIAARTIFACT/20240101/us-east-1/execute-api/"
            "aws4_request, SignedHeaders=host, Signature=0"
        ),
    }
    if body:
        environ["CONTENT_TYPE"] = "application/json"
        environ["CONTENT_LENGTH"] = str(len(body))
    return build_event(environ, body)


def test_built_artifact_serves_requests(
    artifact: dict[str, Path], endpoint: LocalEndpointProcess
) -> None:
    base = f"/apps/{unique_app_id('artifact')}/invocations/inv-1/result"
    history = base.replace("/result", "/history")
    large = os.urandom(512 * 1024).hex()  # beyond an item even compressed: the bucket's
    events = [
        api_event("PUT", base, {"body": "result!"}),
        api_event("GET", base),
        api_event("PUT", base, {"body": large}),
        api_event("GET", base),
        api_event("GET", base.replace("inv-1", "missing")),
        api_event("POST", history, {"body": "h1", "timestamp": "2024-01-01T00:00:01"}),
        api_event("POST", history, {"body": "h2", "timestamp": "2024-01-01T00:00:02"}),
        api_event("GET", history + "?limit=1"),
    ]
    environment = {
        # The cursor key, read at cold start from Secrets Manager (the embedded endpoint's).
        "CURSOR_SECRET_ARN": create_cursor_secret(endpoint.url),
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint.url,
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "STATE_TABLE_NAME": TABLE,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint.url,
        "PAYLOAD_BUCKET": DEFAULT_BUCKET,
        "POWERTOOLS_METRICS_DISABLED": "1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_SERVICE_NAME": "pynenc-state-api",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    result = subprocess.run(
        [sys.executable, "-S", "-c", RUNNER, json.dumps({k: str(v) for k, v in artifact.items()})],
        input="\n".join(json.dumps(e) for e in events),
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    output = json.loads(result.stdout.strip().splitlines()[-1])
    statuses = [r["statusCode"] for r in output["responses"]]
    bodies = [json.loads(r["body"] or "{}") for r in output["responses"]]
    assert statuses == [200, 200, 200, 200, 404, 201, 201, 200], bodies
    assert bodies[1] == {"body": "result!"}
    assert bodies[3] == {"body": large}
    # A page and its cursor, signed with the key the function read from its secret.
    assert bodies[7]["items"] == ["h1"] and bodies[7]["next_cursor"]
    # Everything came from the artifact: nothing from this environment's site-packages.
    modules = output["modules"]
    assert modules["app"].startswith(str(artifact["function"]))
    assert modules["cursors"].startswith(str(artifact["function"]))
    assert modules["pynenc_dynamodb"].startswith(str(artifact["layer"]))
    site = sysconfig.get_paths()["purelib"]
    leaked = sorted(name for name, path in modules.items() if path.startswith(site))
    assert leaked == []
    # The function serves the store alone: pynenc is neither shipped nor imported.
    assert "pynenc" not in modules
    assert not (artifact["function"] / "pynenc").exists()
