"""Feedback on a resolved grievance is linked to it (issue 11, defect 11): the form's
validation action, its questions and the action that records it, with HTTP faked at
the transport level. Before, every feedback went to ``POST /feedback`` and the
grievance stayed ``resolved`` for ever."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.grievance import (
    ActionAskFeedbackComment,
    ActionAskFeedbackRating,
    ActionGrievanceStatus,
    ActionSendFeedback,
    ValidateFeedbackForm,
)

BASE = "http://127.0.0.1:8000"
CITIZEN = "919800000011"
GRV = "GRV-2026-000042"
BUTTON = f'/give_feedback{{"grievance_id": "{GRV}"}}'
DOMAIN: dict[str, Any] = {
    "forms": {
        "feedback_form": {
            "required_slots": [
                "feedback_grievance",
                "grievance_solved",
                "feedback_rating",
                "feedback_comment",
            ]
        }
    }
}


pytestmark = pytest.mark.usefixtures("fresh_clients")


def grievance(grievance_id: str = GRV, status: str = "resolved", **extra: Any) -> dict[str, Any]:
    return {
        "grievance_id": grievance_id,
        "category": "water",
        "status": status,
        "sla_due": "2026-12-11",
        "resolved_at": "2026-12-07T10:00:00Z" if status == "resolved" else None,
        "history": [{"event": "status_changed", "status": status, "message": "Pipe fixed."}],
        **extra,
    }


def tracker(
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str = "give_feedback",
    entities: list[dict[str, Any]] | None = None,
    language: str = "hi",
) -> Tracker:
    slots = {"language": language, **(slots or {})}
    events: list[dict[str, Any]] = [{"event": "user", "text": text, "metadata": {}}]
    latest = {"text": text, "intent": {"name": intent}, "entities": entities or []}
    return Tracker(
        CITIZEN, slots, latest, events, False, None, {"name": "feedback_form"}, "action_listen"
    )


def named(grievance_id: str = GRV) -> list[dict[str, Any]]:
    return [{"entity": "grievance_id", "value": grievance_id}]


def slots_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def said(dispatcher: CollectingDispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages]


async def start(t: Tracker) -> tuple[dict[str, Any], CollectingDispatcher]:
    """What the validation action does as the form starts, with the question Rasa asks
    next: the action's ``requested_slot``, else (when its list is the domain's) the
    first empty slot of the domain's list."""
    dispatcher = CollectingDispatcher()
    events = await ValidateFeedbackForm().run(dispatcher, t, DOMAIN)
    slots = slots_of(events)
    if "requested_slot" not in slots:
        now = {**t.slots, **slots}
        required = DOMAIN["forms"]["feedback_form"]["required_slots"]
        slots["requested_slot"] = next((s for s in required if now.get(s) is None), None)
    return slots, dispatcher


@responses.activate
async def test_the_notices_button_links_the_feedback_and_asks_if_it_is_solved():
    responses.get(f"{BASE}/grievances/{GRV}", json=grievance())
    slots, dispatcher = await start(tracker(text=BUTTON, entities=named()))
    assert slots["feedback_grievance"] == GRV
    assert slots["requested_slot"] == "grievance_solved"
    assert said(dispatcher) == []
    assert responses.calls[0].request.headers["X-Citizen-Id"] == CITIZEN


@responses.activate
async def test_typed_feedback_goes_to_the_latest_resolved_grievance():
    responses.get(
        f"{BASE}/grievances",
        json={
            "grievances": [
                grievance("GRV-2026-000050", "open"),
                grievance("GRV-2026-000041", resolved_at="2026-12-01T10:00:00Z"),
                grievance(GRV, resolved_at="2026-12-06T09:00:00Z"),
                grievance("GRV-2026-000030", "closed"),
            ],
            "total": 4,
        },
    )
    slots, _ = await start(tracker(text="bahut accha kaam, 5 star"))
    assert (slots["feedback_grievance"], slots["requested_slot"]) == (GRV, "grievance_solved")


@responses.activate
async def test_without_a_resolved_grievance_it_is_feedback_on_the_service():
    responses.get(f"{BASE}/grievances", json={"grievances": [grievance(status="open")]})
    slots, _ = await start(tracker(text="aapki seva achhi hai"))
    assert (slots["feedback_grievance"], slots["requested_slot"]) == ("-", "feedback_rating")


