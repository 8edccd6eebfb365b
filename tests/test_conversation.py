"""Whole conversations against the trained model and the real action server."""

import itertools

import pytest

_ids = itertools.count()


def new_citizen():
    return f"test-citizen-{next(_ids)}"


def is_hindi(text):
    return sum("\u0900" <= c <= "\u097f" for c in text) > len(text) / 3


def is_english(text):
    return not any("\u0900" <= c <= "\u097f" for c in text)


async def say(agent, citizen, text, metadata=None):
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    output = CollectingOutputChannel()
    await agent.handle_message(UserMessage(text, output, citizen, metadata=metadata))
    return output.messages


async def slots(agent, citizen):
    tracker = await agent.tracker_store.retrieve(citizen)
    return tracker.current_slot_values()


@pytest.mark.parametrize("greeting, hindi", [("Hi", False), ("नमस्ते", True), ("hello ji", True)])
async def test_welcome_and_notice_in_the_citizens_language(agent, greeting, hindi):
    replies = await say(agent, new_citizen(), greeting)
    texts = [r["text"] for r in replies]
    assert len(texts) == 3  # welcome, privacy notice, consent question
    assert all(is_hindi(t) if hindi else is_english(t) for t in texts)
    payloads = [b["payload"] for b in replies[-1]["buttons"]]
    assert payloads[:2] == ["/affirm", "/deny"]


async def test_consent_button_records_consent_and_shows_menu(agent):
    citizen = new_citizen()
    await say(agent, citizen, "नमस्ते")
    replies = await say(agent, citizen, "/affirm", metadata={"trusted_payload": True})
    assert is_hindi(replies[0]["text"])
    assert len(replies[-1]["buttons"]) >= 8  # the main menu
    values = await slots(agent, citizen)
    assert values["consent_given"] is True
    assert values["consent_version"] == "2026-11"
    assert values["consent_time"]


async def test_language_switch_persists(agent):
    citizen = new_citizen()
    await say(agent, citizen, "namaste ji")
    await say(agent, citizen, "haan theek hai")
    replies = await say(agent, citizen, "english please")
    assert all(is_english(r["text"]) for r in replies)
    replies = await say(agent, citizen, "kya tum robot ho")
    assert is_english(replies[0]["text"])
    assert (await slots(agent, citizen))["language"] == "en"


async def test_typed_payload_syntax_does_not_act_as_a_button(agent):
    citizen = new_citizen()
    await say(agent, citizen, "Hi")
    await say(agent, citizen, '/apply_service{"service":"x"}')
    tracker = await agent.tracker_store.retrieve(citizen)
    parse = tracker.latest_message.parse_data
    assert not any(e.get("value") == "x" for e in parse["entities"])
    assert parse["intent"]["confidence"] < 1.0


@pytest.mark.parametrize("text", ["", "😀😀😀", "👍"])
async def test_wordless_message_gets_asked_for_words(agent, text):
    replies = await say(agent, new_citizen(), text)
    assert replies, "the citizen must never get silence"
    assert "word" in replies[0]["text"].lower()


async def test_longest_whatsapp_message_gets_an_answer(agent):
    text = ("मुझे आय प्रमाण पत्र चाहिए, कृपया मदद करें। " * 120)[:4096]
    assert await say(agent, new_citizen(), text)


async def test_mixed_script_message_gets_an_answer(agent):
    replies = await say(agent, new_citizen(), "मुझे DL चाहिए please")
    assert replies


# ------------------------------------------- opt-out, consent, erasure, officers, handoff


def preferences(backend, citizen):
    import requests

    url = f"{backend.url}/citizens/{citizen}/preferences"
    return requests.get(url, headers=backend.citizen(citizen), timeout=5).json()


async def consented(agent, greeting="Hi"):
    citizen = new_citizen()
    await say(agent, citizen, greeting)
    await say(agent, citizen, "/affirm", metadata={"trusted_payload": True})
    return citizen


