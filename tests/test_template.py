"""template.yaml: transforms offline, lints clean, and its table is the schema's table."""

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pynenc_dynamodb import schema

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def check() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "check_template", ROOT / "infra" / "check_template.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def template(check: ModuleType) -> dict[str, Any]:
    return dict(check.load())


@pytest.fixture(scope="module")
def transformed(check: ModuleType, template: dict[str, Any]) -> dict[str, Any]:
    return dict(check.transform_offline(template))


def test_template_transforms_and_lints_clean(check: ModuleType) -> None:
    assert check.findings() == []
    assert check.main([]) == 0


def _table(template: dict[str, Any]) -> dict[str, Any]:
    return dict(template["Resources"]["StateTable"])


def test_table_equals_schema_definition(template: dict[str, Any]) -> None:
    table = _table(template)
    props = table["Properties"]
    expected = schema.table_definition("ignored")
    assert props["KeySchema"] == expected["KeySchema"]
    assert sorted(props["AttributeDefinitions"], key=str) == sorted(
        expected["AttributeDefinitions"], key=str
    )
    assert props["BillingMode"] == expected["BillingMode"]
    want = {i["IndexName"]: i for i in expected["GlobalSecondaryIndexes"]}
    have = {i["IndexName"]: i for i in props["GlobalSecondaryIndexes"]}
    assert set(have) == set(want)
    for name, index in want.items():
        assert have[name]["KeySchema"] == index["KeySchema"]
        assert have[name]["Projection"]["ProjectionType"] == index["Projection"]["ProjectionType"]
        assert sorted(have[name]["Projection"].get("NonKeyAttributes", [])) == sorted(
            index["Projection"].get("NonKeyAttributes", [])
        )


def test_table_is_protected(template: dict[str, Any]) -> None:
    table = _table(template)
    props = table["Properties"]
    assert props["TimeToLiveSpecification"] == {
        "AttributeName": schema.EXPIRES_AT,
        "Enabled": True,
    }
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


def test_every_route_requires_iam(transformed: dict[str, Any]) -> None:
    apis = [r for r in transformed["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Api"]
    assert len(apis) == 1
    paths = apis[0]["Properties"]["Body"]["paths"]
    operations = [op for methods in paths.values() for op in methods.values()]
    assert operations
    for operation in operations:
        assert operation["security"] == [{"AWS_IAM": []}]
        assert operation["x-amazon-apigateway-integration"]["payloadFormatVersion"] == "2.0"


def test_function_policy_is_scoped_to_the_table(transformed: dict[str, Any]) -> None:
    role = transformed["Resources"]["StateApiFunctionRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    allowed = {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:BatchWriteItem",
        "dynamodb:DescribeTable",
    }
    for statement in statements:
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        assert set(actions) <= allowed
        assert "*" not in str(statement["Resource"])
        assert "StateTable" in str(statement["Resource"])


def test_function_runtime_code_and_logs(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    function = resources["StateApiFunction"]["Properties"]
    assert template["Globals"]["Function"]["Runtime"] == "python3.12"
    assert function["CodeUri"] == "lambdas/state_api/"
    assert function["Handler"] == "app.handler"
    assert (ROOT / function["CodeUri"] / "app.py").is_file()
    layer = resources["StateApiLayer"]
    assert layer["Properties"]["ContentUri"] == "backend/"
    assert layer["Metadata"]["BuildMethod"] == "python3.12"
    assert resources["StateApiLogGroup"]["Properties"]["RetentionInDays"] == {
        "Ref": "LogRetentionDays"
    }
    assert set(template["Parameters"]) >= {"Stage", "LogLevel", "LogRetentionDays"}
    assert set(template["Outputs"]) >= {"ApiUrl", "StateTableName", "InvokePolicyArn"}
