"""Voice notes (issue 15, item 4): real speech (espeak-ng, encoded as WhatsApp's OGG/Opus)
goes from the channel to a stand-in OpenAI-compatible transcription service; the citizen
sees "मैंने सुना: …" with buttons, and only the confirmed transcript reaches Rasa, as if
typed. Without ASR_URL, and when the service fails, the citizen is told in words."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Any

import pytest

from connectors import asr
from connectors.whatsapp import HEARD_PREFIX
from tests.support.voice import StandInAsr, opus_problem, voice_note
from tests.test_whatsapp_channel import CITIZEN, Rasa, envelope, post, settle
from tests.test_whatsapp_channel import channel as channel  # noqa: F401 - the fixture

HINDI = "मुझे आय प्रमाण पत्र चाहिए"
ENGLISH = "I need an income certificate"


@pytest.fixture(scope="module")
def hindi_note() -> bytes:
    return voice_note(HINDI, "hi")


@pytest.fixture(scope="module")
def english_note() -> bytes:
    return voice_note(ENGLISH, "en")


@pytest.fixture
def service() -> Iterator[StandInAsr]:
    stand_in = StandInAsr().start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def heard(channel: Any, service: StandInAsr) -> Any:  # noqa: F811 - the fixture above
    channel.settings.asr = asr.AsrSettings(
        url=service.url, model="whisper-small", api_key="asr-key", timeout=2.0
    )
    return channel


def voice(media_id: str, data: bytes, mid: str) -> dict[str, Any]:
    return {
        "from": CITIZEN,
        "id": mid,
        "timestamp": str(int(time.time())),
        "type": "audio",
        "audio": {
            "id": media_id,
            "mime_type": "audio/ogg; codecs=opus",
            "sha256": hashlib.sha256(data).hexdigest(),
            "voice": True,
        },
    }


def tap(token: str, title: str, mid: str) -> dict[str, Any]:
    return {
        "from": CITIZEN,
        "id": mid,
        "timestamp": str(int(time.time())),
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": token, "title": title}},
    }


def shown(channel: Any) -> list[dict[str, Any]]:
    """What the citizen's phone got: text and button titles with their issued ids."""
    out = []
    for _, body in channel.graph.sent:
        if body.get("type") == "interactive":
            interactive = body["interactive"]
            buttons = {
                b["reply"]["title"]: b["reply"]["id"] for b in interactive["action"]["buttons"]
            }
            out.append({"text": interactive["body"]["text"], "buttons": buttons})
        else:
            out.append({"text": body["text"]["body"], "buttons": {}})
    return out


def test_the_test_audio_is_a_real_whatsapp_voice_note(hindi_note: bytes) -> None:
    assert opus_problem(hindi_note) is None
    assert 1000 < len(hindi_note) < 50_000  # about two seconds of 16 kbit/s speech
    assert opus_problem(b"OggS" + b"\x00" * 2000) is not None  # the old placeholder


async def test_a_hindi_voice_note_is_heard_confirmed_and_read_as_typed(
    heard: Any, service: StandInAsr, hindi_note: bytes
) -> None:
    heard.graph.files["a1"] = service.knows(hindi_note, HINDI)
    rasa = Rasa()
    await post(heard, envelope([voice("a1", hindi_note, "wamid.v1")]), rasa)
    await settle(heard)
    assert rasa.turns == []  # nothing reaches the dialogue before the citizen confirms
    [reply] = shown(heard)
    assert reply["text"].startswith(f"मैंने सुना: “{HINDI}”")
    assert list(reply["buttons"]) == ["हाँ, सही है", "फिर से बोलूँगा"]
    request = service.requests[0]
    assert (request["model"], request["auth"], request["filename"]) == (
        "whisper-small",
        "Bearer asr-key",
        "voice.ogg",
    )
    assert request["bytes"] == len(hindi_note)

    await post(heard, envelope([tap(reply["buttons"]["हाँ, सही है"], "हाँ", "wamid.v2")]), rasa)
    await settle(heard)
    [turn] = rasa.turns
    assert turn.text == HINDI  # read by the NLU exactly as if typed
    assert not turn.metadata.get("trusted_payload")