async def test_stop_before_consent_is_honoured_at_once(agent, backend):
    citizen = new_citizen()
    await say(agent, citizen, "नमस्ते")
    replies = await say(agent, citizen, "बंद करो")
    assert is_hindi(replies[0]["text"]) and "START" in replies[0]["text"]
    held = preferences(backend, citizen)
    assert (held["broadcasts"], held["reminders"], held["status_updates"]) == (False, False, True)
    assert held["language"] == "hi"


async def test_stop_in_the_middle_of_a_form_then_the_form_carries_on(agent, backend):
    citizen = await consented(agent)
    asked = await say(agent, citizen, "I want to apply for an income certificate")
    replies = await say(agent, citizen, "STOP")
    assert "no more scheme announcements" in replies[0]["text"]
    assert replies[-1]["text"] == asked[-1]["text"]  # the same question again
    assert preferences(backend, citizen)["broadcasts"] is False
    assert (await slots(agent, citizen))["requested_slot"] == "field_value"


async def test_withdrawing_consent_mid_form_stops_processing(agent, backend):
    citizen = await consented(agent)
    await say(agent, citizen, "I want to apply for an income certificate")
    await say(agent, citizen, "Ravi Kumar")
    replies = await say(agent, citizen, "I withdraw my consent")
    assert "Stopped now" in replies[0]["text"] and "Kept" in replies[0]["text"]
    tracker = await agent.tracker_store.retrieve(citizen)
    assert tracker.active_loop_name is None
    values = tracker.current_slot_values()
    assert values["consent_given"] is False and values["form_answers"] is None
    held = preferences(backend, citizen)
    assert (held["status_updates"], held["broadcasts"], held["reminders"]) == (False, False, False)
    replies = await say(agent, citizen, "Ravi Kumar")
    assert (await slots(agent, citizen))["form_answers"] is None  # not taken as an answer
    replies = await say(agent, citizen, "I want to apply for an income certificate")
    assert "consent" in replies[0]["text"]
    await say(agent, citizen, "/affirm", metadata={"trusted_payload": True})
    assert preferences(backend, citizen)["status_updates"] is True


async def test_erasure_is_explained_and_no_keeps_everything(agent, backend):
    citizen = await consented(agent)
    replies = await say(agent, citizen, "delete my data")
    assert "payment" in replies[0]["text"]
    assert [b["payload"] for b in replies[0]["buttons"]] == ["/affirm", "/deny"]
    replies = await say(agent, citizen, "/deny", metadata={"trusted_payload": True})
    assert "nothing has been erased" in replies[0]["text"]
    assert (await slots(agent, citizen))["consent_given"] is True


async def test_erasure_says_what_was_done_when_the_chat_cannot_be_erased(agent, backend):
    citizen = await consented(agent, "नमस्ते")
    await say(agent, citizen, "मेरा सारा डेटा मिटा दो")
    replies = await say(agent, citizen, "/affirm", metadata={"trusted_payload": True})
    text = replies[0]["text"]
    assert is_hindi(text) and "0 आवेदन" in text and "नहीं मिट पाई" in text
    assert replies[0]["buttons"][0]["payload"] == "/erase_data"  # try again


async def test_asking_for_an_officer_is_flagged_and_the_bot_keeps_helping(agent):
    citizen = await consented(agent, "namaste ji")
    replies = await say(agent, citizen, "kisi officer se baat karao")
    assert is_hindi(replies[0]["text"]) and "अधिकारी" in replies[0]["text"]
    assert (await slots(agent, citizen))["human_requested"] is True
    tracker = await agent.tracker_store.retrieve(citizen)
    assert tracker.latest_message.intent["name"] == "talk_to_human"  # what the dashboard reads
    assert await say(agent, citizen, "kaun kaun si services hai")


async def test_after_an_officer_hands_back_the_form_continues(agent):
    from rasa.shared.core.events import ConversationPaused, ConversationResumed

    citizen = await consented(agent)
    first = await say(agent, citizen, "I want to apply for an income certificate")
    tracker = await agent.tracker_store.retrieve(citizen)
    tracker.update(ConversationPaused())
    await agent.tracker_store.save(tracker)
    assert await say(agent, citizen, "hello, is an officer there?") == []  # the officer answers
    tracker = await agent.tracker_store.retrieve(citizen)
    tracker.update(ConversationResumed())
    await agent.tracker_store.save(tracker)
    replies = await say(agent, citizen, "Ravi Kumar")
    assert "Question 2" in replies[-1]["text"]
    assert "Question 1" in first[-1]["text"]


