"""Form validation and backend-calling actions, with HTTP faked at the transport level."""

import json

import pytest
import requests
import responses
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.application import (
    ActionAskFieldValue,
    ActionSubmitApplication,
    ValidateApplicationForm,
)
from actions.grievance import ValidateFeedbackForm, match_category
from actions.tracking import ActionCheckStatus, ActionDownloadCertificate

BASE = "http://127.0.0.1:8000"
CITIZEN = "919800000001"


pytestmark = pytest.mark.usefixtures("fresh_clients")


def tracker(
    slots=None, text="", intent="inform", entities=(), metadata=None, active="application_form"
):
    events = [{"event": "user", "text": text, "metadata": metadata or {}}]
    latest = {"text": text, "intent": {"name": intent}, "entities": list(entities)}
    return Tracker(
        CITIZEN, slots or {}, latest, events, False, None, {"name": active}, "action_listen"
    )


def responses_of(dispatcher):
    return [m["response"] for m in dispatcher.messages]


def slots_of(events):
    return {e["name"]: e["value"] for e in events}


async def test_unknown_service_is_re_asked_with_departments():
    dispatcher = CollectingDispatcher()
    result = await ValidateApplicationForm().validate_service("pizza", dispatcher, tracker(), {})
    assert result == {"service": None}
    assert responses_of(dispatcher) == ["utter_service_unknown"]
    assert len(dispatcher.messages[0]["buttons"]) >= 10


async def test_choosing_a_service_starts_a_fresh_form_with_a_new_key():
    dispatcher = CollectingDispatcher()
    result = await ValidateApplicationForm().validate_service(
        "water_tanker_request", dispatcher, tracker(), {}
    )
    assert result["service"] == "water_tanker_request"
    assert result["form_answers"]["values"] == {}
    assert len(result["application_key"]) == 32
    assert responses_of(dispatcher) == ["utter_service_intro"]


def tanker(values=None, failures=0, language="en"):
    return {
        "service": "water_tanker_request",
        "form_answers": {"service": "water_tanker_request", "values": values or {}, "display": {}},
        "form_failures": failures,
        "language": language,
    }


async def test_a_wrong_pin_gets_a_specific_reask_and_counts_failures():
    dispatcher = CollectingDispatcher()
    slots = tanker({"delivery_address": "12 Gali 4, Laxmi Nagar"})
    result = await ValidateApplicationForm().validate_field_value(
        "400001", dispatcher, tracker(slots), {}
    )
    assert result == {"field_value": None, "form_failures": 1}
    assert responses_of(dispatcher) == ["utter_invalid_pin_not_delhi"]


async def test_third_failure_offers_a_human():
    dispatcher = CollectingDispatcher()
    slots = tanker({"delivery_address": "12 Gali 4, Laxmi Nagar"}, failures=2)
    await ValidateApplicationForm().validate_field_value("12", dispatcher, tracker(slots), {})
    assert responses_of(dispatcher) == ["utter_invalid_pin_format", "utter_offer_human"]


async def test_a_valid_answer_is_stored_and_the_next_question_follows():
    dispatcher = CollectingDispatcher()
    slots = tanker({"delivery_address": "12 Gali 4, Laxmi Nagar"})
    result = await ValidateApplicationForm().validate_field_value(
        "११००९२", dispatcher, tracker(slots), {}
    )
    assert result["field_value"] is None
    assert result["form_answers"]["values"]["pin_code"] == "110092"
    dispatcher = CollectingDispatcher()
    await ActionAskFieldValue().run(dispatcher, tracker({**slots, **result}), {})
    assert responses_of(dispatcher) == ["utter_skip_hint", "utter_ask_field"]  # landmark
    assert dispatcher.messages[-1]["step"] == 3


async def test_optional_field_can_be_skipped_and_choice_gets_buttons():
    dispatcher = CollectingDispatcher()
    values = {"delivery_address": "12 Gali 4, Laxmi Nagar", "pin_code": "110092"}
    await ActionAskFieldValue().run(dispatcher, tracker(tanker(values, language="hi")), {})
    assert responses_of(dispatcher) == ["utter_skip_hint", "utter_ask_field"]
    result = await ValidateApplicationForm().validate_field_value(
        "skip", CollectingDispatcher(), tracker(tanker(values)), {}
    )
    assert result["form_answers"]["values"]["landmark"] is None
    dispatcher = CollectingDispatcher()
    values = {**values, "landmark": None}
    await ActionAskFieldValue().run(dispatcher, tracker(tanker(values)), {})
    payloads = [b["payload"] for b in dispatcher.messages[-1]["buttons"]]
    assert payloads == ["no_pipeline", "no_supply", "dirty_water", "other"]


