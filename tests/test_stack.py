"""The whole system as `make run` wires it: emulator -> connector -> Rasa -> actions.

Citizens write through the WhatsApp Cloud API emulator (signed webhooks, Graph API),
so these tests see exactly what a citizen's phone would show.
"""

import time

import pytest

from scripts.stack import running_stack

pytestmark = pytest.mark.stack


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
    import requests

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
