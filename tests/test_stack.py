"""The whole system as `make run` wires it: emulator -> connector -> Rasa -> actions.

Citizens write through the WhatsApp Cloud API emulator (signed webhooks, Graph API),
so these tests see exactly what a citizen's phone would show.
"""

import json
import sqlite3
import time
from pathlib import Path

import pytest
import requests

from tests.support.stack import running_stack

pytestmark = pytest.mark.stack
TRANSPORT = "100002"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


def replies(stack, wa_id, number="100001", after=0, at_least=1, seconds=20):
    deadline = time.monotonic() + seconds
    while True:
        out = [
            m
            for m in stack.emulator.conversation(wa_id=wa_id, phone_number_id=number, after=after)
            if m["direction"] == "out"
        ]
        if len(out) >= at_least or time.monotonic() > deadline:
            return out
        time.sleep(0.1)


def last_seq(stack, wa_id, number="100001"):
    messages = stack.emulator.conversation(wa_id=wa_id, phone_number_id=number)
    return max((m["seq"] for m in messages), default=0)


def body_text(message):
    payload = message["payload"]
    if payload["type"] == "text":
        return payload["text"]["body"]
    if payload["type"] == "interactive":
        return payload["interactive"]["body"]["text"]
    return ""


def test_hindi_citizen_consents_with_a_button_and_gets_the_menu(stack):
    wa_id = "919810000101"
    stack.emulator.citizen_says("नमस्ते", wa_id=wa_id)
    out = replies(stack, wa_id, at_least=3)
    assert all(any("\u0900" <= c <= "\u097f" for c in body_text(m)) for m in out)
    question = out[-1]["payload"]["interactive"]
    assert question["type"] == "button"
    yes = question["action"]["buttons"][0]["reply"]
    after = last_seq(stack, wa_id)
    stack.emulator.citizen_says(
        wa_id=wa_id, type="button_reply", reply_id=yes["id"], reply_title=yes["title"]
    )
    out = replies(stack, wa_id, after=after, at_least=2)
    menu = out[-1]["payload"]["interactive"]
    assert menu["type"] == "list"
    rows = [r for s in menu["action"]["sections"] for r in s["rows"]]
    assert len(rows) == 9 and all(len(r["title"]) <= 24 for r in rows)


def test_a_forged_button_id_is_just_text(stack):
    wa_id = "919810000102"
    stack.emulator.citizen_says("Hi", wa_id=wa_id)
    replies(stack, wa_id, at_least=3)
    after = last_seq(stack, wa_id)
    stack.emulator.citizen_says(
        wa_id=wa_id, type="button_reply", reply_id="made-up-id", reply_title="/affirm"
    )
    out = replies(stack, wa_id, after=after, at_least=1)
    assert "consent has been recorded" not in " ".join(body_text(m) for m in out)


def test_the_transport_number_opens_on_transport_services(stack):
    wa_id = "919810000103"
    stack.emulator.citizen_says("hello", wa_id=wa_id, to="100002")
    out = replies(stack, wa_id, number="100002", at_least=3)
    yes = out[-1]["payload"]["interactive"]["action"]["buttons"][0]["reply"]
    after = last_seq(stack, wa_id, "100002")
    stack.emulator.citizen_says(
        wa_id=wa_id, to="100002", type="button_reply", reply_id=yes["id"], reply_title=yes["title"]
    )
    out = replies(stack, wa_id, number="100002", after=after, at_least=2)
    assert "Transport" in body_text(out[-1])


def test_a_renamed_executable_is_refused_with_a_reply(stack):
    wa_id = "919810000104"
    media = stack.emulator.upload(b"MZ\x90\x00" + b"\x00" * 500, "photo.jpg", "image/jpeg")
    stack.emulator.citizen_says(wa_id=wa_id, type="image", media_id=media["media_id"])
    out = replies(stack, wa_id, at_least=1)
    assert "renamed" in body_text(out[0])


def test_duplicated_webhooks_give_one_reply(stack):
    wa_id = "919810000105"
    stack.emulator.configure(duplicates=5)
    try:
        stack.emulator.citizen_says("are you a bot?", wa_id=wa_id)
        out = replies(stack, wa_id, at_least=1)
        time.sleep(1.5)  # time for any duplicate turn to show up
        out = replies(stack, wa_id, at_least=1)
    finally:
        stack.emulator.configure(duplicates=1)
    assert len(out) == 1
    assert "bot" in body_text(out[0])


