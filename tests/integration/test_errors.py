"""Our errors survive pickling: a task that fails with one of them, stored with pynenc's
PickleSerializer, reads back as that error naming the field, not as a TypeError."""

import inspect
import pickle
from typing import Any

import pytest
from pynenc import Pynenc
from pynenc.util.subclasses import get_all_subclasses

from pynenc_dynamodb import errors
from pynenc_dynamodb.errors import StateApiError
from pynenc_dynamodb.state_backend.adapter import MissingInvocationError
from tests.conftest import AppFactory

ERRORS = sorted(
    {errors.DynamoDBStateBackendError, StateApiError}
    | set(get_all_subclasses(errors.DynamoDBStateBackendError)),
    key=lambda cls: cls.__name__,
)


def _build(cls: type[Exception]) -> Exception:
    arguments: list[Any] = []
    for param in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            arguments.append("message")
        elif "int" in str(param.annotation):
            arguments.append(413)
        elif "BaseException" in str(param.annotation):
            arguments.append(ValueError("cause"))
        else:
            arguments.append(f"{param.name}-value")
    return cls(*arguments)


@pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.__name__)
def test_every_error_pickles_as_itself(cls: type[Exception]) -> None:
    error = _build(cls)
    restored = pickle.loads(pickle.dumps(error))
    assert type(restored) is cls
    assert str(restored) == str(error)
    public = {k: v for k, v in vars(error).items() if not k.startswith("_")}
    assert {k: v for k, v in vars(restored).items() if not k.startswith("_")} == public


def test_missing_invocation_is_a_key_error_and_pynencs_own() -> None:
    from pynenc.exceptions import InvocationNotFoundError

    error = pickle.loads(pickle.dumps(MissingInvocationError("inv", "not stored")))
    assert isinstance(error, KeyError) and isinstance(error, InvocationNotFoundError)


def test_a_task_failing_with_our_error_reads_back_as_it(
    make_app: AppFactory, dynamodb_config: dict[str, Any]
) -> None:
    from tests.integration.test_payloads import _invocation

    app: Pynenc = make_app({**dynamodb_config, "serializer_cls": "PickleSerializer"})
    inv = _invocation(app)
    app.state_backend.set_exception(inv, errors.ItemTooLargeError("result", 500_000, 409_600))
    restored = app.state_backend.get_exception(inv)
    assert isinstance(restored, errors.ItemTooLargeError)
    assert (restored.field, restored.size, restored.limit) == ("result", 500_000, 409_600)