async def test_last_answer_completes_the_fields():
    values = {
        "delivery_address": "12 Gali 4, Laxmi Nagar",
        "pin_code": "110092",
        "landmark": None,
        "tanker_reason": "no_supply",
    }
    result = await ValidateApplicationForm().validate_field_value(
        "skip", CollectingDispatcher(), tracker(tanker(values)), {}
    )
    assert result["field_value"] == "done"


async def test_masked_aadhaar_from_the_channel_is_accepted_and_a_full_one_is_never_stored():
    slots = {
        "service": "old_age_pension",
        "form_answers": {"service": "old_age_pension", "values": {}, "display": {}},
    }
    from service_catalogue import load

    fields = load().services["old_age_pension"].fields
    values = {f.id: "x" for f in fields[: [f.type for f in fields].index("aadhaar")]}
    slots["form_answers"]["values"] = values
    result = await ValidateApplicationForm().validate_field_value(
        "XXXX-XXXX-4321", CollectingDispatcher(), tracker(slots), {}
    )
    assert "XXXX-XXXX-4321" in result["form_answers"]["values"].values()
    result = await ValidateApplicationForm().validate_field_value(
        "2345 6789 0124", CollectingDispatcher(), tracker(slots), {}
    )
    assert "234567890124" not in json.dumps(result)


async def test_document_step_needs_a_file():
    slots = {
        "service": "income_certificate",
        "form_documents": {},
        "requested_slot": "document_ref",
    }
    form = ValidateApplicationForm()
    dispatcher = CollectingDispatcher()
    extracted = await form.extract_document_ref(dispatcher, tracker(slots, text="here"), {})
    result = await form.validate_document_ref(
        extracted["document_ref"], dispatcher, tracker(slots, text="here"), {}
    )
    assert result == {"document_ref": None}
    assert responses_of(dispatcher) == ["utter_document_expected"]
    upload = {"storage_ref": "media/abc", "mime_type": "image/jpeg", "sha256": "00", "size": 10}
    t = tracker(slots, metadata={"attachment": upload})
    extracted = await form.extract_document_ref(dispatcher, t, {})
    result = await form.validate_document_ref(extracted["document_ref"], dispatcher, t, {})
    assert result["form_documents"] == {"identity_proof": upload}


async def test_change_details_asks_which_one_and_re_asks_only_it():
    from actions.application import ActionAskEditField

    form = ValidateApplicationForm()
    values = {"delivery_address": "12 Gali 4, Laxmi Nagar", "pin_code": "110092"}
    result = await form.validate_application_confirmed(
        False, CollectingDispatcher(), tracker(tanker(values)), {}
    )
    assert result == {"application_confirmed": None, "editing": True, "edit_field": None}
    slots = {**tanker(values), **result}
    assert "edit_field" in await form.required_slots([], CollectingDispatcher(), tracker(slots), {})
    dispatcher = CollectingDispatcher()
    await ActionAskEditField().run(dispatcher, tracker(slots), {})
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]][:2] == [
        "delivery_address",
        "pin_code",
    ]
    result = await form.validate_edit_field("२", CollectingDispatcher(), tracker(slots), {})
    assert result["form_answers"]["values"] == {"delivery_address": "12 Gali 4, Laxmi Nagar"}
    assert result["editing"] is False and result["field_value"] is None
    dispatcher = CollectingDispatcher()
    bad = await form.validate_edit_field("99", dispatcher, tracker(slots), {})
    assert bad == {"edit_field": None}
    assert responses_of(dispatcher) == ["utter_invalid_choice_unknown"]


def completed_tanker():
    return {
        **tanker(
            {
                "delivery_address": "12 Gali 4, Laxmi Nagar",
                "pin_code": "110092",
                "landmark": None,
                "tanker_reason": "no_supply",
                "mobile": None,
            }
        ),
        "application_key": "k" * 32,
        "form_documents": {},
    }


