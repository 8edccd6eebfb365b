"""The CSC confirmation code is never stored, not even in the notification waiting to
carry it to the citizen.

A filing gets a random nonce; its code is ``HMAC(CERTIFICATE_SIGNING_KEY, application id
and nonce)`` as six digits. The application keeps only the code's HMAC
(``confirmation_hash``), the queued notification only ``csc-code:<nonce>`` in place of
the code, and the outbox derives the code again for the one request that sends it
(:func:`reveal`). A copy of the database alone gives no code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

REF_PREFIX = "csc-code:"


def code_for(key: str, application_id: str, nonce: str) -> str:
    message = f"csc-code:{application_id}:{nonce}".encode()
    digest = hmac.new(key.encode(), message, hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**6:06d}"


def new_code(key: str, application_id: str) -> tuple[str, str]:
    """(the code, what the notification stores instead of it)."""
    nonce = secrets.token_hex(8)
    return code_for(key, application_id, nonce), REF_PREFIX + nonce


def reveal(key: str, application_id: str, stored: object) -> str:
    """The code a stored notification parameter stands for (anything else unchanged)."""
    text = str(stored)
    if not text.startswith(REF_PREFIX):
        return text
    return code_for(key, application_id, text[len(REF_PREFIX) :])
