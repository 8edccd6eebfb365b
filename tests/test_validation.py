"""Form answers typed in Hindi, English or Hinglish (service_catalogue.validation)."""

from __future__ import annotations

import dataclasses
import random
import re
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service_catalogue import Choice, Field, load
from service_catalogue.validation import (
    ERRORS,
    Checked,
    amount_in_words,
    check,
    format_amount,
    mask_aadhaar,
    parse_amount,
    parse_date,
    redact_aadhaar,
    verhoeff_valid,
)

TODAY = date(2026, 11, 23)
DEVANAGARI_DIGITS = str.maketrans("0123456789", "०१२३४५६७८९")


def field(kind: str, **options: object) -> Field:
    return Field(id=f"test_{kind}", type=kind, question={"en": "?", "hi": "?"}, **options)  # type: ignore[arg-type]


def choice_field(*choices: tuple[str, str, str]) -> Field:
    return field("choice", choices=[Choice(cid, {"en": en, "hi": hi}) for cid, en, hi in choices])


GENDER = choice_field(
    ("male", "Male", "पुरुष"), ("female", "Female", "महिला"), ("other", "Other", "अन्य")
)
RELATION = choice_field(
    ("spouse", "Husband / wife", "पति / पत्नी"),
    ("son", "Son", "बेटा"),
    ("daughter", "Daughter", "बेटी"),
    ("mother", "Mother", "माँ"),
    ("father", "Father", "पिता"),
    ("other", "Other relative", "अन्य रिश्तेदार"),
)
CATEGORY = choice_field(
    ("sc", "Scheduled Caste", "अनुसूचित जाति"), ("st", "Scheduled Tribe", "अनुसूचित जनजाति")
)
BIRTH_DATE = field("date", past_only=True)
APPOINTMENT = field("date", future_only=True)
ANY_DATE = field("date")
INCOME = field("amount", min=0, max=10_000_000)
ANNUAL_INCOME = dataclasses.replace(INCOME, id="annual_income")
SOLVENCY = field("amount", min=10_000, max=100_000_000)
YEARS = field("number", min=0, max=100)
K_NUMBER = field("text", max_length=20, pattern=r"^\d{10}$")
RATION_CARD = field("text", pattern=r"^[0-9]{10,15}$")
CASTE_NAME = field("text", max_length=60)


# --------------------------------------------------------------------------- Verhoeff
# An independent implementation: the dihedral group D5 and the permutation written
# algebraically, checked against the tables as published (Verhoeff 1969).

