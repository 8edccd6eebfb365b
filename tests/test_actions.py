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


# --------------------------------------------------------------------------- the form's answers
# Issue 11, defects 4, 7, 10 and 13: the whole validation action is run as Rasa runs it
# (its own extraction, then validation) on a tracker holding what Rasa sends: the
# citizen's message, the form's action, then the slot candidates of the domain mappings.

from pathlib import Path  # noqa: E402

import yaml  # noqa: E402

from actions.application import (  # noqa: E402
    ActionAskApplicationConfirmed,
    ActionAskEditField,
    ValidateApplicationForm,
)

DOMAIN = yaml.safe_load(
    (Path(__file__).resolve().parent.parent / "domain.yml").read_text(encoding="utf-8")
)
INCOME_ANSWERS = {
    "applicant_name": "Ravi Kumar",
    "father_name": "Mohan Lal",
    "address": "House 12, Gali 3, Laxmi Nagar, Delhi",
    "pin_code": "110092",
    "annual_income": 150000,
    "income_source": "salary",
}


def form_tracker(service, values, text, intent, language="hi", metadata=None, candidate=None):
    """The tracker the form's validation action receives for one citizen message."""
    metadata = metadata or {}
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    events = [
        {"event": "user", "text": text, "parse_data": latest, "metadata": metadata},
        {"event": "action", "name": "application_form"},
    ]
    if candidate is not None:  # what the domain's from_text mapping extracted
        events.append({"event": "slot", "name": "field_value", "value": candidate})
    slots = {
        "service": service,
        "form_answers": {"service": service, "values": dict(values), "display": {}},
        "form_failures": 0,
        "language": language,
        "requested_slot": "field_value",
        "field_value": candidate,
    }
    return Tracker(
        "citizen-1", slots, latest, events, False, None, {"name": "application_form"}, "x"
    )


async def run_form(tracker_):
    dispatcher = CollectingDispatcher()
    events = await ValidateApplicationForm().run(dispatcher, tracker_, DOMAIN)
    # requested_slot is not an answer: Rasa still rejects the form when it is all there is
    return dispatcher, {e["name"]: e["value"] for e in events if e["name"] != "requested_slot"}


def replies(dispatcher):
    return [m["response"] for m in dispatcher.messages]


@pytest.mark.parametrize(
    "text, intent, mapped",
    [
        # the tapped row: its payload is the choice id, which the NLU reads as a service
        ("scholarship", "service_info", False),
        ("छात्रवृत्ति", "nlu_fallback", True),
        ("छात्रवृत्ति के लिए", "apply_service", True),
        ("scholarship ke liye", "service_info", False),
        ("for scholarship", "service_info", False),
        ("chhatravritti ke liye", "inform", True),
    ],
)
async def test_a_choice_tapped_or_named_in_a_phrase_answers_the_question(text, intent, mapped):
    tracker_ = form_tracker(
        "income_certificate", INCOME_ANSWERS, text, intent, candidate=text if mapped else None
    )
    dispatcher, slots = await run_form(tracker_)
    assert slots["form_answers"]["values"]["purpose"] == "scholarship"
    assert slots["field_value"] == "done"  # the last question: the form moves on
    assert not any(r.startswith("utter_invalid") for r in replies(dispatcher))


async def test_a_choice_the_nlu_reads_as_cancel_is_still_the_answer():
    values = {k: v for k, v in INCOME_ANSWERS.items() if k != "income_source"}
    tracker_ = form_tracker("income_certificate", values, "kheti", "cancel")  # NLU: 0.43
    dispatcher, slots = await run_form(tracker_)
    assert slots["form_answers"]["values"]["income_source"] == "agriculture"


async def test_cancel_at_a_choice_question_still_cancels():
    values = {k: v for k, v in INCOME_ANSWERS.items() if k != "income_source"}
    tracker_ = form_tracker("income_certificate", values, "cancel karo", "cancel")
    dispatcher, slots = await run_form(tracker_)
    assert slots == {} and dispatcher.messages == []  # Rasa rejects the form: the rule runs