@responses.activate
async def test_submission_files_once_and_reports_the_number():
    created = {"application_id": "APP-2026-000007", "status": "draft", "sla_due": "2026-11-26"}
    responses.post(f"{BASE}/edistrict/applications", json=created, status=201)
    responses.post(
        f"{BASE}/edistrict/applications/APP-2026-000007/submit",
        json={**created, "status": "submitted"},
    )
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitApplication().run(dispatcher, tracker(completed_tanker()), {})
    assert responses_of(dispatcher) == ["utter_application_submitted"]
    assert dispatcher.messages[0]["application_id"] == "APP-2026-000007"
    assert dispatcher.messages[0]["sla_due"] == "26-11-2026"
    body = json.loads(responses.calls[0].request.body)
    assert body["fields"] == {
        "delivery_address": "12 Gali 4, Laxmi Nagar",
        "pin_code": "110092",
        "tanker_reason": "no_supply",
    }
    assert responses.calls[0].request.headers["Idempotency-Key"] == "k" * 32
    assert responses.calls[0].request.headers["X-Citizen-Id"] == CITIZEN
    assert slots_of(events)["service"] is None


@responses.activate
async def test_a_failed_submission_is_kept_and_retried_with_the_same_key():
    responses.post(f"{BASE}/edistrict/applications", status=503)
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitApplication().run(dispatcher, tracker(completed_tanker()), {})
    assert responses_of(dispatcher) == ["utter_submission_failed"]
    assert slots_of(events) == {"submission_pending": True, "pending_kind": "application"}
    keys = {c.request.headers["Idempotency-Key"] for c in responses.calls}
    assert keys == {"k" * 32}


@responses.activate
async def test_paid_service_gets_a_payment_link():
    slots = completed_tanker()
    created = {"application_id": "APP-2026-000008", "status": "draft"}
    responses.post(f"{BASE}/edistrict/applications", json=created, status=201)
    responses.post(
        f"{BASE}/edistrict/applications/APP-2026-000008/submit",
        json={**created, "status": "payment_pending"},
    )
    order = {"order_id": "order_1", "amount": 200, "payment_url": f"{BASE}/pay/order_1"}
    responses.post(f"{BASE}/payments/orders", json=order, status=201)
    dispatcher = CollectingDispatcher()
    await ActionSubmitApplication().run(dispatcher, tracker(slots), {})
    assert responses_of(dispatcher) == ["utter_payment_link"]
    assert dispatcher.messages[0]["payment_url"].endswith("/pay/order_1")


@responses.activate
async def test_status_of_someone_elses_application_is_not_found():
    responses.get(f"{BASE}/edistrict/applications/APP-2026-000999", status=404, json={})
    dispatcher = CollectingDispatcher()
    t = tracker(
        text="status app 2026 000999",
        intent="check_status",
        entities=[{"entity": "application_id", "value": "app 2026 000999"}],
        active=None,
    )
    await ActionCheckStatus().run(dispatcher, t, {})
    assert responses_of(dispatcher) == ["utter_application_not_found"]
    assert dispatcher.messages[0]["application_id"] == "APP-2026-000999"


@responses.activate
async def test_backend_down_gets_a_polite_answer():
    responses.get(
        f"{BASE}/edistrict/applications", body=requests.exceptions.ConnectionError("down")
    )
    dispatcher = CollectingDispatcher()
    await ActionCheckStatus().run(dispatcher, tracker(intent="check_status", active=None), {})
    assert responses_of(dispatcher) == ["utter_backend_unavailable"]


@responses.activate
async def test_certificate_is_sent_as_a_document():
    application = {
        "application_id": "APP-2026-000010",
        "status": "approved",
        "service_id": "birth_certificate",
    }
    responses.get(f"{BASE}/edistrict/applications", json={"applications": [application]})
    link = {"url": f"{BASE}/files/x.pdf?sig=1", "filename": "APP-2026-000010.pdf"}
    responses.get(f"{BASE}/edistrict/applications/APP-2026-000010/certificate", json=link)
    dispatcher = CollectingDispatcher()
    await ActionDownloadCertificate().run(dispatcher, tracker(active=None), {})
    message = dispatcher.messages[0]
    assert message["response"] == "utter_certificate_ready"
    assert message["attachment"] == {"type": "document", **link}


@pytest.mark.parametrize(
    "typed, category",
    [
        ("water", "water"),
        ("पानी की आपूर्ति", "water"),
        ("street light", "streetlight"),
        ("xyz", None),
    ],
)
def test_grievance_category_matching(typed, category):
    assert match_category(typed) == category


@pytest.mark.parametrize(
    "typed, rating", [("5", "5"), ("४", "4"), ("3 ⭐", "3"), ("9", None), ("", None)]
)
async def test_feedback_rating(typed, rating):
    result = await ValidateFeedbackForm().validate_feedback_rating(
        typed, CollectingDispatcher(), tracker(active="feedback_form"), {}
    )
    assert result == {"feedback_rating": rating}


# STOP / START, data summary, erasure and the rest: tests/test_privacy_actions.py


