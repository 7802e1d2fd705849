"""Errors raised by pynenc-dynamodb.

Every error names the field or setting at fault so that the message alone tells a user
what to change. Errors that wrap a botocore failure keep it as ``__cause__``.
"""

from typing import Any, Self


def _rebuild(cls: type[Exception], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Exception:
    return cls(*args, **kwargs)


class DynamoDBStateBackendError(Exception):
    """Base class of every error raised by pynenc-dynamodb.

    Subclasses format one message from several arguments; the arguments are kept so that
    the error pickles and unpickles as itself (a task that fails with one of these, stored
    with pynenc's PickleSerializer, reads back as this error, not as a TypeError).
    """

    _init: tuple[tuple[Any, ...], dict[str, Any]]

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        error = super().__new__(cls, *args)
        error._init = (args, kwargs)
        return error

    def __reduce__(self) -> tuple[Any, ...]:
        args, kwargs = self._init
        return (_rebuild, (type(self), args, kwargs))


class InvalidKeyError(DynamoDBStateBackendError, ValueError):
    """An id or key cannot be stored: empty, not valid text or too long.

    :param field: name of the offending field (``invocation_id``, ``workflow data key``...)
    :param problem: what is wrong with it
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"Invalid {field}: {problem}")


class ItemTooLargeError(DynamoDBStateBackendError, ValueError):
    """A value would make a DynamoDB item exceed the service's item size limit.

    :param field: what was being stored (``result``, ``workflow data``...)
    :param size: size of the item in bytes
    :param limit: the limit in bytes
    """

    def __init__(self, field: str, size: int, limit: int) -> None:
        self.field = field
        self.size = size
        self.limit = limit
        super().__init__(
            f"The {field} is too large to store: the item would be {size} bytes and "
            f"DynamoDB items hold at most {limit} bytes. Nothing was written."
        )


class ConfigurationError(DynamoDBStateBackendError):
    """A setting is missing or invalid (region, credentials, table, endpoint)."""


class TableNotFoundError(ConfigurationError):
    """The configured table does not exist and creating it is switched off."""


class TableSchemaError(ConfigurationError):
    """The configured table exists but its keys or indexes differ from the schema."""


class QueueNotFoundError(ConfigurationError):
    """The broker's SQS queue does not exist and creating it is switched off."""


class DynamoDBRequestError(DynamoDBStateBackendError):
    """An AWS request (DynamoDB, S3 for payloads, SQS for the broker) failed after every
    retry.

    :param operation: the DynamoDB operation (``PutItem``, ``Query``...), or the S3 or SQS
        one prefixed with its service (``S3 put_object``, ``SQS SendMessageBatch``)
    :param code: the AWS error code, or the exception class name for connection errors
    :param message: the error message returned by AWS
    """

    def __init__(self, operation: str, code: str, message: str) -> None:
        self.operation = operation
        self.code = code
        service = "" if operation.startswith(("S3 ", "SQS ")) else "DynamoDB "
        super().__init__(f"{service}{operation} failed ({code}): {message}")


class ConditionFailedError(DynamoDBRequestError):
    """A conditional write found the item in another state than it required: another
    writer got there first. Never retried: the caller decides from the item as it was.

    :param operation: the DynamoDB operation (``PutItem``, ``UpdateItem``...)
    :param item: the item as DynamoDB found it (with ``ReturnValuesOnConditionCheckFailure``
        ``ALL_OLD``), ``None`` if it did not exist or was not asked for
    """

    CODE = "ConditionalCheckFailedException"

    def __init__(self, operation: str, item: dict[str, Any] | None = None) -> None:
        self.item = item
        super().__init__(operation, self.CODE, "the condition of the write did not hold")


class AsyncWriteError(DynamoDBStateBackendError):
    """A background write (status history) failed; raised when its thread is awaited.

    :param invocation_id: the invocation whose history record was not written
    """

    def __init__(self, invocation_id: str, cause: BaseException) -> None:
        self.invocation_id = invocation_id
        super().__init__(
            f"Writing a status history record of invocation {invocation_id} failed: {cause}"
        )


class UnrestoredTaskError(DynamoDBStateBackendError):
    """A task's exception whose class the app's serializer cannot rebuild.

    pynenc's ``JsonSerializer`` rebuilds builtin exceptions only; the stored type name and
    message are kept so that nothing of the failure is lost (``PickleSerializer`` rebuilds
    the original class).

    :param error_name: class name of the original exception
    :param data: what the serializer returned instead of an exception
    """

    def __init__(self, error_name: str, data: object) -> None:
        self.error_name = error_name
        self.data = data
        detail = data
        if isinstance(data, dict):
            inner = next(iter(data.values()), None)
            if isinstance(inner, dict) and "message" in inner:
                detail = inner["message"]
        super().__init__(f"{error_name}: {detail}")


class PayloadError(DynamoDBStateBackendError):
    """A stored payload cannot be read back intact: its object is missing or its digest
    does not match what was written. Never returned as data."""


class StateApiError(DynamoDBStateBackendError):
    """The state API refused a request, or kept failing after every retry.

    :param method: HTTP method of the request
    :param path: path of the request
    :param status: HTTP status, 0 when no answer came
    :param code: the API's error code, or the exception class name
    :param message: what went wrong
    """

    def __init__(self, method: str, path: str, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        super().__init__(f"State API {method} {path} failed ({status} {code}): {message}")


class RequestTooLargeError(StateApiError, ItemTooLargeError):
    """The state API refused a request body as too large (413): nothing was written.

    An :class:`~pynenc_dynamodb.errors.ItemTooLargeError`, like the direct backend raises
    for a value it cannot store, so callers handle both alike.

    :param method: HTTP method of the request
    :param path: path of the request
    :param size: size of the request body in bytes
    :param limit: the API's limit in bytes, 0 when the answer did not name it
    :param message: what the API answered
    """

    def __init__(self, method: str, path: str, size: int, limit: int, message: str) -> None:
        self.status = 413
        self.code = "BodyTooLarge"
        self.field = "request body"
        self.size = size
        self.limit = limit
        bound = f"the limit is {limit} bytes" if limit else "the API did not name its limit"
        # Neither parent's message fits: set it directly, past their __init__.
        Exception.__init__(
            self,
            f"State API {method} {path}: the request body is too large ({size} bytes; "
            f"{bound}). Nothing was written. {message}".rstrip(),
        )
