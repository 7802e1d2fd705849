"""A fresh worker's warm-up, in a fresh interpreter:
``python -m tests.helpers.warmup_probe URL TABLE``.

Builds the app as pynenc hands it to a worker (unpickled, never constructed, so nothing
is registered or checked), warms it up, then makes the backend's first request. Prints
the requests each step made and whether the backend uses the client the warm-up built.
"""

import json
import sys

from pynenc import Pynenc

from pynenc_dynamodb.aws.dynamodb import warmed_client_key
from pynenc_dynamodb.aws.per_process import kept
from pynenc_dynamodb.local.endpoint import request_counts
from pynenc_dynamodb.state_backend import warmup


def main(url: str, table: str) -> None:
    config = {
        "state_backend_cls": "DynamoDBStateBackend",
        "dynamodb_endpoint_url": url,
        "dynamodb_table_name": table,
    }
    app: Pynenc = Pynenc.__new__(Pynenc)
    app.__setstate__(
        {
            "app_id": "warmup-probe",
            "config_values": config,
            "config_filepath": None,
            "reporting": None,
        }
    )
    before = request_counts(url)
    warmup.warm(app)
    warmed = request_counts(url)
    store = app.state_backend.store
    outcome: dict[str, object] = {"warm_up": dict(warmed - before)}
    try:
        store.get_invocation("no-such-invocation")
        outcome["first_request"] = dict(request_counts(url) - warmed)
    except Exception as exc:
        outcome["error"] = type(exc).__name__
        outcome["message"] = str(exc)
    shared = kept(warmed_client_key(store.client.settings))
    outcome["shares_warmed_client"] = shared is not None and shared is store.client.boto3_client
    print(json.dumps(outcome))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
