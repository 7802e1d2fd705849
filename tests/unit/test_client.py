"""The client choke point with an injected fake boto3 client: what is retried, what is
not, and how errors are translated."""

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from pynenc_dynamodb.aws.dynamodb import DynamoDBClient
from pynenc_dynamodb.aws.per_process import PerProcess
from pynenc_dynamodb.aws.retry import RetryPolicy
from pynenc_dynamodb.aws.settings import ClientSettings
from pynenc_dynamodb.errors import DynamoDBRequestError, TableNotFoundError


def client_error(code: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "PutItem",
    )


class FakeBoto3:
    """Fails with each of ``failures`` in turn, then succeeds."""

    def __init__(self, failures: list[Exception]) -> None:
        self.failures = list(failures)
        self.calls = 0

    def put_item(self, **request: Any) -> dict[str, Any]:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return {"ok": True}


def make(fake: FakeBoto3, attempts: int = 4) -> DynamoDBClient:
    return DynamoDBClient(ClientSettings(max_attempts=attempts), factory=lambda _: fake)


@pytest.mark.parametrize(
    "failure",
    [
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:1"),
        client_error("ProvisionedThroughputExceededException"),
        client_error("ThrottlingException"),
        client_error("InternalFailure", 500),
    ],
    ids=["refused", "read-timeout", "throughput", "throttling", "500"],
)
def test_transient_failures_are_retried_until_success(failure: Exception) -> None:
    fake = FakeBoto3([failure, failure])
    client = make(fake)
    assert client.call("PutItem", {}) == {"ok": True}
    assert fake.calls == 3
    assert sum(client.retries.values()) == 2


def test_retries_stop_after_max_attempts_with_the_cause_kept() -> None:
    failure = client_error("ThrottlingException")
    fake = FakeBoto3([failure] * 10)
    with pytest.raises(DynamoDBRequestError, match="ThrottlingException") as info:
        make(fake, attempts=3).call("PutItem", {})
    assert fake.calls == 3
    assert info.value.__cause__ is failure


@pytest.mark.parametrize("code", ["ValidationException", "ConditionalCheckFailedException"])
def test_client_mistakes_are_not_retried(code: str) -> None:
    fake = FakeBoto3([client_error(code)])
    with pytest.raises(DynamoDBRequestError, match=code):
        make(fake).call("PutItem", {})
    assert fake.calls == 1


def test_missing_table_names_the_settings() -> None:
    fake = FakeBoto3([client_error("ResourceNotFoundException")])
    with pytest.raises(TableNotFoundError, match="dynamodb_create_table"):
        make(fake).call("PutItem", {})
    assert fake.calls == 1


def test_s3_partial_delete_failures_are_raised() -> None:
    from pynenc_dynamodb.aws.s3 import S3BlobStore

    class FakeS3:
        def list_objects_v2(self, **_: Any) -> dict[str, Any]:
            return {"Contents": [{"Key": "pynenc/app/a"}, {"Key": "pynenc/app/b"}]}

        def delete_objects(self, **_: Any) -> dict[str, Any]:
            # S3 answers 200 and lists what it could not delete.
            return {"Errors": [{"Key": "pynenc/app/b", "Code": "SlowDown", "Message": "m"}]}

    blobs = S3BlobStore(ClientSettings(), "bucket")
    blobs._client = PerProcess(FakeS3)
    with pytest.raises(DynamoDBRequestError, match="1 of 2 objects not deleted"):
        blobs.delete_prefix("pynenc/app/")


class FakeBatchGet:
    """Answers a BatchGetItem with the first key of each request unprocessed, ``rounds``
    times, then with every key."""

    def __init__(self, rounds: int) -> None:
        self.rounds = rounds
        self.requests: list[dict[str, Any]] = []

    def batch_get_item(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        keys = request["RequestItems"]["t"]["Keys"]
        if self.rounds:
            self.rounds -= 1
            unprocessed = {"t": {"Keys": keys[:1], "ConsistentRead": True}}
            return {"Responses": {"t": keys[1:]}, "UnprocessedKeys": unprocessed}
        return {"Responses": {"t": keys}, "UnprocessedKeys": {}}


def test_batch_get_rerequests_unprocessed_keys_only() -> None:
    fake = FakeBatchGet(rounds=2)
    client = DynamoDBClient(ClientSettings(), factory=lambda _: fake)
    client.batch_policy = RetryPolicy(attempts=5, base_delay=0.0, max_delay=0.0)
    keys = [{"pk": {"S": "p"}, "sk": {"S": s}} for s in "abc"]
    found = client.batch_get({"RequestItems": {"t": {"Keys": keys, "ConsistentRead": True}}})
    assert sorted(item["sk"]["S"] for item in found) == ["a", "b", "c"]
    sent = [r["RequestItems"]["t"]["Keys"] for r in fake.requests]
    assert sent == [keys, keys[:1], keys[:1]]


def test_batch_get_gives_up_after_its_rounds() -> None:
    client = DynamoDBClient(ClientSettings(), factory=lambda _: FakeBatchGet(rounds=99))
    client.batch_policy = RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0)
    keys = [{"pk": {"S": "p"}, "sk": {"S": "a"}}]
    with pytest.raises(DynamoDBRequestError, match="1 keys still unprocessed"):
        client.batch_get({"RequestItems": {"t": {"Keys": keys}}})