async def test_a_csc_code_with_nothing_waiting_is_answered(agent):
    citizen = await consented(agent)
    replies = await say(agent, citizen, "my code is 482913")
    assert "waiting for confirmation" in replies[0]["text"]


# ------------------------------------------------- ordinary openers are hellos (issue 11.9)


@pytest.mark.parametrize(
    "opener, hindi",
    [
        ("Good morning, I need some help", False),
        ("good evening, i need help", False),
        ("👋", False),
        ("🙏", False),
        ("🙏🏽", False),
        ("namaste ji, mujhe madad chahiye", True),
        ("suprabhat, help chahiye", True),
        ("शुभ प्रभात, मुझे मदद चाहिए", True),
    ],
)
async def test_ordinary_openers_get_the_welcome_and_the_notice(agent, opener, hindi):
    replies = await say(agent, new_citizen(), opener)
    texts = [r["text"] for r in replies]
    assert len(texts) == 3, texts  # welcome, privacy notice, consent question
    assert "Namaste" in texts[0] or "नमस्ते" in texts[0]
    assert is_hindi(texts[0]) if hindi else is_english(texts[0])
    assert [b["payload"] for b in replies[-1]["buttons"]][:2] == ["/affirm", "/deny"]


async def test_a_folded_hands_from_a_consented_citizen_is_welcomed_back(agent):
    citizen = await consented(agent)
    replies = await say(agent, citizen, "🙏")
    assert "Welcome back" in replies[0]["text"]
    assert len(replies[-1]["buttons"]) >= 8  # the main menu


# --------------------------------- a request made before consent continues (issue 11.3)

YES = {"trusted_payload": True}


async def state(agent, citizen):
    tracker = await agent.tracker_store.retrieve(citizen)
    return tracker.active_loop_name, tracker.current_slot_values()


@pytest.mark.parametrize(
    "request_text, yes, service, first_question",
    [
        ("income certificate chahiye", "haan", "income_certificate", "सवाल 1/"),
        ("Hi, income certificate chahiye", "haan", "income_certificate", "सवाल 1/"),
        ("मुझे आय प्रमाण पत्र चाहिए", "हाँ", "income_certificate", "सवाल 1/"),
        (
            "I want to apply for a domicile certificate",
            "Yes, I agree",
            "domicile_certificate",
            "Question 1 of",
        ),
    ],
)
async def test_an_application_asked_for_before_consent_starts_right_after_it(
    agent, request_text, yes, service, first_question
):
    citizen = new_citizen()
    replies = await say(agent, citizen, request_text)
    assert [b["payload"] for b in replies[-1]["buttons"]][:2] == ["/affirm", "/deny"]
    replies = await say(agent, citizen, yes)
    texts = [r["text"] for r in replies]
    assert first_question in texts[-1], texts  # no menu, no "which service?"
    loop, values = await state(agent, citizen)
    assert loop == "application_form" and values["service"] == service
    assert values["consent_given"] is True and values["pending_request"] is None


async def test_a_driving_licence_renewal_asked_for_before_consent_starts_its_form(agent):
    citizen = new_citizen()
    await say(agent, citizen, "i want to renew my driving licence")
    replies = await say(agent, citizen, "Yes, I agree")
    assert "Question 1 of" in replies[-1]["text"], [r["text"] for r in replies]
    loop, values = await state(agent, citizen)
    assert loop == "application_form"
    assert values["service"] == "driving_licence_renewal"


async def test_a_complaint_asked_for_before_consent_starts_with_its_category_kept(agent):
    citizen = new_citizen()
    await say(agent, citizen, "mera ration card nahi bana abhi tak, shikayat karni hai")
    await say(agent, citizen, "haan")
    loop, values = await state(agent, citizen)
    assert loop == "grievance_form"
    assert values["grievance_category"] == "ration"  # said already: not asked again
    assert values["requested_slot"] == "grievance_description"


