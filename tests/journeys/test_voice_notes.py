"""Voice notes (issue 15, item 4) through the whole system as `make run` wires it, with
real Hindi speech (espeak-ng, encoded as WhatsApp's OGG/Opus) and a stand-in
OpenAI-compatible transcription service: the citizen sees "मैंने सुना: …", confirms, and
the application starts as if they had typed it; a voice answer to a form question is
taken the same way; a failed transcription is explained and the form waits. Without a
speech-to-text service (the ordinary system), a voice note still gets "please type".
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.journeys.phone import Citizen, Reply
from tests.support.stack import Stack, running_stack
from tests.support.voice import StandInAsr, voice_note

pytestmark = pytest.mark.stack

APPLY = "मुझे आय प्रमाण पत्र चाहिए"
NAME = "सुनीता देवी"


def shown(replies: list[Reply]) -> str:
    return "\n".join(str(r) for r in replies)


@pytest.fixture(scope="module")
def service() -> Iterator[StandInAsr]:
    stand_in = StandInAsr().start()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="module")
def heard_system(tmp_path_factory: pytest.TempPathFactory, service: StandInAsr) -> Iterator[Stack]:
    """The system with ASR_URL pointing at the stand-in (only Rasa's start sees it)."""
    with contextlib.ExitStack() as stack:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("ASR_URL", service.url)
            env.setenv("ASR_MODEL", "whisper-small")
            env.setenv("ASR_TIMEOUT", "5")
            folder = Path(tmp_path_factory.mktemp("voice"))
            running = stack.enter_context(running_stack(folder))
        yield running


def test_a_hindi_voice_note_is_heard_confirmed_and_the_application_starts(
    heard_system: Stack, service: StandInAsr
) -> None:
    phone = Citizen(heard_system, wa_id="919770000901", name="Sunita Devi")
    phone.says("नमस्ते")
    phone.taps("हाँ")

    replies = phone.speaks(service.knows(voice_note(APPLY, "hi"), APPLY))
    assert replies[-1].text.startswith(f"मैंने सुना: “{APPLY}”"), shown(replies)
    assert replies[-1].buttons == ["हाँ, सही है", "फिर से बोलूँगा"], shown(replies)
    assert "आय प्रमाण पत्र" not in replies[-1].text.split("”", 1)[1], shown(replies)
    assert service.requests[-1]["model"] == "whisper-small"

    replies = phone.taps("हाँ, सही है")
    said = phone.all_text(replies)
    assert "आय प्रमाण पत्र" in said and "सवाल 1/7" in said, shown(replies)
    question = replies[-1].text

    # the service fails: the citizen is told, and the form still waits at its question
    name_note = service.knows(voice_note(NAME, "hi"), NAME)
    service.status = 503
    try:
        replies = phone.speaks(name_note)
    finally:
        service.status = 200
    assert "वॉइस नोट अभी सुन नहीं पाया" in phone.all_text(replies), shown(replies)

    # a voice answer to the form's question, confirmed, is the answer
    replies = phone.speaks(name_note)
    assert replies[-1].text.startswith(f"मैंने सुना: “{NAME}”"), shown(replies)
    replies = phone.taps("हाँ, सही है")
    said = phone.all_text(replies)
    assert "सवाल 2/7" in said and replies[-1].text != question, shown(replies)
    assert phone.repeated_questions() == 0


def test_saying_it_again_is_just_another_voice_note(
    heard_system: Stack, service: StandInAsr
) -> None:
    phone = Citizen(heard_system, wa_id="919770000902", name="Ravi Kumar")
    english = "I need an income certificate"
    note = service.knows(voice_note("I need an ink come certificate", "en"), "I need an ink come")
    replies = phone.speaks(note)
    assert replies[-1].text.startswith("I heard: “I need an ink come”"), shown(replies)
    replies = phone.taps("Say it again")
    assert "send your voice note again, or type" in phone.all_text(replies), shown(replies)
    replies = phone.speaks(service.knows(voice_note(english, "en"), english))
    assert replies[-1].text.startswith(f"I heard: “{english}”"), shown(replies)
    replies = phone.taps("Yes, that's right")
    assert "consent" in phone.all_text(replies), shown(replies)  # as if typed: consent first
    replies = phone.taps("Yes, I agree")
    said = phone.all_text(replies)
    assert "income certificate" in said.lower(), shown(replies)
    assert "1/7" in said or "1 of 7" in said, shown(replies)


def test_without_a_speech_service_a_voice_note_gets_please_type(
    citizen: Callable[..., Citizen],
) -> None:
    phone = citizen()
    replies = phone.speaks(voice_note(APPLY, "hi"))
    said = phone.all_text(replies)
    assert "मैंने सुना" not in said and "I heard" not in said, shown(replies)
    assert "लिखकर" in said or "type" in said, shown(replies)
    replies = phone.says(APPLY)  # typing works as always: consent first, then the form
    assert "सहमति" in phone.all_text(replies), shown(replies)
    replies = phone.taps("हाँ, मैं सहमत हूँ")
    said = phone.all_text(replies)
    assert "आय प्रमाण पत्र" in said and "सवाल 1/7" in said, shown(replies)
