"""The actions that say the knowledge base's answers (actions/answers.py) and the
fallback that tries them before asking to rephrase (actions/fallback.py)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ActionAnswerQuestion
from actions.fallback import ActionClarify


def tracker(text: str, intent: str = "ask_question", language: str = "en", **slots: Any) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    return Tracker(
        "citizen-1",
        {"language": language, **slots},
        latest,
        [],
        False,
        None,
        {},
        "action_listen",
    )


async def run(action: Any, t: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return dispatcher.messages, events


def responses(messages: list[dict[str, Any]]) -> list[str]:
    return [m["response"] for m in messages]


async def test_an_faq_answer_in_the_citizens_language_names_the_service_to_apply_for() -> None:
    messages, events = await run(
        ActionAnswerQuestion(), tracker("mera driving licence kho gaya", language="hi")
    )
    assert responses(messages) == ["utter_answer_faq", "utter_answer_apply"]
    assert "डुप्लीकेट ड्राइविंग लाइसेंस" in messages[0]["answer"]
    assert messages[1]["service_id"] == "duplicate_driving_licence"
    # the service becomes the one in context: a follow-up is about it
    assert events == [
        {
            "event": "slot",
            "timestamp": None,
            "name": "service_in_context",
            "value": "duplicate_driving_licence",
        }
    ]


async def test_an_indicative_fact_is_marked_so() -> None:
    messages, _ = await run(ActionAnswerQuestion(), tracker("how much does the csc charge"))
    assert responses(messages) == ["utter_answer_faq", "utter_answer_indicative"]
    assert "₹50" in messages[0]["answer"]


async def test_a_follow_up_is_answered_about_the_service_in_context() -> None:
    messages, events = await run(
        ActionAnswerQuestion(),
        tracker("and how many days?", service_in_context="marriage_certificate"),
    )
    assert responses(messages) == ["utter_service_time"]
    assert messages[0]["service_id"] == "marriage_certificate"
    assert messages[0]["sla_days"] == 15
    assert events == []  # already in context


async def test_nothing_relevant_is_i_dont_know_and_the_menu() -> None:
    messages, events = await run(ActionAnswerQuestion(), tracker("how do I get a passport"))
    assert responses(messages) == ["utter_answer_unknown", "utter_main_menu"]
    assert events == []


async def test_the_fallback_answers_from_the_knowledge_base_first() -> None:
    messages, _ = await run(ActionClarify(), tracker("CSC centre near Seelampur?", "nlu_fallback"))
    assert responses(messages)[0] == "utter_answer_faq"
    assert "Seelampur" in messages[0]["answer"]


async def test_the_fallback_still_asks_to_rephrase_when_nothing_is_relevant() -> None:
    messages, _ = await run(ActionClarify(), tracker("blue banana window", "nlu_fallback"))
    assert responses(messages) == ["utter_clarify", "utter_main_menu"]
    messages, _ = await run(ActionClarify(), tracker("🙏🙏", "nlu_fallback"))
    assert responses(messages) == ["utter_empty_message", "utter_main_menu"]
