"""``pip install pynenc-dynamodb`` without extras: the server commands say which extra
to install, in one line, and exit 2, instead of ending in a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(sys.executable).parent / "pynenc-dynamodb"
# Loaded at interpreter start-up (PYTHONPATH): makes the named modules unimportable, as in
# an environment where they were never installed.
BLOCKER = """
import os, sys

class _NotInstalled:
    blocked = set(os.environ["TEST_NOT_INSTALLED"].split(","))

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _NotInstalled())
"""


def _run(tmp_path: Path, not_installed: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "TEST_NOT_INSTALLED": not_installed}
    return subprocess.run(
        [str(CLI), *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("arguments", "not_installed", "module", "extra"),
    [
        (["local"], "moto", "moto", "local"),
        (["demo"], "moto", "moto", "local"),
        (["api"], "moto", "moto", "local"),
        (
            ["api", "--dynamodb-url", "http://127.0.0.1:1"],
            "aws_lambda_powertools",
            "aws_lambda_powertools",
            "api",
        ),
    ],
)
def test_missing_extra_is_named_in_one_line(
    tmp_path: Path, arguments: list[str], not_installed: str, module: str, extra: str
) -> None:
    done = _run(tmp_path, not_installed, *arguments)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"pynenc-dynamodb {arguments[0]} needs {module}, which is not installed: "
        f"pip install 'pynenc-dynamodb[{extra}]'"
    ]


def test_help_works_without_extras(tmp_path: Path) -> None:
    done = _run(tmp_path, "moto", "--help")
    assert done.returncode == 0, done.stderr
    assert "local" in done.stdout
