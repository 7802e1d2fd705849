"""The state API's listing cursors: opaque, HMAC-signed, bound to the path they were
issued for, stamped with their issue time, so a cursor can be neither forged, nor replayed
on another app's listing, nor used after :data:`CURSOR_LIFETIME_SECONDS`.

Whatever a caller puts in ``cursor`` (non-ASCII text, bad base64, a validly signed payload
of the wrong shape, an expired one), the answer is a 400, never a 500: every check runs
before the position reaches DynamoDB.
"""

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any, Final

from request_parsing import ApiError

# A listing is read page after page within seconds; an hour leaves room for slow readers
# and bounds how long a leaked cursor can be replayed.
CURSOR_LIFETIME_SECONDS: Final = 3600
# Far beyond any cursor this API issues: longer input is refused before decoding.
MAX_CURSOR_CHARS: Final = 8192


def invalid_cursor(reason: str) -> ApiError:
    return ApiError(400, "InvalidCursor", f"The cursor is invalid: {reason}.")


def is_key(value: Any) -> bool:
    """Whether ``value`` has the shape of a DynamoDB key: names to string attributes."""
    return (
        isinstance(value, dict)
        and bool(value)
        and all(
            isinstance(name, str)
            and isinstance(attribute, dict)
            and set(attribute) == {"S"}
            and isinstance(attribute["S"], str)
            for name, attribute in value.items()
        )
    )


class CursorSigner:
    """Encodes store positions into cursors and back.

    :param secret: HMAC key; every execution environment must share it for cursors to work
        across them
    :param lifetime: seconds a cursor stays valid after it was issued
    :param clock: the current time in epoch seconds
    """

    def __init__(
        self,
        secret: bytes,
        lifetime: int = CURSOR_LIFETIME_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self.lifetime = lifetime
        self._clock = clock

    def _sign(self, payload: bytes) -> str:
        digest = hmac.new(self._secret, payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def encode(self, path: str, position: Any) -> str | None:
        """An opaque cursor for ``position``, valid only on ``path`` (which holds the app)."""
        if position is None:
            return None
        issued = int(self._clock())
        payload = json.dumps(
            {"p": path, "t": issued, "k": position}, separators=(",", ":")
        ).encode()
        return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + self._sign(payload)

    def decode(self, cursor: str, path: str, shape: Callable[[Any], bool] = is_key) -> Any:
        """The position ``cursor`` holds; ``None`` for no cursor.

        :param shape: whether a position fits the listing ``path`` belongs to
        :raises ApiError: 400 unless this API issued the cursor for ``path``, less than
            :attr:`lifetime` seconds ago, with a position of that shape
        """
        if not cursor:
            return None
        if len(cursor) > MAX_CURSOR_CHARS or not cursor.isascii():
            raise invalid_cursor("it is not one this API issued")
        encoded, _, signature = cursor.partition(".")
        try:
            payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError) as exc:
            raise invalid_cursor("it is not one this API issued") from exc
        # Checked before parsing: nothing unsigned is ever decoded.
        if not hmac.compare_digest(self._sign(payload).encode(), signature.encode()):
            raise invalid_cursor("it is not one this API issued")
        try:
            data = json.loads(payload)
        except (ValueError, RecursionError) as exc:
            raise invalid_cursor("its payload is not JSON") from exc
        if not isinstance(data, dict) or data.get("p") != path:
            raise invalid_cursor("it was issued for another listing")
        issued = data.get("t")
        if not isinstance(issued, int) or isinstance(issued, bool):
            raise invalid_cursor("it carries no issue time")
        # A minute of clock skew between execution environments is tolerated.
        if not -60 <= self._clock() - issued <= self.lifetime:
            raise invalid_cursor(f"it expired; cursors last {self.lifetime} seconds")
        if not shape(data.get("k")):
            raise invalid_cursor("its position does not fit this listing")
        return data["k"]
