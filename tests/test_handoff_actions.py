"""Where a request for an officer goes (actions/handoff.py): the department of the
service, department or complaint it is about, from the catalogue; else the department
of the number the citizen wrote to; else the helpdesk's triage queue (no department)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.handoff
from actions.handoff import ActionTalkToHuman, department_for


def tracker(text, entities=(), **slots):
    latest = {"text": text, "intent": {"name": "talk_to_human"}, "entities": list(entities)}
    events = [{"event": "user", "text": text, "metadata": {}}]
    return Tracker("919810000001", slots, latest, events, False, None, {}, "action_listen")


@pytest.mark.parametrize(
    "text, entities, slots, department",
    [
        # the example: a pension complaint, no service or department named
        ("मुझे किसी अधिकारी से बात करनी है, मेरा पेंशन 3 महीने से नहीं आया", [], {}, "social_welfare"),
        ("mujhe officer se baat karni hai meri pension nahi aayi", [], {}, "social_welfare"),
        ("officer please, water is not coming since monday", [], {}, "djb"),
        ("talk to an officer about the garbage in my street", [], {}, "mcd"),
        (
            "I want to talk to an officer about my ration card",
            [{"entity": "service", "value": "ration_card"}],
            {},
            "food_supplies",
        ),
        (
            "samaj kalyan vibhag ke officer se baat karao",
            [{"entity": "department", "value": "social_welfare"}],
            {},
            "social_welfare",
        ),
        # what the request says beats what the conversation was about
        (
            "officer se baat, pension nahi aayi",
            [],
            {"service": "income_certificate"},
            "social_welfare",
        ),
        ("I want to talk to an officer", [], {"service": "income_certificate"}, "revenue"),
        ("I want to talk to an officer", [], {"department_context": "transport"}, "transport"),
        # nothing says which department: the helpdesk triages it
        ("I want to talk to an officer", [], {}, None),
        ("officer se baat karni hai", [], {"department_context": None}, None),
        # "voter" only sounds like "water" (vtr): not enough to route to the Jal Board
        ("talk to a human about my voter card", [], {}, None),
        ("officer se baat karni hai, kuch aur problem hai", [], {}, None),
    ],
)
def test_a_request_goes_to_the_department_it_is_about(text, entities, slots, department):
    assert department_for(tracker(text, entities, **slots)) == department


async def test_the_action_flags_and_routes_the_request(monkeypatch):
    monkeypatch.setattr(
        actions.handoff, "now_utc", lambda: datetime(2026, 12, 4, 6, 0, tzinfo=timezone.utc)
    )
    dispatcher = CollectingDispatcher()
    text = "मुझे किसी अधिकारी से बात करनी है, मेरा पेंशन 3 महीने से नहीं आया"
    events = await ActionTalkToHuman().run(dispatcher, tracker(text), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_officer_now"]
    assert {e["name"]: e["value"] for e in events} == {
        "human_requested": True,
        "handoff_department": "social_welfare",
    }
