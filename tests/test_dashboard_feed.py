"""The conversation feed over Rasa's real SQL event broker table, and the analytics
built from it (dashboard/feed.py, dashboard/analytics.py)."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from rasa.core.brokers.sql import SQLEventBroker
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    SlotSet,
    UserUttered,
)
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from sqlalchemy import text

from dashboard import analytics, charts, feed
from dashboard.feed import Feed, visible_to
from service_catalogue import load

CATALOGUE = load()
CITIZEN, OTHER, THIRD = "919810000001", "919810000002", "919810000003"
T0 = datetime(2026, 12, 4, 10, 0, tzinfo=timezone.utc).timestamp()


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class Broker:
    """Publishes exactly as Rasa's tracker store does (``_stream_new_events``)."""

    def __init__(self, path: Path) -> None:
        self.broker = SQLEventBroker(db=str(path))
        self.at = T0

    def publish(self, sender_id: str, *events: Event) -> None:
        for event in events:
            self.at += 1
            event.timestamp = self.at
            self.broker.publish({"sender_id": sender_id, **event.as_dict()})

    def says(
        self,
        sender_id: str,
        words: str,
        intent: str,
        confidence: float = 0.95,
        department: str = "",
    ) -> None:
        self.publish(
            sender_id,
            UserUttered(
                words,
                {"name": intent, "confidence": confidence},
                metadata={"department": department, "phone_number_id": "100001"},
            ),
        )

    def answers(self, sender_id: str, words: str, **metadata: Any) -> None:
        self.publish(
            sender_id,
            ActionExecuted("utter_x"),
            BotUttered(words, metadata=metadata),
            ActionExecuted("action_listen"),
        )


@pytest.fixture
def broker(tmp_path: Path) -> Broker:
    return Broker(tmp_path / "events.db")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def live(broker: Broker, clock: Clock) -> Feed:
    return Feed(f"sqlite:///{broker.broker.engine.url.database}", CATALOGUE, clock)


async def test_a_conversation_is_summarised_as_officers_need_it(
    broker: Broker, live: Feed, clock: Clock
) -> None:
    assert await live.poll() is False  # the table exists but is empty
    broker.says(CITIZEN, "नमस्ते", "greet")
    broker.publish(CITIZEN, SlotSet("language", "hi"), SlotSet("service", "income_certificate"))
    broker.answers(CITIZEN, "नमस्ते! मैं दिल्ली सेवा हूँ।")
    broker.publish(CITIZEN, ActiveLoop("application_form"))
    broker.says(CITIZEN, "रवि कुमार", "inform")
    clock.now = broker.at + 42
    assert await live.poll() is True

    row = live.conversations[CITIZEN].summary(CATALOGUE, clock.now)
    assert row["language"] == "hi"
    assert row["flow"] == "application_form"
    assert row["last_intent"] == "inform"
    assert row["departments"] == ["revenue"]  # from the service, the number is the main one
    assert row["waiting_seconds"] == 42  # the last message has no answer yet
    assert row["who"] == "+91•••••0001"
    assert not (row["fallback_loop"] or row["human_requested"] or row["handed_over"])
    kinds = [(m.kind, m.text) for m in live.conversations[CITIZEN].messages]
    assert kinds == [
        ("citizen", "नमस्ते"),
        ("bot", "नमस्ते! मैं दिल्ली सेवा हूँ।"),
        ("citizen", "रवि कुमार"),
    ]

    broker.answers(CITIZEN, "आपके पिता का नाम?")
    assert await live.poll() is True
    assert live.conversations[CITIZEN].summary(CATALOGUE, clock.now)["waiting_seconds"] is None
    assert await live.poll() is False  # nothing new: nothing read twice


async def test_a_pages_first_poll_and_the_feed_task_fold_each_message_once(
    broker: Broker, live: Feed
) -> None:
    broker.says(CITIZEN, "namaste", "greet")
    broker.answers(CITIZEN, "नमस्ते!")
    # the dashboard's first page polls while the feed task polls too
    await asyncio.gather(live.poll(), live.poll(), live.poll())
    assert [m.text for m in live.conversations[CITIZEN].messages] == ["namaste", "नमस्ते!"]


