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


@pytest.mark.parametrize("text", ["", "😀😀😀", "🙏"])
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
