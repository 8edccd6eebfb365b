"""Validation of what citizens type into a service form (Hindi, English or Hinglish).

    >>> from datetime import date
    >>> from service_catalogue import Field
    >>> check(Field("pin_code", "pin", {"en": "PIN?"}), "११० ०९२", date(2026, 11, 23))
    Checked(ok=True, value='110092', display='110092', error=None)

Every function is pure. :func:`check` returns a :class:`Checked` and never raises for
any text a citizen can send (a ``Field`` the catalogue validator would reject, e.g. an
unknown type, is a programming error and raises ``ValueError``). Error codes are the
members of :data:`ERRORS`; the domain maps each one to a reply in Hindi and English.

Aadhaar: a full number is checked (length, first digit, Verhoeff) but only its mask
``XXXX-XXXX-1234`` is ever kept, so nothing derived from the result can leak it. Free
text (address, text fields) is passed through :func:`redact_aadhaar` for the same reason.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from indic_nlu.text import devanagari_to_roman, normalize, phonetic_key
from service_catalogue import Choice, Field

__all__ = [
    "ERRORS",
    "Checked",
    "check",
    "mask_aadhaar",
    "parse_date",
    "redact_aadhaar",
    "verhoeff_valid",
]

ERRORS: frozenset[str] = frozenset(
    {
        "empty",
        "name_invalid",
        "date_format",
        "date_invalid",
        "date_future",
        "date_past",
        "pin_format",
        "pin_not_delhi",
        "mobile_invalid",
        "aadhaar_length",
        "aadhaar_invalid",
        "aadhaar_checksum",
        "amount_format",
        "amount_range",
        "number_format",
        "number_range",
        "choice_unknown",
        "address_invalid",
        "too_long",
        "pattern_mismatch",
    }
)

NAME_MIN, NAME_MAX = 2, 80
ADDRESS_MIN, ADDRESS_MAX = 10, 300
#: Cap for text fields without their own ``max_length`` (a WhatsApp message can be 4096).
TEXT_DEFAULT_MAX = 1000
#: Delhi PIN codes run from 110001 to 110096; 110097-110099 are accepted as headroom.
DELHI_PIN_MIN, DELHI_PIN_MAX = 110001, 110099
EARLIEST_DATE = date(1900, 1, 1)
#: More digits than this cannot be a realistic amount or count (and int() would choke).
_MAX_DIGITS = 15


@dataclass(frozen=True)
class Checked:
    """Outcome of :func:`check`: a normalised value to store, or an error code."""

    ok: bool
    value: object = None
    display: str = ""
    error: str | None = None


def _fail(code: str) -> Checked:
    assert code in ERRORS, code
    return Checked(ok=False, error=code)


# --------------------------------------------------------------------------- text helpers

_ZERO_WIDTH_SPACE = {"\u200b", "\ufeff", "\u2060", "\u00ad"}


def _ascii_digits(text: str) -> str:
    """Every decimal digit of any script (Devanagari, Gurmukhi, ...) as ASCII."""
    if text.isascii():
        return text
    out = []
    for char in text:
        value = unicodedata.decimal(char, None) if not char.isascii() else None
        out.append(str(value) if value is not None else char)
    return "".join(out)


def _squash(text: str) -> str:
    """NFC, invisible spaces dropped, whitespace runs collapsed to one space."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(c for c in text if c not in _ZERO_WIDTH_SPACE)
    return " ".join(text.split())


_DIGIT = r"[0-9\u0966-\u096f]"


def _digits_only(text: str) -> str:
    return "".join(c for c in _ascii_digits(text) if "0" <= c <= "9")


# --------------------------------------------------------------------------- Verhoeff

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


def verhoeff_valid(digits: str) -> bool:
    """True if ``digits`` (ASCII or Devanagari, nothing else) ends in a valid check digit."""
    ascii_digits = _ascii_digits(digits)
    if not ascii_digits or not re.fullmatch(r"[0-9]+", ascii_digits):
        return False
    check = 0
    for position, char in enumerate(reversed(ascii_digits)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[position % 8][int(char)]]
    return check == 0


