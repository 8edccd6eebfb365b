"""Actions with a real CollectingDispatcher and Trackers built from events."""

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.consent import ActionRecordConsent
from actions.fallback import ActionClarify
from actions.language import ActionMessageContext


def tracker(text="", intent=None, entities=(), language=None, slots=None):
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9} if intent else {},
        "entities": list(entities),
        "language": language or {},
    }
    return Tracker("citizen-1", slots or {}, latest, [], False, None, {}, "action_listen")


async def set_language(**kwargs):
    return await ActionMessageContext().run(CollectingDispatcher(), tracker(**kwargs), {})


async def test_first_message_decides_the_language():
    events = await set_language(text="नमस्ते", intent="greet", language={"code": "hi", "evidence": 1})
    assert events == [SlotSet("language", "hi")]


async def test_one_english_word_does_not_switch_a_hindi_conversation():
    events = await set_language(
        text="yes",
        intent="affirm",
        language={"code": "en", "evidence": 1},
        slots={"language": "hi", "language_locked": False},
    )
    assert events == []


async def test_a_full_english_sentence_switches_an_unpinned_conversation():
    events = await set_language(
        text="I want to apply for a licence",
        intent="apply_service",
        language={"code": "en", "evidence": 4},
        slots={"language": "hi"},
    )
    assert events == [SlotSet("language", "en")]


async def test_asking_for_a_language_pins_it():
    events = await set_language(
        text="english please",
        intent="choose_language",
        entities=[{"entity": "language", "value": "en"}],
        language={"code": "en", "evidence": 1},
        slots={"language": "hi"},
    )
    assert events == [SlotSet("language", "en"), SlotSet("language_locked", True)]


async def test_pinned_language_survives_messages_in_the_other_language():
    events = await set_language(
        text="mujhe ration card chahiye",
        intent="apply_service",
        language={"code": "hi", "evidence": 3},
        slots={"language": "en", "language_locked": True},
    )
    assert events == []


async def test_change_language_without_naming_one_toggles():
    events = await set_language(
        text="भाषा बदलें",
        intent="choose_language",
        language={"code": "hi", "evidence": 2},
        slots={"language": "hi"},
    )
    assert events == [SlotSet("language", "en"), SlotSet("language_locked", True)]


async def test_consent_is_recorded_with_notice_version_and_time():
    events = await ActionRecordConsent().run(CollectingDispatcher(), tracker(), {})
    values = {e["name"]: e["value"] for e in events}
    assert values["consent_given"] is True
    assert values["consent_version"] == "2026-11"
    assert values["consent_time"].endswith("+00:00")


# Withdrawal (it also calls the backends): tests/test_privacy_actions.py


@pytest.mark.parametrize(
    "text, first",
    [
        ("", "utter_empty_message"),
        ("😀😀", "utter_empty_message"),
        ("xyzzy plugh", "utter_clarify"),
    ],
)
async def test_clarify(text, first):
    dispatcher = CollectingDispatcher()
    await ActionClarify().run(dispatcher, tracker(text=text, intent="nlu_fallback"), {})
    assert [m["response"] for m in dispatcher.messages] == [first, "utter_main_menu"]