async def test_an_english_note_is_shown_back_in_english_and_can_be_said_again(
    heard: Any, service: StandInAsr, english_note: bytes
) -> None:
    heard.graph.files["a2"] = service.knows(english_note, ENGLISH)
    rasa = Rasa()
    await post(heard, envelope([voice("a2", english_note, "wamid.e1")]), rasa)
    await settle(heard)
    [reply] = shown(heard)
    assert reply["text"].startswith(f"I heard: “{ENGLISH}”")
    assert list(reply["buttons"]) == ["Yes, that's right", "Say it again"]
    again = reply["buttons"]["Say it again"]
    await post(heard, envelope([tap(again, "Say it again", "wamid.e2")]), rasa)
    await settle(heard)
    # a citizen new to the assistant: the prompt is in the language "I heard" was in
    assert "please send your voice note again, or type" in shown(heard)[-1]["text"]
    assert rasa.turns == []


async def test_aadhaar_in_a_transcript_is_masked(
    heard: Any, service: StandInAsr, english_note: bytes
) -> None:
    heard.graph.files["a3"] = service.knows(english_note, "my aadhaar is 2345 6789 0124")
    rasa = Rasa()
    await post(heard, envelope([voice("a3", english_note, "wamid.m1")]), rasa)
    await settle(heard)
    [reply] = shown(heard)
    assert "2345 6789 0124" not in reply["text"] and "XXXX-XXXX-0124" in reply["text"]
    token = reply["buttons"]["Yes, that's right"]
    assert "6789" not in heard.store.payload_for(CITIZEN, token)
    assert heard.store.payload_for(CITIZEN, token).startswith(HEARD_PREFIX)


@pytest.mark.parametrize("fault", ["timeout", "error", "nothing", "not_opus"])
async def test_a_failed_transcription_is_explained_and_nothing_reaches_rasa(
    heard: Any, service: StandInAsr, hindi_note: bytes, fault: str
) -> None:
    data = hindi_note
    service.knows(hindi_note, HINDI)
    if fault == "timeout":
        service.delay = 3.0
    elif fault == "error":
        service.status = 503
    elif fault == "nothing":
        service.transcripts.clear()
    else:  # an OGG that is not Opus: the stand-in refuses it as a real service would
        data = b"OggS" + b"\x00" * 3000
    heard.graph.files["a4"] = data
    rasa = Rasa()
    await post(heard, envelope([voice("a4", data, "wamid.f1")]), rasa)
    for _ in range(5):
        await settle(heard)
    [reply] = shown(heard)
    assert "वॉइस नोट अभी सुन नहीं पाया" in reply["text"] and "लिखकर" in reply["text"]
    assert reply["buttons"] == {}
    assert rasa.turns == []


async def test_without_asr_a_voice_note_still_gets_please_type(
    channel: Any,  # noqa: F811 - the fixture
    hindi_note: bytes,
) -> None:
    assert channel.settings.asr is None
    channel.graph.files["a5"] = hindi_note
    rasa = Rasa()
    await post(channel, envelope([voice("a5", hindi_note, "wamid.n1")]), rasa)
    await settle(channel)
    [turn] = rasa.turns
    assert turn.text == "/unsupported_message" and turn.metadata["message_type"] == "audio"


def test_settings_come_from_the_environment() -> None:
    assert asr.AsrSettings.from_environment({}) is None
    settings = asr.AsrSettings.from_environment(
        {"ASR_URL": "http://asr.local/", "ASR_API_KEY": "k", "ASR_TIMEOUT": "4"}
    )
    assert settings == asr.AsrSettings("http://asr.local", "whisper-1", "k", "", 4.0)
    assert "k" not in repr(settings)
    with pytest.raises(ValueError):
        asr.AsrSettings.from_environment({"ASR_URL": "http://x", "ASR_TIMEOUT": "0"})


def test_a_transcript_cannot_become_an_intent() -> None:
    assert asr.clean_transcript("  /restart\n now ") == "restart now"
    assert len(asr.clean_transcript("क" * 5000)) == asr.MAX_TRANSCRIPT_CHARS


async def test_while_an_officer_has_the_chat_a_voice_note_is_not_transcribed(
    heard: Any, service: StandInAsr, hindi_note: bytes
) -> None:
    heard.graph.files["a6"] = service.knows(hindi_note, HINDI)
    heard.store.take_handoff(CITIZEN, "kiran", "Kiran", "revenue")
    rasa = Rasa()
    await post(heard, envelope([voice("a6", hindi_note, "wamid.h1")]), rasa)
    await settle(heard)
    assert service.requests == [] and not any("मैंने सुना" in r["text"] for r in shown(heard))
    [turn] = rasa.turns  # recorded for the officer as before (no agent here: a stand-in)
    assert turn.text == "/unsupported_message" and turn.metadata["message_type"] == "audio"
