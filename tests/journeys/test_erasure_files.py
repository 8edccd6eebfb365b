"""Erasing one's data on WhatsApp never deletes a file that a legally kept application
still uses (issue 13, item 8): the citizen sends their ration card in the chat, the
surrender certificate is issued, then they ask for their data to be erased. The chat
goes; the certificate's application keeps its document, and so does the file."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import requests

from tests.journeys import files
from tests.journeys.phone import Citizen, Reply
from tests.support.channel import INTERNAL_TOKEN


def shown(replies: list[Reply]) -> str:
    return "\n".join(str(r) for r in replies)


def erasure_state(system: Any, wa_id: str) -> str:
    answer = requests.get(
        f"{system.channel_url}/erase/{wa_id}",
        headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"},
        timeout=10,
    )
    return str(answer.json()["status"])


def test_a_kept_applications_document_survives_the_citizens_erasure(
    citizen: Callable[..., Citizen], system: Any
) -> None:
    phone = citizen(name="Erasure keeps a certificate's document (hi)")
    phone.says("नमस्ते")
    phone.taps("हाँ")
    replies = phone.says("मुझे राशन कार्ड सरेंडर करना है")
    assert "राशन कार्ड नंबर" in phone.all_text(replies), shown(replies)
    phone.says("1234567890")
    replies = phone.says("सुनीता देवी")
    assert replies[-1].options, shown(replies)
    phone.taps("दिल्ली छोड़ रहे हैं")
    replies = phone.says("मकान नं. 5, सेक्टर 3, नोएडा, उत्तर प्रदेश")
    assert "राशन कार्ड" in phone.all_text(replies), shown(replies)  # the document asked for
    replies = phone.attaches(files.camera_jpeg(seed=41))
    replies = phone.taps("जमा करें")
    found = re.search(r"APP-\d{4}-\d{6}", phone.all_text(replies))
    assert found, shown(replies)
    application_id = found.group(0)

    backend = system.backend
    url = f"{backend.url}/edistrict/applications/{application_id}"
    application = requests.get(url, headers=backend.officer(), timeout=10).json()
    assert application["status"] == "submitted", application
    [document] = application["documents"]
    stored = system.media_dir / document["storage_ref"].split("/")[-1]
    assert stored.is_file()
    for action in ("verify", "approve"):
        acted = requests.post(
            f"{url}/actions", json={"action": action}, headers=backend.officer(), timeout=30
        )
        assert acted.ok, acted.text
    assert acted.json()["certificate_number"]
    # the "certificate ready" message arrives first (its button is not the one tapped below)
    phone.waits_for(lambda r: any("प्रमाणपत्र" in o[2] for o in r.options))

    replies = phone.says("मेरा डेटा मिटा दो")
    assert "मिटवाना चाहते हैं" in phone.all_text(replies), shown(replies)
    replies = phone.taps("हाँ, मिटा दें")
    assert "मिटा दिया गया" in phone.all_text(replies), shown(replies)
    deadline = time.monotonic() + 60
    while erasure_state(system, phone.wa_id) != "done":
        assert time.monotonic() < deadline, "the chat was never erased"
        time.sleep(0.2)

    kept = requests.get(url, headers=backend.officer(), timeout=10).json()
    assert kept["documents"] and kept["certificate_number"]
    assert stored.is_file(), "the erasure deleted the document of a kept application"
