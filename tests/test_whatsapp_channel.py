"""The WhatsApp channel: signatures, exactly-once turns, order, statuses, uploads, replies."""

import asyncio
import hashlib
import hmac
import json
import time

import pytest

import privacy
from connectors.graph import OUTSIDE_WINDOW, DownloadError, GraphClient, SendResult
from connectors.whatsapp import Settings, WhatsAppInput, WhatsAppOutput, signature_valid

SECRET = "app-secret-for-tests"
NUMBER = "100001"
CITIZEN = "919800011111"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200
PDF = b"%PDF-1.4\n" + b"0" * 200


class FakeGraph(GraphClient):
    """Records what the channel sends; serves media the test puts in ``files``."""

    def __init__(self):
        super().__init__("http://graph.test/v21.0", "token")
        self.sent = []
        self.files = {}
        self.uploads = []
        self.refuse_free_form = False

    async def send(self, phone_number_id, body, max_retries=None):
        if self.refuse_free_form and body.get("type") != "template":
            return SendResult(False, None, OUTSIDE_WINDOW, 400)
        self.sent.append((phone_number_id, body))
        return SendResult(True, f"wamid.out{len(self.sent)}", None, 200)

    async def download_media(self, media_id, max_bytes):
        data = self.files[media_id]
        if isinstance(data, DownloadError):
            raise data
        if len(data) > max_bytes:
            raise DownloadError("too_large")
        return {"id": media_id}, data

    async def fetch_url(self, url, max_bytes):
        return PDF

    async def upload_media(self, phone_number_id, data, mime_type, filename):
        self.uploads.append((mime_type, filename))
        return "media-up-1"


@pytest.fixture
def channel(tmp_path):
    settings = Settings(
        app_secret=SECRET,
        verify_token="verify-me",
        access_token="token",
        graph_url="http://graph.test/v21.0",
        db_url=f"sqlite:///{tmp_path / 'wa.db'}",
        media_dir=tmp_path / "media",
        numbers={NUMBER: "", "100002": "transport"},
        reorder_window_seconds=0.05,
    )
    ch = WhatsAppInput(settings)
    ch.graph = FakeGraph()
    return ch


class Rasa:
    """Stands in for Rasa: records each turn and answers it."""

    def __init__(self, reply=None, fail_times=0):
        self.turns = []
        self.reply = reply or {"text": "ok"}
        self.fail_times = fail_times

    async def __call__(self, message):
        self.turns.append(message)
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("rasa is down")
        await message.output_channel.send_response(message.sender_id, dict(self.reply))


def envelope(messages=(), statuses=(), number=NUMBER):
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "+911140001000", "phone_number_id": number},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": "Sunita"}, "wa_id": CITIZEN}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA1", "changes": [{"field": "messages", "value": value}]}],
    }


def text(body, mid="wamid.in1", ts=None):
    return {
        "from": CITIZEN,
        "id": mid,
        "timestamp": str(int(ts or time.time())),
        "type": "text",
        "text": {"body": body},
    }


def signed(payload):
    raw = json.dumps(payload, ensure_ascii=False).encode()
    digest = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Hub-Signature-256": f"sha256={digest}"}


async def post(channel, payload, rasa, headers=None):
    raw, good = signed(payload)
    return await channel.receive(raw, headers if headers is not None else good, rasa)


async def settle(channel):
    for _ in range(200):
        await asyncio.sleep(0.02)
        if not any(not t.done() for t in channel._workers.values()):
            return


# --- signatures -------------------------------------------------------------------------


async def test_valid_signature_over_hindi_and_emoji_body(channel):
    rasa = Rasa()
    answer = await post(channel, envelope([text("नमस्ते 🙏 मुझे आय प्रमाण पत्र चाहिए")]), rasa)
    assert answer.status == 200
    await settle(channel)
    assert rasa.turns[0].text == "नमस्ते 🙏 मुझे आय प्रमाण पत्र चाहिए"


@pytest.mark.parametrize(
    "header",
    [
        {},
        {"X-Hub-Signature-256": "sha1=" + "0" * 40},
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"X-Hub-Signature-256": "sha256="},
    ],
)
async def test_missing_or_bad_signature_is_refused_and_nothing_stored(channel, header):
    rasa = Rasa()
    answer = await post(channel, envelope([text("hi")]), rasa, headers=header)
    assert answer.status == 401
    await settle(channel)
    assert rasa.turns == []
    assert channel.store.inbox_state("wamid.in1") is None


