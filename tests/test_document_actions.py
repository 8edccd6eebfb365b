"""The application form's document step, action by action (a real CollectingDispatcher and
a Tracker built from events): captions, refused files, the Skip button."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.application import (
    ActionAskDocumentRef,
    ValidateApplicationForm,
    current_service,
)

CITIZEN = "919800000077"
UPLOAD = {
    "storage_ref": "media/" + "a" * 64 + ".jpg",
    "mime_type": "image/jpeg",
    "sha256": "a" * 64,
    "size": 2_841_148,
    "filename": "a.jpg",
}
ANSWERS = {
    "service": "driving_licence_renewal",
    "values": {
        "dl_number": "DL0420120034567",
        "date_of_birth": "1980-08-15",
        "expiry_date": "2026-12-20",
        "address": "House 12, Lajpat Nagar",
    },
    "display": {},
}


def tracker(slots, text="", intent="inform", entities=(), metadata=None):
    events = [{"event": "user", "text": text, "metadata": metadata or {}}]
    latest = {"text": text, "intent": {"name": intent}, "entities": list(entities)}
    return Tracker(
        CITIZEN,
        {"requested_slot": "document_ref", "form_answers": ANSWERS, **slots},
        latest,
        events,
        False,
        None,
        {"name": "application_form"},
        "action_listen",
    )


def responses_of(dispatcher):
    return [m["response"] for m in dispatcher.messages]


async def fill(t):
    """What the form's validation does with one message: extract, then validate."""
    form = ValidateApplicationForm()
    dispatcher = CollectingDispatcher()
    extracted = await form.extract_document_ref(dispatcher, t, {})
    result = dict(extracted)
    if "document_ref" in extracted:
        result.update(
            await form.validate_document_ref(extracted["document_ref"], dispatcher, t, {})
        )
    return result, responses_of(dispatcher)


# --- a caption describes the file (defect 5) ----------------------------------------------


def captioned(service_read_by_nlu, documents=None, requested="document_ref"):
    """After Rasa's slot mapping took the caption's service entity (apply_service)."""
    return tracker(
        {
            "service": service_read_by_nlu,
            "form_documents": documents or {},
            "requested_slot": requested,
        },
        text="my DL front side",
        intent="apply_service",
        entities=[{"entity": "service", "value": service_read_by_nlu}],
        metadata={"attachment": UPLOAD},
    )


@pytest.mark.parametrize(
    "read", ["driving_licence", "learner_licence", "driving_licence_renewal", "income_certificate"]
)
async def test_a_captioned_file_keeps_the_service_answers_and_fills_the_document(read):
    t = captioned(read)
    dispatcher = CollectingDispatcher()
    kept = await ValidateApplicationForm().validate_service(read, dispatcher, t, {})
    assert kept == {"service": "driving_licence_renewal"}  # no reset of answers or documents
    assert dispatcher.messages == []  # no other service's card
    assert current_service(t).id == "driving_licence_renewal"
    result, said = await fill(t)
    assert result["form_documents"] == {"driving_licence_copy": UPLOAD}
    assert said == ["utter_document_received"]


async def test_the_captions_service_names_required_slots_of_the_application_in_progress():
    """Even if the caption names a service without documents, the file is still taken."""
    form = ValidateApplicationForm()
    slots = await form.required_slots([], CollectingDispatcher(), captioned("water_bill"), {})
    assert "document_ref" in slots


async def test_typing_a_service_is_still_a_request_and_so_is_a_file_outside_documents():
    """The guard is for files in a document step only: a typed request (change of mind)
    and a file sent at another question go through the usual validation."""
    typed = tracker(
        {"service": "income_certificate", "form_documents": {}},
        text="I want an income certificate",
        intent="apply_service",
    )
    dispatcher = CollectingDispatcher()
    result = await ValidateApplicationForm().validate_service(
        "income_certificate", dispatcher, typed, {}
    )
    assert result["service"] == "income_certificate" and "form_answers" in result
    at_a_field = captioned("income_certificate", requested="field_value")
    result = await ValidateApplicationForm().validate_service(
        "income_certificate", CollectingDispatcher(), at_a_field, {}
    )
    assert result["service"] == "income_certificate"