async def test_two_misunderstood_turns_in_four_flag_a_fallback_loop(
    broker: Broker, live: Feed
) -> None:
    broker.says(CITIZEN, "asdf qwer", "nlu_fallback", 0.35)
    broker.publish(CITIZEN, ActionExecuted("action_clarify"))
    await live.poll()
    assert not live.conversations[CITIZEN].fallback_loop  # one misunderstanding is not a loop
    broker.says(CITIZEN, "hmm", "affirm", 0.9)
    broker.publish(CITIZEN, ActionExecuted("action_default_fallback"))
    await live.poll()
    assert live.conversations[CITIZEN].fallback_loop
    for _ in range(3):
        broker.says(CITIZEN, "income certificate", "apply_service")
    await live.poll()
    assert not live.conversations[CITIZEN].fallback_loop  # the loop has left the last 4 turns


PENSION = "मुझे किसी अधिकारी से बात करनी है, मेरा पेंशन 3 महीने से नहीं आया"


async def test_a_request_for_an_officer_goes_to_its_department_or_to_triage(
    broker: Broker, live: Feed
) -> None:
    # on the main number: one request routed to Social Welfare (actions/handoff.py), one
    # the catalogue could not place; a third citizen wrote to Transport's number
    broker.says(CITIZEN, PENSION, "talk_to_human")
    broker.publish(
        CITIZEN, SlotSet("human_requested", True), SlotSet("handoff_department", "social_welfare")
    )
    broker.says(OTHER, "I want to talk to a person", "talk_to_human")
    broker.publish(OTHER, SlotSet("human_requested", True), SlotSet("handoff_department", None))
    broker.says(THIRD, "licence renewal", "apply_service", department="transport")
    await live.poll()
    pension, triage, transport = (live.conversations[w] for w in (CITIZEN, OTHER, THIRD))

    assert pension.human_requested and pension.owner(CATALOGUE) == "social_welfare"
    assert visible_to(pension, CATALOGUE, "officer", ["social_welfare"])
    assert not visible_to(pension, CATALOGUE, "officer", ["revenue"])  # not every department
    assert not visible_to(pension, CATALOGUE, "supervisor", ["revenue"])
    assert not visible_to(pension, CATALOGUE, "helpdesk", [])

    # nobody's department: the triage queue of supervisors and the helpdesk, no officer's
    assert triage.human_requested and triage.owner(CATALOGUE) == ""
    assert not visible_to(triage, CATALOGUE, "officer", ["djb"])
    assert visible_to(triage, CATALOGUE, "supervisor", ["djb"])
    assert visible_to(triage, CATALOGUE, "helpdesk", [])
    assert not visible_to(triage, CATALOGUE, "csc_operator", [])

    assert visible_to(transport, CATALOGUE, "officer", ["transport"])
    assert not visible_to(transport, CATALOGUE, "officer", ["revenue"])
    assert [c.wa_id for c in live.active("officer", ["social_welfare"])] == [CITIZEN]
    assert {c.wa_id for c in live.active("helpdesk", [])} == {OTHER}


async def test_taking_over_never_locks_the_officer_out(broker: Broker, live: Feed) -> None:
    broker.says(CITIZEN, PENSION, "talk_to_human")
    broker.publish(
        CITIZEN, SlotSet("human_requested", True), SlotSet("handoff_department", "social_welfare")
    )
    await live.poll()
    pension = live.conversations[CITIZEN]

    # the channel's pause names the holder and the department she speaks for
    holder = {"officer_id": "meena", "officer_name": "Meena Rao", "department": "social_welfare"}
    broker.publish(CITIZEN, ConversationPaused(metadata=holder))
    broker.answers(CITIZEN, "Namaste, main Meena.", officer_id="meena", officer_name="Meena Rao")
    broker.says(CITIZEN, "ji, 3 mahine se", "inform")
    await live.poll()
    assert pension.handed_over and not pension.human_requested  # the request was picked up
    # reload, reply, hand back: she still sees it (before the fix: 403 for all three)
    assert visible_to(pension, CATALOGUE, "officer", ["social_welfare"], "meena")
    assert [(m.kind, m.text, m.officer_name) for m in pension.messages][1:3] == [
        ("event", "taken", "Meena Rao"),
        ("officer", "Namaste, main Meena.", "Meena Rao"),
    ]

    # whoever holds a handoff sees it, whatever the departments say: a triage
    # conversation a supervisor gave to Transport's officer
    broker.says(OTHER, "I want to talk to a person", "talk_to_human")
    helper = {"officer_id": "tarun", "officer_name": "Tarun", "department": ""}
    broker.publish(OTHER, ConversationPaused(metadata={**helper, "reassigned_by": "sunita"}))
    await live.poll()
    triage = live.conversations[OTHER]
    assert visible_to(triage, CATALOGUE, "officer", ["transport"], "tarun")
    assert not visible_to(triage, CATALOGUE, "officer", ["transport"], "ravi")
    assert triage.messages[-1].text == "reassigned"

    # the end says why, and the holder's privilege ends with it
    broker.publish(CITIZEN, ConversationResumed(metadata={"reason": "expired"}))
    broker.publish(OTHER, ConversationResumed(metadata={"reason": "citizen"}))
    await live.poll()
    assert not pension.handed_over and pension.officer_name is None
    assert pension.messages[-1].kind == "event" and pension.messages[-1].text == "ended_expired"
    assert triage.messages[-1].text == "ended_citizen"
    assert not visible_to(triage, CATALOGUE, "officer", ["transport"], "tarun")


