"""The one masker of personal numbers, shared by the channel, the logs and the backends.

    >>> redact_aadhaar("Aadhaar 2345 6789 0124.pdf")
    'Aadhaar XXXX-XXXX-0124.pdf'
    >>> mask_tree({"text": "uid 2345.6789.0124", "wa_id": "919800011111"})
    {'text': 'uid XXXX-XXXX-0124', 'wa_id': '919800011111'}

Aadhaar (UIDAI): 12 digits, the first 2-9, the last a Verhoeff check digit. It is found
however it is typed: ASCII, Devanagari or any other script's digits; grouped 4-4-4 by
spaces, double spaces, no-break spaces, dots, dashes, underscores (file names) or nothing;
and it is kept only as ``XXXX-XXXX-`` and its last four digits. Letters around it do
not matter (``Aadhaar234567890124.pdf``); a run preceded by ``+`` is a phone number in
international form (``+234567890124``), and digits touching either end make it another,
longer number.

A 12-digit run that fails the Verhoeff check is not an Aadhaar number for
:func:`redact_aadhaar` (the channel, the backends' guard); the logs, which may lose a
little more, mask every Aadhaar-shaped run (:func:`mask_personal_numbers`). An Indian
mobile number is 10 digits (with ``+91``, ``91 `` or ``0`` in front) and never matches;
a bare ``91`` and 10 digits (``919876543210``) is indistinguishable from an Aadhaar
number and is masked when its check digit is valid — the safe side.

:func:`mask_tree` applies :func:`redact_aadhaar` to every string of a JSON-like value
(dict keys too), recursively, except the values of :data:`IDENTIFIER_KEYS` (ids made by
machines: wamids, wa_ids, media ids, digests, which a mask would break).

Standard library only, so every package can import it without pulling in another.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

__all__ = [
    "IDENTIFIER_KEYS",
    "contains_aadhaar",
    "mask_aadhaar",
    "mask_personal_numbers",
    "mask_tree",
    "redact_aadhaar",
    "to_ascii_digits",
    "verhoeff_valid",
]

# Published tables (Verhoeff 1969; as in UIDAI's and Wikipedia's descriptions).
_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)

#: Keys whose values are identifiers made by machines, never text a person typed.
IDENTIFIER_KEYS = frozenset(
    {
        "message_id",
        "wa_id",
        "phone_number_id",
        "display_phone_number",
        "id",
        "reply_id",
        "context_id",
        "sha256",
        "storage_ref",
        "mime_type",
    }
)

# Between the groups of four: any whitespace (no-break and thin spaces included), dots,
# dashes of every kind, underscores, and the invisible characters a copy-paste carries.
_SEP = "[\\s._\\-\u2010-\u2015\u2212\u00ad\u200b-\u200d\u2060\ufeff]"
# Every start of a digit run that reads as 4-4-4 (a lookahead: candidates may overlap,
# so "DOB 1985 2345 6789 0124" still finds the number after the year).
_CANDIDATE = re.compile(rf"(?<!\d)(?=(\d{{4}}{_SEP}{{0,3}}\d{{4}}{_SEP}{{0,3}}\d{{4}})(?!\d))")

# Indian mobiles as written: 98765 43210, 98765-43210, 9876543210, +91 / 91 in front.
_PHONE_91 = re.compile(r"(?<![\d+])\+?91[ -]?[6-9]\d{4}[ -]?\d(\d{4})(?!\d)")
_MOBILE = re.compile(r"(?<!\d)[6-9]\d{4}[ -]?\d(\d{4})(?!\d)")
_LONG_NUMBER = re.compile(r"(?<!\d)\d{7,11}(\d{4})(?!\d)")


def to_ascii_digits(text: str) -> str:
    """Every decimal digit of any script (Devanagari, Gurmukhi, ...) as ASCII."""
    if text.isascii():
        return text
    return "".join(
        str(unicodedata.decimal(c)) if not c.isascii() and c.isdecimal() else c for c in text
    )


def _digits(text: str) -> str:
    return "".join(c for c in to_ascii_digits(text) if "0" <= c <= "9")


def verhoeff_valid(digits: str) -> bool:
    """True if ``digits`` (decimal digits of any script, nothing else) ends in a valid
    Verhoeff check digit."""
    ascii_digits = to_ascii_digits(digits)
    if not ascii_digits or not re.fullmatch(r"[0-9]+", ascii_digits):
        return False
    check = 0
    for position, char in enumerate(reversed(ascii_digits)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[position % 8][int(char)]]
    return check == 0


def mask_aadhaar(digits: str) -> str:
    """``XXXX-XXXX-`` and the last four digits; ``ValueError`` if there are fewer than 4."""
    only = _digits(digits)
    if len(only) < 4:
        raise ValueError("an Aadhaar mask needs at least 4 digits")
    return f"XXXX-XXXX-{only[-4:]}"


def _aadhaar_spans(text: str, checksum: bool) -> Iterator[tuple[int, int, str]]:
    """(start, end, digits) of every Aadhaar number in ``text``, left to right."""
    taken = 0
    for match in _CANDIDATE.finditer(text):
        start = match.start()
        if start < taken:
            continue
        end = start + len(match.group(1))
        digits = _digits(match.group(1))
        if digits[0] in "01" or (start and text[start - 1] == "+"):
            continue
        if checksum and not verhoeff_valid(digits):
            continue
        taken = end
        yield start, end, digits


def _redact(text: str, checksum: bool) -> str:
    if not text or sum(c.isdecimal() for c in text) < 12:
        return text
    parts, last = [], 0
    for start, end, digits in _aadhaar_spans(text, checksum):
        parts += [text[last:start], mask_aadhaar(digits)]
        last = end
    return "".join(parts) + text[last:] if parts else text


def redact_aadhaar(text: str) -> str:
    """``text`` with every Aadhaar number (Verhoeff-valid) replaced by its mask."""
    return _redact(text, checksum=True)


def contains_aadhaar(text: str) -> bool:
    """Whether ``text`` holds a full Aadhaar number."""
    return redact_aadhaar(text) != text


def mask_personal_numbers(text: str) -> str:
    """For logs: phone numbers, wa_ids and Aadhaar numbers reduced to their last four.

    Indian mobiles keep ``91XXXXXX1234`` / ``XXXXXX1234``; every Aadhaar-shaped number,
    valid check digit or not, becomes ``XXXX-XXXX-1234``; any other run of 11-15 digits
    (an international wa_id) ``XXXXXXX1234``.
    """
    if sum(c.isdecimal() for c in text) < 10:
        return text
    text = _PHONE_91.sub(r"91XXXXXX\1", text)
    text = _redact(text, checksum=False)
    text = _MOBILE.sub(r"XXXXXX\1", text)
    return _LONG_NUMBER.sub(r"XXXXXXX\1", text)


def mask_tree(value: Any, keep: frozenset[str] = IDENTIFIER_KEYS) -> Any:
    """``value`` (JSON-like: dicts, lists, tuples, strings, numbers) with every Aadhaar
    number masked in every string and dict key, recursively, except under ``keep`` keys.

    A 12-digit integer that is an Aadhaar number becomes its (string) mask.
    """
    if isinstance(value, str):
        return redact_aadhaar(value)
    if isinstance(value, dict):
        return {
            (redact_aadhaar(k) if isinstance(k, str) else k): (
                v if k in keep else mask_tree(v, keep)
            )
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(mask_tree(v, keep) for v in value)
    if isinstance(value, int) and not isinstance(value, bool) and 10**11 <= value < 10**12:
        masked = redact_aadhaar(str(value))
        return masked if masked != str(value) else value
    return value