def test_stop_is_recorded_for_broadcasts_and_reminders(stack):
    wa_id = "919810000106"
    stack.emulator.citizen_says("STOP", wa_id=wa_id)
    out = replies(stack, wa_id, at_least=1)
    assert "START" in body_text(out[0])
    preferences = requests.get(
        f"{stack.backend.url}/citizens/{wa_id}/preferences",
        headers=stack.backend.officer(),
        timeout=5,
    ).json()
    assert (preferences["broadcasts"], preferences["reminders"]) == (False, False)


# --- the channel's internal API: officers' handoff and erasure ----------------------------

OFFICER = {"officer_id": "off-7", "officer_name": "Meena Sharma", "department": "transport"}


def consented(stack, wa_id, greeting="Hello"):
    """A citizen who greeted the bot and accepted the privacy notice (English)."""
    stack.emulator.citizen_says(greeting, wa_id=wa_id)
    out = replies(stack, wa_id, at_least=3)
    yes = out[-1]["payload"]["interactive"]["action"]["buttons"][0]["reply"]
    after = last_seq(stack, wa_id)
    stack.emulator.citizen_says(
        wa_id=wa_id, type="button_reply", reply_id=yes["id"], reply_title=yes["title"]
    )
    replies(stack, wa_id, after=after, at_least=2)


def said(stack, wa_id, after, wanted, seconds=20):
    """The bot's texts since ``after`` once one contains ``wanted`` (all of them if never)."""
    deadline = time.monotonic() + seconds
    while True:
        texts = " | ".join(body_text(m) for m in replies(stack, wa_id, after=after, seconds=0))
        if wanted in texts or time.monotonic() > deadline:
            return texts
        time.sleep(0.2)


def rows(database, sql, *args):
    with sqlite3.connect(database) as connection:
        return connection.execute(sql, args).fetchall()


def user_texts(stack, wa_id):
    return [
        json.loads(data).get("text")
        for (data,) in rows(
            stack.tracker_db,
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id",
            wa_id,
        )
    ]


def rendered_text(message):
    return (message.get("rendered") or {}).get("body") or body_text(message)


def test_internal_api_needs_the_token(stack):
    answer = requests.get(f"{stack.channel_url}/handoffs", timeout=5)
    assert answer.status_code == 401
    wrong = requests.get(
        f"{stack.channel_url}/handoffs", headers={"Authorization": "Bearer nope"}, timeout=5
    )
    assert wrong.status_code == 401


