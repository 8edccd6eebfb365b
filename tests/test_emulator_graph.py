"""The Graph API side of the emulator, over real HTTP: auth, limits, window, errors, media."""

import base64
import hashlib
import json
import time

import pytest
import requests

from tests.support.emulator import (
    CITIZEN,
    NUMBER_ID,
    running_emulator,
    wait_until,
    webhook_receiver,
)

pytestmark = pytest.mark.usefixtures("fresh_emulator")


def error_of(response):
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["type"] == "OAuthException"
    return body["error"]


def interactive(kind, action, **extra):
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CITIZEN,
        "type": "interactive",
        "interactive": {"type": kind, "body": {"text": "चुनें / Choose"}, "action": action, **extra},
    }


def buttons(n, title="Option", button_id=None):
    return interactive(
        "button",
        {
            "buttons": [
                {"type": "reply", "reply": {"id": button_id or f"id{i}", "title": f"{title}{i}"}}
                for i in range(n)
            ]
        },
    )


def rows_list(counts, row_title="Row", description=None, section_title="Section", button="Menu"):
    sections = []
    for s, count in enumerate(counts):
        rows = []
        for r in range(count):
            row = {"id": f"r{s}-{r}", "title": f"{row_title}{r}"[:100]}
            if description is not None:
                row["description"] = description
            rows.append(row)
        sections.append({"title": f"{section_title}{s}", "rows": rows})
    return interactive("list", {"button": button, "sections": sections})


def text(body):
    return {"messaging_product": "whatsapp", "to": CITIZEN, "type": "text", "text": {"body": body}}


def test_send_needs_the_bearer_token(wa):
    payload = text("hello")
    for headers in ({}, {"Authorization": "Bearer wrong-token"}):
        response = requests.post(
            f"{wa.graph_url}/{NUMBER_ID}/messages", json=payload, headers=headers, timeout=5
        )
        assert response.status_code == 401
        assert error_of(response)["code"] == 190


def test_unknown_phone_number_id(wa):
    wa.citizen_says("hi")
    response = wa.send(text("hello"), phone_number_id="999999")
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["error_subcode"]) == (100, 33)


def test_valid_send_answers_like_meta_and_is_recorded(wa):
    wa.citizen_says("नमस्ते")
    response = wa.send({**text("नमस्ते! *स्वागत है*"), "to": "+91 98100 00001"})
    assert response.status_code == 200
    body = response.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+91 98100 00001", "wa_id": CITIZEN}]
    [message] = body["messages"]
    assert message["id"].startswith("wamid.")
    conversation = wa.conversation()
    assert [(m["direction"], m["type"]) for m in conversation] == [("in", "text"), ("out", "text")]
    assert conversation[1]["id"] == message["id"]
    assert conversation[1]["payload"]["text"]["body"] == "नमस्ते! *स्वागत है*"


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        (buttons(4), "3"),
        (buttons(2, title="T" * 20), "20"),  # 21-character title
        (text("x" * 4097), "4096"),
        (rows_list([6, 5]), "10 rows"),
        (rows_list([11]), "10 rows"),
        (buttons(1, button_id="i" * 257), "256"),
        (rows_list([2], row_title="R" * 24), "24"),  # 25-character row title
        (rows_list([2], description="d" * 73), "72"),
        (rows_list([2], section_title="S" * 24), "24"),
        (rows_list([2], button="B" * 21), "20"),
        (rows_list([1] * 11), "10 sections"),
        (
            {
                **buttons(2),
                "interactive": {**buttons(2)["interactive"], "body": {"text": "b" * 1025}},
            },
            "1024",
        ),
        (
            buttons(2)
            | {
                "interactive": buttons(2)["interactive"]
                | {"header": {"type": "text", "text": "h" * 61}}
            },
            "60",
        ),
        (
            buttons(2)
            | {"interactive": buttons(2)["interactive"] | {"footer": {"text": "f" * 61}}},
            "60",
        ),
        (buttons(0), "1 to 3"),
        ({"to": CITIZEN, "type": "text", "text": {"body": "no product"}}, "messaging_product"),
        ({"messaging_product": "whatsapp", "type": "text", "text": {"body": "no to"}}, "to"),
        (text("hi") | {"type": "carousel"}, "type"),
        ({"messaging_product": "whatsapp", "to": CITIZEN, "type": "image", "image": {}}, "id"),
    ],
)
def test_limits_are_refused_with_code_100(wa, payload, named):
    wa.citizen_says("hi")
    response = wa.send(payload)
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert error["code"] == 100
    assert named in error["message"]
    assert error["error_data"]["details"] in error["message"]
    assert wa.conversation()[-1]["direction"] == "in"  # nothing recorded


