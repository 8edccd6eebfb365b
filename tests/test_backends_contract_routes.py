"""The newest routes answer as backends/openapi.py says, for each documented status:
the CSC counter, the broadcast preview and status pull (officers' dashboard pages).

Every answer here is checked against the document by ``running_backend``
(tests/support/backends_contract.py); the assertions say what the officer sees.
"""

from typing import Any

import requests

from tests.support.backends import (
    Backend,
    FakeChannel,
    backend_with_fake_channel,
)

CHARACTER = {
    "applicant_name": "Ravi Kumar",
    "father_name": "Suresh Kumar",
    "date_of_birth": "1990-03-12",
    "address": "House 12, Gali 3, Laxmi Nagar, Delhi",
    "purpose": "job",
}
NOTICE = {
    "hi": "कल सुबह 10 से 2 बजे तक पानी नहीं आएगा।",
    "en": "No water supply tomorrow from 10 am to 2 pm.",
}
OPERATOR = "csc-op-17"


channel, backend = backend_with_fake_channel("contract")


def counter(backend: Backend, app_id: str, operator: str = OPERATOR, **body: Any):
    return requests.post(
        f"{backend.url}/edistrict/applications/{app_id}/counter",
        json=body,
        headers=backend.officer(operator),
        timeout=10,
    )


def test_the_csc_counter_answers_as_documented(backend: Backend) -> None:
    created = requests.post(
        f"{backend.url}/edistrict/applications",
        json={
            "service_id": "character_certificate",
            "fields": CHARACTER,
            "language": "hi",
            "channel": "csc",
            "operator": {"id": OPERATOR, "centre": "CSC Laxmi Nagar", "confirmation": "counter"},
        },
        headers=backend.citizen("919811112222"),
        timeout=10,
    )
    assert created.status_code == 201, created.text
    app_id = created.json()["application_id"]
    assert created.json()["status"] == "awaiting_citizen_confirmation"

    # a citizen without WhatsApp: the receipt is handed over, not sent
    receipt = counter(backend, app_id, action="receipt", receipt_number="CSC-1", charge=50)
    assert receipt.status_code == 200 and receipt.json()["sent"] is False
    assert counter(backend, app_id, action="refund").status_code == 400
    assert counter(backend, app_id, "csc-op-99", action="lock").status_code == 404
    unnamed = requests.post(
        f"{backend.url}/edistrict/applications/{app_id}/counter",
        json={"action": "lock"},
        headers=backend.citizen("919811112222"),
        timeout=10,
    )
    assert unnamed.status_code == 403
    anonymous = requests.post(
        f"{backend.url}/edistrict/applications/{app_id}/counter", json={}, timeout=10
    )
    assert anonymous.status_code == 401

    locked = counter(backend, app_id, action="lock")  # too many wrong codes
    assert locked.status_code == 200 and locked.json()["status"] == "confirmation_locked"
    again = counter(backend, app_id, action="confirm")
    assert again.status_code == 409


def test_a_broadcast_preview_and_its_status_pull_answer_as_documented(
    backend: Backend, channel: FakeChannel
) -> None:
    for wa_id, district in (("919822220001", "south"), ("919822220002", "west")):
        saved = requests.put(
            f"{backend.url}/citizens/{wa_id}/preferences",
            json={"broadcasts": True, "departments": ["djb"], "district": district},
            headers=backend.citizen(wa_id),
            timeout=10,
        )
        assert saved.status_code == 200, saved.text
    body = {"department": "djb", "category": "utility", "district": "south", "text": NOTICE}
    url = f"{backend.url}/broadcasts"
    preview = requests.post(f"{url}/preview", json=body, headers=backend.officer(), timeout=10)
    assert preview.status_code == 200, preview.text
    assert preview.json()["audience"] == 1
    assert preview.json()["excluded"]["other_district"] >= 1
    assert NOTICE["hi"] in preview.json()["message"]["hi"]
    bad = requests.post(
        f"{url}/preview", json={**body, "district": "mars"}, headers=backend.officer(), timeout=10
    )
    assert bad.status_code == 400
    revenue = backend.officer("officer-rev", departments=["revenue"])
    assert (
        requests.post(f"{url}/preview", json=body, headers=revenue, timeout=10).status_code == 403
    )
    assert requests.post(f"{url}/preview", json=body, timeout=10).status_code == 401

    sent = requests.post(url, json=body, headers=backend.officer("officer-djb"), timeout=30)
    assert sent.status_code == 201, sent.text
    broadcast_id = sent.json()["broadcast_id"]
    pulled = requests.post(f"{url}/{broadcast_id}/statuses", headers=backend.officer(), timeout=30)
    assert pulled.status_code == 200 and pulled.json()["audience"] == 1
    other = requests.post(f"{url}/{broadcast_id}/statuses", headers=revenue, timeout=10)
    assert other.status_code in (403, 404)
    missing = requests.post(f"{url}/BC-none/statuses", headers=backend.officer(), timeout=10)
    assert missing.status_code == 404


def test_the_refund_list_and_record_refuse_as_documented(backend: Backend) -> None:
    url = f"{backend.url}/payments/refunds"
    due = requests.get(url, params={"status": "due"}, headers=backend.officer(), timeout=10)
    assert due.status_code == 200 and due.json()["refunds"] == []
    bad = requests.get(url, params={"limit": "many"}, headers=backend.officer(), timeout=10)
    assert bad.status_code == 400
    assert requests.get(url, timeout=10).status_code == 401
    citizen = backend.citizen("919811112222")
    assert requests.get(url, headers=citizen, timeout=10).status_code == 403
    record = {"gateway_refund_id": "rfnd_123"}
    unknown = requests.post(f"{url}/pay_none", json=record, headers=backend.officer(), timeout=10)
    assert unknown.status_code == 404
    empty = requests.post(f"{url}/pay_none", json={}, headers=backend.officer(), timeout=10)
    assert empty.status_code == 400
    assert requests.post(f"{url}/pay_none", json=record, timeout=10).status_code == 401