PUBLISHED_D = (
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
PUBLISHED_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
PUBLISHED_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def d5(j: int, k: int) -> int:
    """Product in D5: 0-4 are rotations, 5-9 reflections."""
    if j < 5:
        return (j + k) % 5 if k < 5 else 5 + (j + k) % 5
    return 5 + (j - k) % 5 if k < 5 else (j - k) % 5


def permute(times: int, digit: int) -> int:
    for _ in range(times):
        digit = PUBLISHED_P[1][digit]
    return digit


INV = tuple(next(k for k in range(10) if d5(j, k) == 0) for j in range(10))


def check_digit(body: str) -> str:
    c = 0
    for position, char in enumerate(reversed(body), start=1):
        c = d5(c, permute(position % 8, int(char)))
    return str(INV[c])


def test_independent_verhoeff_matches_the_published_tables():
    assert tuple(tuple(d5(j, k) for k in range(10)) for j in range(10)) == PUBLISHED_D
    assert tuple(tuple(permute(i, d) for d in range(10)) for i in range(8)) == PUBLISHED_P
    assert INV == PUBLISHED_INV


@pytest.mark.parametrize(
    "number, valid",
    [
        ("2363", True),  # the textbook example: 236 -> check digit 3
        ("2364", False),
        ("123451", True),
        ("1234567890120", True),
        ("1234567890121", False),
        ("0", True),
        ("", False),
        ("12a4", False),
        ("२३६३", True),  # Devanagari digits
    ],
)
def test_verhoeff_known_values(number, valid):
    assert verhoeff_valid(number) is valid


def make_aadhaar(rng: random.Random) -> str:
    body = str(rng.randint(2, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(10))
    return body + check_digit(body)


AADHAARS = [make_aadhaar(random.Random(seed)) for seed in range(40)]


@pytest.mark.parametrize("number", AADHAARS)
def test_generated_aadhaar_numbers_pass_and_every_single_digit_error_is_caught(number):
    assert verhoeff_valid(number)
    result = check(field("aadhaar"), number, TODAY)
    assert result == Checked(True, f"XXXX-XXXX-{number[-4:]}", f"XXXX-XXXX-{number[-4:]}")
    for position in range(12):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            typo = number[:position] + digit + number[position + 1 :]
            expected = "aadhaar_invalid" if typo[0] in "01" else "aadhaar_checksum"
            assert check(field("aadhaar"), typo, TODAY).error == expected


@pytest.mark.parametrize("number", AADHAARS[:10])
def test_adjacent_transpositions_are_caught(number):
    for i in range(11):
        if number[i] == number[i + 1]:
            continue
        swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
        assert not verhoeff_valid(swapped)


# --------------------------------------------------------------------------- Aadhaar

VALID = AADHAARS[0]
GROUPED = f"{VALID[:4]} {VALID[4:8]} {VALID[8:]}"


@pytest.mark.parametrize(
    "typed",
    [
        VALID,
        GROUPED,
        f"{VALID[:4]}-{VALID[4:8]}-{VALID[8:]}",
        f"  {GROUPED}  ",
        GROUPED.translate(DEVANAGARI_DIGITS),
        f"aadhaar: {GROUPED}",
    ],
)
def test_aadhaar_accepted_in_any_common_format(typed):
    result = check(field("aadhaar"), typed, TODAY)
    assert result.ok
    assert result.value == result.display == f"XXXX-XXXX-{VALID[-4:]}"


@pytest.mark.parametrize(
    "typed, error",
    [
        (VALID[-4:], "aadhaar_length"),  # last 4 only: cannot be verified
        (VALID[:11], "aadhaar_length"),
        (VALID + "5", "aadhaar_length"),
        (VALID + "1234", "aadhaar_length"),  # a 16-digit Virtual ID
        ("XXXX-XXXX-1234", "aadhaar_length"),
        ("nahi pata", "aadhaar_length"),
        ("0" + VALID[1:], "aadhaar_invalid"),
        ("1" + VALID[1:], "aadhaar_invalid"),
        (VALID[:11] + str((int(VALID[11]) + 1) % 10), "aadhaar_checksum"),
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_aadhaar_rejected(typed, error):
    assert check(field("aadhaar"), typed, TODAY) == Checked(False, error=error)


def _exposed(result: Checked) -> list[str]:
    texts = [repr(result), str(result), repr(dataclasses.astuple(result))]
    texts += [str(v) for v in vars(result).values()]
    texts += [str(getattr(result, name)) for name in dir(result) if not name.startswith("__")]
    return texts


@pytest.mark.parametrize("number", AADHAARS[:5])
@pytest.mark.parametrize("sep", ["", " ", "-"])
def test_no_attribute_or_repr_of_a_checked_aadhaar_holds_the_number(number, sep):
    for candidate in (number, "1" + number[1:], number[:11] + str((int(number[11]) + 1) % 10)):
        typed = sep.join((candidate[:4], candidate[4:8], candidate[8:]))
        result = check(field("aadhaar"), typed, TODAY)
        for text in _exposed(result):
            digits = re.sub(r"\D", "", text)
            assert candidate not in digits
            assert candidate[:8] not in digits  # at most the last four are visible


def test_mask_aadhaar():
    assert mask_aadhaar(VALID) == f"XXXX-XXXX-{VALID[-4:]}"
    assert mask_aadhaar(GROUPED.translate(DEVANAGARI_DIGITS)) == f"XXXX-XXXX-{VALID[-4:]}"
    with pytest.raises(ValueError) as raised:
        mask_aadhaar("12")
    assert "12" not in str(raised.value)


# --------------------------------------------------------------------------- redaction

INVALID = VALID[:11] + str((int(VALID[11]) + 1) % 10)


@pytest.mark.parametrize(
    "text, expected",
    [
        (f"mera aadhaar {VALID} hai", f"mera aadhaar XXXX-XXXX-{VALID[-4:]} hai"),
        (f"आधार {GROUPED}।", f"आधार XXXX-XXXX-{VALID[-4:]}।"),
        (f"({VALID[:4]}-{VALID[4:8]}-{VALID[8:]})", f"(XXXX-XXXX-{VALID[-4:]})"),
        (GROUPED.translate(DEVANAGARI_DIGITS), f"XXXX-XXXX-{VALID[-4:]}"),
        (
            f"{AADHAARS[1]} and {AADHAARS[2]}",
            f"XXXX-XXXX-{AADHAARS[1][-4:]} and XXXX-XXXX-{AADHAARS[2][-4:]}",
        ),
        (f"wrong {INVALID}", f"wrong {INVALID}"),  # fails Verhoeff: not an Aadhaar
        (f"7{VALID}", f"7{VALID}"),  # 13 digits: another number
        (f"{VALID}7", f"{VALID}7"),
        ("call 9876543210, pin 110092, 12/03/1990", "call 9876543210, pin 110092, 12/03/1990"),
        ("no numbers here", "no numbers here"),
        ("", ""),
    ],
)
def test_redact_aadhaar(text, expected):
    assert redact_aadhaar(text) == expected


@given(
    st.sampled_from(AADHAARS),
    st.sampled_from(["", " ", "-"]),
    st.text(alphabet="abc आधार,.:;()", max_size=15),
    st.text(alphabet="abc आधार,.:;()", max_size=15),
    st.booleans(),
)
def test_redacted_text_never_holds_a_valid_number(number, sep, before, after, devanagari):
    typed = sep.join((number[:4], number[4:8], number[8:]))
    if devanagari:
        typed = typed.translate(DEVANAGARI_DIGITS)
    redacted = redact_aadhaar(before + typed + after)
    assert number not in re.sub(
        r"\D", "", redacted.translate(str.maketrans("०१२३४५६७८९", "0123456789"))
    )
    assert redact_aadhaar(redacted) == redacted


def test_free_text_and_addresses_are_stored_with_aadhaar_masked():
    address = check(field("address"), f"House 12, Laxmi Nagar, Delhi {GROUPED}", TODAY)
    assert address.ok and VALID[:8] not in re.sub(r"\D", "", str(address))
    text = check(CASTE_NAME, f"Jatav {VALID}", TODAY)
    assert text.value == f"Jatav XXXX-XXXX-{VALID[-4:]}"
    # A patterned identifier never stores a mask that breaks its own pattern.
    assert check(RATION_CARD, VALID, TODAY).error == "pattern_mismatch"
    assert check(RATION_CARD, INVALID, TODAY).value == INVALID


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("12/03/1990", date(1990, 3, 12)),
        ("12-3-1990", date(1990, 3, 12)),
        ("12.03.90", date(1990, 3, 12)),
        ("1990-03-12", date(1990, 3, 12)),
        ("12 March 1990", date(1990, 3, 12)),
        ("12 mar 90", date(1990, 3, 12)),
        ("March 12, 1990", date(1990, 3, 12)),
        ("12th March, 1990", date(1990, 3, 12)),
        ("12-Mar-1990", date(1990, 3, 12)),
        ("12 मार्च 1990", date(1990, 3, 12)),
        ("१२/०३/१९९०", date(1990, 3, 12)),
        ("१२ मार्च १९९०", date(1990, 3, 12)),
        ("12 / 03 / 1990", date(1990, 3, 12)),
        ("12 3 1990", date(1990, 3, 12)),
        ("12031990", date(1990, 3, 12)),
        ("  12/03/1990. ", date(1990, 3, 12)),
        ("01/02/2003", date(2003, 2, 1)),  # day first, always
        ("29/02/2024", date(2024, 2, 29)),
        ("12/03/26", date(2026, 3, 12)),  # <= current 2-digit year: 20xx
        ("12/03/27", date(1927, 3, 12)),  # otherwise 19xx
        ("12/03/00", date(2000, 3, 12)),
        ("01/01/1900", date(1900, 1, 1)),
    ],
)
def test_dates(typed, expected):
    assert parse_date(typed, TODAY) == expected
    result = check(ANY_DATE, typed, TODAY)
    assert result == Checked(True, expected.isoformat(), expected.strftime("%d/%m/%Y"))


@pytest.mark.parametrize(
    "month, spellings",
    [
        (1, ["janvari", "january", "jan", "जनवरी"]),
        (2, ["farvari", "february", "feb", "फरवरी", "फ़रवरी"]),
        (3, ["march", "mar", "मार्च"]),
        (4, ["aprail", "april", "apr", "अप्रैल"]),
        (5, ["mai", "may", "मई"]),
        (6, ["june", "joon", "jun", "जून"]),
        (7, ["julai", "july", "jul", "जुलाई"]),
        (8, ["agast", "august", "aug", "अगस्त"]),
        (9, ["sitambar", "september", "sept", "सितंबर", "सितम्बर"]),
        (10, ["aktubar", "october", "oct", "अक्टूबर"]),
        (11, ["navambar", "november", "nov", "नवंबर", "नवम्बर"]),
        (12, ["disambar", "december", "dec", "दिसंबर", "दिसम्बर"]),
    ],
)
def test_month_names_in_english_hinglish_and_hindi(month, spellings):
    for spelling in spellings:
        for typed in (f"5 {spelling} 2001", f"5 {spelling.upper()} 01", f"{spelling} 5, 2001"):
            assert parse_date(typed, TODAY) == date(2001, month, 5), typed


@pytest.mark.parametrize(
    "typed, error",
    [
        ("12 march ninety", "date_format"),
        ("kal", "date_format"),
        ("12/03", "date_format"),
        ("12/03/990", "date_format"),
        ("12 blah 1990", "date_format"),
        ("1990", "date_format"),
        ("12/03/1990 ya 13/03/1990", "date_format"),
        ("31/02/2000", "date_invalid"),
        ("29/02/2023", "date_invalid"),
        ("12/13/1990", "date_invalid"),
        ("00/03/1990", "date_invalid"),
        ("32 March 1990", "date_invalid"),
        ("31/12/1899", "date_invalid"),
        ("", "empty"),
    ],
)
def test_bad_dates(typed, error):
    assert check(ANY_DATE, typed, TODAY).error == error
    assert parse_date(typed, TODAY) is None


def test_past_and_future_only():
    tomorrow, yesterday = TODAY + timedelta(days=1), TODAY - timedelta(days=1)
    fmt = "%d/%m/%Y"
    assert check(BIRTH_DATE, TODAY.strftime(fmt), TODAY).ok
    assert check(BIRTH_DATE, tomorrow.strftime(fmt), TODAY).error == "date_future"
    assert check(APPOINTMENT, TODAY.strftime(fmt), TODAY).ok
    assert check(APPOINTMENT, yesterday.strftime(fmt), TODAY).error == "date_past"
    assert check(ANY_DATE, "01/01/2099", TODAY).ok


# --------------------------------------------------------------------------- names, address


@pytest.mark.parametrize(
    "typed, value",
    [
        ("Ravi Kumar", "Ravi Kumar"),
        ("  ravi   KUMAR ", "ravi KUMAR"),  # case and script kept, spacing normalised
        ("रवि कुमार", "रवि कुमार"),
        ("श्री राम-लाल", "श्री राम-लाल"),
        ("A. K. Sharma", "A. K. Sharma"),
        ("D'Souza", "D'Souza"),
        ("Ravi कुमार", "Ravi कुमार"),
        ("Li", "Li"),
        ("José Müller", "José Müller"),
        ("x" * 80, "x" * 80),
    ],
)
def test_names(typed, value):
    assert check(field("name"), typed, TODAY) == Checked(True, value, value)


@pytest.mark.parametrize(
    "typed", ["R2D2", "Ravi 2", "रवि ३", "A", "x" * 81, "--", "Ravi@Kumar", "/greet", "राम।"]
)
def test_bad_names(typed):
    assert check(field("name"), typed, TODAY).error == "name_invalid"


@pytest.mark.parametrize(
    "typed, ok",
    [
        ("House 12, Gali 3, Laxmi Nagar, Delhi", True),
        ("मकान 12, गली 3, लक्ष्मी नगर, दिल्ली", True),
        ("B-1 Rohini", True),  # exactly 10 characters
        ("B-1 Rohin", False),
        ("1234567890123", False),  # no letter
        ("a" * 300, True),
        ("a" * 301, False),
    ],
)
def test_addresses(typed, ok):
    result = check(field("address"), typed, TODAY)
    assert result.ok is ok
    assert result.error == (None if ok else "address_invalid")


# --------------------------------------------------------------------------- pin, mobile


@pytest.mark.parametrize(
    "typed, result",
    [
        ("110001", Checked(True, "110001", "110001")),
        ("110 092", Checked(True, "110092", "110092")),
        ("११००९२", Checked(True, "110092", "110092")),
        ("pin 110096", Checked(True, "110096", "110096")),
        ("110099", Checked(True, "110099", "110099")),
        ("110000", Checked(False, error="pin_not_delhi")),
        ("110100", Checked(False, error="pin_not_delhi")),
        ("400001", Checked(False, error="pin_not_delhi")),
        ("201301", Checked(False, error="pin_not_delhi")),  # Noida
        ("11000", Checked(False, error="pin_format")),
        ("1100011", Checked(False, error="pin_format")),
        ("011001", Checked(False, error="pin_format")),
        ("Laxmi Nagar", Checked(False, error="pin_format")),
    ],
)
def test_pin(typed, result):
    assert check(field("pin"), typed, TODAY) == result


@pytest.mark.parametrize(
    "typed",
    [
        "9876543210",
        "+91 98765 43210",
        "+919876543210",
        "919876543210",
        "09876543210",
        "098765-43210",
        "(+91) 98765-43210",
        "००९१ ९८७६५ ४३२१०".replace(" ", "", 1),
        "९८७६५४३२१०",
    ],
)
def test_mobile_numbers(typed):
    assert check(field("mobile"), typed, TODAY) == Checked(True, "+919876543210", "+91 XXXXXX3210")


@pytest.mark.parametrize(
    "typed", ["5876543210", "98765", "98765432101", "+1 9876543210", "+44 7911 123456", "abc"]
)
def test_bad_mobile_numbers(typed):
    assert check(field("mobile"), typed, TODAY).error == "mobile_invalid"


def test_a_ten_digit_number_starting_91_is_not_a_country_code():
    assert check(field("mobile"), "9123456789", TODAY).value == "+919123456789"


# --------------------------------------------------------------------------- amount, number


@pytest.mark.parametrize(
    "typed, value, display",
    [
        ("150000", 150000, "₹1,50,000"),
        ("₹1,50,000", 150000, "₹1,50,000"),
        ("150,000", 150000, "₹1,50,000"),
        ("Rs. 5000/-", 5000, "₹5,000"),
        ("rs 5,000 only", 5000, "₹5,000"),
        ("5000 rupees", 5000, "₹5,000"),
        ("5000 रुपये", 5000, "₹5,000"),
        ("२ लाख", 200000, "₹2,00,000"),
        ("2.5 lakh", 250000, "₹2,50,000"),
        ("3 lakh rupaye", 300000, "₹3,00,000"),
        ("50k", 50000, "₹50,000"),
        ("1.5K", 1500, "₹1,500"),
        ("5000.00", 5000, "₹5,000"),
        ("0", 0, "₹0"),
        ("1 crore", 10_000_000, "₹1,00,00,000"),
        ("do lakh", 200000, "₹2,00,000"),
        ("2 lakh 50 hazar", 250000, "₹2,50,000"),
    ],
)
def test_amounts(typed, value, display):
    assert check(INCOME, typed, TODAY) == Checked(True, value, display)


# Issue 11, defect 10: amounts said in words, as citizens write them, in Devanagari,
# Hindi in Roman letters and English.
AMOUNTS_IN_WORDS = [
    # the fractions of Indian usage
    ("डेढ़ लाख रुपये सालाना", 150_000),
    ("डेढ़ लाख", 150_000),
    ("डेढ लाख", 150_000),  # without the nukta
    ("dedh lakh", 150_000),
    ("derh lakh", 150_000),
    ("ढाई लाख", 250_000),
    ("ढ़ाई लाख", 250_000),
    ("dhai lakh", 250_000),
    ("dhaai lakh rupaye", 250_000),
    ("सवा लाख", 125_000),
    ("sawa lakh", 125_000),
    ("sava do lakh", 225_000),
    ("पौने दो लाख", 175_000),
    ("paune do lakh", 175_000),
    ("साढ़े तीन लाख", 350_000),
    ("saadhe teen lakh", 350_000),
    ("डेढ़ सौ", 150),
    ("सवा सौ", 125),
    ("डेढ़ हज़ार", 1_500),
    # figures with a multiplier, in any script
    ("2.5 lakh", 250_000),
    ("2.5lakh", 250_000),
    ("₹1.5L", 150_000),
    ("1.5 L", 150_000),
    ("₹ 1.5 lacs", 150_000),
    ("50 हज़ार", 50_000),
    ("50 हजार", 50_000),
    ("५० हज़ार", 50_000),
    ("50 hazar", 50_000),
    ("50 hazaar", 50_000),
    ("50 hajar", 50_000),
    ("50 thousand", 50_000),
    ("0.8 करोड़", 8_000_000),
    ("१.५ लाख", 150_000),
    # Indian and international grouping
    ("1,50,000", 150_000),
    ("१,५०,०००", 150_000),
    ("Rs.1,50,000/-", 150_000),
    ("₹ 1,20,000 only", 120_000),
    ("INR 150000", 150_000),
    ("12,50,000", 1_250_000),
    ("1,250,000", 1_250_000),
    # numbers in words
    ("one lakh fifty thousand", 150_000),
    ("one and a half lakh", 150_000),
    ("two and a half lakh", 250_000),
    ("a lakh", 100_000),
    ("fifty five thousand", 55_000),
    ("twenty-five thousand", 25_000),
    ("two hundred fifty thousand", 250_000),
    ("seven lakh twenty five thousand", 725_000),
    ("एक लाख पचास हज़ार", 150_000),
    ("ek lakh pachas hazar", 150_000),
    ("पंद्रह हजार", 15_000),
    ("pandrah hazar", 15_000),
    ("pachas hazar", 50_000),
    ("पचहत्तर हज़ार", 75_000),
    ("saath hazar", 60_000),  # sixty
    ("saat hazar", 7_000),  # seven
    ("chhe hazar", 6_000),
    ("das hazar paanch sau", 10_500),
    ("ek sau pachas", 150),
    ("aadha lakh", 50_000),
    # the words around an amount
    ("1.5 lakh p.a.", 150_000),
    ("1.5 lakh per annum", 150_000),
    ("1.5 lakh rupaye saalana", 150_000),
    ("डेढ़ लाख सालाना आय है", 150_000),
    ("mere parivar ki kul aay 2 lakh hai", 200_000),
    ("about 2 lakh", 200_000),
    ("लगभग 80 हज़ार", 80_000),
    ("~50000", 50_000),
    ("2 lakh yearly", 200_000),
]


@pytest.mark.parametrize("typed, value", AMOUNTS_IN_WORDS)
def test_amounts_in_words(typed, value):
    result = check(INCOME, typed, TODAY)
    assert (result.ok, result.value, result.error) == (True, value, None)


@pytest.mark.parametrize("typed, value", AMOUNTS_IN_WORDS)
def test_amount_parsing_is_exact(typed, value):
    amount = parse_amount(typed)
    assert amount.value == value and amount.error is None


@pytest.mark.parametrize(
    "typed, error",
    [
        ("2 crore", "amount_range"),
        ("1" * 40, "amount_range"),
        ("9" * 20, "amount_range"),
        ("1000 crore", "amount_range"),
        # negative
        ("-500", "amount_negative"),
        ("- 1.5 lakh", "amount_negative"),
        ("minus 5000", "amount_negative"),
        ("माइनस 5000", "amount_negative"),
        ("50 hazar ka ghata", "amount_negative"),
        # not one amount: a range, two amounts, a bound, a multiplier alone
        ("50-60 hazar", "amount_ambiguous"),
        ("1.5 ya 2 lakh", "amount_ambiguous"),
        ("1 or 2 lakh", "amount_ambiguous"),
        ("50000 60000", "amount_ambiguous"),
        ("2 lakh se zyada", "amount_ambiguous"),
        ("more than 2 lakh", "amount_ambiguous"),
        ("1 lakh+", "amount_ambiguous"),
        ("lakhs", "amount_ambiguous"),
        ("लाखों", "amount_ambiguous"),
        ("1 lakh 50", "amount_ambiguous"),  # 1,00,050 or 1,50,000?
        ("ek lakh pachas", "amount_ambiguous"),
        # paise, or a bare fraction that is no amount of rupees
        ("5000.50", "amount_paise"),
        ("1.5", "amount_paise"),
        # a monthly figure for a yearly question
        ("20 hazar mahina", "amount_monthly"),
        ("15000 per month", "amount_monthly"),
        ("15000 p.m.", "amount_monthly"),
        ("20 हज़ार महीना", "amount_monthly"),
        # not an amount at all
        ("1,5", "amount_format"),
        ("1,50,00", "amount_format"),
        ("1,5,0000", "amount_format"),
        ("1.50.000", "amount_format"),
        ("abc", "amount_format"),
        ("bahut", "amount_format"),
        ("pata nahi", "amount_format"),
        ("सवा", "amount_format"),
        ("1e5", "amount_format"),
        ("50 hazar 1 lakh", "amount_format"),  # multipliers must fall
        ("लाख हज़ार", "amount_ambiguous"),
    ],
)
def test_bad_amounts(typed, error):
    assert check(ANNUAL_INCOME, typed, TODAY) == Checked(False, error=error)


def test_a_monthly_field_refuses_a_yearly_figure_and_accepts_a_monthly_one():
    monthly = dataclasses.replace(INCOME, id="monthly_income")
    assert check(monthly, "2 lakh saalana", TODAY).error == "amount_yearly"
    assert check(monthly, "20 hazar mahina", TODAY).value == 20_000
    assert check(ANNUAL_INCOME, "2 lakh saalana", TODAY).value == 200_000
    assert check(INCOME, "20 hazar mahina", TODAY).value == 20_000  # no period to check


@pytest.mark.parametrize(
    "value, hindi, english",
    [
        (150_000, "₹1,50,000 (डेढ़ लाख)", "₹1,50,000 (1.5 lakh)"),
        (250_000, "₹2,50,000 (ढाई लाख)", "₹2,50,000 (2.5 lakh)"),
        (125_000, "₹1,25,000 (सवा लाख)", "₹1,25,000 (1.25 lakh)"),
        (175_000, "₹1,75,000 (पौने दो लाख)", "₹1,75,000 (1.75 lakh)"),
        (350_000, "₹3,50,000 (साढ़े तीन लाख)", "₹3,50,000 (3.5 lakh)"),
        (200_000, "₹2,00,000 (2 लाख)", "₹2,00,000 (2 lakh)"),
        (50_000, "₹50,000 (50 हज़ार)", "₹50,000 (50 thousand)"),
        (10_500, "₹10,500", "₹10,500"),
        (123_456, "₹1,23,456", "₹1,23,456"),
        (
            12_550_000,
            "₹1,25,50,000 (1 करोड़ 25 लाख 50 हज़ार)",
            "₹1,25,50,000 (1 crore 25 lakh 50 thousand)",
        ),
        (10_000_000, "₹1,00,00,000 (1 करोड़)", "₹1,00,00,000 (1 crore)"),
        (500, "₹500", "₹500"),
        (0, "₹0", "₹0"),
    ],
)
def test_amounts_are_confirmed_in_indian_grouping_and_words(value, hindi, english):
    assert format_amount(value, "hi") == hindi
    assert format_amount(value, "en") == english


@pytest.mark.parametrize("typed, value", AMOUNTS_IN_WORDS)
def test_the_words_shown_back_read_as_the_same_amount(typed, value):
    """What we confirm to the citizen parses back to what we stored."""
    for lang in ("hi", "en"):
        words = amount_in_words(value, lang)
        if words:
            assert parse_amount(words).value == value, (lang, words)


def test_the_amount_vocabulary_has_no_word_with_two_meanings():
    from service_catalogue.validation import _amount_vocabulary

    vocabulary = _amount_vocabulary()  # raises if a spelling means two things
    assert vocabulary["सात"][1] == 7 and vocabulary["साठ"][1] == 60
    assert len([v for v in vocabulary.values() if v[0] in ("num", "tens")]) > 150


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10_000_000))
def test_any_amount_in_figures_or_our_words_reads_back(value):
    assert parse_amount(str(value)).value == value
    assert parse_amount(_rupees_for_test(value)).value == value
    for lang in ("hi", "en"):
        words = amount_in_words(value, lang)
        if words:
            assert parse_amount(words).value == value, words