@pytest.mark.parametrize(
    "payload",
    [
        buttons(3, title="T" * 19),  # 20-character titles
        text("x" * 4096),
        rows_list([5, 5], row_title="R" * 23, description="d" * 72),
        buttons(1, button_id="i" * 256),
    ],
)
def test_payloads_at_the_limits_are_accepted(wa, payload):
    wa.citizen_says("hi")
    assert wa.send(payload).status_code == 200


def test_free_form_needs_the_24_hour_window_templates_do_not(wa):
    template = {
        "messaging_product": "whatsapp",
        "to": CITIZEN,
        "type": "template",
        "template": {
            "name": "service_update",
            "language": {"code": "hi"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "नमस्ते"}]}],
        },
    }
    never_wrote = wa.send(text("hello"))
    assert never_wrote.status_code == 400
    assert error_of(never_wrote)["code"] == 131047

    wa.citizen_says("hi")
    assert wa.send(text("inside the window")).status_code == 200
    wa.configure(clock_offset_seconds=25 * 3600)
    late = wa.send(text("a day later"))
    assert late.status_code == 400
    error = error_of(late)
    assert error["code"] == 131047 and "Re-engagement" in error["message"]
    accepted = wa.send(template)
    assert accepted.status_code == 200
    assert accepted.json()["messages"][0]["message_status"] == "accepted"
    wa.citizen_says("I am back")  # reopens the window at the shifted clock
    assert wa.send(text("welcome back")).status_code == 200


def test_window_follows_the_citizens_message_timestamp(wa):
    wa.citizen_says("old message", timestamp=int(time.time()) - 24 * 3600 - 60)
    assert error_of(wa.send(text("too late")))["code"] == 131047


def test_throughput_errors_when_switched_on(wa):
    wa.citizen_says("hi")
    wa.configure(throttle_rate=1.0)
    response = wa.send(text("throttled"))
    assert response.status_code == 429
    assert error_of(response)["code"] == 130429
    wa.configure(throttle_rate=0.0)
    assert wa.send(text("fine")).status_code == 200


def test_pair_rate_limit(wa):
    wa.citizen_says("hi")
    wa.citizen_says("hi", wa_id="919810000002")
    wa.configure(pair_rate_limit=2, pair_rate_window_seconds=60)
    assert wa.send(text("one")).status_code == 200
    assert wa.send(text("two")).status_code == 200
    third = wa.send(text("three"))
    assert third.status_code == 429
    assert error_of(third)["code"] == 131056
    other = wa.send(text("another citizen") | {"to": "919810000002"})
    assert other.status_code == 200
    wa.configure(clock_offset_seconds=61)
    assert wa.send(text("after the window")).status_code == 200


