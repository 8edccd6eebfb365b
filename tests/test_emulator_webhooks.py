"""Meta's webhook side of the emulator: signatures, shapes, retries, duplicates, batches."""

import base64
import hashlib
import hmac
import json
import time

import pytest

from tests.support.emulator import (
    APP_SECRET,
    CITIZEN,
    NUMBER_ID,
    running_emulator,
    wait_until,
    webhook_receiver,
)

pytestmark = pytest.mark.usefixtures("fresh_emulator")


def expected_signature(body: bytes) -> str:
    return "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_signature_covers_the_raw_body_and_hindi_arrives_as_utf8(wa, receiver):
    text = "नमस्ते, मुझे जन्म प्रमाण पत्र चाहिए / birth certificate"
    message_id = wa.citizen_says(text, name="आशा वर्मा")
    [webhook] = receiver.wait_for(1)
    assert webhook.headers["X-Hub-Signature-256"] == expected_signature(webhook.body)
    assert webhook.headers["Content-Type"] == "application/json"
    assert text.split(" /")[0].encode("utf-8") in webhook.body  # not \\u escapes
    assert b"\\u0928" not in webhook.body
    # a connector that re-serialises the JSON before hashing does not get the same digest
    reserialised = json.dumps(webhook.json()).encode()
    assert expected_signature(reserialised) != webhook.headers["X-Hub-Signature-256"]

    body = webhook.json()
    assert body["object"] == "whatsapp_business_account"
    [entry] = body["entry"]
    assert entry["id"] == "900001"
    [change] = entry["changes"]
    assert change["field"] == "messages"
    value = change["value"]
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {
        "display_phone_number": "911140001000",
        "phone_number_id": NUMBER_ID,
    }
    assert value["contacts"] == [{"profile": {"name": "आशा वर्मा"}, "wa_id": CITIZEN}]
    [message] = value["messages"]
    assert message["from"] == CITIZEN and message["id"] == message_id
    assert message["type"] == "text" and message["text"] == {"body": text}
    assert (
        isinstance(message["timestamp"], str) and abs(int(message["timestamp"]) - time.time()) < 60
    )
    # the emulator marks the citizen's message delivered once the connector said 200
    wait_until(lambda: wa.conversation()[0]["status"] == "delivered")


def test_second_number_has_its_own_metadata(wa, receiver):
    wa.citizen_says("bus pass", to="100002")
    [webhook] = receiver.wait_for(1)
    metadata = webhook.json()["entry"][0]["changes"][0]["value"]["metadata"]
    assert metadata == {"display_phone_number": "911140002000", "phone_number_id": "100002"}


def test_duplicates_deliver_identical_bodies(wa, receiver):
    wa.configure(duplicates=3)
    wa.citizen_says("duplicate me")
    copies = receiver.wait_for(3)
    time.sleep(0.2)
    assert len(receiver.received) == 3
    assert len({r.body for r in copies}) == 1
    assert len({r.headers["X-Hub-Signature-256"] for r in copies}) == 1


def test_batching_puts_several_messages_and_numbers_in_one_post(wa, receiver):
    wa.configure(batch_ms=400)
    first = wa.citizen_says("one")
    second = wa.citizen_says("two", wa_id="919810000002", name="Ravi")
    third = wa.citizen_says("three", to="100002")
    [webhook] = receiver.wait_for(1)
    time.sleep(0.5)
    assert len(receiver.received) == 1
    assert [m["id"] for m in webhook.messages()] == [first, second, third]
    entries = webhook.json()["entry"]
    assert [e["changes"][0]["value"]["metadata"]["phone_number_id"] for e in entries] == [
        NUMBER_ID,
        "100002",
    ]
    contacts = entries[0]["changes"][0]["value"]["contacts"]
    assert [c["wa_id"] for c in contacts] == [CITIZEN, "919810000002"]
    assert webhook.headers["X-Hub-Signature-256"] == expected_signature(webhook.body)


def test_batches_mix_messages_and_statuses(wa, receiver):
    wa.citizen_says("hi")
    receiver.wait_for(1)
    wa.configure(batch_ms=600, status_delay_ms=10)
    sent = wa.send_text("reply").json()["messages"][0]["id"]
    wa.citizen_says("another")
    batch = receiver.wait_for(2)[1]
    changes = batch.json()["entry"][0]["changes"]
    assert {s["status"] for s in batch.statuses() if s["id"] == sent} == {
        "sent",
        "delivered",
        "read",
    }
    assert len(batch.messages()) == 1 and len(changes) == 2


