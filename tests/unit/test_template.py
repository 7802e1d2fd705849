"""template.yaml: transforms offline, lints clean, and its table is the schema's table."""

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pynenc_dynamodb.queue import requests
from pynenc_dynamodb.table import schema

ROOT = Path(__file__).resolve().parents[2]


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


TABLE_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:BatchWriteItem",
    "dynamodb:BatchGetItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
}
OBJECT_ACTIONS = {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}


def test_function_policy_is_scoped_to_the_table_and_bucket(transformed: dict[str, Any]) -> None:
    role = transformed["Resources"]["StateApiFunctionRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    granted: set[str] = set()
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        actions = {actions} if isinstance(actions, str) else set(actions)
        granted |= actions
        resource = statement["Resource"]
        if actions <= TABLE_ACTIONS:
            assert "*" not in str(resource)
            assert "StateTable" in str(resource)
        elif actions == {"secretsmanager:GetSecretValue"}:
            # The cursor key's secret, and no other.
            assert resource == {"Ref": "CursorSecret"}
        elif actions <= OBJECT_ACTIONS:
            # The bucket's objects, and nothing beyond this bucket.
            assert resource == {"Fn::Sub": "${PayloadBucket.Arn}/*"}
        else:
            assert actions == {"s3:ListBucket"}
            assert resource == {"Fn::GetAtt": ["PayloadBucket", "Arn"]}
    assert granted == TABLE_ACTIONS | OBJECT_ACTIONS | {
        "s3:ListBucket",
        "secretsmanager:GetSecretValue",
    }


def test_function_environment_names_bucket_and_retention(template: dict[str, Any]) -> None:
    variables = template["Resources"]["StateApiFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["PAYLOAD_BUCKET"] == {"Ref": "PayloadBucket"}
    assert variables["STATE_TTL_SECONDS"] == {
        "Fn::FindInMap": ["Retention", {"Ref": "RetentionDays"}, "Seconds"]
    }
    # Every allowed retention maps to its seconds, and objects outlive their items.
    retention = template["Mappings"]["Retention"]
    allowed = template["Parameters"]["RetentionDays"]["AllowedValues"]
    assert {str(days) for days in allowed} == set(retention)
    for days, row in retention.items():
        assert row["Seconds"] == int(days) * 86400
        assert row["ObjectDays"] == (int(days) + 1 if int(days) else 0)


def _bucket(template: dict[str, Any]) -> dict[str, Any]:
    return dict(template["Resources"]["PayloadBucket"])


def test_payload_bucket_is_private_encrypted_and_retained(template: dict[str, Any]) -> None:
    bucket = _bucket(template)
    props = bucket["Properties"]
    assert bucket["Type"] == "AWS::S3::Bucket"
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["UpdateReplacePolicy"] == "Retain"
    assert template["Outputs"]["PayloadBucketName"]["Value"] == {"Ref": "PayloadBucket"}


def test_payload_bucket_denies_plain_http(template: dict[str, Any]) -> None:
    policy = template["Resources"]["PayloadBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "PayloadBucket"}
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == [
        {"Fn::GetAtt": ["PayloadBucket", "Arn"]},
        {"Fn::Sub": "${PayloadBucket.Arn}/*"},
    ]


def test_payload_objects_expire_with_their_items_unless_kept(template: dict[str, Any]) -> None:
    assert template["Conditions"]["ExpireState"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "RetentionDays"}, 0]}]
    }
    rules = _bucket(template)["Properties"]["LifecycleConfiguration"]["Rules"]
    conditional = [r for r in rules if "Fn::If" in r]
    assert len(conditional) == 1
    condition, expire, otherwise = conditional[0]["Fn::If"]
    assert condition == "ExpireState"
    assert expire["Status"] == "Enabled"
    assert expire["ExpirationInDays"] == {
        "Fn::FindInMap": ["Retention", {"Ref": "RetentionDays"}, "ObjectDays"]
    }
    assert "Prefix" not in expire and "Filter" not in expire  # every object
    assert otherwise == {"Ref": "AWS::NoValue"}


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
    assert set(template["Parameters"]) >= {"Stage", "LogLevel", "LogRetentionDays", "RetentionDays"}
    assert set(template["Outputs"]) >= {
        "ApiUrl",
        "StateTableName",
        "InvokePolicyArn",
        "PayloadBucketName",
    }


def test_cursor_key_is_read_from_its_secret_not_the_environment(template: dict[str, Any]) -> None:
    function = template["Resources"]["StateApiFunction"]["Properties"]
    variables = function["Environment"]["Variables"]
    # The ARN travels in the environment; the key itself never does.
    assert variables["CURSOR_SECRET_ARN"] == {"Ref": "CursorSecret"}
    assert not any("resolve:secretsmanager" in str(value) for value in variables.values())
    assert template["Resources"]["CursorSecret"]["Type"] == "AWS::SecretsManager::Secret"