def test_media_upload_metadata_download_expiry_and_delete(wa):
    data = b"%PDF-1.4\n" + "प्रमाण पत्र".encode() + bytes(range(256))
    upload = wa.graph(
        "POST",
        f"{NUMBER_ID}/media",
        files={"file": ("certificate.pdf", data, "application/pdf")},
        data={"messaging_product": "whatsapp", "type": "application/pdf"},
    )
    assert upload.status_code == 200, upload.text
    media_id = upload.json()["id"]
    assert media_id.isdigit()

    info = wa.graph("GET", media_id)
    assert info.status_code == 200
    meta = info.json()
    assert meta["messaging_product"] == "whatsapp"
    assert meta["id"] == media_id and meta["mime_type"] == "application/pdf"
    assert meta["file_size"] == len(data)
    assert meta["sha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert meta["url"].startswith(wa.url)

    assert requests.get(meta["url"], timeout=5).status_code == 401
    download = requests.get(meta["url"], headers=wa.headers, timeout=5)
    assert download.status_code == 200 and download.content == data
    assert download.headers["Content-Type"].startswith("application/pdf")

    wa.configure(clock_offset_seconds=301)
    assert requests.get(meta["url"], headers=wa.headers, timeout=5).status_code == 404
    fresh_url = wa.graph("GET", media_id).json()["url"]
    assert requests.get(fresh_url, headers=wa.headers, timeout=5).content == data

    tampered = fresh_url.replace(f"mid={media_id}", "mid=1234567890123456")
    assert requests.get(tampered, headers=wa.headers, timeout=5).status_code == 404
    assert wa.graph("DELETE", media_id).json() == {"success": True}
    gone = wa.graph("GET", media_id)
    assert gone.status_code == 400 and error_of(gone)["code"] == 100


def test_media_upload_checks_type_and_size(wa):
    too_big = wa.graph(
        "POST",
        f"{NUMBER_ID}/media",
        files={"file": ("big.png", b"\x89PNG" + bytes(5 * 2**20), "image/png")},
        data={"messaging_product": "whatsapp", "type": "image/png"},
    )
    assert too_big.status_code == 400
    error = error_of(too_big)
    assert error["code"] == 131053 and "5242880" in error["error_data"]["details"]
    no_product = wa.graph(
        "POST", f"{NUMBER_ID}/media", files={"file": ("a.txt", b"a", "text/plain")}
    )
    assert error_of(no_product)["code"] == 100


def test_document_by_uploaded_id_and_unknown_id(wa):
    wa.citizen_says("send my certificate")
    media_id = wa.graph(
        "POST",
        f"{NUMBER_ID}/media",
        files={"file": ("c.pdf", b"%PDF-1.4 x", "application/pdf")},
        data={"messaging_product": "whatsapp", "type": "application/pdf"},
    ).json()["id"]
    document = {
        "messaging_product": "whatsapp",
        "to": CITIZEN,
        "type": "document",
        "document": {"id": media_id, "filename": "certificate.pdf", "caption": "आपका प्रमाण पत्र"},
    }
    assert wa.send(document).status_code == 200
    assert wa.conversation()[-1]["media_id"] == media_id
    unknown = wa.send(document | {"document": {"id": "1111111111111111"}})
    assert unknown.status_code == 400 and error_of(unknown)["code"] == 131053


def test_media_by_link_is_fetched_or_fails_with_a_status(wa, receiver):
    wa.citizen_says("photo please")
    uploaded = wa.upload(b"\x89PNG\r\n\x1a\nfake", "p.png", "image/png")
    link = f"{wa.url}/simulator/media/{uploaded['media_id']}"
    ok = wa.send(
        {"messaging_product": "whatsapp", "to": CITIZEN, "type": "image", "image": {"link": link}}
    )
    assert ok.status_code == 200
    ok_id = ok.json()["messages"][0]["id"]
    receiver.wait_for_statuses(ok_id, {"sent", "delivered"})
    entry = next(m for m in wa.conversation() if m["id"] == ok_id)
    fetched = requests.get(f"{wa.url}/simulator/media/{entry['media_id']}", timeout=5)
    assert fetched.content == b"\x89PNG\r\n\x1a\nfake"

    dead = "http://127.0.0.1:9/missing.pdf"
    bad = wa.send(
        {
            "messaging_product": "whatsapp",
            "to": CITIZEN,
            "type": "document",
            "document": {"link": dead},
        }
    )
    assert bad.status_code == 200  # like Meta: accepted, then a failed status
    bad_id = bad.json()["messages"][0]["id"]
    receiver.wait_for_statuses(bad_id, {"failed"})
    [failed] = [s for r in receiver.accepted() for s in r.statuses() if s["id"] == bad_id]
    assert failed["errors"][0]["code"] == 131053


def test_mark_as_read_and_typing(wa):
    first = wa.citizen_says("one")
    second = wa.citizen_says("two")
    read = {"messaging_product": "whatsapp", "status": "read", "message_id": second}
    response = wa.send(read | {"typing_indicator": {"type": "text"}})
    assert response.status_code == 200 and response.json() == {"success": True}
    statuses = {m["id"]: m["status"] for m in wa.conversation()}
    assert statuses[first] == statuses[second] == "read"
    unknown = wa.send(read | {"message_id": "wamid.unknown"})
    assert unknown.status_code == 400 and error_of(unknown)["code"] == 100


def test_phone_number_and_templates_edges(wa):
    number = wa.graph("GET", NUMBER_ID).json()
    assert number["display_phone_number"] == "+911140001000"
    templates = wa.graph("GET", "900001/message_templates")
    assert templates.status_code == 200
    listed = {(t["name"], t["language"]) for t in templates.json()["data"]}
    assert ("application_approved", "hi") in listed and ("handoff_ended", "en") in listed
    assert wa.graph("GET", "123/message_templates").status_code == 400


def test_templates_from_file_are_listed_checked_and_rendered(tmp_path):
    templates = [
        {
            "name": "application_update",
            "language": "hi",
            "category": "UTILITY",
            "components": [
                {"type": "HEADER", "format": "TEXT", "text": "दिल्ली सेवा"},
                {"type": "BODY", "text": "नमस्ते {{1}}, आपके आवेदन {{2}} की स्थिति: {{3}}"},
                {"type": "FOOTER", "text": "Delhi Sewa"},
                {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "स्थिति देखें"}]},
            ],
        }
    ]
    path = tmp_path / "templates.json"
    path.write_text(json.dumps({"data": templates}, ensure_ascii=False), encoding="utf-8")
    with (
        webhook_receiver() as receiver,
        running_emulator(
            tmp_path / "emulator", WEBHOOK_URL=receiver.url, TEMPLATES_FILE=str(path)
        ) as wa,
    ):
        listed = wa.graph("GET", "900001/message_templates").json()["data"]
        assert [(t["name"], t["language"], t["status"]) for t in listed] == [
            ("application_update", "hi", "APPROVED")
        ]

        def template(name, code, params):
            return {
                "messaging_product": "whatsapp",
                "to": CITIZEN,
                "type": "template",
                "template": {
                    "name": name,
                    "language": {"code": code},
                    "components": [
                        {
                            "type": "body",
                            "parameters": [{"type": "text", "text": p} for p in params],
                        }
                    ],
                },
            }

        assert error_of(wa.send(template("nope", "hi", [])))["code"] == 132001
        assert (
            error_of(wa.send(template("application_update", "en", ["a", "b", "c"])))["code"]
            == 132001
        )
        assert error_of(wa.send(template("application_update", "hi", ["a"])))["code"] == 132000
        sent = wa.send(template("application_update", "hi", ["आशा", "DL-123", "स्वीकृत"]))
        assert sent.status_code == 200, sent.text
        [entry] = wa.conversation()
        assert entry["rendered"]["body"] == "नमस्ते आशा, आपके आवेदन DL-123 की स्थिति: स्वीकृत"
        assert entry["rendered"]["buttons"] == [
            {"type": "QUICK_REPLY", "text": "स्थिति देखें", "payload": "स्थिति देखें"}
        ]
        # the citizen taps the template's quick reply: a `button` message with context
        wa.citizen_says(type="button", reply_id="स्थिति देखें")
        [webhook] = wait_until(lambda: [r for r in receiver.accepted() if r.messages()], timeout=5)
        [message] = webhook.messages()
        assert message["button"] == {"payload": "स्थिति देखें", "text": "स्थिति देखें"}
        assert message["context"]["id"] == entry["id"]