def test_failing_receiver_gets_the_webhook_on_the_third_try(wa, receiver):
    receiver.answer_next(500, 503)
    wa.citizen_says("retry me")
    [accepted] = receiver.wait_for(1)
    attempts = receiver.received
    assert [r.status for r in attempts] == [500, 503, 200]
    assert len({r.body for r in attempts}) == 1
    gaps = [b.at - a.at for a, b in zip(attempts, attempts[1:])]
    assert gaps[1] > gaps[0] * 1.3  # exponential back-off (50 ms, then 100 ms)
    stats = wa.stats()
    assert (stats["deliveries_failed"], stats["deliveries_retried"]) == (2, 2)
    assert stats["webhooks_delivered"] == 1


def test_connection_failures_are_retried_until_the_connector_is_back(wa, receiver):
    wa.configure(webhook_url="http://127.0.0.1:9/down", retry_base_ms=100)
    message_id = wa.citizen_says("anyone there?")
    wait_until(lambda: wa.stats()["deliveries_failed"] >= 2)
    wa.configure(webhook_url=receiver.url)
    [webhook] = receiver.wait_for(1, timeout=5)
    assert webhook.messages()[0]["id"] == message_id


def test_delivery_gives_up_after_max_attempts(wa, receiver):
    wa.configure(retry_max_attempts=2)
    receiver.answer_next(500, 500, 500)
    wa.citizen_says("lost")
    wait_until(lambda: wa.stats()["deliveries_abandoned"] == 1)
    time.sleep(0.3)
    assert [r.status for r in receiver.received] == [500, 500]


def test_statuses_sent_delivered_read_for_an_outbound_message(wa, receiver):
    wa.citizen_says("hi")
    sent = wa.send_text("नमस्ते! मैं दिल्ली सेवा हूँ।").json()["messages"][0]["id"]
    receiver.wait_for_statuses(sent, {"sent", "delivered", "read"})
    statuses = [s for r in receiver.accepted() for s in r.statuses() if s["id"] == sent]
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    for status in statuses:
        assert status["recipient_id"] == CITIZEN
        assert isinstance(status["timestamp"], str)
    assert statuses[0]["conversation"]["origin"]["type"] == "service"
    assert statuses[0]["pricing"]["category"] == "service"
    assert "contacts" not in receiver.accepted()[-1].json()["entry"][0]["changes"][0]["value"]
    assert wa.conversation()[-1]["status"] == "read"


def test_no_read_status_without_read_receipts(wa, receiver):
    wa.configure(read_receipts=False)
    wa.citizen_says("hi")
    sent = wa.send_text("hello").json()["messages"][0]["id"]
    receiver.wait_for_statuses(sent, {"sent", "delivered"})
    time.sleep(0.2)
    assert {s["status"] for r in receiver.accepted() for s in r.statuses()} == {"sent", "delivered"}


def test_shuffle_delivers_everything_in_another_order(wa, receiver):
    wa.configure(shuffle=True, shuffle_window_ms=400)
    ids = [wa.citizen_says(f"message {i}") for i in range(10)]
    webhooks = receiver.wait_for(10)
    delivered = [m["id"] for r in webhooks for m in r.messages()]
    assert sorted(delivered) == sorted(ids)
    assert delivered != ids  # 1 chance in 3.6 million of a false failure


def test_replies_to_buttons_and_lists_carry_ids_titles_and_context(wa, receiver):
    wa.citizen_says("menu")
    buttons = {
        "messaging_product": "whatsapp",
        "to": CITIZEN,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "भाषा चुनें"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "lang_hi", "title": "हिन्दी"}},
                    {"type": "reply", "reply": {"id": "lang_en", "title": "English"}},
                ]
            },
        },
    }
    button_message = wa.send(buttons).json()["messages"][0]["id"]
    listing = {
        "messaging_product": "whatsapp",
        "to": CITIZEN,
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": "Services"},
            "action": {
                "button": "View services",
                "sections": [
                    {
                        "title": "Certificates",
                        "rows": [
                            {"id": "svc_income", "title": "Income", "description": "आय प्रमाण पत्र"}
                        ],
                    }
                ],
            },
        },
    }
    list_message = wa.send(listing).json()["messages"][0]["id"]
    receiver.clear()
    wa.citizen_says(type="button_reply", reply_id="lang_hi")
    wa.citizen_says(type="list_reply", reply_id="svc_income")

    def both_replies():  # status webhooks of the two bot messages may arrive in between
        found = [m for r in receiver.accepted() for m in r.messages()]
        return found if len(found) >= 2 else None

    button, row = wait_until(both_replies)
    assert button["type"] == "interactive"
    assert button["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": "lang_hi", "title": "हिन्दी"},
    }
    assert button["context"] == {"from": "911140001000", "id": button_message}
    assert row["interactive"] == {
        "type": "list_reply",
        "list_reply": {"id": "svc_income", "title": "Income", "description": "आय प्रमाण पत्र"},
    }
    assert row["context"]["id"] == list_message