def _rupees_for_test(value: int) -> str:
    return format_amount(value, "en").split(" ")[0]


def test_amount_minimum():
    assert check(SOLVENCY, "9,999", TODAY).error == "amount_range"
    assert check(SOLVENCY, "10k", TODAY).value == 10_000


@pytest.mark.parametrize(
    "typed, result",
    [
        ("5", Checked(True, 5, "5")),
        ("५", Checked(True, 5, "5")),
        ("5 saal", Checked(True, 5, "5")),
        ("५ साल", Checked(True, 5, "5")),
        ("about 12 years", Checked(True, 12, "12")),
        ("100", Checked(True, 100, "100")),
        ("0", Checked(True, 0, "0")),
        ("101", Checked(False, error="number_range")),
        ("-1", Checked(False, error="number_range")),
        ("1,000", Checked(False, error="number_range")),
        ("9" * 50, Checked(False, error="number_range")),
        ("5.5", Checked(False, error="number_format")),
        ("5 ya 6", Checked(False, error="number_format")),
        ("5-6", Checked(False, error="number_format")),
        ("paanch", Checked(False, error="number_format")),
        ("12abc", Checked(False, error="number_format")),
    ],
)
def test_numbers(typed, result):
    assert check(YEARS, typed, TODAY) == result


# --------------------------------------------------------------------------- choices