def mask_aadhaar(digits: str) -> str:
    """``XXXX-XXXX-`` and the last four digits; ``ValueError`` if there are fewer than 4."""
    only = _digits_only(digits)
    if len(only) < 4:
        raise ValueError("an Aadhaar mask needs at least 4 digits")
    return f"XXXX-XXXX-{only[-4:]}"


# 12 digits, possibly grouped 4-4-4 by spaces, dashes or dots, with no digit touching
# either end. A 16-digit number typed in groups of 4 (a Virtual ID) may lose its first
# 12 digits to a mask: over-redaction is the safe side.
_AADHAAR_RUN = re.compile(
    rf"(?<!{_DIGIT})({_DIGIT}{{4}}[ \-.]{{0,2}}{_DIGIT}{{4}}[ \-.]{{0,2}}{_DIGIT}{{4}})(?!{_DIGIT})"
)


def redact_aadhaar(text: str) -> str:
    """Replaces every Verhoeff-valid 12-digit run (Aadhaar) in ``text`` by its mask."""

    def mask(match: re.Match[str]) -> str:
        digits = _digits_only(match.group(1))
        return mask_aadhaar(digits) if verhoeff_valid(digits) else match.group(0)

    return _AADHAAR_RUN.sub(mask, text)


# --------------------------------------------------------------------------- dates

_MONTH_SPELLINGS: dict[int, tuple[str, ...]] = {
    1: ("january", "jan", "janvari", "janwari", "janvary", "janu", "जनवरी"),
    2: (
        "february",
        "feb",
        "febuary",
        "farvari",
        "farwari",
        "pharvari",
        "fervari",
        "farvary",
        "farwary",
        "फरवरी",
    ),
    3: ("march", "mar", "maarch", "marche", "मार्च"),
    4: ("april", "apr", "aprail", "aprel", "apral", "अप्रैल", "अप्रेल", "एप्रिल"),
    5: ("may", "mai", "मई"),
    6: ("june", "jun", "joon", "joon", "जून"),
    7: ("july", "jul", "julai", "julaai", "जुलाई"),
    8: ("august", "aug", "agast", "agust", "अगस्त"),
    9: (
        "september",
        "sep",
        "sept",
        "sitambar",
        "sitamber",
        "sitmbar",
        "सितंबर",
        "सितम्बर",
    ),
    10: ("october", "oct", "aktubar", "aktoobar", "aktober", "अक्टूबर", "अक्तूबर"),
    11: ("november", "nov", "navambar", "navamber", "nowember", "नवंबर", "नवम्बर"),
    12: ("december", "dec", "disambar", "disamber", "disember", "दिसंबर", "दिसम्बर"),
}


def _norm(text: str) -> str:
    """indic_nlu normal form: NFC, nukta/chandrabindu folded, digits ASCII, case-folded."""
    return normalize(text).text


@functools.lru_cache(maxsize=1)
def _month_tables() -> tuple[dict[str, int], dict[str, int]]:
    exact: dict[str, int] = {}
    phonetic: dict[str, set[int]] = {}
    for month, spellings in _MONTH_SPELLINGS.items():
        for spelling in spellings:
            key = _norm(spelling)
            exact[key] = month
            if len(key) >= 3:  # "jan"/"jun" and "mai"/"mar" must not meet as skeletons
                phonetic.setdefault(phonetic_key(key), set()).add(month)
    unambiguous = {k: next(iter(v)) for k, v in phonetic.items() if len(v) == 1 and len(k) >= 3}
    return exact, unambiguous


def _month(word: str) -> int | None:
    exact, phonetic = _month_tables()
    if word in exact:
        return exact[word]
    if len(word) >= 4:
        return phonetic.get(phonetic_key(word))
    return None


