"""Password hashing (scrypt), session identifiers and CSRF tokens.

Hash format: ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`` so the cost can be raised
later without invalidating stored hashes (:func:`needs_rehash`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_SALT_BYTES = 16
_KEY_BYTES = 32
#: Shortest password the CLI and the Users page accept.
MIN_PASSWORD_LENGTH = 12


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, dklen=_KEY_BYTES, maxmem=256 * 2**20
    )


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``; False for any malformed hash."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


#: A hash that never matches: verified against when the username is unknown, so the
#: answer takes as long as for a known user with a wrong password.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def new_token() -> str:
    """A random URL-safe token (256 bits): session ids and CSRF tokens."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored for a session id: a stolen database does not give live cookies."""
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