@responses.activate
async def test_a_value_left_by_a_cancelled_feedback_is_not_reused():
    responses.get(f"{BASE}/grievances", json={"grievances": []})
    stale = {"feedback_grievance": GRV, "grievance_solved": True, "requested_slot": None}
    slots, _ = await start(tracker(stale, text="feedback dena hai"))
    assert slots["feedback_grievance"] == "-"
    assert slots["requested_slot"] == "feedback_rating"


@responses.activate
async def test_a_stale_answer_is_not_taken_for_the_next_grievance():
    responses.get(f"{BASE}/grievances/{GRV}", json=grievance())
    stale = {"feedback_grievance": "GRV-2026-000001", "grievance_solved": False}
    slots, _ = await start(tracker(stale, text=BUTTON, entities=named()))
    assert (slots["feedback_grievance"], slots["grievance_solved"]) == (GRV, None)
    assert slots["requested_slot"] == "grievance_solved"


@pytest.mark.parametrize(
    ("status", "response"),
    [
        ("closed", "utter_grievance_already_rated"),
        ("in_progress", "utter_grievance_not_resolved_yet"),
    ],
)
@responses.activate
async def test_a_grievance_that_takes_no_feedback_is_explained_and_nothing_asked(
    status: str, response: str
):
    responses.get(f"{BASE}/grievances/{GRV}", json=grievance(status=status))
    slots, dispatcher = await start(tracker(text=BUTTON, entities=named()))
    assert said(dispatcher) == [response]
    assert dispatcher.messages[0]["grievance_id"] == GRV
    assert slots["requested_slot"] is None  # the form ends
    dispatcher = CollectingDispatcher()
    events = await ActionSendFeedback().run(dispatcher, tracker(slots), DOMAIN)
    assert said(dispatcher) == []  # nothing sent anywhere
    assert len(responses.calls) == 1
    assert slots_of(events)["feedback_grievance"] is None


@pytest.mark.parametrize(
    ("text", "intent", "solved"),
    [
        ("/affirm", "affirm", True),
        ("/deny", "deny", False),
        ("haan ho gaya", "affirm", True),
        ("हाँ, हल हो गई", "inform", True),
        ("हल नहीं हुआ, अभी भी पानी नहीं आ रहा", "file_grievance", False),
        ("nahi hua", "inform", False),
        ("not solved, still leaking", "give_feedback", False),
        ("kal batata hoon", "inform", None),
    ],
)
async def test_is_it_solved(text: str, intent: str, solved: bool | None):
    dispatcher = CollectingDispatcher()
    t = tracker({"feedback_grievance": GRV, "requested_slot": "grievance_solved"}, text, intent)
    result = await ValidateFeedbackForm().validate_grievance_solved(text, dispatcher, t, DOMAIN)
    assert result == {"grievance_solved": solved}
    assert said(dispatcher) == ([] if solved is not None else ["utter_answer_yes_or_no"])


async def test_solved_means_rating_then_comment_not_solved_means_what_is_wrong():
    form = ValidateFeedbackForm()
    linked = {"feedback_grievance": GRV, "requested_slot": "grievance_solved"}
    yes = await form.required_slots(
        [], CollectingDispatcher(), tracker({**linked, "grievance_solved": True}), DOMAIN
    )
    no = await form.required_slots(
        [], CollectingDispatcher(), tracker({**linked, "grievance_solved": False}), DOMAIN
    )
    assert yes[-2:] == ["feedback_rating", "feedback_comment"]
    assert "feedback_rating" not in no and no[-1] == "feedback_comment"

    dispatcher = CollectingDispatcher()
    await ActionAskFeedbackRating().run(
        dispatcher, tracker({**linked, "grievance_solved": True}), DOMAIN
    )
    assert said(dispatcher) == ["utter_ask_grievance_rating"]
    assert dispatcher.messages[0]["grievance_id"] == GRV
    dispatcher = CollectingDispatcher()
    await ActionAskFeedbackComment().run(
        dispatcher, tracker({**linked, "grievance_solved": False}), DOMAIN
    )
    assert said(dispatcher) == ["utter_ask_grievance_still_wrong"]
    dispatcher = CollectingDispatcher()
    await ActionAskFeedbackRating().run(dispatcher, tracker({"feedback_grievance": "-"}), DOMAIN)
    await ActionAskFeedbackComment().run(dispatcher, tracker({"feedback_grievance": "-"}), DOMAIN)
    assert said(dispatcher) == ["utter_ask_feedback_rating", "utter_ask_feedback_comment"]


