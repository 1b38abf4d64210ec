"""Short-lived tokens only this panel can make: a list of fields, an expiry and a purpose,
signed with the panel's secret. Read back only for the same purpose and before they expire."""

import base64
import hashlib
import hmac
import json
import time


def seal(secret_key: str, what: str, fields: list[object], seconds: int) -> str:
    """A token holding `fields` for `seconds`, for `what` alone (a token made for one purpose
    is refused for any other)."""
    text = json.dumps([int(time.time()) + seconds, *fields]).encode()
    payload = base64.urlsafe_b64encode(text).rstrip(b"=")  # "=" would need quoting in a cookie
    return f"{payload.decode()}.{_signature(secret_key, what, payload)}"


def unseal(secret_key: str, what: str, token: str | None) -> list[object] | None:
    """The fields of a token sealed for `what`, unless it is forged, altered or expired."""
    payload, _dot, signature = (token or "").encode().partition(b".")
    # Bytes: compare_digest refuses str with characters beyond ASCII, which a forger may send.
    if not hmac.compare_digest(signature, _signature(secret_key, what, payload).encode()):
        return None
    try:
        expires, *fields = json.loads(base64.urlsafe_b64decode(payload + b"=="))
    except ValueError:
        return None
    return fields if isinstance(expires, int) and expires > time.time() else None


def _signature(secret_key: str, what: str, payload: bytes) -> str:
    key = hashlib.sha256(f"{what}|{secret_key}".encode()).digest()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()