def test_the_registry_is_the_set_of_approved_templates(wa):
    """Without TEMPLATES_FILE the emulator approves exactly service_catalogue's registry."""
    wa.citizen_says("hi")

    def template(name, code, params, buttons=()):
        components = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}]
        components += [
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(i),
                "parameters": [{"type": "payload", "payload": b}],
            }
            for i, b in enumerate(buttons)
        ]
        return {
            "messaging_product": "whatsapp",
            "to": CITIZEN,
            "type": "template",
            "template": {"name": name, "language": {"code": code}, "components": components},
        }

    assert error_of(wa.send(template("application_lost", "hi", ["a"])))["code"] == 132001
    assert error_of(wa.send(template("application_approved", "hi", ["a"])))["code"] == 132000
    sent = wa.send(
        template("certificate_issued", "en", ["Income certificate", "APP-1", "C-9"], ["b1"])
    )
    assert sent.status_code == 200
    [entry] = [m for m in wa.conversation() if m["direction"] == "out"]
    assert entry["rendered"]["body"] == (
        "Your certificate is ready: Income certificate, application APP-1, certificate number C-9."
    )
    assert entry["rendered"]["buttons"] == [
        {"type": "QUICK_REPLY", "text": "Get certificate", "payload": "b1"}
    ]


# --- the connector's downloads of real-sized files (issue 11, defect 1) -------------------