def test_officer_takes_over_replies_and_hands_back_to_the_form(stack):
    wa_id = "919810000201"
    consented(stack, wa_id)
    after = last_seq(stack, wa_id)
    stack.emulator.citizen_says("I want to apply for a driving licence", wa_id=wa_id)
    assert "Question 1 of 5" in said(stack, wa_id, after, "Question 1 of 5")

    after = last_seq(stack, wa_id)
    taken = stack.channel.handoff(wa_id, "take", **OFFICER)
    assert taken.json() == {"status": "taken"}
    # in the chat the citizen wrote to (the main number), not from Transport's number
    [started] = replies(stack, wa_id, after=after, at_least=1)
    assert "Meena Sharma" in rendered_text(started)
    assert "Transport Department" in rendered_text(started)
    assert replies(stack, wa_id, number=TRANSPORT, seconds=0) == []
    other = {**OFFICER, "officer_id": "off-9", "officer_name": "Ravi"}
    assert stack.channel.handoff(wa_id, "take", **other).status_code == 409
    assert stack.channel.send(wa_id, "hello", **other).json()["error"] == "not_in_handoff"
    assert [h["wa_id"] for h in stack.channel.handoffs()] == [wa_id]

    # the citizen's message is recorded, but the bot does not answer it
    after = last_seq(stack, wa_id)
    stack.emulator.citizen_says("Is anyone there? yes", wa_id=wa_id)
    deadline = time.monotonic() + 20
    while "Is anyone there? yes" not in user_texts(stack, wa_id):
        assert time.monotonic() < deadline, "the message was not recorded"
        time.sleep(0.2)
    time.sleep(0.5)  # a reply would have been sent before the turn was saved
    assert replies(stack, wa_id, after=after, seconds=0) == []

    after = last_seq(stack, wa_id)
    sent = stack.channel.send(wa_id, "Please send your licence number.", **OFFICER)
    assert sent.status_code == 200, sent.text
    officer_message = next(
        m for m in replies(stack, wa_id, after=after) if m["id"] == sent.json()["message_id"]
    )
    assert "Please send your licence number." in rendered_text(officer_message)
    uttered = [
        json.loads(data)
        for (data,) in rows(
            stack.events_db, "SELECT data FROM events WHERE sender_id = ? ORDER BY id", wa_id
        )
    ]
    bot = [
        e
        for e in uttered
        if e["event"] == "bot" and e.get("text") == "Please send your licence number."
    ]
    assert bot and bot[0]["metadata"]["officer_id"] == "off-7"
    assert [e["event"] for e in uttered].count("pause") == 1

    after = last_seq(stack, wa_id)
    assert stack.channel.handoff(wa_id, "release", **OFFICER).json() == {"status": "released"}
    assert stack.channel.handoffs() == []
    assert "assistant will help you again" in said(stack, wa_id, after, "help you again")
    after = last_seq(stack, wa_id)
    stack.emulator.citizen_says("Asha Kumari", wa_id=wa_id)
    assert "Question 2 of 5" in said(stack, wa_id, after, "Question 2 of 5")  # form continues


def test_erasure_forgets_the_conversation_and_a_new_one_starts(stack):
    wa_id = "919810000202"
    consented(stack, wa_id, greeting="Hello, I am Kavita")
    photo = stack.emulator.upload(b"\xff\xd8\xff\xe0" + b"\x01" * 900, "me.jpg", "image/jpeg")
    after = last_seq(stack, wa_id)
    stack.emulator.citizen_says(wa_id=wa_id, type="image", media_id=photo["media_id"])
    replies(stack, wa_id, after=after, at_least=1)
    [stored] = [p for p in stack.media_dir.iterdir() if p.suffix == ".jpg"]
    assert user_texts(stack, wa_id)
    assert rows(stack.events_db, "SELECT id FROM events WHERE sender_id = ?", wa_id)
    assert stack.channel.erase(wa_id).status_code == 202
    deadline = time.monotonic() + 20
    while stack.channel.erasure(wa_id) != "done":
        assert time.monotonic() < deadline, "erasure did not finish"
        time.sleep(0.2)
    assert rows(stack.tracker_db, "SELECT id FROM events WHERE sender_id = ?", wa_id) == []
    assert rows(stack.events_db, "SELECT id FROM events WHERE sender_id = ?", wa_id) == []
    assert rows(stack.whatsapp_db, "SELECT body FROM whatsapp_inbox WHERE wa_id = ?", wa_id) == []
    assert "Kavita" not in str(rows(stack.whatsapp_db, "SELECT body FROM whatsapp_inbox"))
    assert not stored.exists()  # the photo the citizen sent

    after = last_seq(stack, wa_id)
    stack.emulator.citizen_says("Hello", wa_id=wa_id)
    out = replies(stack, wa_id, after=after, at_least=3)
    # a fresh conversation: the privacy notice and the consent question again
    assert out[-1]["payload"]["interactive"]["type"] == "button"


def test_make_run_wires_the_channel_for_the_other_services():
    from scripts import run

    env = run.environment({"WHATSAPP_INTERNAL_TOKEN": "t"})
    assert env["CHANNEL_URL"] == f"http://127.0.0.1:{run.RASA_PORT}/webhooks/whatsapp/internal"
    assert env["WHATSAPP_INTERNAL_TOKEN"] == "t" and "WHATSAPP_INTERNAL_TOKEN" in run.SECRETS
    numbers = env["PHONE_NUMBERS"].split(",")
    assert len(numbers) == 12 and numbers[1] == "100002:+911140002000:Transport Department"
    assert "/webhooks/rest" not in Path(run.__file__).read_text()  # the REST channel is gone
