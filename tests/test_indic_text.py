"""Normalisation, phonetic keys and language detection (indic_nlu.text)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indic_nlu.text import detect_language, normalize, phonetic_key


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("ज़रूरी", "जरूरी"),  # precomposed nukta letter -> base letter
        ("ज\u093cरूरी", "जरूरी"),  # combining nukta dropped
        ("हूँ", "हूं"),  # chandrabindu -> anusvara
        ("क्\u200dष", "क्ष"),  # zero-width joiner dropped
        ("न\u200cहीं", "नहीं"),  # zero-width non-joiner dropped
        ("पिन ११००९२", "पिन 110092"),  # Devanagari digits -> ASCII
        ("Cafe\u0301", "café"),  # NFC composition, case folding
        ("BIRTH Certificate", "birth certificate"),
    ],
)
def test_normalize(typed, expected):
    assert normalize(typed).text == expected


def test_normalized_spans_point_into_the_typed_text():
    typed = "मुझे ज़\u200dरूरी DL चाहिए"
    normalized = normalize(typed)
    start = normalized.text.index("dl")
    original_start, original_end = normalized.span(start, start + 2)
    assert typed[original_start:original_end] == "DL"


@pytest.mark.parametrize(
    "devanagari, roman",
    [
        ("जन्म", "janam"),
        ("प्रमाण", "praman"),
        ("पत्र", "patra"),
        ("प्रमाणपत्र", "pramanpatra"),
        ("सर्टिफिकेट", "certificate"),
        ("लाइसेंस", "licence"),
        ("पेंशन", "pension"),
        ("शिकायत", "shikayat"),
        ("शिकायत", "sikayet"),
        ("बुढ़ापा", "budhapa"),
        ("विधवा", "vidhwa"),
        ("राशन", "ration"),
        ("आय", "aay"),
        ("स्टेटस", "status"),
    ],
)
def test_both_scripts_fold_to_one_key(devanagari, roman):
    assert phonetic_key(normalize(devanagari).text) == phonetic_key(normalize(roman).text)


def test_different_words_keep_different_keys():
    keys = {phonetic_key(w) for w in ["janam", "mrityu", "jati", "aay", "niwas", "vivah"]}
    assert len(keys) == 6


def test_numbers_become_shapes():
    assert phonetic_key("110092") == "num6"
    assert phonetic_key("9811122233") == "num10"


@pytest.mark.parametrize(
    "text, code, hinglish",
    [
        ("Hi", "en", False),
        ("I want to apply for an income certificate", "en", False),
        ("नमस्ते", "hi", False),
        ("hello ji", "hi", True),
        ("mujhe birth certificate chahiye", "hi", True),
        ("मुझे DL चाहिए", "hi", True),
        ("😀😀", None, False),
        ("110092", None, False),
        ("", None, False),
    ],
)
def test_detect_language(text, code, hinglish):
    guess = detect_language(normalize(text).text)
    assert (guess.code, guess.hinglish) == (code, hinglish)


def test_one_word_is_weak_evidence():
    assert detect_language("ok").code is None
    assert detect_language("yes").evidence == 1
    assert detect_language("i want to apply for a licence").evidence >= 3


@given(st.text(max_size=300))
def test_normalize_never_fails_and_maps_every_character(text):
    normalized = normalize(text)
    assert len(normalized.source) == len(normalized.text)
    assert all(0 <= i < len(text) for i in normalized.source)
    for start in range(len(normalized.text)):
        a, b = normalized.span(start, start + 1)
        assert 0 <= a < b <= len(text)


def test_long_message_is_handled():
    text = ("मुझे जन्म प्रमाण पत्र चाहिए। " * 200)[:4096]
    assert len(normalize(text).text) > 4000
    assert detect_language(normalize(text).text).code == "hi"