@pytest.mark.parametrize(
    "chooser, typed, expected",
    [
        (GENDER, "male", "male"),
        (GENDER, "MALE", "male"),
        (GENDER, "Female", "female"),
        (GENDER, "पुरुष", "male"),
        (GENDER, "purush", "male"),
        (GENDER, "Purush", "male"),
        (GENDER, "mahila", "female"),
        (GENDER, "anya", "other"),
        (GENDER, "female hai", "female"),
        (GENDER, "1", "male"),
        (GENDER, "2", "female"),
        (GENDER, "३", "other"),
        (RELATION, "beta", "son"),
        (RELATION, "beti", "daughter"),
        (RELATION, "बेटी", "daughter"),
        (RELATION, "pati", "spouse"),
        (RELATION, "wife", "spouse"),
        (RELATION, "maa", "mother"),
        (RELATION, "माँ", "mother"),
        (RELATION, "pita ji", "father"),
        (RELATION, "other relative", "other"),
        (CATEGORY, "sc", "sc"),
        (CATEGORY, "SC", "sc"),
        (CATEGORY, "scheduled caste", "sc"),
        (CATEGORY, "caste", "sc"),
        (CATEGORY, "janjati", "st"),
        (CATEGORY, "अनुसूचित जनजाति", "st"),
    ],
)
def test_choices(chooser, typed, expected):
    result = check(chooser, typed, TODAY)
    assert (result.ok, result.value, result.error) == (True, expected, None)