def test_function_concurrency_is_reserved_by_a_parameter(template: dict[str, Any]) -> None:
    function = template["Resources"]["StateApiFunction"]["Properties"]
    assert function["ReservedConcurrentExecutions"] == {"Ref": "ReservedConcurrency"}
    parameter = template["Parameters"]["ReservedConcurrency"]
    assert parameter["Type"] == "Number" and parameter["MinValue"] >= 1


# -- SQSBroker's queue, its dead-letter queue and the alarm on it -------------------------


def _resource(template: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(template["Resources"][name])


def test_broker_queue_is_the_queue_the_broker_creates(template: dict[str, Any]) -> None:
    props = _resource(template, "BrokerQueue")["Properties"]
    created = requests.create_queue(
        "q.fifo",
        dead_letter_arn="arn",
        max_receive_count=5,
        visibility_seconds=30,
        retention_seconds=requests.RETENTION_MAX_SECONDS,
    )["Attributes"]
    # CloudFormation takes booleans and numbers where the SQS API takes strings.
    for name in (
        "FifoQueue",
        "ContentBasedDeduplication",
        "DeduplicationScope",
        "FifoThroughputLimit",
        "SqsManagedSseEnabled",
        "MessageRetentionPeriod",
    ):
        assert str(props[name]).lower() == created[name].lower(), name
    assert props["QueueName"] == {"Fn::Sub": "pynenc-broker-${Stage}.fifo"}
    assert props["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["BrokerDeadLetterQueue", "Arn"]},
        "maxReceiveCount": {"Ref": "QueueMaxReceiveCount"},
    }


def test_dead_letter_queue_is_fifo_encrypted_and_fed_by_the_broker_queue_only(
    template: dict[str, Any],
) -> None:
    props = _resource(template, "BrokerDeadLetterQueue")["Properties"]
    assert props["FifoQueue"] is True and props["SqsManagedSseEnabled"] is True
    assert props["QueueName"] == {"Fn::Sub": "pynenc-broker-${Stage}-dlq.fifo"}
    allow = props["RedriveAllowPolicy"]
    assert allow["redrivePermission"] == "byQueue"
    (source,) = allow["sourceQueueArns"]
    assert source["Fn::Sub"].endswith(":pynenc-broker-${Stage}.fifo")


def test_broker_queues_deny_plain_http(template: dict[str, Any]) -> None:
    policy = _resource(template, "BrokerQueuePolicy")["Properties"]
    assert policy["Queues"] == [{"Ref": "BrokerQueue"}, {"Ref": "BrokerDeadLetterQueue"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Action"] == "sqs:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_an_alarm_fires_on_any_message_in_the_dead_letter_queue(template: dict[str, Any]) -> None:
    alarm = _resource(template, "BrokerDeadLetterAlarm")["Properties"]
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["BrokerDeadLetterQueue", "QueueName"]}}
    ]
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == 0
    assert alarm["TreatMissingData"] == "notBreaching"
    assert template["Conditions"]["HasAlarmTopic"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]
    }