# ----------------------------------------- follow-up questions keep the service (issue 11.8)


async def service_info(intent="service_info", entities=(), slots=None, active=None, text=""):
    from actions.services import ActionServiceInfo

    dispatcher = CollectingDispatcher()
    t = tracker(slots=slots, intent=intent, entities=entities, active=active, text=text)
    await ActionServiceInfo().run(dispatcher, t, {})
    assert len(dispatcher.messages) == 1
    return dispatcher.messages[0]


DOMICILE = {"service_in_context": "domicile_certificate"}


@pytest.mark.parametrize(
    "text, part",
    [
        ("how long will it take?", "time"),
        ("kitne din lagenge", "time"),
        ("कितने दिन लगेंगे", "time"),
        ("and the fee?", "fee"),
        ("fees kitni hai", "fee"),
        ("फ़ीस कितनी है", "fee"),
        ("what documents do i need for it", "documents"),
        ("iske liye kaun kaun se documents chahiye", "documents"),
        ("इसके लिए कौन से कागज़ लगेंगे", "documents"),
        ("who can apply for it", "eligibility"),
        ("कौन आवेदन कर सकता है", "eligibility"),
        ("where do I apply", "where"),
        ("apply kahan karna hai", "where"),
        ("आवेदन कहाँ करें", "where"),
    ],
)
async def test_a_follow_up_gets_the_part_it_asks_for_about_the_service_in_context(text, part):
    message = await service_info(slots=DOMICILE, text=text)
    assert message["response"] == f"utter_service_{part}"
    assert message["service_id"] == "domicile_certificate" and message["sla_days"] == 21


@pytest.mark.parametrize(
    "text", ["tell me more", "what is the procedure", "what documents and how much is the fee?"]
)
async def test_a_follow_up_asking_for_no_one_part_gets_the_whole_card(text):
    message = await service_info(slots=DOMICILE, text=text)
    assert message["response"] == "utter_service_details"
    assert message["service_id"] == "domicile_certificate"


async def test_a_question_naming_its_service_gets_the_whole_card():
    named = [{"entity": "service", "value": "domicile_certificate"}]
    message = await service_info(entities=named, text="domicile certificate fees?")
    assert message["response"] == "utter_service_details"


async def test_a_service_named_beats_the_one_in_context():
    named = [{"entity": "service", "value": "income_certificate"}]
    slots = {"service_in_context": "domicile_certificate"}
    message = await service_info(entities=named, slots=slots)
    assert message["service_id"] == "income_certificate"


async def test_in_a_form_a_question_is_about_the_forms_service():
    slots = {"service": "water_tanker_request", "service_in_context": "domicile_certificate"}
    message = await service_info(slots=slots, active="application_form")
    assert message["service_id"] == "water_tanker_request"


async def test_with_no_service_anywhere_the_citizen_is_asked_which():
    assert (await service_info())["response"] == "utter_ask_which_service_info"


@pytest.mark.parametrize("intent", ["inform", "apply_service", "nlu_fallback"])
async def test_which_service_is_answered_by_any_message_naming_it(intent):
    named = [{"entity": "service", "value": "domicile_certificate"}]
    message = await service_info(intent=intent, entities=named)
    assert message["service_id"] == "domicile_certificate"


async def test_an_answer_naming_no_service_is_asked_again_not_guessed_from_context():
    slots = {"service_in_context": "domicile_certificate"}
    message = await service_info(intent="inform", slots=slots)
    assert message["response"] == "utter_ask_which_service_info"


@pytest.mark.parametrize(
    "entities, before, after",
    [
        ([{"entity": "service", "value": "domicile_certificate"}], None, "domicile_certificate"),
        (
            [{"entity": "service", "value": "domicile_certificate"}],
            "income_certificate",
            "domicile_certificate",
        ),
        ([], "income_certificate", "income_certificate"),  # a follow-up keeps it
        (
            [{"entity": "service", "value": "no_such_service"}],
            "income_certificate",
            "income_certificate",
        ),
    ],
)
async def test_every_message_naming_a_service_puts_it_in_context(entities, before, after):
    from actions.language import ActionMessageContext

    t = tracker(
        slots={"service_in_context": before, "language": "en"}, entities=entities, active=None
    )
    events = await ActionMessageContext().run(CollectingDispatcher(), t, {})
    assert slots_of(events).get("service_in_context", before) == after


def test_every_part_a_question_can_ask_has_its_own_answer():
    from actions.services import PART_RESPONSES, SERVICE_PARTS

    assert set(SERVICE_PARTS) == set(PART_RESPONSES)
