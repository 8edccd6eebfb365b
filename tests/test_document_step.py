"""The document step of the application form, against the trained model and the real
action server: a file fills the document whatever its caption says, a refused file is
explained with its real reason, and an optional document can be skipped with a button.
(The whole system, with real-sized files through the emulator: tests/journeys/test_documents.py.)
"""

from __future__ import annotations

import hashlib
import itertools

import pytest

_ids = itertools.count()

RENEWAL_ANSWERS = ["DL04 20120034567", "15/08/1980", "20/12/2026", "House 12, Lajpat Nagar, Delhi"]


def attachment(name: str, mime: str = "image/jpeg") -> dict:
    sha = hashlib.sha256(name.encode()).hexdigest()
    extension = "jpg" if mime == "image/jpeg" else "pdf"
    return {
        "storage_ref": f"media/{sha}.{extension}",
        "mime_type": mime,
        "sha256": sha,
        "size": 2_841_148,
        "filename": f"{sha}.{extension}",
    }


async def say(agent, citizen, text, metadata=None):
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    output = CollectingOutputChannel()
    await agent.handle_message(UserMessage(text, output, citizen, metadata=metadata))
    return output.messages


async def send_file(agent, citizen, caption, file):
    """As the channel hands Rasa a stored file: its caption as text, or a trusted /inform."""
    metadata = {"attachment": file}
    if not caption:
        metadata["trusted_payload"] = True
    return await say(agent, citizen, caption or "/inform", metadata)


async def slots(agent, citizen):
    tracker = await agent.tracker_store.retrieve(citizen)
    return {**tracker.current_slot_values(), "active_loop": tracker.active_loop_name}


def texts(replies):
    return [r.get("text") or "" for r in replies]


async def renewal_at_its_first_document(agent, hindi):
    citizen = f"documents-citizen-{next(_ids)}"
    await say(agent, citizen, "नमस्ते" if hindi else "Hi")
    await say(agent, citizen, "/affirm", metadata={"trusted_payload": True})
    # (the opener the NLU reads as the renewal; "renew my driving licence" is read as a
    # new licence today, which is the NLU's business, not this test's)
    opener = (
        "मुझे ड्राइविंग लाइसेंस नवीनीकरण चाहिए"
        if hindi
        else "I want to apply for driving licence renewal"
    )
    replies = await say(agent, citizen, opener)
    for answer in RENEWAL_ANSWERS:
        replies = await say(agent, citizen, answer)
    values = await slots(agent, citizen)
    assert values["service"] == "driving_licence_renewal"
    assert values["requested_slot"] == "document_ref", texts(replies)
    assert len(values["form_answers"]["values"]) == 4
    return citizen, replies


@pytest.mark.parametrize(
    ("caption", "hindi"),
    [
        ("my DL front side", False),
        ("DL ki photo", True),
        ("मेरा ड्राइविंग लाइसेंस", True),
        ("learner licence", False),
        ("income certificate", False),
    ],
)
async def test_a_caption_describes_the_file_it_is_not_a_new_request(agent, caption, hindi):
    citizen, _ = await renewal_at_its_first_document(agent, hindi)
    file = attachment(caption)
    replies = await send_file(agent, citizen, caption, file)
    values = await slots(agent, citizen)
    assert values["service"] == "driving_licence_renewal", texts(replies)
    assert values["active_loop"] == "application_form"
    assert values["form_answers"]["service"] == "driving_licence_renewal"
    assert len(values["form_answers"]["values"]) == 4  # the answers given are kept
    assert values["form_documents"] == {"driving_licence_copy": file}
    # the file is acknowledged and the next document is asked for, nothing else
    joined = "\n".join(texts(replies))
    assert ("मिल गया" if hindi else "Received") in joined
    assert "₹" not in joined  # no service card of another service


@pytest.mark.parametrize(
    ("error", "hindi", "said"),
    [
        ("hash_mismatch", False, "damaged on the way"),
        ("hash_mismatch", True, "रास्ते में ख़राब"),
        ("too_large", False, "20 MB"),
        ("too_large", True, "20 MB"),
        ("mime_not_allowed", False, "not accepted"),
        ("download_failed", True, "प्राप्त नहीं"),
    ],
)
async def test_a_refused_file_in_a_document_step_gets_its_real_reason(agent, error, hindi, said):
    citizen, _ = await renewal_at_its_first_document(agent, hindi)
    replies = await say(
        agent,
        citizen,
        f'/upload_rejected{{"upload_error": "{error}"}}',
        {"trusted_payload": True},
    )
    joined = "\n".join(texts(replies))
    assert said in joined
    assert "I need a file here" not in joined and "यहाँ मुझे फ़ाइल चाहिए" not in joined
    values = await slots(agent, citizen)
    assert values["requested_slot"] == "document_ref" and values["form_documents"] in ({}, None)
    assert len(values["form_answers"]["values"]) == 4
    # and the document is asked for again, so the citizen knows what to send
    assert ("मौजूदा ड्राइविंग लाइसेंस" if hindi else "Current driving licence") in texts(replies)[-1]


@pytest.mark.parametrize("hindi", [False, True])
async def test_an_optional_document_offers_skip_and_the_button_skips_it(agent, hindi):
    citizen, _ = await renewal_at_its_first_document(agent, hindi)
    replies = await send_file(agent, citizen, None, attachment("licence"))
    question = replies[-1]
    assert "1-A" in question["text"] or "1-ए" in question["text"]
    [skip] = [b for b in question.get("buttons") or [] if b["payload"] == "skip"]
    assert skip["title"] == ("छोड़ें" if hindi else "Skip")
    replies = await say(agent, citizen, skip["payload"])  # the channel hands over the payload
    values = await slots(agent, citizen)
    assert values["form_documents"]["medical_certificate"] is None
    assert values["active_loop"] == "application_form"
    assert ("फोटो" if hindi else "photograph") in texts(replies)[-1]


async def test_a_required_document_offers_no_skip(agent):
    _, replies = await renewal_at_its_first_document(agent, False)
    assert not any(b["payload"] == "skip" for r in replies for b in r.get("buttons") or [])
