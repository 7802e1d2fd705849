"""Build a function of ``lambdas/`` (the state API, the worker) as ``sam build`` deploys
it, without SAM or a container.

The layer is ``backend/`` copied under ``python/`` (``ContentUri: backend/``,
``BuildMethod: python3.12``); the function is its ``requirements.txt`` pip-installed next
to the handler's files (``lambdas/state_api/`` by default); the runtime directory holds
what Lambda's Python runtime provides beyond the standard library (boto3 and its
dependencies). A bare interpreter (``python -S``) with ``sys.path = [function, layer,
runtime]`` then sees what Lambda sees. Used by the artifact tests and the cold-start
benchmark.
"""

import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTION_SOURCE = ROOT / "lambdas" / "state_api"
WORKER_SOURCE = ROOT / "lambdas" / "worker"
LAYER_SOURCE = ROOT / "backend"
RUNTIME_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")


class BuildError(Exception):
    """pip failed; ``offline`` tells whether for want of the package registry, ``network``
    whether pip could not reach it at all (a narrower, certain sign)."""

    def __init__(self, message: str, offline: bool, network: bool = False) -> None:
        super().__init__(message)
        self.offline = offline
        self.network = network


# pip could not reach the registry.
NETWORK_SIGNS = (
    "NewConnectionError",
    "Network is unreachable",
    "Temporary failure in name resolution",
    "ConnectTimeoutError",
)
# Also what pip says when a registry without the packages answers (or a pin is wrong).
OFFLINE_SIGNS = (
    *NETWORK_SIGNS,
    "No matching distribution",
    "Could not find a version",
)


@dataclass(frozen=True)
class Artifact:
    """The three directories Lambda puts on ``sys.path``, in its order."""

    function: Path
    layer: Path
    runtime: Path

    @property
    def path(self) -> list[str]:
        return [str(self.function), str(self.layer), str(self.runtime)]


def tree_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _pip_install(target: Path, *args: str) -> None:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target)]
    done = subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        offline = any(sign in done.stderr for sign in OFFLINE_SIGNS)
        network = any(sign in done.stderr for sign in NETWORK_SIGNS)
        raise BuildError(f"pip install {' '.join(args)} failed:\n{done.stderr}", offline, network)


def _copy(source: Path, target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(source, target, dirs_exist_ok=True, ignore=ignore)


def build(
    root: Path, function_source: Path = FUNCTION_SOURCE, extra_sources: tuple[Path, ...] = ()
) -> Artifact:
    """Build the function, the layer and the runtime's modules under ``root``.

    :param function_source: the function's folder (its ``CodeUri``)
    :param extra_sources: folders copied into the function too (a project's own code)
    :raises BuildError: if pip fails
    """
    artifact = Artifact(root / "function", root / "layer" / "python", root / "runtime")
    _pip_install(artifact.function, "-r", str(function_source / "requirements.txt"))
    _copy(function_source, artifact.function)
    for source in extra_sources:
        _copy(source, artifact.function)
    _copy(LAYER_SOURCE, artifact.layer)
    if (LAYER_SOURCE / "requirements.txt").is_file():
        _pip_install(artifact.layer, "-r", str(LAYER_SOURCE / "requirements.txt"))
    site = Path(sysconfig.get_paths()["purelib"])
    artifact.runtime.mkdir(parents=True)
    for name in RUNTIME_MODULES:
        if (site / name).is_dir():
            _copy(site / name, artifact.runtime / name)
        else:
            shutil.copy2(site / f"{name}.py", artifact.runtime / f"{name}.py")
    return artifact
