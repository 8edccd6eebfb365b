"""The domain and the training data, checked as a citizen and an NLU trainer would."""

from collections import Counter
from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
LANGUAGES = ("en", "hi", "hinglish")
# Sent by our WhatsApp channel as trusted payloads, never typed: no training examples.
CHANNEL_INTENTS = {"stale_message", "unsupported_message", "upload_rejected"}


def variations(name):
    return DOMAIN["responses"][name]


def is_hindi(variation):
    return any(
        c.get("name") == "language" and c.get("value") == "hi"
        for c in variation.get("condition") or []
    )


@pytest.mark.parametrize("name", sorted(DOMAIN["responses"]))
def test_every_response_exists_in_hindi_and_english(name):
    hindi = [v for v in variations(name) if is_hindi(v)]
    english = [v for v in variations(name) if not v.get("condition")]
    assert hindi, f"{name} has no Hindi variation"
    assert english, f"{name} has no English (default) variation"
    for v in hindi:
        assert any("\u0900" <= c <= "\u097f" for c in v["text"]), (
            f"{name}: Hindi text not in Devanagari"
        )
    for v in hindi + english:
        assert len(v["text"]) <= 4096


@pytest.mark.parametrize("name", sorted(DOMAIN["responses"]))
def test_buttons_fit_whatsapp(name):
    for v in variations(name):
        buttons = v.get("buttons") or []
        assert len(buttons) <= 10
        limit = 20 if len(buttons) <= 3 else 24  # reply button title / list row title
        for b in buttons:
            assert len(b["title"]) <= limit, f"{name}: '{b['title']}' too long for WhatsApp"
            assert 0 < len(b["payload"]) <= 200  # WhatsApp row / button id limits
            if b["payload"].startswith("/"):  # an intent payload must name a real intent
                intent = b["payload"][1:].split("{")[0]
                assert intent in DOMAIN["intents"], f"{name}: unknown intent {intent}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_at_least_33_examples_per_intent_in_each_language(language):
    data = load_data(str(ROOT / "data" / "nlu" / language))
    counts = Counter(m.get("intent") for m in data.intent_examples)
    for intent in set(DOMAIN["intents"]) - CHANNEL_INTENTS:
        assert counts[intent] >= 33, f"{language}: {intent} has {counts[intent]} examples"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_typed_intent_has_held_out_sentences(language):
    data = load_data(str(ROOT / "bench" / "heldout" / f"{language}.yml"))
    counts = Counter(m.get("intent") for m in data.intent_examples)
    for intent in set(DOMAIN["intents"]) - CHANNEL_INTENTS:
        assert counts[intent] >= 10, f"{language}: {intent} has {counts[intent]} held-out"


def test_forms_ignore_every_request_that_has_its_own_rule():
    """A request typed while a form waits for an answer must not be stored as the answer."""
    from actions.application import DIGRESSIONS

    slots = DOMAIN["slots"]
    for slot in ("field_value", "edit_field"):
        assert set(slots[slot]["mappings"][0]["not_intent"]) == DIGRESSIONS, slot
    # a complaint told as a question ("pension kyun nahi aayi?") is the complaint itself
    privacy = DIGRESSIONS - {"check_status", "service_info", "ask_question"}
    for slot in (
        "grievance_category",
        "grievance_description",
        "grievance_location",
        "feedback_rating",
        "feedback_comment",
    ):
        assert set(slots[slot]["mappings"][0]["not_intent"]) == privacy, slot


def test_hindi_data_is_devanagari_and_hinglish_roman():
    def letters(language):
        data = load_data(str(ROOT / "data" / "nlu" / language))
        return "".join(m.get("text") for m in data.intent_examples)

    hindi, hinglish = letters("hi"), letters("hinglish")
    assert sum("\u0900" <= c <= "\u097f" for c in hinglish) == 0
    devanagari = sum("\u0900" <= c <= "\u097f" for c in hindi)
    latin = sum(c.isascii() and c.isalpha() for c in hindi)
    assert devanagari > 20 * latin  # only ids such as APP-2026-000123 are in Latin letters


def test_no_example_holds_an_aadhaar_like_number():
    import re

    data = load_data(str(ROOT / "data" / "nlu"))
    for message in data.intent_examples:
        digits = re.sub(r"[\s-]", "", message.get("text"))
        assert not re.search(r"\d{12}", digits), message.get("text")


def test_every_response_is_used_somewhere():
    """Rasa's validator only sees rules and stories; responses sent by actions (and by
    the channel itself: voice notes) count too."""
    used = "".join(
        p.read_text(encoding="utf-8")
        for folder in ("data", "actions", "connectors")
        for p in (ROOT / folder).rglob("*")
        if p.suffix in (".yml", ".py")
    )
    dynamic_prefixes = (
        "utter_invalid_",
        "utter_status_",
        "utter_grievance_status_",
        "utter_upload_rejected_",
        "utter_ask_",
    )
    for name in DOMAIN["responses"]:
        if name.startswith(dynamic_prefixes) or name == "utter_default":
            continue  # built from an error code / state, or used by Rasa's default fallback
        assert name in used, f"{name} is never sent"


def test_every_validation_error_has_a_reply():
    from service_catalogue.validation import ERRORS

    for code in ERRORS:
        assert f"utter_invalid_{code}" in DOMAIN["responses"], code