def test_outputs_name_the_broker_queues(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["QueueUrl"]["Value"] == {"Ref": "BrokerQueue"}
    assert outputs["QueueArn"]["Value"] == {"Fn::GetAtt": ["BrokerQueue", "Arn"]}
    assert outputs["DeadLetterQueueUrl"]["Value"] == {"Ref": "BrokerDeadLetterQueue"}


# -- the Lambda worker ----------------------------------------------------------------------


def test_worker_function_ships_its_own_code_with_the_package_layer(
    template: dict[str, Any],
) -> None:
    props = _resource(template, "WorkerFunction")["Properties"]
    assert props["CodeUri"] == "lambdas/worker/"
    assert props["Handler"] == "app.handler"
    assert props["Layers"] == [{"Ref": "StateApiLayer"}]
    assert (ROOT / "lambdas" / "worker" / "app.py").is_file()
    variables = props["Environment"]["Variables"]
    assert variables["PYNENC_APP"] == {"Ref": "PynencApp"}
    assert variables["PYNENC__SQS_QUEUE_URL"] == {"Ref": "BrokerQueue"}
    assert variables["PYNENC__DYNAMODB_TABLE_NAME"] == {"Ref": "StateTable"}
    assert variables["PYNENC__DYNAMODB_S3_BUCKET"] == {"Ref": "PayloadBucket"}
    assert variables["PYNENC__BROKER_CLS"] == "SQSBroker"
    assert variables["PYNENC__ORCHESTRATOR_CLS"] == "DynamoDBOrchestrator"
    assert props["LoggingConfig"]["LogFormat"] == "JSON"


def test_worker_mapping_reports_batch_item_failures(template: dict[str, Any]) -> None:
    mapping = _resource(template, "WorkerQueueMapping")
    assert mapping["Type"] == "AWS::Lambda::EventSourceMapping"
    props = mapping["Properties"]
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["BrokerQueue", "Arn"]}
    assert props["FunctionName"] == {"Ref": "WorkerFunction"}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BatchSize"] == {"Ref": "WorkerBatchSize"}
    assert props["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "WorkerMaxConcurrency"}}
    # AWS refuses a batching window on a FIFO queue; a FIFO batch holds at most 10.
    assert "MaximumBatchingWindowInSeconds" not in props
    assert template["Parameters"]["WorkerBatchSize"]["MaxValue"] == 10
    # No SAM SQS event: it would attach a policy on every queue of the account.
    events = _resource(template, "WorkerFunction")["Properties"]["Events"]
    assert [e["Type"] for e in events.values()] == ["Schedule"]


def test_queue_visibility_is_six_times_every_worker_timeout(template: dict[str, Any]) -> None:
    timeouts = template["Parameters"]["WorkerTimeout"]["AllowedValues"]
    assert max(timeouts) <= 900
    mapping = template["Mappings"]["WorkerTimeouts"]
    assert {int(t) for t in mapping} == set(timeouts)
    for timeout, row in mapping.items():
        assert row["Visibility"] == 6 * int(timeout)
    assert _resource(template, "BrokerQueue")["Properties"]["VisibilityTimeout"] == {
        "Fn::FindInMap": ["WorkerTimeouts", {"Ref": "WorkerTimeout"}, "Visibility"]
    }
    assert _resource(template, "WorkerFunction")["Properties"]["Timeout"] == {
        "Ref": "WorkerTimeout"
    }


WORKER_TABLE_ACTIONS = TABLE_ACTIONS | {"dynamodb:UpdateItem"}
WORKER_QUEUE_ACTIONS = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:SendMessage",
}


def test_worker_policy_is_scoped_to_its_queue_table_indexes_and_bucket(
    transformed: dict[str, Any],
) -> None:
    role = transformed["Resources"]["WorkerFunctionRole"]["Properties"]
    # Logs and X-Ray only among the managed policies: no account-wide SQS policy.
    managed = " ".join(str(arn) for arn in role.get("ManagedPolicyArns", []))
    assert "SQS" not in managed
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    granted: dict[str, list[Any]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        for action in [actions] if isinstance(actions, str) else actions:
            granted.setdefault(action, []).append(statement["Resource"])
        assert "*" not in str(statement["Resource"]).replace("/*", "")
    assert set(granted) == WORKER_TABLE_ACTIONS | WORKER_QUEUE_ACTIONS | {
        "s3:GetObject",
        "s3:PutObject",
    }
    for action in WORKER_TABLE_ACTIONS - {"dynamodb:Query"}:
        assert granted[action] == [{"Fn::GetAtt": ["StateTable", "Arn"]}]
    assert granted["dynamodb:Query"] == [
        {"Fn::GetAtt": ["StateTable", "Arn"]},
        [{"Fn::Sub": "${StateTable.Arn}/index/gsi1"}, {"Fn::Sub": "${StateTable.Arn}/index/gsi2"}],
    ]
    indexes = {i["IndexName"] for i in _table(transformed)["Properties"]["GlobalSecondaryIndexes"]}
    assert indexes == {"gsi1", "gsi2"}
    for action in WORKER_QUEUE_ACTIONS:
        assert granted[action] == [{"Fn::GetAtt": ["BrokerQueue", "Arn"]}]
    assert granted["s3:GetObject"] == [{"Fn::Sub": "${PayloadBucket.Arn}/*"}]


def test_worker_runs_the_atomic_services_on_a_schedule(template: dict[str, Any]) -> None:
    events = _resource(template, "WorkerFunction")["Properties"]["Events"]
    assert events["Services"]["Properties"]["Schedule"] == "rate(1 minute)"


def test_outputs_give_a_container_worker_its_settings(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["StateTableName"]["Value"] == {"Ref": "StateTable"}
    assert outputs["QueueUrl"]["Value"] == {"Ref": "BrokerQueue"}
    assert outputs["PayloadBucketName"]["Value"] == {"Ref": "PayloadBucket"}
    assert outputs["Region"]["Value"] == {"Ref": "AWS::Region"}
    assert outputs["QueueMessageGroups"]["Value"] == {"Ref": "QueueMessageGroups"}
