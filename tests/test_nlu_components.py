"""The Rasa graph components of indic_nlu, run on real Messages."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.shared.nlu.constants import TEXT, TEXT_TOKENS
from rasa.shared.nlu.training_data.message import Message

from indic_nlu.components import (
    FreeTextGuard,
    IndicNormalizer,
    IndicTokenizer,
    LanguageDetector,
    WordlessMessageClassifier,
)
from indic_nlu.gazetteer import Gazetteer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tokenizer():
    return IndicTokenizer(IndicTokenizer.get_default_config())


def run(text, tokenizer, metadata=None):
    message = Message(data={TEXT: text, "metadata": metadata})
    FreeTextGuard().process([message])
    IndicNormalizer().process([message])
    tokenizer.process([message])
    LanguageDetector().process([message])
    WordlessMessageClassifier().process([message])
    return message


def test_typed_intent_syntax_is_neutralised(tokenizer):
    message = run('/apply_service{"service":"x"}', tokenizer)
    assert not message.get(TEXT).startswith("/")


def test_payload_vouched_for_by_the_channel_is_kept(tokenizer):
    message = run("/affirm", tokenizer, metadata={"trusted_payload": True})
    assert message.get(TEXT) == "/affirm"


def test_metadata_must_say_exactly_true(tokenizer):
    message = run("/affirm", tokenizer, metadata={"trusted_payload": "yes"})
    assert message.get(TEXT) == "affirm"


def test_tokens_point_into_the_typed_text(tokenizer):
    text = "मुझे ज़रूरी जन्म प्रमाण पत्र चाहिए। APP-2026-000123 ठीक?"
    message = run(text, tokenizer)
    for token in message.get(TEXT_TOKENS):
        assert text[token.start : token.end] == token.text
    texts = [t.text for t in message.get(TEXT_TOKENS)]
    assert "।" in texts
    assert "ज़रूरी" in texts


def test_scripts_share_features(tokenizer):
    deva = [t.lemma for t in run("जन्म प्रमाण पत्र", tokenizer).get(TEXT_TOKENS)]
    roman = [t.lemma for t in run("janam praman patra", tokenizer).get(TEXT_TOKENS)]
    assert deva == roman


def test_language_property(tokenizer):
    assert run("नमस्ते", tokenizer).get("language")["code"] == "hi"
    assert run("hello ji", tokenizer).get("language")["hinglish"] is True
    assert run("Hi", tokenizer).get("language")["code"] == "en"


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "🙏", "...", "?!"])
def test_wordless_messages_are_not_guessed(text, tokenizer):
    assert run(text, tokenizer).get("intent")["name"] == "nlu_fallback"


def test_a_message_with_words_is_left_to_the_classifier(tokenizer):
    assert run("hi 🙏", tokenizer).get("intent") is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_components_never_fail(text):
    run(text, IndicTokenizer(IndicTokenizer.get_default_config()))


def test_maximum_whatsapp_message(tokenizer):
    text = ("मेरा नाम Ramesh है और मुझे आय प्रमाण पत्र चाहिए 🙏 " * 100)[:4096]
    assert len(run(text, tokenizer).get(TEXT_TOKENS)) > 500


@pytest.fixture(scope="module")
def gazetteer():
    return Gazetteer.from_catalogue(ROOT / "service_catalogue" / "services.yml")


def find(gazetteer, tokenizer, text):
    tokens = run(text, tokenizer).get(TEXT_TOKENS)
    keys = [(str(t.get("norm")), str(t.lemma)) for t in tokens]
    return {(entity, value) for entity, value, _, _ in gazetteer.find(keys)}


@pytest.mark.parametrize(
    "text, value",
    [
        ("mujhe janam praman patra chahiye", "birth_certificate"),
        ("जन्म प्रमाण पत्र बनवाना है", "birth_certificate"),
        ("need a birth certificate", "birth_certificate"),
        ("janm pramanpatra", "birth_certificate"),
        ("apply for DL", "driving_licence"),
        ("ड्राइविंग लाइसेंस", "driving_licence"),
        ("budhapa pension", "old_age_pension"),
    ],
)
def test_services_found_in_any_script(gazetteer, tokenizer, text, value):
    assert ("service", value) in find(gazetteer, tokenizer, text)


def test_short_names_match_only_as_typed(gazetteer, tokenizer):
    assert find(gazetteer, tokenizer, "dil se dhanyavaad") == set()


def test_language_names(gazetteer, tokenizer):
    assert ("language", "en") in find(gazetteer, tokenizer, "angrezi me batao")
    assert ("language", "hi") in find(gazetteer, tokenizer, "हिंदी में")