PURPOSE = load().services["income_certificate"].field("purpose")


@pytest.mark.parametrize(
    "typed, expected",
    [
        # issue 11, defect 4: a choice typed inside a phrase, in all three scripts
        ("छात्रवृत्ति के लिए", "scholarship"),
        ("छात्रवृत्ति के लिए चाहिए", "scholarship"),
        ("मुझे छात्रवृत्ति के लिए चाहिए", "scholarship"),
        ("scholarship ke liye", "scholarship"),
        ("chhatravritti ke liye", "scholarship"),
        ("scholarship ke liye chahiye", "scholarship"),
        ("for scholarship", "scholarship"),
        ("for a scholarship", "scholarship"),
        ("I need it for scholarship", "scholarship"),
        ("नौकरी के लिए", "job"),
        ("naukri ke liye", "job"),
        ("for a job", "job"),
        ("दाखिले के लिए", "admission"),
        ("admission ke liye", "admission"),
        ("for admission", "admission"),
        ("sarkari yojana ke liye", "welfare_scheme"),
        ("सरकारी योजना के लिए", "welfare_scheme"),
        # the tapped row's payload is the choice id
        ("scholarship", "scholarship"),
        ("welfare_scheme", "welfare_scheme"),
    ],
)
def test_a_choice_inside_a_phrase_is_understood(typed, expected):
    result = check(PURPOSE, typed, TODAY)  # type: ignore[arg-type]
    assert (result.ok, result.value) == (True, expected)