FILLED = {"feedback_grievance": GRV, "grievance_solved": True, "feedback_rating": "4"}


@responses.activate
async def test_a_rating_closes_the_grievance_and_names_it():
    responses.post(f"{BASE}/grievances/{GRV}/feedback", json=grievance(status="closed"))
    dispatcher = CollectingDispatcher()
    slots = {**FILLED, "feedback_comment": "Jaldi hua, dhanyavaad"}
    events = await ActionSendFeedback().run(dispatcher, tracker(slots), DOMAIN)
    (call,) = responses.calls
    assert json.loads(call.request.body) == {"rating": 4, "comment": "Jaldi hua, dhanyavaad"}
    assert said(dispatcher) == ["utter_grievance_closed"]
    assert (dispatcher.messages[0]["grievance_id"], dispatcher.messages[0]["rating"]) == (GRV, 4)
    assert slots_of(events) == {
        "feedback_rating": None,
        "feedback_comment": None,
        "feedback_grievance": None,
        "grievance_solved": None,
    }


@responses.activate
async def test_not_solved_reopens_it_with_what_is_still_wrong():
    responses.post(
        f"{BASE}/grievances/{GRV}/reopen",
        json=grievance(status="in_progress", sla_due="2026-12-14"),
    )
    dispatcher = CollectingDispatcher()
    slots = {
        "feedback_grievance": GRV,
        "grievance_solved": False,
        "feedback_comment": "Abhi bhi pani nahi",
    }
    await ActionSendFeedback().run(dispatcher, tracker(slots), DOMAIN)
    (call,) = responses.calls
    assert json.loads(call.request.body) == {"comment": "Abhi bhi pani nahi"}
    assert said(dispatcher) == ["utter_grievance_reopened"]
    assert dispatcher.messages[0]["sla_due"] == "14-12-2026"


@responses.activate
async def test_a_second_tap_after_it_was_closed_says_so():
    responses.post(
        f"{BASE}/grievances/{GRV}/feedback",
        json={"error": "wrong_state", "message": "Grievance is closed"},
        status=409,
    )
    dispatcher = CollectingDispatcher()
    await ActionSendFeedback().run(dispatcher, tracker({**FILLED, "feedback_comment": "-"}), DOMAIN)
    assert json.loads(responses.calls[0].request.body) == {"rating": 4}
    assert said(dispatcher) == ["utter_grievance_already_rated"]


@responses.activate
async def test_feedback_on_the_service_still_goes_to_the_feedback_endpoint():
    responses.post(f"{BASE}/feedback", json={"feedback": {"feedback_id": 1}}, status=201)
    dispatcher = CollectingDispatcher()
    slots = {"feedback_grievance": "-", "feedback_rating": "5", "feedback_comment": "-"}
    await ActionSendFeedback().run(dispatcher, tracker(slots), DOMAIN)
    assert json.loads(responses.calls[0].request.body) == {"rating": 5, "language": "hi"}
    assert said(dispatcher) == ["utter_feedback_thanks"]


@responses.activate
async def test_a_resolved_grievances_status_offers_the_feedback_button():
    responses.get(f"{BASE}/grievances/{GRV}", json=grievance())
    dispatcher = CollectingDispatcher()
    t = tracker(
        text=f"meri shikayat {GRV} hal nahi hui", intent="grievance_status", entities=named()
    )
    await ActionGrievanceStatus().run(dispatcher, t, DOMAIN)
    assert said(dispatcher) == ["utter_grievance_status_resolved"]
    # the same payload as the resolution notice's button (whatsapp_templates.yml)
    assert dispatcher.messages[0]["feedback_payload"] == BUTTON
