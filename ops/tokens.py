"""Bearer tokens, in one place: reading ``Authorization: Bearer ...``, comparing a token
in constant time, and the department-scoped officer credential.

An officer credential is minted by the dashboard for the signed-in user and checked by
the backends; both hold the shared key (``BACKENDS_OFFICER_TOKEN``)::

    o1.<base64url JSON {"sub": officer id, "dep": [department ids], "exp": unix seconds}>
      .<base64url HMAC-SHA256(key, "o1." + payload)>

The backends act only in the departments the credential names, as the officer it
names, until it expires (the dashboard mints one per call, valid for minutes).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import os
import sys
import time
from collections.abc import Iterable

PREFIX = "o1."
#: How long a credential the dashboard mints stays valid (seconds).
OFFICER_TOKEN_TTL = 300


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, else None."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def matches(given: str | None, expected: str) -> bool:
    """``given == expected`` in constant time; never true for an empty ``expected``."""
    return bool(expected) and hmac.compare_digest((given or "").encode(), expected.encode())


@dataclasses.dataclass(frozen=True)
class OfficerClaims:
    officer_id: str
    departments: frozenset[str]
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: str, payload: str) -> str:
    return _b64(hmac.new(key.encode(), (PREFIX + payload).encode(), hashlib.sha256).digest())


def sign_officer(
    key: str,
    officer_id: str,
    departments: Iterable[str],
    now: float | None = None,
    ttl: int = OFFICER_TOKEN_TTL,
) -> str:
    """A credential for ``officer_id`` acting in ``departments``, valid ``ttl`` seconds."""
    claims = {
        "sub": officer_id,
        "dep": sorted(set(departments)),
        "exp": int((time.time() if now is None else now) + ttl),
    }
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{PREFIX}{payload}.{_mac(key, payload)}"


def read_officer(key: str, token: str, now: float | None = None) -> OfficerClaims | None:
    """The claims of a valid, unexpired credential signed with ``key``; None otherwise."""
    if not key or not token.startswith(PREFIX):
        return None
    payload, _, mac = token[len(PREFIX) :].partition(".")
    if not hmac.compare_digest(mac.encode(), _mac(key, payload).encode()):
        return None
    try:
        claims = json.loads(_unb64(payload))
        officer_id, departments, expires = claims["sub"], claims["dep"], int(claims["exp"])
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(officer_id, str) or not isinstance(departments, list):
        return None
    if expires < (time.time() if now is None else now):
        return None
    return OfficerClaims(officer_id, frozenset(str(d) for d in departments), expires)


def main(argv: list[str]) -> int:
    """``python -m ops.tokens OFFICER DEPARTMENT...``: a credential for a one-off call
    (``BACKENDS_OFFICER_TOKEN`` from the environment is the key)."""
    key = os.environ.get("BACKENDS_OFFICER_TOKEN", "")
    if len(argv) < 2 or not key:
        print(
            "usage: BACKENDS_OFFICER_TOKEN=... python -m ops.tokens OFFICER DEPARTMENT...",
            file=sys.stderr,
        )
        return 2
    print(sign_officer(key, argv[0], argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