_DATE_NUMERIC = re.compile(r"(\d{1,2})\s*[/\-.\s]\s*(\d{1,2})\s*[/\-.\s]\s*(\d{2}|\d{4})")
_DATE_ISO = re.compile(r"(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})")
_DATE_COMPACT = re.compile(r"(\d{2})(\d{2})(\d{4})")
_DATE_TOKEN = re.compile(r"\d+|[a-z]+|[\u0900-\u0963\u0971-\u097f]+")
_DATE_FILLER = frozenset(
    {"the", "of", "st", "nd", "rd", "th", "date", "dated", "on", "ko", "tarikh", "tareekh"}
    | {"तारीख", "तारिख", "को", "सन", "सन्"}
)


def _year(token: str, today: date) -> int | None:
    if len(token) == 4:
        return int(token)
    if len(token) == 2:
        two = int(token)
        century = today.year // 100 * 100
        return century + two if two <= today.year % 100 else century - 100 + two
    return None


def _build_date(day: int, month: int, year: int) -> date | str:
    if not 1 <= month <= 12:
        return "date_invalid"
    try:
        result = date(year, month, day)
    except ValueError:
        return "date_invalid"
    if result < EARLIEST_DATE:
        return "date_invalid"
    return result


def _parse_date(text: str, today: date) -> date | str:
    """A date, or the error code ``date_format`` / ``date_invalid``."""
    s = _norm(_squash(_ascii_digits(text))).strip().rstrip(".").strip()
    if not s:
        return "date_format"
    if m := _DATE_ISO.fullmatch(s):
        return _build_date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    if m := _DATE_NUMERIC.fullmatch(s):
        year = _year(m.group(3), today)
        return (
            "date_format" if year is None else _build_date(int(m.group(1)), int(m.group(2)), year)
        )
    if m := _DATE_COMPACT.fullmatch(s):
        return _build_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    # A month name: "12 March 1990", "12-mar-90", "March 12, 1990", "12 मार्च 1990".
    tokens = [t for t in _DATE_TOKEN.findall(s) if t not in _DATE_FILLER]
    shape = "".join("n" if t.isdigit() else "w" for t in tokens)
    if shape == "nwn":
        day_token, month_word, year_token = tokens
    elif shape == "wnn":
        month_word, day_token, year_token = tokens
    else:
        return "date_format"
    month_number = _month(month_word)
    year = _year(year_token, today)
    if month_number is None or year is None or len(day_token) > 2:
        return "date_format"
    return _build_date(int(day_token), month_number, year)


def parse_date(text: str, today: date) -> date | None:
    """The date a citizen typed (day first), or None if it is unreadable or impossible."""
    result = _parse_date(text, today)
    return result if isinstance(result, date) else None


def _check_date(field: Field, text: str, today: date) -> Checked:
    result = _parse_date(text, today)
    if isinstance(result, str):
        return _fail(result)
    if field.past_only and result > today:
        return _fail("date_future")
    if field.future_only and result < today:
        return _fail("date_past")
    return Checked(True, result.isoformat(), result.strftime("%d/%m/%Y"))


# --------------------------------------------------------------------------- names, text


def _name_char_ok(char: str) -> bool:
    if char in " .'\u2019-\u200c\u200d":
        return True
    category = unicodedata.category(char)
    if "\u0900" <= char <= "\u097f":
        return category[0] in "LM"
    latin = char.isascii() or "\u00c0" <= char <= "\u024f" or "\u1e00" <= char <= "\u1eff"
    return latin and category[0] in "LM"


def _check_name(text: str) -> Checked:
    name = _squash(text)
    letters = sum(1 for c in name if unicodedata.category(c)[0] in "LM")
    if not NAME_MIN <= len(name) <= NAME_MAX or letters < 2:
        return _fail("name_invalid")
    if not all(_name_char_ok(c) for c in name):
        return _fail("name_invalid")
    return Checked(True, name, name)


