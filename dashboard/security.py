"""Password hashing (scrypt), session identifiers and CSRF tokens.

Hash format: ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``: the parameters travel with
the hash, so the cost can be raised without invalidating stored hashes; a hash made
with weaker parameters still verifies and is replaced at the next sign-in
(:func:`needs_rehash`). N=2^17, r=8 needs 128 MiB per hash (128·N·r bytes) and takes
a noticeable fraction of a second: call :func:`hash_password_async` /
:func:`verify_password_async` from request handlers, never block the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
import threading

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
#: Tests only: ``DASHBOARD_SCRYPT_N`` may lower N for new hashes (never below the 2^14
#: of earlier releases; ignored in the production profile).
_TEST_N_FLOOR = 2**14
#: At most this many hashes at once (128 MiB each): a burst of sign-ins cannot exhaust
#: the dashboard's memory; the others wait in their worker threads, not on the loop.
_SLOTS = threading.BoundedSemaphore(2)
#: Largest parameters a stored hash may ask for (a forged hash must not exhaust memory).
_MAX_N, _MAX_R, _MAX_P = 2**18, 8, 4
_SALT_BYTES = 16
_KEY_BYTES = 32
#: Shortest password the CLI and the Users page accept.
MIN_PASSWORD_LENGTH = 12


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    if not (1 < n <= _MAX_N and 0 < r <= _MAX_R and 0 < p <= _MAX_P):
        raise ValueError("scrypt parameters out of range")
    # OpenSSL needs 128·r·(N + p + 2) bytes (128 MiB at N=2^17, r=8), plus a margin
    maxmem = 128 * r * (n + p + 2) + 16 * 2**20
    with _SLOTS:
        return hashlib.scrypt(
            password.encode(), salt=salt, n=n, r=r, p=p, dklen=_KEY_BYTES, maxmem=maxmem
        )


def scrypt_n() -> int:
    """N for new hashes: :data:`SCRYPT_N`, or the tests' ``DASHBOARD_SCRYPT_N``."""
    raw = os.environ.get("DASHBOARD_SCRYPT_N", "")
    if not raw.isdigit() or os.environ.get("DELHI_SEWA_PROFILE") == "production":
        return SCRYPT_N
    n = int(raw)
    return n if _TEST_N_FLOOR <= n <= SCRYPT_N and n & (n - 1) == 0 else SCRYPT_N


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(_SALT_BYTES)
    n = scrypt_n()
    key = _scrypt(password, salt, n, SCRYPT_R, SCRYPT_P)
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


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


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made with other parameters than today's (upgrade it)."""
    try:
        scheme, n, r, p, _salt, _key = stored.split("$")
        return scheme != "scrypt" or (int(n), int(r), int(p)) != (scrypt_n(), SCRYPT_R, SCRYPT_P)
    except ValueError:
        return True


async def hash_password_async(password: str) -> str:
    """:func:`hash_password` in a worker thread: the event loop keeps serving."""
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password: str, stored: str) -> bool:
    """:func:`verify_password` in a worker thread: the event loop keeps serving."""
    return await asyncio.to_thread(verify_password, password, stored)


#: A hash that never matches: verified against when the username is unknown, so the
#: answer takes as long as for a known user with a wrong password.
#: (Random salt and key with today's parameters: nothing to compute at import.)
DUMMY_HASH = (
    f"scrypt${scrypt_n()}${SCRYPT_R}${SCRYPT_P}$"
    f"{_b64(secrets.token_bytes(_SALT_BYTES))}${_b64(secrets.token_bytes(_KEY_BYTES))}"
)


def new_token() -> str:
    """A random URL-safe token (256 bits): session ids and CSRF tokens."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored for a session id: a stolen database does not give live cookies."""
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
