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
from decimal import Decimal

from indic_nlu.text import ascii_digits, devanagari_to_roman, normalize, phonetic_key
from privacy import mask_aadhaar, redact_aadhaar, verhoeff_valid  # the one masker
from service_catalogue import Choice, Field

__all__ = [
    "ERRORS",
    "Amount",
    "Checked",
    "amount_in_words",
    "check",
    "format_amount",
    "mask_aadhaar",
    "parse_amount",
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
        "amount_negative",
        "amount_ambiguous",
        "amount_paise",
        "amount_monthly",
        "amount_yearly",
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


def _squash(text: str) -> str:
    """NFC, invisible spaces dropped, whitespace runs collapsed to one space."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(c for c in text if c not in _ZERO_WIDTH_SPACE)
    return " ".join(text.split())


def _digits_only(text: str) -> str:
    return "".join(c for c in ascii_digits(text) if "0" <= c <= "9")


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
    s = _norm(_squash(ascii_digits(text))).strip().rstrip(".").strip()
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
        value = redact_aadhaar(ascii_digits(value))
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
    if "+" in text and not re.search(r"\+\s*(?:\(\s*)?91", ascii_digits(text)):
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


# ---- amounts in figures and in words
#
# Indian usage (see docs): lakh = 1,00,000, crore = 1,00,00,000; सवा N = N + 1/4,
# डेढ़ = 1.5, ढाई = 2.5, पौने N = N - 1/4, साढ़े N = N + 1/2. A citizen writes
# "डेढ़ लाख रुपये सालाना", "dedh lakh", "1.5L", "one lakh fifty thousand", "1,50,000"
# or "एक लाख पचास हज़ार": each is a sum of groups, each group a number (figures or
# words) times a multiplier, multipliers falling from left to right.

# Hindi numbers 1-99 and 100 as written in Devanagari; the first spelling is canonical.
_HINDI_NUMBERS: dict[int, tuple[str, ...]] = {
    1: ("एक",),
    2: ("दो",),
    3: ("तीन",),
    4: ("चार",),
    5: ("पाँच", "पांच"),
    6: ("छह", "छः", "छे", "छै"),
    7: ("सात",),
    8: ("आठ",),
    9: ("नौ",),
    10: ("दस",),
    11: ("ग्यारह",),
    12: ("बारह",),
    13: ("तेरह",),
    14: ("चौदह",),
    15: ("पंद्रह", "पन्द्रह"),
    16: ("सोलह",),
    17: ("सत्रह",),
    18: ("अठारह",),
    19: ("उन्नीस",),
    20: ("बीस",),
    21: ("इक्कीस",),
    22: ("बाईस",),
    23: ("तेईस",),
    24: ("चौबीस",),
    25: ("पच्चीस",),
    26: ("छब्बीस",),
    27: ("सत्ताईस",),
    28: ("अट्ठाईस", "अठाईस"),
    29: ("उनतीस",),
    30: ("तीस",),
    31: ("इकतीस", "इकत्तीस"),
    32: ("बत्तीस",),
    33: ("तैंतीस", "तेंतीस"),
    34: ("चौंतीस",),
    35: ("पैंतीस",),
    36: ("छत्तीस",),
    37: ("सैंतीस",),
    38: ("अड़तीस",),
    39: ("उनतालीस", "उनतालिस"),
    40: ("चालीस",),
    41: ("इकतालीस",),
    42: ("बयालीस",),
    43: ("तैंतालीस",),
    44: ("चौवालीस", "चवालीस"),
    45: ("पैंतालीस",),
    46: ("छियालीस",),
    47: ("सैंतालीस",),
    48: ("अड़तालीस",),
    49: ("उनचास",),
    50: ("पचास",),
    51: ("इक्यावन",),
    52: ("बावन",),
    53: ("तिरेपन", "तिरपन"),
    54: ("चौवन",),
    55: ("पचपन",),
    56: ("छप्पन",),
    57: ("सत्तावन",),
    58: ("अट्ठावन",),
    59: ("उनसठ",),
    60: ("साठ",),
    61: ("इकसठ",),
    62: ("बासठ",),
    63: ("तिरसठ", "तिरेसठ"),
    64: ("चौंसठ",),
    65: ("पैंसठ",),
    66: ("छियासठ",),
    67: ("सड़सठ", "सरसठ"),
    68: ("अड़सठ",),
    69: ("उनहत्तर",),
    70: ("सत्तर",),
    71: ("इकहत्तर",),
    72: ("बहत्तर",),
    73: ("तिहत्तर",),
    74: ("चौहत्तर",),
    75: ("पचहत्तर",),
    76: ("छिहत्तर",),
    77: ("सतहत्तर",),
    78: ("अठहत्तर",),
    79: ("उन्यासी", "उनासी"),
    80: ("अस्सी",),
    81: ("इक्यासी",),
    82: ("बयासी",),
    83: ("तिरासी",),
    84: ("चौरासी",),
    85: ("पचासी",),
    86: ("छियासी",),
    87: ("सत्तासी",),
    88: ("अट्ठासी",),
    89: ("नवासी",),
    90: ("नब्बे",),
    91: ("इक्यानवे",),
    92: ("बानवे",),
    93: ("तिरानवे",),
    94: ("चौरानवे",),
    95: ("पचानवे",),
    96: ("छियानवे",),
    97: ("सत्तानवे",),
    98: ("अट्ठानवे",),
    99: ("निन्यानवे",),
}
# Hindi typed in Roman letters: spellings beyond the plain romanisation of the above.
_HINGLISH_NUMBERS: dict[int, tuple[str, ...]] = {
    1: ("ek", "aek", "ik"),
    2: ("do", "doh"),
    3: ("teen", "tin"),
    4: ("char", "chaar"),
    5: ("panch", "paanch", "panj", "paach"),
    6: ("chhe", "che", "chah", "chhah", "chhai", "cheh", "chhay"),
    7: ("saat", "sat"),
    8: ("aath", "ath", "aat"),
    9: ("nau", "nao", "nou"),
    10: ("das", "dus"),
    11: ("gyarah", "gyara", "gyaarah", "gyaara"),
    12: ("barah", "bara", "baarah", "baara"),
    13: ("terah", "tera"),
    14: ("chaudah", "chauda", "chodah", "choda"),
    15: ("pandrah", "pandra", "pundra", "pandhra"),
    16: ("solah", "sola"),
    17: ("satrah", "satra", "sattrah"),
    18: ("atharah", "athara", "attharah"),
    19: ("unnis", "unees", "unnees", "unis"),
    20: ("bees", "bis"),
    21: ("ikkis", "ikkees", "ekkis"),
    22: ("bais", "baees", "baaees", "baaeis"),
    23: ("teis", "teees"),
    24: ("chaubis", "chaubees", "chobis", "chobees"),
    25: ("pachchis", "pachis", "pachees", "pacchis", "pachhis", "pachchees"),
    26: ("chhabbis", "chabbis", "chhabbees"),
    27: ("sattais", "sattaees", "sataees"),
    28: ("atthais", "athais", "atthaees", "athaees"),
    29: ("untis", "untees"),
    30: ("tees", "tis"),
    35: ("paintis", "pentis", "paintees", "pantis"),
    36: ("chhattis", "chattis", "chhattees"),
    40: ("chalis", "chaalis", "chalees", "chaalees"),
    45: ("paintalis", "pentalis", "paintalees"),
    50: ("pachas", "pachaas", "pachaass"),
    55: ("pachpan",),
    60: ("saath", "sath"),
    65: ("painsath", "pensath"),
    70: ("sattar", "sattar"),
    75: ("pachattar", "pachhattar", "pachahattar", "pachhatar"),
    80: ("assi", "asi"),
    90: ("nabbe", "nabbay", "nabbey", "nabe"),
    99: ("ninyanve", "ninyaanve", "ninanve"),
}
_ENGLISH_NUMBERS: dict[str, int] = {
    "zero": 0,
    "nil": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_HUNDRED = ("hundred", "सौ", "sau")
_MULTIPLIER_WORDS: dict[int, tuple[str, ...]] = {
    1_000: ("thousand", "thousands", "k", "हज़ार", "हजार", "hazar", "hazaar", "hajar", "hajaar"),
    100_000: ("lakh", "lakhs", "lac", "lacs", "lakha", "laakh", "l", "लाख", "लाखों"),
    1_000_000: ("million", "millions", "mn"),
    10_000_000: ("crore", "crores", "cr", "करोड़", "करोड", "karod", "karor", "karore"),
}
#: Words that change the number after them (or stand for one).
_FRACTION_WORDS: dict[str, tuple[str, ...]] = {
    "sava": ("सवा", "sava", "sawa", "swa", "sawaa", "savaa"),  # N + 1/4 (alone: 1 1/4)
    "dedh": ("डेढ़", "डेढ", "dedh", "derh", "dedha", "dedd", "deddh", "dhedh"),  # 1 1/2
    "dhai": ("ढाई", "अढ़ाई", "अढाई", "dhai", "dhaai", "dhaee", "dhaayi", "adhai", "dhayi"),
    "paune": ("पौने", "paune", "pone", "pauney", "paunay", "poune"),  # N - 1/4
    "sadhe": ("साढ़े", "साढे", "sadhe", "saadhe", "sade", "saade", "sarhe", "saarhe"),  # N+1/2
    "half": ("half", "आधा", "आधे", "aadha", "adha", "aadhe", "adhe"),  # 1/2
}
_CURRENCY_WORDS = frozenset(
    {"rs", "re", "inr", "rupee", "rupees", "rupaye", "rupaiye", "rupay", "rupaya"}
    | {"rupye", "rupiya", "rupiye", "rupya", "ruppees", "rupess", "only", "sirf", "bas", "just"}
    | {"रुपये", "रुपए", "रुपया", "रुपय", "रुपयों", "रु", "मात्र", "सिर्फ", "केवल", "matra"}
)
_YEAR_WORDS = frozenset(
    {"yearly", "annual", "annually", "annum", "year", "years", "yr", "pa", "saal", "sal"}
    | {"salana", "saalana", "saalaana", "salaana", "varshik", "varsh", "sala"}
    | {"सालाना", "साल", "वार्षिक", "वर्ष", "प्रतिवर्ष"}
)
_MONTH_WORDS = frozenset(
    {"monthly", "month", "months", "pm", "mahina", "mahine", "mahinaa", "maheena", "mahana"}
    | {"masik", "maah", "mah", "महीना", "महीने", "मासिक", "माह", "महिना", "महिने"}
)
_AMOUNT_FILLER = frozenset(
    {"per", "the", "is", "my", "our", "its", "it", "about", "around", "approx"}
    | {"approximately", "nearly", "roughly", "total", "family", "income", "amount", "of"}
    | {"in", "every", "each", "har", "prati", "ka", "ki", "ke", "ko", "hai", "h", "he"}
    | {"hain", "hoga", "hogi", "mera", "meri", "mere", "hamara", "hamari", "hamare", "kul"}
    | {"lagbhag", "karib", "kareeb", "takriban", "aay", "aamdani", "kamai", "parivar", "ghar"}
    | {"का", "की", "के", "को", "है", "हैं", "होगा", "होगी", "मेरा", "मेरी", "मेरे", "हमारा"}
    | {"हमारी", "हमारे", "कुल", "लगभग", "करीब", "तकरीबन", "आय", "आमदनी", "कमाई", "परिवार"}
    | {"घर", "हर", "प्रति", "में", "me", "mein", "cost", "kharcha", "खर्च", "खर्चा"}
)
_ARTICLES = frozenset({"a", "an"})
_AND_WORDS = frozenset({"and", "aur", "और", "evam", "एवं"})
#: A second amount, a range or a bound: not one amount.
_RANGE_WORDS = frozenset(
    {"or", "to", "ya", "yaa", "या", "se", "से", "tak", "तक", "between", "upto", "till"}
    | {"under", "below", "above", "over", "more", "less", "than", "zyada", "jyada", "kam"}
    | {"ज़्यादा", "ज्यादा", "कम", "अधिक", "max", "maximum", "min", "minimum", "within"}
    | {"plus"}
)
_NEGATIVE_WORDS = frozenset({"minus", "negative", "माइनस", "ऋण", "ghata", "घाटा", "loss"})
_AMOUNT_TOKEN = re.compile(
    r"(?P<num>[0-9][0-9,.]*|(?<![a-z.])\.[0-9]+)"
    r"|(?P<word>[a-z]+|[\u0900-\u0963\u0971-\u097f]+)"
    r"|(?P<dash>[\-\u2010-\u2015\u2212])"
    r"|(?P<plus>\+)"
    r"|(?P<skip>[₹$.,;:!?()'\"/\u0964\u0965*=]|\S)"
)
_PER_YEAR = re.compile(r"\bp\s*\.\s*a\b\.?|\bper\s*/\s*annum\b")
_PER_MONTH = re.compile(r"\bp\s*\.\s*m\b\.?")


def _roman_key(word: str) -> str:
    """Spelling key of a Roman word: long vowels, doubled letters, w/v and z/j folded."""
    word = word.lower().replace("ee", "i").replace("oo", "u")
    word = word.replace("w", "v").replace("z", "j").replace("q", "k")
    return re.sub(r"([a-z])\1+", r"\1", word)


@functools.lru_cache(maxsize=1)
def _amount_vocabulary() -> dict[str, tuple[str, object]]:
    """Normalised word -> (kind, value); Roman words are looked up by ``_roman_key``."""
    vocabulary: dict[str, tuple[str, object]] = {}

    def add(word: str, entry: tuple[str, object]) -> None:
        roman = word.isascii()
        key = _roman_key(word) if roman else _norm(word)
        if vocabulary.setdefault(key, entry) != entry:
            raise AssertionError(f"amount word {word!r} means two things")

    for word, number in _ENGLISH_NUMBERS.items():
        add(word, ("tens" if number >= 20 else "num", number))
    for number, spellings in _HINGLISH_NUMBERS.items():
        for spelling in spellings:
            add(spelling, ("num", number))
    for number, spellings in _HINDI_NUMBERS.items():
        for spelling in spellings:
            add(spelling, ("num", number))
    for number, spellings in _HINDI_NUMBERS.items():  # their plain romanisation, if free
        for spelling in spellings:
            roman = devanagari_to_roman(_norm(spelling))
            if _roman_key(roman) not in vocabulary:
                add(roman, ("num", number))
    for word in _HUNDRED:
        add(word, ("hundred", 100))
    for multiplier, words in _MULTIPLIER_WORDS.items():
        for word in words:
            add(word, ("mult", multiplier))
    for kind, words in _FRACTION_WORDS.items():
        for word in words:
            add(word, ("fraction", kind))
    for kind, group in (
        ("currency", _CURRENCY_WORDS),
        ("year", _YEAR_WORDS),
        ("month", _MONTH_WORDS),
        ("and", _AND_WORDS),
        ("article", _ARTICLES),
        ("range", _RANGE_WORDS),
        ("negative", _NEGATIVE_WORDS),
        ("filler", _AMOUNT_FILLER),
    ):
        for word in group:
            key = _roman_key(word) if word.isascii() else _norm(word)
            vocabulary.setdefault(key, (kind, None))
    return vocabulary


def _amount_word(word: str) -> tuple[str, object]:
    vocabulary = _amount_vocabulary()
    key = _roman_key(word) if word.isascii() else word
    return vocabulary.get(key, ("unknown", word))


@dataclass(frozen=True)
class Amount:
    """What :func:`parse_amount` read: rupees (exact), or an error code, and any period."""

    value: Decimal | None
    error: str | None = None
    period: str | None = None  # "year" | "month" when the citizen said so


def _figures(token: str) -> Decimal | None:
    """A number typed in figures: 150000, 1,50,000, 150,000, 1.5; None if malformed."""
    token = token.rstrip(".,")
    whole, dot, fraction = token.partition(".")
    if "." in fraction or "," in fraction or (dot and not fraction) or not whole and not dot:
        return None
    whole = whole or "0"
    if not _GROUPED.fullmatch(whole):
        return None
    digits = whole.replace(",", "").lstrip("0") or "0"
    if len(digits) > _MAX_DIGITS or len(fraction) > _MAX_DIGITS:
        return Decimal(10) ** (_MAX_DIGITS + 1)  # absurd: refused as out of range
    return Decimal(f"{digits}.{fraction or '0'}")


def _amount_items(text: str) -> list[tuple[str, object]]:
    s = _norm(_squash(ascii_digits(text)))
    s = _PER_YEAR.sub(" per annum ", s)
    s = _PER_MONTH.sub(" per month ", s).replace("/-", " ")
    items: list[tuple[str, object]] = []
    for m in _AMOUNT_TOKEN.finditer(s):
        if m.group("num"):
            value = _figures(m.group("num"))
            items.append(("num", value) if value is not None else ("bad", m.group("num")))
        elif m.group("word"):
            items.append(_amount_word(m.group("word")))
        elif m.group("dash"):
            items.append(("dash", None))
        elif m.group("plus"):
            items.append(("range", None))
    return items


def parse_amount(text: str) -> Amount:
    """Rupees a citizen typed, in figures or words, in Devanagari or Roman letters.

    Errors: ``amount_format`` (no amount, or words that are not one), ``amount_negative``,
    ``amount_ambiguous`` (two amounts, a range, a bound such as "more than 2 lakh"),
    ``amount_range`` (more digits than any real amount).
    """
    items = _amount_items(text)
    total = Decimal(0)
    group: Decimal | None = None  # the number waiting for its multiplier
    group_shape = ""  # "tens" after "fifty", "hundred" after "ek sau": a number may follow
    last_multiplier: int | None = None
    prefix: str | None = None  # सवा / पौने / साढ़े waiting for their number
    one_implied = False  # "a lakh"
    period: str | None = None
    seen_number = negative = False
    for index, (kind, value) in enumerate(items):
        if kind in ("bad", "unknown"):
            return Amount(None, "amount_format")
        if kind == "negative" or (kind == "dash" and not seen_number and prefix is None):
            negative = True
            continue
        if kind == "dash" and index == len(items) - 1:
            continue  # "5000-", as in "5000/-"
        if kind == "dash" and group_shape == "tens" and index + 1 < len(items):
            following = items[index + 1]
            if following[0] == "num" and Decimal(following[1]) < 10:  # type: ignore[arg-type]
                continue  # "twenty-five"
        if kind in ("range", "dash"):
            return Amount(None, "amount_ambiguous")
        if kind in ("year", "month"):
            period = kind
            continue
        if kind == "article":
            one_implied = one_implied or (group is None and prefix is None)
            continue
        if kind in ("currency", "filler", "and"):
            continue
        if kind == "fraction":
            if value in ("dedh", "dhai"):
                kind, value = "num", Decimal("1.5" if value == "dedh" else "2.5")
            elif value == "half":
                if group is not None and group == int(group):  # "one and a half lakh"
                    group += Decimal("0.5")
                    group_shape = ""
                    continue
                kind, value = "num", Decimal("0.5")
            elif prefix is not None:
                return Amount(None, "amount_format")  # "सवा पौने"
            else:
                prefix = str(value)
                continue
        if kind in ("num", "tens"):
            number = Decimal(value)  # type: ignore[arg-type]
            seen_number = True
            if prefix is not None:
                number, prefix = _apply_fraction(prefix, number), None
            if group is None:
                group = number
                group_shape = "tens" if kind == "tens" else ""
            elif group_shape == "tens" and number < 10 and number == int(number):
                group += number  # "fifty five"
                group_shape = ""
            elif group_shape == "hundred" and number < 100:
                group += number  # "ek sau pachas", "two hundred fifty"
                group_shape = "tens" if kind == "tens" else ""
            else:
                return Amount(None, "amount_ambiguous")  # "50000 60000"
            continue
        if kind == "hundred":
            if prefix is not None:  # "सवा सौ"
                group, prefix = _apply_fraction(prefix, Decimal(1)), None
            if group is not None and group >= 100:
                return Amount(None, "amount_format")
            group = (group if group is not None else Decimal(1)) * 100
            group_shape, seen_number = "hundred", True
            continue
        # a multiplier: thousand, lakh, million, crore
        multiplier = int(value)  # type: ignore[call-overload]
        if prefix is not None:  # "सवा लाख", "paune lakh"
            group, prefix = _apply_fraction(prefix, Decimal(1)), None
        if group is None:
            if not one_implied:
                return Amount(None, "amount_ambiguous")  # "lakhs"
            group = Decimal(1)
        if last_multiplier is not None and multiplier >= last_multiplier:
            return Amount(None, "amount_format")  # "50 hazar 1 lakh"
        total += group * multiplier
        last_multiplier, group, group_shape, one_implied = multiplier, None, "", False
        seen_number = True
    if prefix is not None or not seen_number:
        return Amount(None, "amount_format")  # nothing, or "सवा" with nothing after it
    if group is not None:
        if last_multiplier is not None and last_multiplier >= 100_000 and group_shape != "hundred":
            # "ek lakh pachas" is said for 1,50,000: ask rather than file 1,00,050
            return Amount(None, "amount_ambiguous")
        total += group
    if negative and total != 0:
        return Amount(None, "amount_negative")
    if total >= Decimal(10) ** _MAX_DIGITS:
        return Amount(None, "amount_range")
    return Amount(total, None, period)


def _apply_fraction(kind: str, number: Decimal) -> Decimal:
    if kind == "sava":
        return number + Decimal("0.25")
    if kind == "paune":
        return number - Decimal("0.25")
    return number + Decimal("0.5")  # sadhe


_WORD_UNITS = ((10_000_000, "करोड़", "crore"), (100_000, "लाख", "lakh"), (1_000, "हज़ार", "thousand"))
_HINDI_FRACTIONS = {Decimal("1.5"): "डेढ़", Decimal("2.5"): "ढाई", Decimal("1.25"): "सवा"}


def _hindi_count(number: int) -> str:
    return _HINDI_NUMBERS[number][0] if 1 <= number <= 10 else str(number)


def amount_in_words(value: int, lang: str) -> str:
    """How a citizen would say an amount: "डेढ़ लाख", "2.5 lakh", "50 हज़ार",
    "1 crore 25 lakh 50 thousand"; empty below 1,000 or when only figures are clear."""
    if value < 1000:
        return ""
    for unit, hindi, english in _WORD_UNITS:
        if value < unit:
            continue
        quantity = Decimal(value) / unit
        exact = Decimal(1) if unit == 1_000 else Decimal("0.01")  # "10.5 thousand": no
        if quantity == quantity.quantize(exact):
            quantity = quantity.normalize()
            shown = f"{quantity:f}"
            if lang == "hi":
                whole = int(quantity)
                rest = quantity - whole
                if quantity in _HINDI_FRACTIONS:
                    shown = _HINDI_FRACTIONS[quantity]
                elif rest == Decimal("0.25") and whole:
                    shown = f"सवा {_hindi_count(whole)}"
                elif rest == Decimal("0.5") and whole >= 3:
                    shown = f"साढ़े {_hindi_count(whole)}"
                elif rest == Decimal("0.75"):
                    shown = f"पौने {_hindi_count(whole + 1)}"
            return f"{shown} {hindi if lang == 'hi' else english}"
        parts: list[str] = []
        rest_value = value
        for part_unit, part_hindi, part_english in _WORD_UNITS:
            count, rest_value = divmod(rest_value, part_unit)
            if count:
                parts.append(f"{count} {part_hindi if lang == 'hi' else part_english}")
        # "1 lakh 23 thousand 456" reads worse than the figures: none then
        return "" if rest_value else " ".join(parts)
    return ""


def format_amount(value: int, lang: str) -> str:
    """An amount shown back to the citizen: "₹1,50,000 (डेढ़ लाख)", "₹500"."""
    words = amount_in_words(value, lang)
    return f"{_rupees(value)} ({words})" if words else _rupees(value)


def _check_amount(field: Field, text: str) -> Checked:
    amount = parse_amount(text)
    if amount.value is None:
        return _fail(amount.error or "amount_format")
    if amount.value != amount.value.to_integral_value():
        return _fail("amount_paise")
    annual, monthly = field.id.startswith("annual"), field.id.startswith("monthly")
    if annual and amount.period == "month":
        return _fail("amount_monthly")
    if monthly and amount.period == "year":
        return _fail("amount_yearly")
    value = int(amount.value)
    if not _in_range(value, field):
        return _fail("amount_range")
    return Checked(True, value, _rupees(value))


_NUMBER_TOKEN = re.compile(r"[+-]?[0-9][0-9,]*")


def _check_number(field: Field, text: str) -> Checked:
    s = _squash(ascii_digits(text))
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
# Words around a choice: "छात्रवृत्ति के लिए", "scholarship ke liye chahiye", "for a job".
_CHOICE_FILLER = frozenset(
    {"my", "is", "it", "its", "the", "a", "an", "i", "am", "option", "please", "pls"}
    | {"for", "to", "get", "need", "needed", "want", "required", "purpose", "of", "this"}
    | {"hai", "hain", "he", "h", "hoon", "hu", "ji", "mera", "meri", "mere", "wala", "wali"}
    | {"ke", "liye", "liyea", "lie", "liya", "ki", "ka", "chahiye", "chahie", "chaiye"}
    | {"chaahiye", "hetu", "vaste", "waste", "mujhe", "hame", "hamein", "humein", "ko"}
    | {"है", "हैं", "हूं", "मेरा", "मेरी", "मेरे", "जी", "वाला", "वाली", "के", "लिए", "लिये"}
    | {"की", "का", "चाहिए", "चाहिये", "हेतु", "वास्ते", "मुझे", "हमें", "को", "काम"}
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