def _check_address(text: str) -> Checked:
    address = _squash(text)
    if not ADDRESS_MIN <= len(address) <= ADDRESS_MAX:
        return _fail("address_invalid")
    if not any(c.isalpha() for c in address):
        return _fail("address_invalid")
    address = redact_aadhaar(address)
    return Checked(True, address, address)


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _check_text(field: Field, text: str) -> Checked:
    value = _squash(text)
    limit = field.max_length if field.max_length is not None else TEXT_DEFAULT_MAX
    if len(value) > limit:
        return _fail("too_long")
    if field.pattern:
        # An identifier: compared and stored with ASCII digits. Redacted first, so that
        # the stored value always matches the pattern and never holds an Aadhaar number.
        value = redact_aadhaar(_ascii_digits(value))
        if not _compiled(field.pattern).fullmatch(value):
            return _fail("pattern_mismatch")
        return Checked(True, value, value)
    value = redact_aadhaar(value)
    return Checked(True, value, value)


# --------------------------------------------------------------------------- numbers


def _check_pin(text: str) -> Checked:
    digits = _digits_only(text)  # "110 092", "११००९२", "pin 110092"
    if len(digits) != 6 or digits[0] == "0":
        return _fail("pin_format")
    if not DELHI_PIN_MIN <= int(digits) <= DELHI_PIN_MAX:
        return _fail("pin_not_delhi")
    return Checked(True, digits, digits)


def _check_mobile(text: str) -> Checked:
    digits = _digits_only(text)  # "+91 98765-43210", "(0) 98765 43210", "mera no. 9876543210"
    if len(digits) == 10:
        national = digits
    elif len(digits) == 11 and digits.startswith("0"):
        national = digits[1:]
    elif len(digits) == 12 and digits.startswith("91"):
        national = digits[2:]
    elif len(digits) == 14 and digits.startswith("0091"):
        national = digits[4:]
    else:
        national = ""
    if "+" in text and not re.search(r"\+\s*(?:\(\s*)?91", _ascii_digits(text)):
        national = ""  # another country code
    if not re.fullmatch(r"[6-9][0-9]{9}", national):
        return _fail("mobile_invalid")
    return Checked(True, f"+91{national}", f"+91 XXXXXX{national[-4:]}")


def _check_aadhaar(text: str) -> Checked:
    digits = _digits_only(text)  # "2345 6789 0124", "२३४५-...", "aadhaar: 2345..."
    if len(digits) != 12:
        return _fail("aadhaar_length")
    if digits[0] in "01":
        return _fail("aadhaar_invalid")
    if not verhoeff_valid(digits):
        return _fail("aadhaar_checksum")
    masked = mask_aadhaar(digits)
    return Checked(True, masked, masked)


_GROUPED = re.compile(r"[0-9]+|[0-9]{1,3}(?:,[0-9]{2})*,[0-9]{3}|[0-9]{1,3}(?:,[0-9]{3})+")
_AMOUNT = re.compile(
    r"(?:(?:₹|rs\.?|inr|रु\.?)\s*)?"
    r"(?P<number>[0-9][0-9,]*(?:\.[0-9]+)?)\s*"
    r"(?P<multiplier>k|thousand|hazar|hazaar|हजार|lakhs?|lacs?|लाख|crores?|cr|करोड)?\s*"
    r"(?:/-)?\s*"
    r"(?:rs\.?|inr|rupees?|rupaye|rupaiye|rupay|rupaye|रुपये|रुपए|रुपया|रुपय|रु\.?)?\s*"
    r"(?:/-)?\s*(?:only)?"
)
_MULTIPLIERS = {
    "k": 1_000,
    "thousand": 1_000,
    "hazar": 1_000,
    "hazaar": 1_000,
    "हजार": 1_000,
    "lakh": 100_000,
    "lakhs": 100_000,
    "lac": 100_000,
    "lacs": 100_000,
    "लाख": 100_000,
    "crore": 10_000_000,
    "crores": 10_000_000,
    "cr": 10_000_000,
    "करोड": 10_000_000,
}


def _in_range(value: int, field: Field) -> bool:
    return (field.min is None or value >= field.min) and (field.max is None or value <= field.max)