async def test_the_transcript_shows_button_titles_never_payloads_or_codes(
    broker: Broker, live: Feed
) -> None:
    broker.says(CITIZEN, "namaste", "greet")
    broker.publish(CITIZEN, SlotSet("language", "hi"))
    broker.publish(
        CITIZEN,
        BotUttered(
            "क्या आप सहमत हैं?",
            data={"buttons": [{"title": "हाँ, सहमत", "payload": "/affirm"}]},
        ),
    )
    broker.says(CITIZEN, "/affirm", "affirm")
    # the CSC confirmation came as a template from the channel (not a bot turn)
    broker.says(CITIZEN, '/csc_confirm{"csc_code": "836362"}', "csc_confirm")
    broker.says(CITIZEN, '/something_new{"secret": "4242"}', "something_new")
    broker.publish(
        CITIZEN,
        UserUttered(
            "mera code 836362 hai",
            {"name": "csc_confirm", "confidence": 0.9},
            [{"entity": "csc_code", "value": "836362", "start": 10, "end": 16}],
        ),
    )
    await live.poll()
    citizen = [
        (m.text, m.button) for m in live.conversations[CITIZEN].messages if m.kind == "citizen"
    ]
    assert citizen == [
        ("namaste", False),
        ("हाँ, सहमत", True),
        ("पुष्टि करें", True),  # the csc_confirmation template's button, in Hindi
        ("[something_new]", True),
        ("mera code •••••• hai", False),
    ]
    shown = " ".join(m.text for m in live.conversations[CITIZEN].messages)
    assert "836362" not in shown and "4242" not in shown and "{" not in shown
    # a tapped button is not NLU data for the analytics export either
    assert [m.text for m in live.stats.misunderstood.values()] == []


async def test_aadhaar_like_numbers_never_reach_a_page(broker: Broker, live: Feed) -> None:
    broker.says(CITIZEN, "mera aadhaar 2345 6789 0124 hai", "nlu_fallback", 0.2)
    broker.answers(CITIZEN, "Aadhaar १२३४५६७८९०१२ noted")
    await live.poll()
    texts = [m.text for m in live.conversations[CITIZEN].messages]
    assert texts == ["mera aadhaar XXXX-XXXX-0124 hai", "Aadhaar XXXX-XXXX-९०१२ noted"]
    assert [m.text for m in live.stats.misunderstood.values()] == [
        "mera aadhaar XXXX-XXXX-0124 hai"
    ]
    assert feed.mask_text("call 9810000001") == "call 9810000001"  # a phone number stays


async def test_erased_and_inactive_conversations_leave_memory(
    broker: Broker, live: Feed, clock: Clock
) -> None:
    broker.says(CITIZEN, "blah blah", "nlu_fallback", 0.1)
    broker.says(OTHER, "kuch bhi", "nlu_fallback", 0.1)
    await live.poll()
    assert set(live.conversations) == {CITIZEN, OTHER}

    # the channel erases CITIZEN: their rows are deleted from the broker table
    with broker.broker.engine.begin() as connection:
        connection.execute(text("DELETE FROM events WHERE sender_id = :s"), {"s": CITIZEN})
    clock.now += feed.RECONCILE_SECONDS
    assert await live.poll() is True
    assert set(live.conversations) == {OTHER}
    assert [m.text for m in live.stats.misunderstood.values()] == ["kuch bhi"]
    assert await live.load(CITIZEN) is None

    # a day later OTHER is no longer active, yet its page can still be opened
    clock.now += feed.ACTIVE_HOURS * 3600
    await live.poll()
    assert live.conversations == {}
    reloaded = await live.load(OTHER)
    assert reloaded is not None and [m.text for m in reloaded.messages] == ["kuch bhi"]


