"""Lambda cold start: import time of the BUILT state API handler against a bare handler,
and the sizes of the function and layer packages.

Both handlers are imported by a bare interpreter (``python -S``: no site-packages) with
Lambda's path order, from the artifact that :mod:`infra.lambda_artifact` builds the way
``sam build`` does: what the deployed function would import, nothing from this venv.
"""

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from infra.lambda_artifact import FUNCTION_SOURCE, Artifact, build, tree_bytes

HANDLER_DIR = FUNCTION_SOURCE
TARGET_RATIO = 1.2
BARE_HANDLER = """\
import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

logger = Logger()
metrics = Metrics()
app = APIGatewayHttpResolver()
client = boto3.session.Session().client("dynamodb", region_name="us-east-1")


def handler(event, context):
    return app.resolve(event, context)
"""
# The DynamoDB client every request needs; the S3 client is built by the first payload
# that goes to the bucket, off the path of most requests.
READY_STATE_API = "import app; app.CLIENT.boto3_client"
ENV = {
    "PATH": "/usr/bin:/bin",
    "STATE_TABLE_NAME": "pynenc-bench",
    "PAYLOAD_BUCKET": "pynenc-bench",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_SERVICE_NAME": "state-api",
    "POWERTOOLS_METRICS_NAMESPACE": "bench",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def _code(path: list[str], statement: str) -> str:
    return f"import sys; sys.path[:0] = {json.dumps(path)}; {statement}"


def _run(path: list[str], statement: str, *flags: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-S", *flags, "-c", _code(path, statement)]
    return subprocess.run(command, env=ENV, capture_output=True, text=True, check=True)


def _timed(path: list[str], statement: str) -> float:
    started = time.perf_counter()
    _run(path, statement)
    return time.perf_counter() - started


def import_times(runs: int, artifact: Artifact, bare_dir: Path) -> dict[str, float]:
    """Median milliseconds to import each handler, bare interpreter start subtracted.

    :param runs: fresh interpreters per measure
    :param artifact: the built state API
    :param bare_dir: a folder holding ``bare_app.py``
    """
    # The bare handler gets Powertools from the function folder and boto3 from the runtime.
    bare_path = [str(bare_dir), str(artifact.function), str(artifact.runtime)]
    measures = {
        "interpreter": ([], "pass"),
        "bare handler": (bare_path, "import bare_app"),
        # Our handler builds its DynamoDB client lazily: counted in, as a first request would.
        "state API handler": (artifact.path, READY_STATE_API),
    }
    samples: dict[str, list[float]] = {name: [] for name in measures}
    for _ in range(runs):  # interleaved, so drift hits every measure alike
        for name, (path, statement) in measures.items():
            samples[name].append(_timed(path, statement))
    start = statistics.median(samples["interpreter"])
    out = {name: (statistics.median(s) - start) * 1000 for name, s in samples.items()}
    out["interpreter"] = start * 1000
    return out


def top_imports(artifact: Artifact, count: int = 12) -> list[tuple[str, float]]:
    """The slowest imports of the handler, by ``-X importtime`` cumulative ms."""
    proc = _run(artifact.path, "import app", "-X", "importtime")
    rows: list[tuple[str, float]] = []
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2].rstrip()[1:]
        depth = (len(name) - len(name.lstrip())) // 2
        if depth not in (1, 2):  # the handler's own imports and theirs
            continue
        rows.append(("· " * (depth - 1) + name.strip(), int(parts[1]) / 1000))
    return sorted(rows, key=lambda r: -r[1])[:count]


def package_sizes(artifact: Artifact) -> dict[str, tuple[int, int]]:
    """Unzipped and zipped bytes of the function and the layer, as deployed."""
    out: dict[str, tuple[int, int]] = {}
    for name, folder in {"function": artifact.function, "layer": artifact.layer.parent}.items():
        archive = shutil.make_archive(str(folder) + "-zip", "zip", folder)
        out[name] = (tree_bytes(folder), Path(archive).stat().st_size)
        Path(archive).unlink()
    return out


def measure(
    runs: int,
) -> tuple[dict[str, float], list[tuple[str, float]], dict[str, tuple[int, int]]]:
    """Build the artifact, then the import times, the slowest imports and the sizes."""
    with tempfile.TemporaryDirectory() as tmp:
        artifact = build(Path(tmp) / "artifact")
        bare_dir = Path(tmp) / "bare"
        bare_dir.mkdir()
        (bare_dir / "bare_app.py").write_text(BARE_HANDLER)
        return (
            import_times(runs, artifact, bare_dir),
            top_imports(artifact),
            package_sizes(artifact),
        )
