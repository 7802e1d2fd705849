"""The state API's listing cursors: opaque, HMAC-signed, bound to the path they were
issued for, so a cursor can be neither forged nor replayed on another app's listing."""

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from request_parsing import ApiError


class CursorSigner:
    """Encodes store positions into cursors and back.

    :param secret: HMAC key; every execution environment must share it for cursors to work
        across them
    """

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, payload: bytes) -> str:
        digest = hmac.new(self._secret, payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def encode(self, path: str, position: Any) -> str | None:
        """An opaque cursor for ``position``, valid only on ``path`` (which holds the app)."""
        if position is None:
            return None
        payload = json.dumps({"p": path, "k": position}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + self._sign(payload)

    def decode(self, cursor: str, path: str) -> Any:
        """The position ``cursor`` holds; ``None`` for no cursor.

        :raises ApiError: 400 unless this API issued the cursor for ``path``
        """
        if not cursor:
            return None
        invalid = ApiError(
            400, "InvalidCursor", "The cursor is invalid or was issued for another path."
        )
        encoded, _, signature = cursor.partition(".")
        try:
            payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError) as exc:
            raise invalid from exc
        # Checked before parsing: nothing unsigned is ever decoded.
        if not hmac.compare_digest(self._sign(payload), signature):
            raise invalid
        data = json.loads(payload)
        if data.get("p") != path:
            raise invalid
        return data["k"]
