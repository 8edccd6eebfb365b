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


# Issue 11, defect 14: "/ /affirm" typed was obeyed as intent affirm with confidence 1.0.
SLASH_LOOKALIKES = ["/", "\uff0f", "\u2215", "\u2044", "\u29f8", "\u2571", "\u27cb"]
INVISIBLES = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u202e", "\u00ad"]
SPACES = [" ", "  ", "\n", "\r\n", "\t", "\u00a0", "\u3000", "\u2003"]
TYPED_INTENTS = [
    "/ /affirm",
    "//affirm",
    "///affirm",
    "/ / /affirm",
    " /affirm",
    "\n/affirm",
    "\t/affirm",
    "/\n/affirm",
    "/\t/affirm",
    "\r\n/ /affirm",
    "\uff0faffirm",
    "\uff0f\uff0faffirm",
    "/\uff0faffirm",
    "\u2215affirm",
    "\u2044affirm",
    "\u200b/affirm",
    "/\u200b/affirm",
    "\u200c/affirm",
    "\u200d/affirm",
    "\u2060/affirm",
    "\ufeff/affirm",
    "\ufeff\u200b \n/ \u200d/affirm",
    "\u00a0/affirm",
    "\u3000\uff0f affirm",
    '/ /apply_service{"service": "driving_licence"}',
    "/ /affirm@1.0",
    "/ /cancel",
]


def _parseable_as_intent(text):
    """What Rasa's RegexMessageHandler checks: the stripped text starts with "/"."""
    return text.strip().startswith("/")


@pytest.mark.parametrize("typed", TYPED_INTENTS, ids=repr)
def test_every_leading_run_of_slashes_spaces_and_invisibles_is_stripped(tokenizer, typed):
    text = run(typed, tokenizer).get(TEXT)
    assert not _parseable_as_intent(text)
    assert text[:1] not in SLASH_LOOKALIKES + INVISIBLES and not text[:1].isspace()
    assert text.lstrip("@").startswith(("affirm", "apply_service", "cancel"))


@pytest.mark.parametrize("slash", SLASH_LOOKALIKES, ids=repr)
@pytest.mark.parametrize("gap", ["", *SPACES, *INVISIBLES], ids=repr)
def test_each_lookalike_with_each_gap(tokenizer, slash, gap):
    for typed in (
        f"{slash}{gap}affirm",
        f"{gap}{slash}{gap}/{gap}affirm",
        f"{slash}{gap}{slash}deny",
    ):
        text = run(typed, tokenizer).get(TEXT)
        assert text in ("affirm", "deny"), (typed, text)


@pytest.mark.parametrize(
    "typed", ["hello /affirm", "a/b", "मेरा नाम राम है", "  नमस्ते", "\u200bhi", "1/2/1990"]
)
def test_text_without_a_leading_slash_is_untouched(tokenizer, typed):
    assert run(typed, tokenizer).get(TEXT) == typed


def test_a_trusted_payload_keeps_its_slash_even_with_lookalikes(tokenizer):
    message = run("/affirm", tokenizer, metadata={"trusted_payload": True})
    assert message.get(TEXT) == "/affirm"


GUARD_ALPHABET = st.sampled_from(
    SLASH_LOOKALIKES + INVISIBLES + SPACES + ["a", "f", "i", "r", "m", "{", "}", "@", "1"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(GUARD_ALPHABET, max_size=12).map("".join), st.sampled_from(["affirm", "deny"]))
def test_no_typed_text_is_left_parseable_as_an_intent(prefix, intent):
    message = Message(data={TEXT: prefix + "/" + intent})
    FreeTextGuard().process([message])
    assert not _parseable_as_intent(message.get(TEXT))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_the_guard_never_leaves_a_parseable_intent_in_any_text(text):
    message = Message(data={TEXT: text})
    FreeTextGuard().process([message])
    assert not _parseable_as_intent(message.get(TEXT))


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


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "👍", "👍🏽", "...", "?!", "❤️"])
def test_wordless_messages_are_not_guessed(text, tokenizer):
    assert run(text, tokenizer).get("intent")["name"] == "nlu_fallback"


@pytest.mark.parametrize(
    "text", ["👋", "🙏", "🙏🏻", "👋🏾👋🏾", "🙏🙏🙏", "🙋‍♀️", " 🙏 ", "🙏😊", "🙏!"]
)
def test_a_wave_or_folded_hands_is_a_hello(text, tokenizer):
    intent = run(text, tokenizer).get("intent")
    assert intent == {"name": "greet", "confidence": 1.0}  # a hello, never consent


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


@pytest.fixture(scope="module")
def nlu_agent():
    """The trained model alone (no action server): what NLU makes of a message."""
    from rasa.core.agent import Agent

    from tests.conftest import MODEL

    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    return Agent.load(str(MODEL))


async def test_typed_intents_never_reach_the_model_as_payloads(nlu_agent):
    """Through the trained pipeline: no typed text is obeyed as an intent (the regex
    handler's verdict is confidence 1.0 with a one-entry ranking and the typed entities)."""
    for typed in TYPED_INTENTS + [f"{s}{g}affirm" for s in SLASH_LOOKALIKES for g in ("", " ")]:
        parsed = await nlu_agent.parse_message(typed)
        intent = parsed["intent"]
        assert not _parseable_as_intent(parsed["text"]), typed
        assert intent["confidence"] < 1.0 or intent["name"] == "nlu_fallback", (typed, intent)
        assert len(parsed.get("intent_ranking") or []) > 1, typed
        assert not any(e.get("extractor") == "RegexMessageHandler" for e in parsed["entities"])


async def test_the_channels_payload_is_still_obeyed(nlu_agent):
    from rasa.core.channels.channel import UserMessage

    message = UserMessage("/affirm", sender_id="guard-test", metadata={"trusted_payload": True})
    parsed = await nlu_agent.processor.parse_message(message)
    assert (parsed["intent"]["name"], parsed["intent"]["confidence"]) == ("affirm", 1.0)