@pytest.mark.parametrize(
    "typed", ["for job and scholarship", "kisi aur kaam ke liye", "for loan", "के लिए"]
)
def test_a_phrase_naming_no_single_choice_is_refused(typed):
    assert check(PURPOSE, typed, TODAY) == Checked(False, error="choice_unknown")  # type: ignore[arg-type]


def test_choice_display_follows_the_script_typed():
    assert check(GENDER, "purush", TODAY).display == "Male"
    assert check(GENDER, "पुरुष", TODAY).display == "पुरुष"


@pytest.mark.parametrize(
    "chooser, typed",
    [
        (GENDER, "4"),
        (GENDER, "0"),
        (GENDER, "ladka"),
        (GENDER, "male nahi female"),
        (RELATION, "bete"),  # son or daughter? ask again rather than guess
        (CATEGORY, "scheduled"),  # both
        (CATEGORY, "obc"),
    ],
)
def test_unknown_or_ambiguous_choices(chooser, typed):
    assert check(chooser, typed, TODAY) == Checked(False, error="choice_unknown")


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    "chooser, typed, result",
    [
        (K_NUMBER, "1234567890", Checked(True, "1234567890", "1234567890")),
        (K_NUMBER, " १२३४५६७८९० ", Checked(True, "1234567890", "1234567890")),
        (K_NUMBER, "12345", Checked(False, error="pattern_mismatch")),
        (K_NUMBER, "1234567890 ok", Checked(False, error="pattern_mismatch")),
        (K_NUMBER, "1" * 21, Checked(False, error="too_long")),
        (CASTE_NAME, "  Jatav  ", Checked(True, "Jatav", "Jatav")),
        (CASTE_NAME, "x" * 60, Checked(True, "x" * 60, "x" * 60)),
        (CASTE_NAME, "x" * 61, Checked(False, error="too_long")),
        (field("text"), "x" * 1001, Checked(False, error="too_long")),
    ],
)
def test_text(chooser, typed, result):
    assert check(chooser, typed, TODAY) == result


