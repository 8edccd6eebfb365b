"""STOP/START, following departments, consent, erasure, officer requests and CSC
confirmation: actions with a real dispatcher, HTTP faked at the transport level."""

import json
from datetime import datetime, timezone

import pytest
import responses
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.consent import (
    ActionRecordConsent,
    ActionRememberRequest,
    ActionResumeRequest,
    ActionWithdrawConsent,
    category_in,
)
from actions.csc import ActionCscAnswer
from actions.data_rights import ActionDataSummary, ActionEraseData, ActionEraseDataNotice
from actions.handoff import ActionTalkToHuman, officer_availability
from actions.language import ActionMessageContext
from actions.messages import ActionSetMessages, ActionSubscribeDepartment

BASE = "http://127.0.0.1:8000"
CHANNEL = "http://127.0.0.1:5005/webhooks/whatsapp/internal"
CITIZEN = "919800000001"
PREFERENCES = f"{BASE}/citizens/{CITIZEN}/preferences"
APPLICATIONS = f"{BASE}/edistrict/applications"


pytestmark = pytest.mark.usefixtures("fresh_clients")


def tracker(intent, text="", entities=(), slots=None, active=None):
    latest = {"text": text, "intent": {"name": intent}, "entities": list(entities)}
    events = [{"event": "user", "text": text, "metadata": {}}]
    loop = {"name": active} if active else {}
    return Tracker(CITIZEN, slots or {}, latest, events, False, None, loop, "action_listen")


async def run(action, **kwargs):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker(**kwargs), {})
    return dispatcher.messages, events


def said(messages):
    return [m["response"] for m in messages]


def sent_bodies(url):
    return [
        json.loads(c.request.body)
        for c in responses.calls
        if c.request.url == url and c.request.method != "GET"
    ]