def test_signature_is_over_the_raw_bytes_not_reserialised_json():
    payload = envelope([text("नमस्ते")])
    raw = json.dumps(payload, ensure_ascii=False).encode()
    header = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert signature_valid(SECRET, raw, header)
    escaped = json.dumps(payload).encode()  # same JSON, \\u escapes: different bytes
    assert not signature_valid(SECRET, escaped, header)
    assert not signature_valid(SECRET, raw + b" ", header)  # tampered


async def test_verification_handshake(channel):
    from sanic import Sanic
    from sanic.request import Request

    blueprint = channel.blueprint(Rasa())
    routes = {(r.uri, tuple(sorted(r.methods))): r.handler for r in blueprint._future_routes}
    verify = routes[("/webhook", ("GET",))]

    class Args(dict):
        def get(self, key, default=None):
            return super().get(key, default)

    class FakeRequest:
        def __init__(self, args):
            self.args = Args(args)

    ok = await verify(
        FakeRequest(
            {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "42"}
        )
    )
    assert ok.status == 200 and ok.body == b"42"
    bad = await verify(
        FakeRequest({"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "42"})
    )
    assert bad.status == 403
    assert Sanic and Request  # the handlers are plain sanic handlers


# --- exactly once and in order ------------------------------------------------------------


async def test_same_message_five_times_concurrently_gives_one_turn_and_one_reply(channel):
    rasa = Rasa()
    payload = envelope([text("mera status batao", mid="wamid.dup")])
    answers = await asyncio.gather(*[post(channel, payload, rasa) for _ in range(5)])
    assert [a.status for a in answers] == [200] * 5
    await settle(channel)
    assert len(rasa.turns) == 1
    assert len(channel.graph.sent) == 1
    assert channel.store.inbox_state("wamid.dup") == "done"


async def test_shuffled_messages_of_one_citizen_are_processed_in_order(channel):
    rasa = Rasa()
    now = int(time.time())
    messages = [text(f"message {i}", mid=f"wamid.o{i}", ts=now - 10 + i) for i in range(6)]
    shuffled = [messages[i] for i in (3, 0, 5, 1, 4, 2)]
    await asyncio.gather(*[post(channel, envelope([m]), rasa) for m in shuffled])
    await settle(channel)
    assert [t.text for t in rasa.turns] == [f"message {i}" for i in range(6)]


async def test_a_batch_of_messages_and_statuses_is_all_taken(channel):
    rasa = Rasa()
    now = int(time.time())
    payload = envelope(
        [text("one", "wamid.b1", now - 2), text("two", "wamid.b2", now - 1)],
        [
            {
                "id": "wamid.out9",
                "status": "delivered",
                "timestamp": str(now),
                "recipient_id": CITIZEN,
            }
        ],
    )
    await post(channel, payload, rasa)
    await settle(channel)
    assert [t.text for t in rasa.turns] == ["one", "two"]
    assert channel.store.status_of("wamid.out9") == "delivered"


async def test_status_never_moves_backwards(channel):
    now = str(int(time.time()))

    def status(value):
        return {"id": "wamid.s1", "status": value, "timestamp": now, "recipient_id": CITIZEN}

    rasa = Rasa()
    for value in ("sent", "read", "delivered", "sent"):
        await post(channel, envelope(statuses=[status(value)]), rasa)
    assert channel.store.status_of("wamid.s1") == "read"
    await post(channel, envelope(statuses=[status("failed")]), rasa)
    await post(channel, envelope(statuses=[status("delivered")]), rasa)
    assert channel.store.status_of("wamid.s1") == "failed"


async def test_a_failing_turn_is_retried_then_answered_with_an_apology(channel, monkeypatch):
    monkeypatch.setattr("connectors.whatsapp.asyncio.sleep", _no_sleep)
    rasa = Rasa(fail_times=5)
    await post(channel, envelope([text("hello", mid="wamid.f1")]), rasa)
    await settle(channel)
    assert len(rasa.turns) == 3
    assert channel.store.inbox_state("wamid.f1") == "failed"
    assert "Sorry" in channel.graph.sent[-1][1]["text"]["body"]


_real_sleep = asyncio.sleep


async def _no_sleep(seconds):
    await _real_sleep(0)


async def test_messages_stored_before_a_restart_are_processed_after_it(channel, tmp_path):
    channel.store.add_inbound(
        [
            {
                "message_id": "wamid.r1",
                "wa_id": CITIZEN,
                "phone_number_id": NUMBER,
                "timestamp": int(time.time()),
                "body": json.dumps(
                    {"kind": "text", "text": "left over", "timestamp": int(time.time())}
                ),
            }
        ]
    )
    restarted = WhatsAppInput(channel.settings)
    restarted.graph = FakeGraph()
    rasa = Rasa()
    await post(restarted, envelope([text("new", mid="wamid.r2")]), rasa)
    await settle(restarted)
    assert sorted(t.text for t in rasa.turns) == ["left over", "new"]


# --- what Rasa sees --------------------------------------------------------------------


async def test_aadhaar_is_masked_before_rasa_and_the_database(channel):
    rasa = Rasa()
    await post(channel, envelope([text("mera aadhaar 2345 6789 0124 hai", mid="wamid.a1")]), rasa)
    await settle(channel)
    assert "2345 6789 0124" not in rasa.turns[0].text
    assert "0124" in rasa.turns[0].text
    with channel.store.engine.connect() as connection:
        dump = " ".join(
            str(r) for r in connection.exec_driver_sql("select body from whatsapp_inbox")
        )
    assert "2345 6789" not in dump and "234567890124" not in dump


AADHAAR = "2345 6789 0124"  # Verhoeff-valid


def _stored(channel):
    with channel.store.engine.connect() as connection:
        return " ".join(
            str(r) for r in connection.exec_driver_sql("select body from whatsapp_inbox")
        )


def _digits_of(text):
    return "".join(c for c in privacy.to_ascii_digits(text) if c.isdigit())


async def test_aadhaar_is_masked_in_every_string_of_the_row_and_the_metadata(channel):
    """A location's name and address, a document's file name and caption, the profile
    name: all reach the inbox and Rasa masked (before: only text and caption were)."""
    channel.graph.files["m-aad"] = PDF
    document = media_message(
        "wamid.ad1", "document", "m-aad", "application/pdf", hashlib.sha256(PDF).hexdigest()
    )
    document["document"]["filename"] = f"Aadhaar {AADHAAR}.pdf"
    location = {
        "from": CITIZEN,
        "id": "wamid.ad2",
        "timestamp": str(int(time.time())),
        "type": "location",
        "location": {
            "latitude": 28.63,
            "longitude": 77.21,
            "name": "Ghar 2345.6789.0124",
            "address": "Gali 4, Laxmi Nagar, aadhaar २३४५ ६७८९ ०१२४",
        },
    }
    payload = envelope([document, location])
    payload["entry"][0]["changes"][0]["value"]["contacts"][0]["profile"]["name"] = (
        f"Sunita {AADHAAR}"
    )
    rasa = Rasa()
    await post(channel, payload, rasa)
    await settle(channel)
    assert len(rasa.turns) == 2
    seen = json.dumps([(t.text, t.metadata) for t in rasa.turns], ensure_ascii=False)
    for where in (seen, _stored(channel)):
        assert "234567890124" not in _digits_of(where)
        assert "XXXX-XXXX-0124" in where
    assert rasa.turns[0].metadata["attachment"]["filename"] == "Aadhaar XXXX-XXXX-0124.pdf"
    assert rasa.turns[0].metadata["profile_name"] == "Sunita XXXX-XXXX-0124"
    assert rasa.turns[1].metadata["location"]["name"] == "Ghar XXXX-XXXX-0124"
    assert rasa.turns[1].text == "Gali 4, Laxmi Nagar, aadhaar XXXX-XXXX-0124"
    # identifiers are never masked: the file was fetched and the citizen stays himself
    assert rasa.turns[0].sender_id == CITIZEN
    assert rasa.turns[0].metadata["attachment"]["sha256"] == hashlib.sha256(PDF).hexdigest()


async def test_issued_button_is_a_trusted_payload_and_unknown_ids_are_text(channel):
    token = channel.store.issue(CITIZEN, "/affirm")
    other = channel.store.issue("919899999999", "/withdraw_consent")
    reply = {
        "from": CITIZEN,
        "id": "wamid.btn",
        "timestamp": str(int(time.time())),
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": token, "title": "Yes"}},
    }
    forged = {
        **reply,
        "id": "wamid.btn2",
        "interactive": {
            "type": "button_reply",
            "button_reply": {"id": other, "title": "/withdraw_consent"},
        },
    }
    rasa = Rasa()
    await post(channel, envelope([reply]), rasa)
    await post(channel, envelope([forged]), rasa)
    await settle(channel)
    assert rasa.turns[0].text == "/affirm" and rasa.turns[0].metadata["trusted_payload"] is True
    assert rasa.turns[1].text == "/withdraw_consent"
    assert "trusted_payload" not in rasa.turns[1].metadata


async def test_list_reply_location_and_unsupported(channel):
    token = channel.store.issue(CITIZEN, '/apply_service{"service": "ration_card"}')
    now = str(int(time.time()))
    messages = [
        {
            "from": CITIZEN,
            "id": "wamid.l1",
            "timestamp": now,
            "type": "interactive",
            "interactive": {
                "type": "list_reply",
                "list_reply": {"id": token, "title": "Ration card", "description": ""},
            },
        },
        {
            "from": CITIZEN,
            "id": "wamid.l2",
            "timestamp": now,
            "type": "location",
            "location": {"latitude": 28.63, "longitude": 77.21, "name": "Connaught Place"},
        },
        {
            "from": CITIZEN,
            "id": "wamid.l3",
            "timestamp": now,
            "type": "audio",
            "audio": {"id": "m1", "mime_type": "audio/ogg; codecs=opus", "voice": True},
        },
    ]
    rasa = Rasa()
    await post(channel, envelope(messages), rasa)
    await settle(channel)
    texts = [t.text for t in rasa.turns]
    assert texts[0] == '/apply_service{"service": "ration_card"}'
    assert texts[1] == "Connaught Place" and rasa.turns[1].metadata["location"]["latitude"] == 28.63
    assert texts[2] == "/unsupported_message"
    assert rasa.turns[2].metadata["message_type"] == "audio"  # a voice note gets its own reply


async def test_a_days_old_retry_is_not_acted_on(channel):
    rasa = Rasa()
    old = time.time() - 3 * 86400
    await post(channel, envelope([text("haan pay karo", mid="wamid.old", ts=old)]), rasa)
    await settle(channel)
    assert rasa.turns[0].text == "/stale_message"


async def test_department_number_is_passed_on(channel):
    rasa = Rasa()
    await post(channel, envelope([text("hi", mid="wamid.t1")], number="100002"), rasa)
    await settle(channel)
    assert rasa.turns[0].metadata["department"] == "transport"
    assert channel.graph.sent[0][0] == "100002"  # the reply leaves from the same number


def media_message(mid, kind, media_id, mime, sha=None, caption=None):
    part = {"id": media_id, "mime_type": mime, "sha256": sha or "x"}
    if caption:
        part["caption"] = caption
    if kind == "document":
        part["filename"] = "doc.pdf"
    return {
        "from": CITIZEN,
        "id": mid,
        "timestamp": str(int(time.time())),
        "type": kind,
        kind: part,
    }


async def test_good_upload_reaches_rasa_as_a_stored_reference(channel):
    channel.graph.files["m-ok"] = PDF
    sha = hashlib.sha256(PDF).hexdigest()
    rasa = Rasa()
    await post(
        channel,
        envelope(
            [media_message("wamid.m1", "document", "m-ok", "application/pdf", sha, "address proof")]
        ),
        rasa,
    )
    await settle(channel)
    turn = rasa.turns[0]
    assert turn.text == "address proof"
    attachment = turn.metadata["attachment"]
    assert attachment["storage_ref"].startswith("media/") and attachment["sha256"] == sha
    assert (channel.settings.media_dir / attachment["storage_ref"].split("/", 1)[1]).exists()


@pytest.mark.parametrize(
    "data, mime, sha, error",
    [
        (b"MZ\x90\x00" + b"\x00" * 100, "image/jpeg", None, "magic_mismatch"),  # renamed .exe
        (JPEG, "image/jpeg", "0" * 64, "hash_mismatch"),
        (b"\xff\xd8\xff" + b"\x00" * (6 * 2**20), "image/jpeg", None, "too_large"),
        (PDF, "application/x-msdownload", None, "mime_not_allowed"),
    ],
)
async def test_bad_uploads_are_refused_with_a_reason(channel, data, mime, sha, error):
    channel.graph.files["m-bad"] = data
    sha = sha or hashlib.sha256(data).hexdigest()
    rasa = Rasa()
    await post(channel, envelope([media_message("wamid.bad", "image", "m-bad", mime, sha)]), rasa)
    await settle(channel)
    assert rasa.turns[0].text == f'/upload_rejected{{"upload_error": "{error}"}}'
    assert rasa.turns[0].metadata["trusted_payload"] is True


@pytest.mark.parametrize(
    "failure, told",
    [
        (DownloadError("truncated", "got 65437 of 2841148 bytes"), "hash_mismatch"),
        (DownloadError("hash_mismatch"), "hash_mismatch"),
        (DownloadError("too_large", "announced 31457280 > 20971520"), "too_large"),
        (DownloadError("download_failed", "HTTP 404"), "download_failed"),
    ],
)
async def test_a_download_that_fails_on_the_way_is_explained_not_dropped(channel, failure, told):
    """A file cut short on the way is told as damaged ("send it again"), not as no file."""
    channel.graph.files["m-cut"] = failure
    rasa = Rasa()
    message = media_message("wamid.cut", "image", "m-cut", "image/jpeg", "0" * 64, "my DL")
    await post(channel, envelope([message]), rasa)
    await settle(channel)
    [turn] = rasa.turns
    assert turn.text == f'/upload_rejected{{"upload_error": "{told}"}}'
    assert turn.metadata["trusted_payload"] is True and "attachment" not in turn.metadata


async def test_real_sized_photo_and_pdf_through_the_emulator_reach_rasa_whole(tmp_path):
    """The channel's real Graph client against the emulator's media urls (no fake): a
    2.8 MB camera JPEG and a 4-page scanned PDF are stored byte for byte; before the fix
    both were refused as hash_mismatch (only the first ~64 KB had been read)."""
    from tests.journeys.files import camera_jpeg, multipage_pdf
    from tests.support.emulator import running_emulator

    with running_emulator(tmp_path / "emulator") as wa:
        settings = Settings(
            app_secret=SECRET,
            verify_token="verify-me",
            access_token=wa.token,
            graph_url=wa.graph_url,
            db_url=f"sqlite:///{tmp_path / 'wa.db'}",
            media_dir=tmp_path / "media",
            numbers={NUMBER: ""},
            reorder_window_seconds=0.05,
        )
        channel = WhatsAppInput(settings)
        rasa = Rasa()
        sent = []
        for index, (data, mime, kind) in enumerate(
            [
                (camera_jpeg(), "image/jpeg", "image"),
                (multipage_pdf(), "application/pdf", "document"),
            ]
        ):
            uploaded = wa.upload(data, f"file{index}", mime)
            message = media_message(
                f"wamid.real{index}", kind, uploaded["media_id"], mime, uploaded["sha256"]
            )
            await post(channel, envelope([message]), rasa)
            sent.append(data)
        for _ in range(500):
            await asyncio.sleep(0.02)
            if len(rasa.turns) == 2:
                break
        await settle(channel)
        await channel.graph.close()
    assert [t.text for t in rasa.turns] == ["/inform", "/inform"]
    for turn, data in zip(rasa.turns, sent):
        attachment = turn.metadata["attachment"]
        stored = channel.settings.media_dir / attachment["storage_ref"].split("/", 1)[1]
        assert attachment["size"] == len(data) and stored.read_bytes() == data


# --- what the citizen receives ------------------------------------------------------------


async def test_reply_buttons_lists_and_documents(channel):
    channel.store.touch_contact(CITIZEN, NUMBER, int(time.time()))
    output = WhatsAppOutput(channel, NUMBER)
    await output.send_response(
        CITIZEN,
        {
            "text": "Consent?",
            "buttons": [
                {"title": "Yes", "payload": "/affirm"},
                {"title": "No", "payload": "/deny"},
            ],
        },
    )
    buttons = [{"title": f"Service {i}", "payload": f"/x{i}"} for i in range(8)]
    await output.send_response(CITIZEN, {"text": "Choose", "buttons": buttons})
    await output.send_response(
        CITIZEN,
        {"attachment": {"type": "document", "url": "http://backend/c.pdf", "filename": "c.pdf"}},
    )
    first, second, third = [body for _, body in channel.graph.sent]
    assert first["interactive"]["type"] == "button"
    ids = [b["reply"]["id"] for b in first["interactive"]["action"]["buttons"]]
    assert channel.store.payload_for(CITIZEN, ids[0]) == "/affirm"
    assert "/affirm" not in json.dumps(first)  # ids are opaque
    assert second["interactive"]["type"] == "list"
    assert third["document"]["id"] == "media-up-1" and "link" not in third["document"]
    assert channel.graph.uploads == [("application/pdf", "c.pdf")]


async def test_outside_the_24_hour_window_a_template_is_sent(channel):
    channel.store.touch_contact(CITIZEN, NUMBER, int(time.time()) - 2 * 86400)
    await WhatsAppOutput(channel, NUMBER).send_response(CITIZEN, {"text": "आपका आवेदन मंज़ूर हो गया"})
    body = channel.graph.sent[0][1]
    assert body["type"] == "template"
    assert body["template"]["language"]["code"] == "hi"


async def test_graph_131047_falls_back_to_a_template(channel):
    channel.store.touch_contact(CITIZEN, NUMBER, int(time.time()))
    channel.graph.refuse_free_form = True
    await WhatsAppOutput(channel, NUMBER).send_response(CITIZEN, {"text": "Update"})
    assert channel.graph.sent[0][1]["type"] == "template"


# --- the Rasa speed-ups ------------------------------------------------------------------


def test_action_responses_are_still_validated():
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction

    from connectors import rasa_patches

    rasa_patches.install()
    action = RemoteAction("action_x", None)
    assert action._validate_action_result({"events": [], "responses": []})
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": [{"event": "slot", "name": 3}], "responses": 1})


def test_action_responses_get_rasas_verdict_event_by_event():
    """Each event is checked against the schema of its own name: the verdict is Rasa's
    (jsonschema on the whole schema), for every event type and for broken events."""
    import jsonschema
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import (
        ActionExecuted,
        ActiveLoop,
        AllSlotsReset,
        BotUttered,
        FollowupAction,
        Restarted,
        SessionStarted,
        SlotSet,
        UserUttered,
    )

    from connectors import rasa_patches

    rasa_patches.install()
    action = RemoteAction("action_x", None)
    spec = RemoteAction.action_response_format_spec()
    rasas = jsonschema.validators.validator_for(spec)(spec)  # as jsonschema.validate picks
    good = [
        e.as_dict()
        for e in [
            SlotSet("language", "hi"),
            BotUttered("नमस्ते", {"buttons": []}),
            UserUttered("haan", {"name": "affirm", "confidence": 1.0}),
            ActionExecuted("utter_greet"),
            ActiveLoop("application_form"),
            FollowupAction("action_listen"),
            AllSlotsReset(),
            Restarted(),
            SessionStarted(),
        ]
    ]
    broken = [
        {"event": "slot", "name": 3},  # a slot's name is a string
        {"event": "unheard_of"},
        {"name": "language"},  # no event name
        "slot",
        {"event": "bot", "text": 5},
        {"event": "user", "parse_data": {"intent": {"confidence": "high"}}},
        {"event": "slot", "name": "x", "timestamp": "today"},
    ]
    responses = [{"events": [event], "responses": []} for event in good + broken]
    responses += [{"events": good, "responses": [{"text": "ok"}]}, {"events": good + broken[:1]}]
    responses += [{"events": "slot"}, {"responses": "x"}, {}]
    for response in responses:
        try:
            ours = action._validate_action_result(response)
        except jsonschema.ValidationError:
            ours = False
        assert ours == rasas.is_valid(response), response


def test_sqlite_connections_use_wal(tmp_path):
    from connectors.store import ChannelStore

    store = ChannelStore(f"sqlite:///{tmp_path / 'x.db'}")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
