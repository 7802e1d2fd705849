"""Check template.yaml offline: transform it with the SAM translator, then run cfn-lint on
both the SAM source and the CloudFormation it becomes. Exits non-zero on any finding.

Usage: ``python infra/check_template.py [template.yaml]``
"""

import copy
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from cfnlint.api import lint_file
from cfnlint.decode import decode
from samtranslator.translator.transform import transform

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
# The translator needs packaged code; `sam package` would upload it and write these URIs.
CODE_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}


class OfflinePolicyLoader:
    """Managed policy names are resolved from the translator's bundled map; never IAM."""

    def load(self) -> dict[str, str]:
        return {}


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as data, intrinsic-function tags (``!Ref``...) turned into dicts."""
    template, matches = decode(str(path))
    if matches or template is None:
        raise ValueError(f"{path} does not parse: {[str(m) for m in matches]}")
    return dict(template)


def packaged(template: dict[str, Any]) -> dict[str, Any]:
    """A copy with local code paths replaced by s3:// placeholders, as after `sam package`."""
    result = copy.deepcopy(template)
    for name, resource in result.get("Resources", {}).items():
        prop = CODE_PROPERTIES.get(resource.get("Type", ""))
        if prop and isinstance(resource.get("Properties", {}).get(prop), str):
            resource["Properties"][prop] = f"s3://placeholder-bucket/{name}.zip"
    return result


def transform_offline(template: dict[str, Any]) -> dict[str, Any]:
    """The CloudFormation template the SAM transform produces, computed locally."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    loader: Any = OfflinePolicyLoader()
    return dict(transform(packaged(template), {}, loader))


def findings(path: Path = TEMPLATE) -> list[str]:
    """cfn-lint findings on the source template and on its transformed form."""
    problems = [f"source: {match}" for match in lint_file(path)]
    transformed = transform_offline(load(path))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "transformed.json"
        out.write_text(json.dumps(transformed, indent=1))
        problems += [f"transformed: {match}" for match in lint_file(out)]
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else TEMPLATE
    problems = findings(path)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{path}: {len(problems)} finding(s)", file=sys.stderr)
        return 1
    print(f"{path}: transforms offline and lints clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