def test_media_location_and_unsupported_messages_have_cloud_api_shapes(wa, receiver):
    photo = b"\x89PNG\r\n\x1a\n" + bytes(100)
    uploaded = wa.upload(photo, "pothole.png", "image/png")
    digest = base64.b64encode(hashlib.sha256(photo).digest()).decode()
    assert uploaded["sha256"] == digest and uploaded["type"] == "image"
    pdf = wa.upload(b"%PDF-1.4 rent agreement", "rent.pdf", "application/pdf")
    wa.citizen_says(type="image", media_id=uploaded["media_id"], caption="सड़क पर गड्ढा")
    wa.citizen_says(type="document", media_id=pdf["media_id"])
    wa.citizen_says(type="location", latitude=28.6129, longitude=77.2295, name="India Gate")
    wa.citizen_says(type="unsupported")
    messages = [m for r in receiver.wait_for(4) for m in r.messages()]
    image, document, location, unsupported = messages
    assert image["image"] == {
        "id": uploaded["media_id"],
        "mime_type": "image/png",
        "sha256": digest,
        "caption": "सड़क पर गड्ढा",
    }
    assert document["document"]["filename"] == "rent.pdf"
    assert document["document"]["mime_type"] == "application/pdf"
    assert location["location"] == {"latitude": 28.6129, "longitude": 77.2295, "name": "India Gate"}
    assert unsupported["type"] == "unsupported" and unsupported["errors"][0]["code"] == 131051
    # the connector downloads the citizen's photo the Graph way; same sha256 encoding
    meta = wa.graph("GET", uploaded["media_id"]).json()
    assert meta["sha256"] == digest


def test_simulator_rejects_bad_messages(wa):
    import requests

    for body in (
        {"from": "12", "to": NUMBER_ID, "type": "text", "text": "x"},
        {"from": CITIZEN, "to": "555", "type": "text", "text": "x"},
        {"from": CITIZEN, "to": NUMBER_ID, "type": "text"},
        {"from": CITIZEN, "to": NUMBER_ID, "type": "image", "media_id": "404"},
        {"from": CITIZEN, "to": NUMBER_ID, "type": "button_reply", "reply_id": "nothing"},
        {"from": CITIZEN, "to": NUMBER_ID, "type": "hologram"},
    ):
        response = requests.post(f"{wa.url}/simulator/send", json=body, timeout=5)
        assert response.status_code == 400, body
        assert "error" in response.json()


def test_verification_helper_reports_meta_style_get(wa, receiver):
    import requests

    ok = requests.post(f"{wa.url}/emulator/verify-webhook", json={}, timeout=5).json()
    assert ok["ok"] is True and ok["status"] == 200 and ok["body"] == ok["challenge"]
    wrong = requests.post(
        f"{wa.url}/emulator/verify-webhook", json={"verify_token": "not-it"}, timeout=5
    ).json()
    assert wrong["ok"] is False and wrong["status"] == 403
    down = requests.get(
        f"{wa.url}/emulator/verify-webhook", params={"url": "http://127.0.0.1:9/x"}, timeout=5
    ).json()
    assert down["ok"] is False and "error" in down


def test_stats_count_per_citizen(wa, receiver):
    wa.citizen_says("a")
    wa.citizen_says("b")
    wa.citizen_says("c", wa_id="919810000002")
    wa.send_text("reply")
    receiver.wait_for(3)
    stats = wa.stats()
    assert stats["inbound_per_citizen"] == {CITIZEN: 2, "919810000002": 1}
    assert stats["outbound_per_citizen"] == {CITIZEN: 1}
    assert stats["reply_latency_ms"]["count"] == 1


def test_concurrent_delivery_delivers_everything(tmp_path):
    with webhook_receiver() as receiver, running_emulator(tmp_path, WEBHOOK_URL=receiver.url) as wa:
        wa.configure(delivery_concurrency=4)
        for i in range(20):
            wa.citizen_says(f"load {i}", wa_id=f"9198100001{i:02d}")
        webhooks = receiver.wait_for(20)
        assert len({m["id"] for r in webhooks for m in r.messages()}) == 20
