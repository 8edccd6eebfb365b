"""A citizen's whole journey, in Hindi: apply, pay in the sandbox, officer approves,
download the certificate. Real model, real action server, real backends."""

import itertools
import re
import time

import requests

from tests.test_conversation import is_hindi, say

_ids = itertools.count()
TRUSTED = {"trusted_payload": True}


def upload(name):
    return {
        "attachment": {
            "storage_ref": f"media/{name}",
            "mime_type": "image/jpeg",
            "sha256": "ab" * 32,
            "size": 2048,
            "filename": f"{name}.jpg",
        }
    }


async def test_apply_pay_approve_download(agent, backend):
    citizen = f"9198000{next(_ids):05d}"
    await say(agent, citizen, "नमस्ते")
    await say(agent, citizen, "/affirm", TRUSTED)
    replies = await say(
        agent, citizen, '/apply_service{"service": "driving_licence_renewal"}', TRUSTED
    )
    assert all(is_hindi(r["text"]) for r in replies)
    assert "1/4" in replies[-1]["text"]

    replies = await say(agent, citizen, "DL04 20110012345")
    assert "2/4" in replies[-1]["text"]
    replies = await say(agent, citizen, "31 फरवरी 1990")  # no such date
    assert "कैलेंडर" in replies[0]["text"]
    await say(agent, citizen, "12 मार्च 1990")
    await say(agent, citizen, "15/01/2027")
    replies = await say(agent, citizen, "मकान 12, गली 4, लक्ष्मी नगर, दिल्ली")
    assert "PDF" in replies[-1]["text"]  # first document asked
    replies = await say(agent, citizen, "यह रहा", upload("dl-copy"))
    assert "मिल गया" in replies[0]["text"]
    await say(agent, citizen, "skip")  # the medical certificate is optional
    replies = await say(agent, citizen, "फोटो", upload("photo"))
    summary = replies[-1]
    assert "DL04 20110012345" in summary["text"]
    assert [b["payload"] for b in summary["buttons"]] == ["/affirm", "/deny", "/cancel"]

    # change one detail: only that question comes back, then the summary again
    replies = await say(agent, citizen, "/deny", TRUSTED)
    assert [b["payload"] for b in replies[-1]["buttons"]][-1] == "address"
    replies = await say(agent, citizen, "4")
    assert "4/4" in replies[-1]["text"]
    replies = await say(agent, citizen, "मकान 7, गली 2, शाहदरा, दिल्ली")
    assert "शाहदरा" in replies[-1]["text"] and "DL04 20110012345" in replies[-1]["text"]

    replies = await say(agent, citizen, "/affirm", TRUSTED)
    text = replies[-1]["text"]
    application_id = re.search(r"APP-\d{4}-\d{6}", text).group(0)
    payment_url = re.search(r"http\S+/pay/\S+", text).group(0)
    assert "₹200" in text

    assert requests.post(payment_url, data={"outcome": "success"}, timeout=10).ok
    status = None
    for _ in range(50):
        status = requests.get(
            f"{backend.url}/edistrict/applications/{application_id}",
            headers=backend.citizen(citizen),
            timeout=5,
        ).json()["status"]
        if status == "submitted":
            break
        time.sleep(0.2)
    assert status == "submitted"

    for action in ("verify", "approve"):
        answer = requests.post(
            f"{backend.url}/edistrict/applications/{application_id}/actions",
            json={"action": action},
            headers=backend.officer(),
            timeout=10,
        )
        assert answer.ok, answer.text

    replies = await say(agent, citizen, "मेरे आवेदन की स्थिति बताइए")
    assert application_id in replies[0]["text"] and "मंज़ूर" in replies[0]["text"]
    replies = await say(agent, citizen, "प्रमाण पत्र डाउनलोड करना है")
    assert "QR" in replies[0]["text"]
    document = next(r["attachment"] for r in replies if "attachment" in r)
    assert document["type"] == "document"
    pdf = requests.get(document["url"], timeout=10)
    assert pdf.content.startswith(b"%PDF")


async def test_someone_else_cannot_see_my_application(agent, backend):
    owner, stranger = "919811100001", "919811100002"
    created = requests.post(
        f"{backend.url}/edistrict/applications",
        json={
            "service_id": "water_tanker_request",
            "fields": {
                "delivery_address": "12 Gali 4, Laxmi Nagar",
                "pin_code": "110092",
                "tanker_reason": "no_supply",
            },
            "language": "en",
            "channel": "whatsapp",
        },
        headers=backend.citizen(owner, key="e2e-owner-1"),
        timeout=10,
    ).json()
    await say(agent, stranger, "Hi")
    await say(agent, stranger, "/affirm", TRUSTED)
    replies = await say(agent, stranger, f"status of {created['application_id']}")
    assert "could not find" in replies[0]["text"]


async def test_complaint_in_hinglish(agent):
    citizen = "919822200001"
    await say(agent, citizen, "namaste ji")
    await say(agent, citizen, "/affirm", TRUSTED)
    replies = await say(agent, citizen, "shikayat darj karni hai")
    assert len(replies[-1]["buttons"]) >= 10
    await say(agent, citizen, "garbage")
    await say(agent, citizen, "gali number 4 me 5 din se kooda pada hai koi nahi uthata")
    replies = await say(agent, citizen, "skip")
    assert re.search(r"GRV-\d{4}-\d{6}", replies[-1]["text"])
    assert is_hindi(replies[-1]["text"])