def _pdf_of(size: int, seed: int) -> bytes:
    import numpy as np

    head = b"%PDF-1.4\n"
    body = np.random.default_rng(seed).integers(0, 256, size - len(head), dtype=np.uint8)
    return head + body.tobytes()


def _real_files() -> list[tuple[str, bytes, str]]:
    from tests.journeys.files import camera_jpeg, multipage_pdf

    return [
        ("17k.pdf", _pdf_of(17_000, 1), "application/pdf"),
        ("95k.pdf", _pdf_of(95_000, 2), "application/pdf"),
        ("419k.pdf", _pdf_of(419_428, 3), "application/pdf"),  # the size the issue saw cut
        ("camera.jpg", camera_jpeg(), "image/jpeg"),  # 2000×1500, about 2.5 MB
        ("scan.pdf", multipage_pdf(), "application/pdf"),  # 4 scanned pages
        ("big-scan.pdf", _pdf_of(4_800_000, 4), "application/pdf"),
    ]


async def test_the_connector_downloads_real_sized_files_whole(wa):
    """Every file arrives byte for byte through the emulator's media url; before the fix
    everything over ~64 KB came back cut (aiohttp's read(n) returns what has arrived)."""
    from connectors.graph import GraphClient
    from connectors.media import ALLOWED, check_upload

    graph = GraphClient(wa.graph_url, wa.token)
    refused = []
    try:
        for name, data, mime in _real_files():
            uploaded = wa.upload(data, name, mime)
            try:
                info, got = await graph.download_media(uploaded["media_id"], ALLOWED[mime][1])
            except ValueError as error:
                refused.append((name, len(data), str(error)))
                continue
            checked = check_upload(got, mime, uploaded["sha256"])
            if not checked.ok or got != data:
                refused.append((name, len(data), f"{checked.error}: got {len(got)} bytes"))
            assert info["file_size"] == len(data)
    finally:
        await graph.close()
    assert not refused, "refused: " + "; ".join(
        f"{n} ({size:,} B): {why}" for n, size, why in refused
    )