# --------------------------------------------------------------------------- all types

ALL_FIELDS = [
    field("name"),
    field("address"),
    field("pin"),
    field("mobile"),
    field("aadhaar"),
    field("text"),
    K_NUMBER,
    RATION_CARD,
    ANY_DATE,
    BIRTH_DATE,
    APPOINTMENT,
    INCOME,
    field("amount"),
    YEARS,
    field("number"),
    GENDER,
    RELATION,
    CATEGORY,
]


@pytest.mark.parametrize("chooser", ALL_FIELDS, ids=lambda f: f.type)
@pytest.mark.parametrize("typed", ["", " ", "\n\t", "\u200b"])
def test_empty_answers(chooser, typed):
    assert check(chooser, typed, TODAY) == Checked(False, error="empty")


ONE_OF_EACH_ERROR = {
    "empty": (field("name"), ""),
    "name_invalid": (field("name"), "R2D2"),
    "date_format": (ANY_DATE, "kal"),
    "date_invalid": (ANY_DATE, "31/02/2000"),
    "date_future": (BIRTH_DATE, "01/01/2099"),
    "date_past": (APPOINTMENT, "01/01/2000"),
    "pin_format": (field("pin"), "1100"),
    "pin_not_delhi": (field("pin"), "400001"),
    "mobile_invalid": (field("mobile"), "12345"),
    "aadhaar_length": (field("aadhaar"), "1234"),
    "aadhaar_invalid": (field("aadhaar"), "1" + VALID[1:]),
    "aadhaar_checksum": (field("aadhaar"), INVALID),
    "amount_format": (INCOME, "bahut"),
    "amount_range": (INCOME, "2 crore"),
    "amount_negative": (INCOME, "-500"),
    "amount_ambiguous": (INCOME, "1 ya 2 lakh"),
    "amount_paise": (INCOME, "500.50"),
    "amount_monthly": (ANNUAL_INCOME, "20 hazar mahina"),
    "amount_yearly": (dataclasses.replace(INCOME, id="monthly_income"), "2 lakh saalana"),
    "number_format": (YEARS, "paanch"),
    "number_range": (YEARS, "500"),
    "choice_unknown": (GENDER, "xyz"),
    "address_invalid": (field("address"), "Delhi"),
    "too_long": (CASTE_NAME, "x" * 61),
    "pattern_mismatch": (K_NUMBER, "12"),
}