# --- a refused file gets its real reason (defect 1, in the form) ---------------------------


@pytest.mark.parametrize(
    ("error", "response"),
    [
        ("hash_mismatch", "utter_upload_rejected_hash_mismatch"),
        ("too_large", "utter_upload_rejected_too_large"),
        ("mime_not_allowed", "utter_upload_rejected_mime_not_allowed"),
        ("download_failed", "utter_upload_rejected_download_failed"),
        ("something new", "utter_upload_rejected_download_failed"),
    ],
)
async def test_a_refused_file_is_explained_not_asked_for_as_if_none_was_sent(error, response):
    t = tracker(
        {"service": "driving_licence_renewal", "form_documents": {}},
        text=f'/upload_rejected{{"upload_error": "{error}"}}',
        intent="upload_rejected",
        entities=[{"entity": "upload_error", "value": error}],
        metadata={"trusted_payload": True},
    )
    result, said = await fill(t)
    assert said == [response]  # and not utter_document_expected ("I need a file here")
    assert result["document_ref"] is None and "form_documents" not in result


async def test_text_without_a_file_is_still_asked_for_a_file():
    t = tracker({"service": "driving_licence_renewal", "form_documents": {}}, text="ok")
    result, said = await fill(t)
    assert said == ["utter_document_expected"] and result["document_ref"] is None


# --- an optional document can be skipped with a button (defect 6) -------------------------


def at_medical_certificate(text="", intent="inform"):
    done = {"driving_licence_copy": UPLOAD}
    return tracker(
        {"service": "driving_licence_renewal", "form_documents": done}, text=text, intent=intent
    )


@pytest.mark.parametrize("language", ["en", "hi"])
async def test_an_optional_document_is_asked_with_the_skip_button(language):
    t = at_medical_certificate()
    t.slots["language"] = language
    dispatcher = CollectingDispatcher()
    await ActionAskDocumentRef().run(dispatcher, t, {})
    [asked] = dispatcher.messages
    assert asked["response"] == "utter_ask_document_optional"
    assert "Form 1-A" in asked["document"] or "फॉर्म 1-ए" in asked["document"]


async def test_a_required_document_is_asked_without_skip():
    t = tracker({"service": "driving_licence_renewal", "form_documents": {}})
    dispatcher = CollectingDispatcher()
    await ActionAskDocumentRef().run(dispatcher, t, {})
    assert responses_of(dispatcher) == ["utter_ask_document"]


@pytest.mark.parametrize("intent", ["inform", "cancel", "deny", "nlu_fallback"])
async def test_the_skip_buttons_payload_skips_the_optional_document(intent):
    """Whatever the NLU reads in "skip" (even "cancel"), the tap leaves the document out."""
    result, said = await fill(at_medical_certificate("skip", intent))
    assert result["form_documents"] == {"driving_licence_copy": UPLOAD, "medical_certificate": None}
    assert result["document_ref"] is None  # the photo is still to come
    assert said == []


async def test_skip_does_not_leave_out_a_required_document():
    t = tracker(
        {"service": "driving_licence_renewal", "form_documents": {}}, text="skip", intent="cancel"
    )
    result, said = await fill(t)
    assert said == ["utter_document_expected"] and result["document_ref"] is None


def test_the_skip_button_is_in_both_languages_with_the_payload_the_form_takes():
    from pathlib import Path

    import yaml

    from actions.common import is_skip

    domain = yaml.safe_load((Path(__file__).parent.parent / "domain.yml").read_text("utf-8"))
    variations = domain["responses"]["utter_ask_document_optional"]
    titles = {v.get("condition", [{}])[0].get("value", "en"): v["buttons"] for v in variations}
    assert titles == {
        "hi": [{"title": "छोड़ें", "payload": "skip"}],
        "en": [{"title": "Skip", "payload": "skip"}],
    }
    assert is_skip("skip")