async def test_analytics_figures_and_the_nlu_export(broker: Broker, live: Feed) -> None:
    broker.says(CITIZEN, "namaste", "greet", department="transport")
    broker.publish(CITIZEN, SlotSet("language", "hi"))
    broker.says(CITIZEN, "gaadi ka kagaz", "nlu_fallback", 0.3, department="transport")
    broker.says(OTHER, "pani nahi aa raha", "report_issue", 0.4, department="djb")
    broker.says(OTHER, "pani nahi aa raha", "report_issue", 0.4, department="djb")
    await live.poll()
    day = feed.day_of(T0)

    transport = analytics.conversation_figures(live.stats, [day], {"transport"})
    assert transport.conversations[day] == 1
    assert transport.messages[day] == 2 and transport.fallback_rate == 50.0
    assert transport.languages == {"hi": 1}
    both = analytics.conversation_figures(live.stats, [day], {"transport", "djb"})
    assert {d: c["conversations"] for d, c in both.by_department.items()} == {
        "transport": 1,
        "djb": 1,
    }

    top = analytics.misunderstood(live.stats, {"transport", "djb"}, 10)
    assert [(m.text, m.count) for m in top] == [("pani nahi aa raha", 2), ("gaadi ka kagaz", 1)]
    assert [m.text for m in analytics.misunderstood(live.stats, {"transport"}, 10)] == [
        "gaadi ka kagaz"
    ]

    exported = analytics.nlu_yaml(top, datetime.now(timezone.utc))
    data = RasaYAMLReader().reads(exported)
    assert [(m.get("intent"), m.get("text")) for m in data.intent_examples] == [
        (analytics.PLACEHOLDER_INTENT, "pani nahi aa raha"),
        (analytics.PLACEHOLDER_INTENT, "gaadi ka kagaz"),
    ]
    assert RasaYAMLReader().reads(analytics.nlu_yaml([], datetime.now())).intent_examples == []


def test_applications_and_grievances_are_counted_per_department_with_breaches() -> None:
    now = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
    figures = analytics.Figures(["2026-12-03", "2026-12-04"])
    applications = [
        {"service_id": "income_certificate", "created_at": "2026-12-04T09:00:00Z",
         "status": "submitted", "sla_due": "2026-12-10"},
        {"service_id": "income_certificate", "created_at": "2026-11-01T09:00:00Z",
         "status": "verified", "sla_due": "2026-11-20"},  # past its SLA
        {"service_id": "income_certificate", "created_at": "2026-11-01T09:00:00Z",
         "status": "approved", "sla_due": "2026-11-20"},  # decided: no breach
        {"service_id": "driving_licence", "created_at": "2026-12-04T09:00:00Z",
         "status": "submitted", "sla_due": "2026-11-20"},  # not this user's department
    ]  # fmt: skip
    grievances = [
        {"department": "revenue", "created_at": "2026-12-03T08:00:00Z", "status": "open",
         "due_at": "2026-12-04T08:00:00Z", "escalation_level": 1},
    ]  # fmt: skip
    analytics.count_backends(figures, CATALOGUE, {"revenue"}, applications, grievances, now)
    assert figures.applications == {"2026-12-04": 1}
    assert figures.grievances == {"2026-12-03": 1}
    assert dict(figures.breaches["revenue"]) == {
        "applications": 1,
        "grievances": 1,
        "escalated": 1,
    }


def test_charts_escape_labels_and_scale_to_the_largest_value() -> None:
    chart = str(charts.bar_chart([("<b>Revenue</b>", 4), ("MCD", 2)], "Per <department>"))
    assert "<b>" not in chart and "&lt;b&gt;Revenue&lt;/b&gt;: 4" in chart
    assert 'aria-label="Per &lt;department&gt;"' in chart
    heights = [float(h) for h in re.findall(r'height="([0-9.]+)"', chart)]
    assert heights[0] == 2 * heights[1]
    line = str(charts.line_chart([("12-01", 1.5), ("12-02", 0)], "Fallback rate"))
    assert "12-01: 1.5" in line and line.count("<circle") == 2