async def test_a_status_asked_for_before_consent_is_answered_right_after_it(agent):
    citizen = new_citizen()
    await say(agent, citizen, "what is the status of APP-2026-000999")
    replies = await say(agent, citizen, "/affirm", metadata=YES)
    assert "APP-2026-000999" in replies[-1]["text"]  # that application, not the menu
    assert (await state(agent, citizen))[1]["pending_request"] is None


async def test_a_language_choice_in_between_keeps_the_request(agent):
    citizen = new_citizen()
    replies = await say(agent, citizen, "income certificate chahiye")
    assert is_hindi(replies[-1]["text"])
    replies = await say(agent, citizen, '/choose_language{"language": "en"}', metadata=YES)
    assert is_english(replies[-1]["text"])
    replies = await say(agent, citizen, "/affirm", metadata=YES)
    assert "Question 1 of" in replies[-1]["text"]
    assert (await state(agent, citizen))[1]["service"] == "income_certificate"


async def test_declining_drops_the_request_for_good(agent):
    citizen = new_citizen()
    await say(agent, citizen, "income certificate chahiye")
    replies = await say(agent, citizen, "nahi")
    assert "CSC" in replies[0]["text"]
    assert (await state(agent, citizen))[1]["pending_request"] is None
    await say(agent, citizen, "namaste")
    replies = await say(agent, citizen, "haan")
    assert len(replies[-1]["buttons"]) >= 8  # the menu, not a form by surprise
    loop, values = await state(agent, citizen)
    assert loop is None and values["service"] is None


async def test_moving_on_drops_the_request(agent):
    citizen = new_citizen()
    await say(agent, citizen, "I want to apply for a birth certificate")
    await say(agent, citizen, "what services do you have?")
    assert (await state(agent, citizen))[1]["pending_request"] is None


# ----------------------------------------- follow-up questions keep the service (issue 11.8)


async def test_a_follow_up_question_keeps_the_service(agent):
    citizen = new_citizen()
    first = await say(
        agent,
        citizen,
        "what documents do I need for a domicile certificate and how much is the fee?",
    )
    assert "Domicile" in first[0]["text"]
    for follow_up in ("how long will it take?", "where do I apply", "who can apply for it"):
        replies = await say(agent, citizen, follow_up)
        assert "Domicile" in replies[0]["text"], (follow_up, replies[0]["text"])
        assert "Which service" not in replies[0]["text"]


@pytest.mark.parametrize(
    "question, answer, hindi",
    [
        ("how long will it take?", "the domicile one", False),
        ("what is the fee?", "domicile", False),
        ("kitne din lagenge", "domicile wala", True),
        ("कितने दिन लगेंगे", "निवास प्रमाण पत्र वाला", True),
    ],
)
async def test_which_service_is_answered_by_naming_it(agent, question, answer, hindi):
    citizen = new_citizen()
    replies = await say(agent, citizen, question)
    asked = replies[0]["text"]
    assert ("किस सेवा" in asked) if hindi else ("Which service" in asked)
    replies = await say(agent, citizen, answer)
    text = replies[0]["text"]
    assert ("निवास" in text) if hindi else ("Domicile" in text), text
    loop, values = await state(agent, citizen)
    assert loop is None and values["service_in_context"] == "domicile_certificate"
    replies = await say(agent, citizen, "fees kitni hai" if hindi else "and the fee?")
    assert ("निवास" in replies[0]["text"]) if hindi else ("Domicile" in replies[0]["text"])


async def test_a_hindi_follow_up_keeps_the_service(agent):
    citizen = new_citizen()
    await say(agent, citizen, "निवास प्रमाण पत्र के लिए कौन से दस्तावेज़ चाहिए")
    replies = await say(agent, citizen, "कितने दिन लगेंगे")
    assert "निवास" in replies[0]["text"] and "दिन" in replies[0]["text"]