async def test_a_real_digression_at_a_choice_question_is_left_to_its_rule():
    tracker_ = form_tracker(
        "income_certificate", INCOME_ANSWERS, "income certificate ki fees kitni hai", "service_info"
    )
    dispatcher, slots = await run_form(tracker_)
    assert slots == {} and dispatcher.messages == []  # Rasa rejects the form: the rule runs


@pytest.mark.parametrize(
    "text", ["हिंदी में बात करो", "english please", "reply in English", "भाषा बदलें"]
)
async def test_a_language_switch_is_never_stored_as_an_answer(text):
    # the domain's mapping ignores the intent, so nothing is extracted for field_value
    assert "choose_language" in DOMAIN["slots"]["field_value"]["mappings"][0]["not_intent"]
    tracker_ = form_tracker("birth_certificate", {}, text, "choose_language")
    dispatcher, slots = await run_form(tracker_)
    assert slots == {} and dispatcher.messages == []


NOT_TYPED = [
    ("/unsupported_message", "unsupported_message", {"message_type": "audio"}, "voice"),
    ("/unsupported_message", "unsupported_message", {"message_type": "sticker"}, "sticker"),
    ("/unsupported_message", "unsupported_message", {"message_type": "video"}, "video"),
    ("/unsupported_message", "unsupported_message", {"message_type": "contacts"}, "unreadable"),
    ("/unsupported_message", "unsupported_message", {}, "unreadable"),
    (
        "Connaught Place",
        "inform",
        {"location": {"latitude": 28.63, "longitude": 77.21, "name": "Connaught Place"}},
        "location",
    ),
    (
        "28.63, 77.21",
        "nlu_fallback",
        {"location": {"latitude": 28.63, "longitude": 77.21}},
        "location",
    ),
    ("🙏", "greet", {}, "wordless"),
    ("🙏", "nlu_fallback", {}, "wordless"),
    ("👍👍", "nlu_fallback", {}, "wordless"),
    ("...", "nlu_fallback", {}, "wordless"),
    (
        "/inform",
        "inform",
        {"attachment": {"storage_ref": "media/x.jpg", "mime_type": "image/jpeg"}},
        "file",
    ),
    ("Ravi", "inform", {"attachment": {"storage_ref": "media/y.jpg"}}, "file"),
]


@pytest.mark.parametrize("text, intent, metadata, kind", NOT_TYPED)
@pytest.mark.parametrize("language, label", [("hi", "बच्चे का नाम"), ("en", "Child's name")])
async def test_a_message_that_is_not_typed_words_gets_a_fitting_reply_and_the_question_again(
    text, intent, metadata, kind, language, label
):
    tracker_ = form_tracker(
        "birth_certificate", {}, text, intent, language, metadata=metadata, candidate=text
    )
    dispatcher, slots = await run_form(tracker_)
    assert replies(dispatcher) == [f"utter_field_not_typed_{kind}"]
    assert dispatcher.messages[0]["label"] == label
    assert slots["field_value"] is None  # the form asks the same question again
    assert "form_answers" not in slots and "form_failures" not in slots  # not a mistake


async def test_a_location_at_an_address_question_asks_for_the_typed_address():
    values = {"child_name": "Aarav", "date_of_birth": "2026-01-01", "gender": "male"}
    values |= {"place_of_birth": "hospital", "father_name": "Ravi", "mother_name": "Sita"}
    location = {"location": {"latitude": 28.63, "longitude": 77.21, "address": "CP, Delhi"}}
    tracker_ = form_tracker(
        "birth_certificate", values, "CP, Delhi", "inform", "en", location, candidate="CP, Delhi"
    )
    dispatcher, slots = await run_form(tracker_)
    assert replies(dispatcher) == ["utter_field_location_for_address"]
    assert slots["field_value"] is None