def slots_of(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


# --------------------------------------------------------------------------- STOP / START


@responses.activate
@pytest.mark.parametrize("language", ["hi", "en"])
async def test_stop_turns_broadcasts_and_reminders_off_and_records_the_language(language):
    responses.put(PREFERENCES, json={"broadcasts": False, "reminders": False})
    messages, _ = await run(ActionSetMessages(), intent="opt_out", slots={"language": language})
    assert said(messages) == ["utter_opted_out"]
    assert sent_bodies(PREFERENCES) == [
        {"broadcasts": False, "reminders": False, "language": language}
    ]


@responses.activate
async def test_stop_is_retried_when_the_backend_blinks_and_failure_is_said():
    responses.put(PREFERENCES, status=503)
    responses.put(PREFERENCES, json={})
    messages, _ = await run(ActionSetMessages(), intent="opt_out")
    assert said(messages) == ["utter_opted_out"]
    responses.replace(responses.PUT, PREFERENCES, status=503)
    messages, _ = await run(ActionSetMessages(), intent="opt_out")
    assert said(messages) == ["utter_backend_unavailable"]  # never a false "done"


@responses.activate
async def test_start_on_the_main_number_offers_the_departments():
    responses.put(PREFERENCES, json={})
    messages, _ = await run(ActionSetMessages(), intent="opt_in", slots={"language": "hi"})
    assert said(messages) == ["utter_opted_in", "utter_offer_departments"]
    payloads = [b["payload"] for b in messages[1]["buttons"]]
    assert '/subscribe_department{"department": "transport"}' in payloads
    assert len(payloads) == 11
    assert sent_bodies(PREFERENCES)[0] == {"broadcasts": True, "reminders": True, "language": "hi"}


@responses.activate
async def test_start_on_a_department_number_follows_that_department():
    responses.put(PREFERENCES, json={})
    responses.get(PREFERENCES, json={"departments": ["djb"]})
    messages, _ = await run(
        ActionSetMessages(), intent="opt_in", slots={"department_context": "transport"}
    )
    assert said(messages) == ["utter_opted_in", "utter_department_followed"]
    assert messages[1]["department"] == "Transport Department"
    assert sent_bodies(PREFERENCES)[-1]["departments"] == ["djb", "transport"]
    district_payload = messages[1]["buttons"][0]["payload"]
    assert district_payload == (
        '/subscribe_department{"department": "transport", "district": "central"}'
    )


# ------------------------------------------------------------------- following departments


@responses.activate
async def test_following_a_department_without_naming_one_asks_which():
    messages, _ = await run(ActionSubscribeDepartment(), intent="subscribe_department")
    assert said(messages) == ["utter_ask_subscription_department"]
    assert not responses.calls


@responses.activate
async def test_choosing_a_district_narrows_the_department_and_keeps_the_others():
    responses.get(PREFERENCES, json={"departments": ["transport", "djb"]})
    responses.put(PREFERENCES, json={})
    entities = [
        {"entity": "department", "value": "transport"},
        {"entity": "district", "value": "south"},
    ]
    messages, _ = await run(
        ActionSubscribeDepartment(),
        intent="subscribe_department",
        entities=entities,
        slots={"language": "hi"},
    )
    assert said(messages) == ["utter_district_set"]
    assert messages[0]["district"] == "दक्षिणी दिल्ली"
    assert sent_bodies(PREFERENCES) == [
        {
            "broadcasts": True,
            "departments": ["djb", "transport"],
            "language": "hi",
            "district": "south",
        }
    ]


@responses.activate
async def test_an_unknown_district_is_ignored_not_stored():
    responses.get(PREFERENCES, json={})
    responses.put(PREFERENCES, json={})
    entities = [{"entity": "department", "value": "djb"}, {"entity": "district", "value": "x"}]
    messages, _ = await run(
        ActionSubscribeDepartment(), intent="subscribe_department", entities=entities
    )
    assert said(messages) == ["utter_department_followed"]
    assert "district" not in sent_bodies(PREFERENCES)[0]


# --------------------------------------------------------------------------------- consent


@responses.activate
async def test_withdrawal_stops_every_message_and_ends_the_form_in_progress():
    responses.put(PREFERENCES, json={})
    messages, events = await run(
        ActionWithdrawConsent(),
        intent="withdraw_consent",
        slots={"consent_given": True, "form_answers": {"values": {"applicant_name": "Ravi"}}},
        active="application_form",
    )
    assert said(messages) == ["utter_consent_withdrawn"]
    assert sent_bodies(PREFERENCES) == [
        {"status_updates": False, "broadcasts": False, "reminders": False}
    ]
    assert {"event": "active_loop", "name": None, "timestamp": None} in events
    values = slots_of(events)
    assert values["consent_given"] is False and values["form_answers"] is None


@responses.activate
async def test_withdrawal_is_honest_when_the_backend_cannot_stop_messages():
    responses.put(PREFERENCES, status=503)
    messages, events = await run(ActionWithdrawConsent(), intent="withdraw_consent")
    assert said(messages) == ["utter_consent_withdrawn", "utter_messages_not_stopped"]
    assert slots_of(events)["consent_given"] is False  # processing stops regardless


@responses.activate
async def test_consenting_again_turns_status_updates_back_on():
    responses.put(PREFERENCES, json={})
    withdrawn = {"consent_given": False, "consent_time": "2026-11-20T10:00:00+00:00"}
    messages, events = await run(ActionRecordConsent(), intent="affirm", slots=withdrawn)
    assert sent_bodies(PREFERENCES) == [{"status_updates": True}]
    assert messages == [] and slots_of(events)["consent_given"] is True


@responses.activate
async def test_a_first_consent_needs_no_backend_call():
    _, events = await run(ActionRecordConsent(), intent="affirm")
    assert not responses.calls and slots_of(events)["consent_given"] is True


# ----------------------------------- a request made before consent continues after it


@pytest.mark.parametrize(
    "text, intent, entities, kept",
    [
        (
            "income certificate chahiye",
            "apply_service",
            [{"entity": "service", "value": "income_certificate", "start": 0, "end": 18}],
            [{"entity": "service", "value": "income_certificate"}],
        ),
        (
            "status of APP-2026-000123",
            "check_status",
            [{"entity": "application_id", "value": "APP-2026-000123"}],
            [{"entity": "application_id", "value": "APP-2026-000123"}],
        ),
        ("download my certificate", "download_certificate", [], []),
    ],
)
async def test_the_gate_remembers_what_was_asked_and_what_it_was_about(
    text, intent, entities, kept
):
    messages, events = await run(
        ActionRememberRequest(), intent=intent, text=text, entities=entities
    )
    assert messages == []
    assert slots_of(events) == {"pending_request": intent, "pending_entities": kept}


@pytest.mark.parametrize(
    "text, service, category",
    [
        ("mera ration card nahi bana abhi tak, shikayat karni hai", "ration_card", "ration"),
        ("मेरी पेंशन नहीं मिली, शिकायत करनी है", None, "pension"),
        ("street light kharab hai complaint", None, "streetlight"),
        ("mujhe shikayat karni hai", None, None),
        ("some other problem, complaint please", None, None),  # "other" is never guessed
        ("income certificate nahi bana, shikayat", "income_certificate", None),  # 4 categories
    ],
)
def test_a_complaints_category_is_kept_only_when_the_citizen_said_it(text, service, category):
    assert category_in(text, service) == category


async def test_a_complaint_is_remembered_with_its_category():
    text = "mera ration card nahi bana abhi tak, shikayat karni hai"
    entities = [{"entity": "service", "value": "ration_card"}]
    _, events = await run(
        ActionRememberRequest(), intent="file_grievance", text=text, entities=entities
    )
    assert slots_of(events)["pending_entities"] == [
        {"entity": "service", "value": "ration_card"},
        {"entity": "grievance_category", "value": "ration"},
    ]


async def test_after_consent_an_application_resumes_with_its_service():
    pending = {
        "pending_request": "apply_service",
        "pending_entities": [{"entity": "service", "value": "driving_licence_renewal"}],
    }
    messages, events = await run(ActionResumeRequest(), intent="affirm", slots=pending)
    assert messages == []  # the form's rule starts the form, which asks its questions
    assert slots_of(events) == {
        "pending_request": None,
        "pending_entities": None,
        "service": "driving_licence_renewal",
    }


async def test_after_consent_a_complaint_resumes_with_its_category():
    pending = {
        "pending_request": "file_grievance",
        "pending_entities": [{"entity": "grievance_category", "value": "ration"}],
    }
    _, events = await run(ActionResumeRequest(), intent="affirm", slots=pending)
    assert slots_of(events)["grievance_category"] == "ration"


@responses.activate
async def test_after_consent_a_status_is_answered_for_the_application_named():
    responses.get(f"{APPLICATIONS}/APP-2026-000123", status=404, json={})
    pending = {
        "pending_request": "check_status",
        "pending_entities": [{"entity": "application_id", "value": "APP-2026-000123"}],
    }
    messages, events = await run(ActionResumeRequest(), intent="affirm", slots=pending)
    assert said(messages) == ["utter_application_not_found"]
    assert messages[0]["application_id"] == "APP-2026-000123"
    assert slots_of(events) == {"pending_request": None, "pending_entities": None}


@responses.activate
async def test_after_consent_a_payment_asked_for_is_made():
    responses.get(APPLICATIONS, json={"applications": []})
    pending = {"pending_request": "pay_fee", "pending_entities": []}
    messages, _ = await run(ActionResumeRequest(), intent="affirm", slots=pending)
    assert said(messages) == ["utter_nothing_to_pay"]


async def test_after_consent_with_nothing_pending_the_menu():
    messages, events = await run(ActionResumeRequest(), intent="affirm")
    assert said(messages) == ["utter_main_menu"]
    assert slots_of(events) == {"pending_request": None, "pending_entities": None}


async def message_context(intent, slots, entities=(), active=None):
    return slots_of(
        await ActionMessageContext().run(
            CollectingDispatcher(),
            tracker(intent=intent, entities=entities, slots=slots, active=active),
            {},
        )
    )


PENDING = {
    "pending_request": "apply_service",
    "pending_entities": [{"entity": "service", "value": "income_certificate"}],
    "service": "income_certificate",
    "language": "en",
}


@pytest.mark.parametrize("intent", ["affirm", "choose_language", "greet", "nlu_fallback"])
async def test_answering_the_notice_keeps_the_request_waiting(intent):
    assert "pending_request" not in await message_context(intent, PENDING)


@pytest.mark.parametrize("intent", ["deny", "list_services", "service_info", "help", "thank"])
async def test_declining_or_moving_on_drops_the_request_and_its_service(intent):
    values = await message_context(intent, PENDING)
    assert values["pending_request"] is None and values["pending_entities"] is None
    assert values["service"] is None  # no later form starts with it by surprise


async def test_withdrawing_consent_drops_a_waiting_request():
    with responses.RequestsMock() as mocked:
        mocked.put(PREFERENCES, json={})
        _, events = await run(ActionWithdrawConsent(), intent="withdraw_consent", slots=PENDING)
    assert slots_of(events)["pending_request"] is None


# -------------------------------------------------------------------------------- erasure

ERASURE = f"{BASE}/citizens/{CITIZEN}/erasure"
CHAT_ERASURE = f"{CHANNEL}/erase"
ERASED = {
    "erased": {"applications": 2, "grievances": 1},
    "kept": {"certificates": 1, "payments": 3},
}


async def test_asking_to_erase_explains_and_leaves_any_form():
    messages, events = await run(ActionEraseDataNotice(), intent="erase_data")
    assert said(messages) == ["utter_erasure_explained"]
    assert events[0] == {"event": "active_loop", "name": None, "timestamp": None}


@responses.activate
async def test_yes_erases_the_records_then_the_chat_and_reports_counts():
    responses.post(ERASURE, json=ERASED)
    responses.post(CHAT_ERASURE, status=202, json={"status": "scheduled"})
    messages, events = await run(ActionEraseData(), intent="affirm", slots={"consent_given": True})
    assert [c.request.url for c in responses.calls] == [ERASURE, CHAT_ERASURE]
    assert json.loads(responses.calls[1].request.body) == {"wa_id": CITIZEN}
    assert said(messages) == ["utter_erasure_done"]
    counts = {k: messages[0][k] for k in ("applications", "grievances", "certificates", "payments")}
    assert counts == {"applications": 2, "grievances": 1, "certificates": 1, "payments": 3}
    assert slots_of(events)["consent_given"] is False


@responses.activate
async def test_no_erases_nothing():
    messages, _ = await run(ActionEraseData(), intent="deny")
    assert said(messages) == ["utter_erasure_cancelled"] and not responses.calls


@responses.activate
async def test_backend_failure_erases_nothing_and_offers_a_retry():
    responses.post(ERASURE, status=503)
    messages, events = await run(ActionEraseData(), intent="affirm")
    assert said(messages) == ["utter_erasure_failed"]
    assert all(c.request.url == ERASURE for c in responses.calls)  # chat left alone
    assert events == []


@responses.activate
async def test_chat_erasure_failure_says_exactly_what_was_done():
    responses.post(ERASURE, json=ERASED)
    responses.post(CHAT_ERASURE, status=401, json={"error": "unauthorized"})
    messages, _ = await run(ActionEraseData(), intent="affirm")
    assert said(messages) == ["utter_erasure_incomplete"]
    assert messages[0]["certificates"] == 1


@responses.activate
async def test_data_summary_shows_the_preferences_in_the_citizens_language():
    responses.get(APPLICATIONS, json={"applications": [{}, {}]})
    responses.get(f"{BASE}/grievances", json={"grievances": [{}]})
    responses.get(
        PREFERENCES,
        json={
            "broadcasts": False,
            "reminders": True,
            "status_updates": True,
            "departments": ["transport", "gone"],
            "district": "shahdara",
            "language": "hi",
        },
    )
    slots = {"language": "hi", "consent_given": True, "consent_time": "2026-11-20T10:00:00Z"}
    messages, _ = await run(ActionDataSummary(), intent="data_summary", slots=slots)
    m = messages[0]
    assert m["response"] == "utter_data_summary"
    assert (m["messages"], m["reminders"], m["updates"]) == ("❌", "✅", "✅")
    assert (m["departments"], m["district"], m["language"]) == ("परिवहन विभाग", "शाहदरा", "hi")
    assert m["number"] == "XXXXXX0001" and CITIZEN not in json.dumps(m)


# ------------------------------------------------------------------------ talk to a human

IST_TIMES = [
    (datetime(2026, 12, 4, 6, 0, tzinfo=timezone.utc), "now"),  # Friday 11:30 IST
    (datetime(2026, 12, 4, 12, 29, tzinfo=timezone.utc), "now"),  # Friday 17:59 IST
    (datetime(2026, 12, 4, 12, 30, tzinfo=timezone.utc), "tomorrow"),  # Friday 18:00 IST
    (datetime(2026, 12, 4, 2, 0, tzinfo=timezone.utc), "today"),  # Friday 07:30 IST
    (datetime(2026, 12, 5, 13, 0, tzinfo=timezone.utc), "monday"),  # Saturday 18:30 IST
    (datetime(2026, 12, 6, 6, 0, tzinfo=timezone.utc), "monday"),  # Sunday 11:30 IST
    (datetime(2026, 12, 6, 19, 0, tzinfo=timezone.utc), "today"),  # Monday 00:30 IST
]


@pytest.mark.parametrize("now, when", IST_TIMES)
def test_officer_availability_follows_office_hours_in_ist(now, when):
    assert officer_availability(now) == when


async def test_asking_for_an_officer_is_flagged_and_answered(monkeypatch):
    import actions.handoff

    monkeypatch.setattr(
        actions.handoff, "now_utc", lambda: datetime(2026, 12, 6, 6, 0, tzinfo=timezone.utc)
    )
    messages, events = await run(ActionTalkToHuman(), intent="talk_to_human")
    assert said(messages) == ["utter_officer_monday"]
    assert slots_of(events) == {"human_requested": True, "handoff_department": None}


# ------------------------------------------------------------------------ CSC confirmation


def csc_application(number="APP-2026-000321", status="awaiting_citizen_confirmation"):
    return {"application_id": number, "service_id": "income_certificate", "status": status}


@responses.activate
@pytest.mark.parametrize(
    "text, entities",
    [
        ('/csc_confirm{"csc_code": "482913"}', [{"entity": "csc_code", "value": "482913"}]),
        ("मेरा कोड ४८२९१३ है", []),
        ("code 482913", [{"entity": "csc_code", "value": "482913"}]),
    ],
)
async def test_the_code_from_a_button_or_typed_confirms_the_waiting_application(text, entities):
    responses.get(
        APPLICATIONS,
        json={"applications": [csc_application(), csc_application("APP-2026-1", "submitted")]},
    )
    confirm = f"{APPLICATIONS}/APP-2026-000321/confirm"
    responses.post(confirm, json=csc_application(status="submitted"))
    messages, _ = await run(ActionCscAnswer(), intent="csc_confirm", text=text, entities=entities)
    assert said(messages) == ["utter_csc_confirmed", "utter_status_submitted"]
    assert messages[0]["service"] == "Income Certificate"
    assert sent_bodies(confirm) == [{"code": "482913"}]


@responses.activate
@pytest.mark.parametrize(
    "status, body, reply",
    [
        (422, {"error": "wrong_code", "details": {"attempts_left": 3}}, "utter_csc_wrong_code"),
        (422, {"error": "wrong_code", "details": {"attempts_left": 0}}, "utter_csc_locked"),
        (409, {"error": "locked"}, "utter_csc_locked"),
        (503, {}, "utter_backend_unavailable"),
    ],
)
async def test_a_refused_code_says_why(status, body, reply):
    responses.get(APPLICATIONS, json={"applications": [csc_application()]})
    confirm = f"{APPLICATIONS}/APP-2026-000321/confirm"
    responses.post(confirm, status=status, json=body)
    messages, _ = await run(ActionCscAnswer(), intent="csc_confirm", text="code 111111")
    assert said(messages) == [reply]
    assert len(sent_bodies(confirm)) == 1  # a code is never tried twice on its own
    if reply == "utter_csc_wrong_code":
        assert messages[0]["attempts_left"] == 3


@responses.activate
async def test_confirm_without_a_code_asks_for_it():
    messages, _ = await run(ActionCscAnswer(), intent="csc_confirm", text="confirm csc application")
    assert said(messages) == ["utter_csc_ask_code"] and not responses.calls


@responses.activate
async def test_nothing_waiting_is_said():
    responses.get(APPLICATIONS, json={"applications": [csc_application(status="submitted")]})
    messages, _ = await run(ActionCscAnswer(), intent="csc_confirm", text="code 123456")
    assert said(messages) == ["utter_csc_nothing_pending"]


@responses.activate
async def test_several_waiting_applications_are_offered_with_the_code_kept():
    waiting = [csc_application("APP-2026-000001"), csc_application("APP-2026-000002")]
    responses.get(APPLICATIONS, json={"applications": waiting})
    messages, _ = await run(ActionCscAnswer(), intent="csc_confirm", text="code 123456")
    assert said(messages) == ["utter_csc_choose_application"]
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        '/csc_confirm{"application_id": "APP-2026-000001", "csc_code": "123456"}',
        '/csc_confirm{"application_id": "APP-2026-000002", "csc_code": "123456"}',
    ]
    assert len(responses.calls) == 1  # no confirm attempt was spent


@responses.activate
async def test_not_me_cancels_the_waiting_application():
    responses.get(APPLICATIONS, json={"applications": [csc_application()]})
    decline = f"{APPLICATIONS}/APP-2026-000321/decline"
    responses.post(decline, json=csc_application(status="cancelled"))
    messages, _ = await run(ActionCscAnswer(), intent="csc_decline", text="/csc_decline")
    assert said(messages) == ["utter_csc_declined"]
    assert len(sent_bodies(decline)) == 1