def _rupees(value: int) -> str:
    """Indian digit grouping: 1,50,000."""
    digits = str(abs(value))
    if len(digits) > 3:
        head, tail = digits[:-3], digits[-3:]
        groups: list[str] = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        digits = ",".join([head, *groups, tail])
    return f"₹{'-' if value < 0 else ''}{digits}"


def _check_amount(field: Field, text: str) -> Checked:
    s = _norm(_squash(_ascii_digits(text)))
    m = _AMOUNT.fullmatch(s)
    if not m:
        return _fail("amount_format")
    number, _, fraction = m.group("number").partition(".")
    if not _GROUPED.fullmatch(number):
        return _fail("amount_format")
    whole = number.replace(",", "").lstrip("0") or "0"
    if len(whole) > _MAX_DIGITS or len(fraction) > _MAX_DIGITS:
        return _fail("amount_range")
    try:
        amount = Decimal(f"{whole}.{fraction or '0'}") * _MULTIPLIERS.get(
            m.group("multiplier") or "", 1
        )
    except InvalidOperation:
        return _fail("amount_format")
    if amount != amount.to_integral_value():
        return _fail("amount_format")
    value = int(amount)
    if not _in_range(value, field):
        return _fail("amount_range")
    return Checked(True, value, _rupees(value))


_NUMBER_TOKEN = re.compile(r"[+-]?[0-9][0-9,]*")


def _check_number(field: Field, text: str) -> Checked:
    s = _squash(_ascii_digits(text))
    numbers: list[str] = []
    for token in s.split(" "):
        token = token.strip(".,!?\u0964")
        if not any("0" <= c <= "9" for c in token):
            continue  # a word: "5 saal", "about 5 years"
        if not _NUMBER_TOKEN.fullmatch(token) or not _GROUPED.fullmatch(token.lstrip("+-")):
            return _fail("number_format")
        numbers.append(token)
    if len(numbers) != 1:
        return _fail("number_format")
    token = numbers[0]
    sign = -1 if token.startswith("-") else 1
    digits = token.lstrip("+-").replace(",", "").lstrip("0") or "0"
    if len(digits) > _MAX_DIGITS:
        return _fail("number_range")
    value = sign * int(digits)
    if not _in_range(value, field):
        return _fail("number_range")
    return Checked(True, value, str(value))


# --------------------------------------------------------------------------- choices

_WORD = re.compile(r"[a-z0-9]+|[\u0900-\u0963\u0971-\u097f]+")
_CHOICE_FILLER = frozenset(
    {"my", "is", "it", "its", "the", "a", "an", "i", "am", "option", "please", "pls"}
    | {"hai", "hain", "he", "h", "hoon", "hu", "ji", "mera", "meri", "mere", "wala", "wali"}
    | {"है", "हैं", "हूं", "मेरा", "मेरी", "मेरे", "जी", "वाला", "वाली"}
)
_VOWEL_FOLDS = (
    (re.compile(r"chh"), "c"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"([kgcjtdpbsr])h"), r"\1"),
    (re.compile(r"w"), "v"),
    (re.compile(r"z"), "j"),
    (re.compile(r"q"), "k"),
    (re.compile(r"x"), "ks"),
    (re.compile(r"ee"), "i"),
    (re.compile(r"oo"), "u"),
    (re.compile(r"([a-z])\1+"), r"\1"),
)


def _words(text: str) -> list[str]:
    return _WORD.findall(_norm(text))


@functools.lru_cache(maxsize=8192)
def _vowel_key(word: str) -> str:
    """Romanised spelling with vowels kept but length and aspiration folded."""
    if any("\u0900" <= c <= "\u097f" for c in word):
        word = devanagari_to_roman(word.rstrip("\u0901\u0902"))
    roman = re.sub(r"[^a-z]", "", word.lower())
    for pattern, replacement in _VOWEL_FOLDS:
        roman = pattern.sub(replacement, roman)
    return roman or word