async def test_a_typed_name_is_still_an_answer():
    tracker_ = form_tracker("birth_certificate", {}, "आरव कुमार", "inform", candidate="आरव कुमार")
    dispatcher, slots = await run_form(tracker_)
    assert slots["form_answers"]["values"] == {"child_name": "आरव कुमार"}
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    "text, language, shown",
    [
        ("डेढ़ लाख रुपये सालाना", "hi", "₹1,50,000 (डेढ़ लाख)"),
        ("dedh lakh", "hi", "₹1,50,000 (डेढ़ लाख)"),
        ("one lakh fifty thousand", "en", "₹1,50,000 (1.5 lakh)"),
        ("2.5 lakh", "en", "₹2,50,000 (2.5 lakh)"),
        ("ढाई लाख", "hi", "₹2,50,000 (ढाई लाख)"),
    ],
)
async def test_an_amount_in_words_is_stored_and_read_back(text, language, shown):
    values = {k: v for k, v in INCOME_ANSWERS.items() if k in list(INCOME_ANSWERS)[:4]}
    tracker_ = form_tracker("income_certificate", values, text, "inform", language, candidate=text)
    dispatcher, slots = await run_form(tracker_)
    stored = slots["form_answers"]["values"]["annual_income"]
    assert stored == int(shown.split(" ")[0].replace("₹", "").replace(",", ""))
    assert replies(dispatcher) == ["utter_amount_noted"]
    assert dispatcher.messages[0]["amount"] == shown


async def test_a_refused_amount_gets_its_specific_reply():
    values = {k: v for k, v in INCOME_ANSWERS.items() if k in list(INCOME_ANSWERS)[:4]}
    tracker_ = form_tracker(
        "income_certificate", values, "1.5 ya 2 lakh", "inform", candidate="1.5 ya 2 lakh"
    )
    dispatcher, slots = await run_form(tracker_)
    assert replies(dispatcher) == ["utter_invalid_amount_ambiguous"]
    assert slots["form_failures"] == 1


def summary_tracker(service, values, display, language, documents=None):
    slots = {
        "service": service,
        "form_answers": {"service": service, "values": values, "display": display},
        "form_documents": documents or {},
        "language": language,
    }
    return Tracker("citizen-1", slots, {}, [], False, None, {}, "action_listen")


async def test_the_summary_names_each_answer_by_its_short_label():
    values = {
        "dl_number": "DL04 20120034567",
        "date_of_birth": "1990-03-12",
        "expiry_date": "2027-01-15",
        "address": "House 7, Gali 2, Shahdara, Delhi",
    }
    display = {
        "dl_number": "DL04 20120034567",
        "date_of_birth": "12/03/1990",
        "expiry_date": "15/01/2027",
        "address": "House 7, Gali 2, Shahdara, Delhi",
    }
    for language, first in (
        ("en", "• Licence number: DL04 20120034567"),
        ("hi", "• लाइसेंस नंबर: DL04 20120034567"),
    ):
        dispatcher = CollectingDispatcher()
        tracker_ = summary_tracker("driving_licence_renewal", values, display, language)
        await ActionAskApplicationConfirmed().run(dispatcher, tracker_, {})
        summary = dispatcher.messages[0]["summary"]
        assert summary.splitlines()[0] == first
        assert "(e.g." not in summary and "जैसे" not in summary and "?" not in summary


async def test_the_summary_shows_choices_and_amounts_in_the_citizens_language():
    values = {**INCOME_ANSWERS, "purpose": "scholarship"}
    display = {"purpose": "Scholarship", "income_source": "Salary", "annual_income": "₹1,50,000"}
    dispatcher = CollectingDispatcher()
    await ActionAskApplicationConfirmed().run(
        dispatcher, summary_tracker("income_certificate", values, display, "hi"), {}
    )
    summary = dispatcher.messages[0]["summary"]
    assert "• उद्देश्य: छात्रवृत्ति" in summary
    assert "• परिवार की वार्षिक आय: ₹1,50,000 (डेढ़ लाख)" in summary


async def test_the_edit_buttons_are_labels():
    dispatcher = CollectingDispatcher()
    tracker_ = summary_tracker("driving_licence_renewal", {}, {}, "en")
    await ActionAskEditField().run(dispatcher, tracker_, {})
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert titles == [
        "1. Licence number",
        "2. Date of birth",
        "3. Licence expiry date",
        "4. Postal address",
    ]