def test_errors_lists_exactly_the_codes_check_returns():
    assert set(ONE_OF_EACH_ERROR) == ERRORS
    for code, (chooser, typed) in ONE_OF_EACH_ERROR.items():
        assert check(chooser, typed, TODAY) == Checked(False, error=code), code


def test_non_text_slot_values_do_not_crash():
    assert check(field("pin"), None, TODAY).error == "empty"  # type: ignore[arg-type]
    assert check(field("pin"), 110001, TODAY).value == "110001"  # type: ignore[arg-type]


LIKELY_TEXT = st.one_of(
    st.text(max_size=60),
    st.from_regex(r"[0-9०-९ +()/.,\-₹]{0,20}", fullmatch=True),
    st.text(alphabet="0123456789०१२ -/.,kKlakhrsमार्चजनवरीpurushmahila₹+", max_size=30),
)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(ALL_FIELDS), LIKELY_TEXT)
def test_check_never_raises_and_keeps_its_contract(chooser, typed):
    result = check(chooser, typed, TODAY)
    assert isinstance(result, Checked)
    if result.ok:
        assert result.error is None and result.value is not None
        expected_type = int if chooser.type in ("amount", "number") else str
        assert isinstance(result.value, expected_type)
    else:
        assert result.error in ERRORS and result.value is None and result.display == ""


AMOUNT_PIECES = st.sampled_from(
    ["डेढ़", "lakh", "लाख", "50", "-", "ya", "sava", "paune", "hazar", "sau", "and", "a"]
    + ["half", "1,50,000", "1.5", "₹", "mahina", "twenty", "five", "crore", "0", ".5", "+"]
    + ["सवा", "साढ़े", "तीन", "k", "L", "/-", "only", "minus", "99999999999", "1,5"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(AMOUNT_PIECES, max_size=8).map(" ".join))
def test_amount_parser_never_raises_on_amount_like_words(typed):
    amount = parse_amount(typed)
    assert (amount.value is None) != (amount.error is None)
    result = check(ANNUAL_INCOME, typed, TODAY)
    assert result.ok == (result.error is None)
    if result.ok:
        assert isinstance(result.value, int) and 0 <= result.value <= 10_000_000
    else:
        assert result.error in ERRORS


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_parse_date_never_raises(typed):
    result = parse_date(typed, TODAY)
    assert result is None or date(1900, 1, 1) <= result


# --------------------------------------------------------------------------- the catalogue

PATTERN_SAMPLES = {
    "chassis_number": "MA3EWDE1S00123456",
    "chassis_last5": "S1234",
    "dl_number": "DL01 20190012345",
    "learner_licence_number": "DL0120190012345",
    "registration_number": "DL 3C AB 1234",
    "property_id": "123456789ABCDEF",
    "ration_card_number": "1234567890",
    "khasra_number": "123/4",
    "k_number": "1234567890",
}


def _sample(f: Field) -> str:
    if f.type == "text":
        return PATTERN_SAMPLES[f.id] if f.pattern else "Jatav"
    if f.type == "date":
        return "01/01/2099" if f.future_only else "12/03/1990"
    if f.type in ("amount", "number"):
        low = int(f.min or 0)
        return str(max(low, min(5, int(f.max)) if f.max is not None else low))
    return {
        "name": "Ravi Kumar",
        "address": "House 12, Gali 3, Laxmi Nagar, Delhi",
        "pin": "110092",
        "mobile": "9876543210",
        "aadhaar": VALID,
        "choice": "1",
    }[f.type]


def test_every_catalogue_field_accepts_a_realistic_answer():
    for service in load().services.values():
        for f in service.fields:
            result = check(f, _sample(f), TODAY)
            assert result.ok, (service.id, f.id, result)


def test_every_catalogue_choice_is_reachable_by_id_title_and_number():
    for service in load().services.values():
        for f in service.fields:
            for number, option in enumerate(f.choices, start=1):
                for typed in (option.id, option.title("en"), option.title("hi"), str(number)):
                    assert check(f, typed, TODAY).value == option.id, (service.id, f.id, typed)