def _keys(words: Iterable[str]) -> tuple[str, str, str]:
    words = list(words)
    return (
        " ".join(words),
        " ".join(_vowel_key(w) for w in words),
        " ".join(phonetic_key(w) for w in words),
    )


@functools.lru_cache(maxsize=1024)
def _choice_forms(choice_id: str, en: str, hi: str) -> tuple[tuple[str, ...], ...]:
    """Word lists a citizen may type for one choice: id, titles and their parts."""
    forms: list[tuple[str, ...]] = []
    for text in (choice_id.replace("_", " "), en, hi):
        parts = [text, *re.split(r"[/(),]|\bor\b|\band\b|या|और", text)]
        for part in parts:
            words = tuple(_words(part))
            if words and words not in forms:
                forms.append(words)
    return tuple(forms)


def _forms(choice: Choice) -> tuple[tuple[str, ...], ...]:
    return _choice_forms(choice.id, choice.titles.get("en", ""), choice.titles.get("hi", ""))


def _unique(matches: Iterable[Choice]) -> tuple[bool, Choice | None]:
    """(decided, choice): decided with None means several choices matched."""
    found = {c.id: c for c in matches}
    if not found:
        return False, None
    return True, (next(iter(found.values())) if len(found) == 1 else None)


def _match_choice(field: Field, text: str) -> Choice | None:
    choices = field.choices
    typed = _words(text)
    if not typed:
        return None
    if len(typed) == 1 and typed[0].isdigit() and len(typed[0]) <= 2:
        index = int(typed[0])
        return choices[index - 1] if 1 <= index <= len(choices) else None
    exact = " ".join(typed)
    decided, choice = _unique(c for c in choices if any(" ".join(f) == exact for f in _forms(c)))
    if decided:
        return choice
    meaningful = [w for w in typed if w not in _CHOICE_FILLER] or typed
    typed_keys = _keys(meaningful)
    for tier in (0, 1, 2):  # exact words, vowel-aware spelling, consonant skeleton
        decided, choice = _unique(
            c for c in choices if any(_keys(f)[tier] == typed_keys[tier] for f in _forms(c))
        )
        if decided:
            return choice
    # Every typed word names a word of one title only: "caste" -> "Scheduled Caste".
    if all(len(w) >= 3 for w in meaningful):

        def covers(form: tuple[str, ...]) -> bool:
            spellings = {_vowel_key(w) for w in form} | {phonetic_key(w) for w in form}
            return all(
                _vowel_key(w) in spellings or phonetic_key(w) in spellings for w in meaningful
            )

        decided, choice = _unique(c for c in choices if any(covers(f) for f in _forms(c)))
        if decided:
            return choice
    return None


def _check_choice(field: Field, text: str) -> Checked:
    choice = _match_choice(field, text)
    if choice is None:
        return _fail("choice_unknown")
    lang = "hi" if any("\u0900" <= c <= "\u097f" for c in text) else "en"
    return Checked(True, choice.id, choice.title(lang))


# --------------------------------------------------------------------------- entry point


def check(field: Field, text: str, today: date) -> Checked:
    """Validates and normalises one answer to ``field``; never raises for any text."""
    if not isinstance(text, str):  # a slot value that is not text (None, a number)
        text = "" if text is None else str(text)
    if not _squash(text):
        return _fail("empty")
    kind = field.type
    if kind == "name":
        return _check_name(text)
    if kind == "date":
        return _check_date(field, text, today)
    if kind == "address":
        return _check_address(text)
    if kind == "pin":
        return _check_pin(text)
    if kind == "mobile":
        return _check_mobile(text)
    if kind == "aadhaar":
        return _check_aadhaar(text)
    if kind == "amount":
        return _check_amount(field, text)
    if kind == "number":
        return _check_number(field, text)
    if kind == "choice":
        return _check_choice(field, text)
    if kind == "text":
        return _check_text(field, text)
    raise ValueError(f"unknown field type {kind!r}")
