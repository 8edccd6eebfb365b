"""backends: e-District over real HTTP (auth, input checks, scoping, idempotency,
states, certificates and their verification)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from service_catalogue.validation import verhoeff_valid
from tests.support.backends import OFFICER_TOKEN, SIGNING_KEY, Backend, running_backend, set_clock
from tests.support.pdf import pdf_text

ROOT = Path(__file__).resolve().parents[1]

CHARACTER = {  # character_certificate: fee 0, issues a certificate, SLA 15 days
    "applicant_name": "Ravi Kumar",
    "father_name": "Suresh Kumar",
    "date_of_birth": "1990-03-12",
    "address": "House 12, Gali 3, Laxmi Nagar, Delhi",
    "purpose": "job",
}
CHARACTER_DOCS = ("identity_proof", "address_proof", "photo")
INCOME = {  # income_certificate: fee 0, has a PIN and an amount
    "applicant_name": "Sunita Devi",
    "father_name": "Ram Lal",
    "address": "B-45, Shakarpur, Delhi",
    "pin_code": "110092",
    "annual_income": 120000,
    "income_source": "salary",
    "purpose": "scholarship",
}


#: The service's clock in this module: 11:30 IST on 15 June 2026, the same date in UTC
DAY = datetime(2026, 6, 15, 6, 0)


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory):
    directory = tmp_path_factory.mktemp("edistrict")
    with running_backend(directory, **set_clock(directory, DAY)) as running:
        yield running


@pytest.fixture
def clock(backend: Backend) -> Iterator[Callable[[datetime], None]]:
    """Set the service's clock for one test; back to :data:`DAY` afterwards."""
    directory = backend.storage_dir.parent

    def move(at: datetime) -> None:
        set_clock(directory, at)
        time.sleep(0.1)  # the service re-reads the offset every 0.05 s

    yield move
    move(DAY)


def new_citizen() -> str:
    """A WhatsApp id, i.e. a phone number: it must never show up in the logs."""
    return "9198" + str(uuid.uuid4().int)[:8]


def full_aadhaar(prefix: str = "23456789012") -> str:
    return next(prefix + d for d in "0123456789" if verhoeff_valid(prefix + d))


def create(
    backend: Backend,
    citizen: str,
    service_id: str = "character_certificate",
    fields: dict[str, Any] | None = None,
    key: str | None = None,
    **extra: Any,
) -> requests.Response:
    body = {"service_id": service_id, "fields": fields or CHARACTER, "language": "en", **extra}
    return requests.post(
        f"{backend.url}/edistrict/applications",
        json=body,
        headers=backend.citizen(citizen, key),
        timeout=10,
    )


def attach(backend: Backend, citizen: str, app_id: str, document_id: str) -> requests.Response:
    return requests.post(
        f"{backend.url}/edistrict/applications/{app_id}/documents",
        json={
            "document_id": document_id,
            "filename": f"{document_id}.pdf",
            "mime_type": "application/pdf",
            "size": 2048,
            "sha256": hashlib.sha256(document_id.encode()).hexdigest(),
            "storage_ref": f"uploads/{document_id}",
        },
        headers=backend.citizen(citizen),
        timeout=10,
    )


def submit(
    backend: Backend, citizen: str, app_id: str, key: str | None = None
) -> requests.Response:
    return requests.post(
        f"{backend.url}/edistrict/applications/{app_id}/submit",
        json={},
        headers=backend.citizen(citizen, key),
        timeout=10,
    )


def act(backend: Backend, app_id: str, action: str, reason: str | None = None) -> requests.Response:
    body = {"action": action} if reason is None else {"action": action, "reason": reason}
    return requests.post(
        f"{backend.url}/edistrict/applications/{app_id}/actions",
        json=body,
        headers=backend.officer(),
        timeout=10,
    )


def submitted_application(backend: Backend, citizen: str) -> str:
    app_id = create(backend, citizen).json()["application_id"]
    for doc in CHARACTER_DOCS:
        assert attach(backend, citizen, app_id, doc).status_code == 201
    assert submit(backend, citizen, app_id).json()["status"] == "submitted"
    return str(app_id)


def test_refuses_to_start_without_secrets(tmp_path: Path) -> None:
    secrets = (
        "BACKENDS_SERVICE_TOKEN",
        "BACKENDS_OFFICER_TOKEN",
        "PAYMENT_WEBHOOK_SECRET",
        "CERTIFICATE_SIGNING_KEY",
    )
    env = {k: v for k, v in os.environ.items() if k not in secrets}
    env["BACKENDS_DB_URL"] = f"sqlite:///{tmp_path / 'x.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "backends"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    for name in secrets:
        assert f"{name} is not set" in done.stderr
    assert not (tmp_path / "x.db").exists()


def test_health_and_openapi_document_every_route(backend: Backend) -> None:
    from backends.app import ROUTES

    assert requests.get(f"{backend.url}/health", timeout=5).json() == {"status": "ok"}
    doc = requests.get(f"{backend.url}/openapi.json", timeout=5).json()
    assert doc["openapi"].startswith("3.")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    served = {(m, re.sub(r"<(\w+)>", r"{\1}", p)) for m, p, _ in ROUTES}
    assert documented == served


def test_tokens_are_required_and_checked(backend: Backend) -> None:
    url = f"{backend.url}/edistrict/applications"
    missing = requests.get(url, timeout=5)
    assert missing.status_code == 401
    assert missing.json()["error"] == "unauthorized"
    wrong = requests.get(
        url, headers={"Authorization": "Bearer not-the-token", "X-Citizen-Id": "1"}, timeout=5
    )
    assert wrong.status_code == 401
    no_citizen = requests.get(url, headers={"Authorization": backend.citizen("x")["Authorization"]})
    assert no_citizen.status_code == 400
    assert no_citizen.json()["error"] == "missing_citizen_id"
    # The officer token cannot act for a citizen, the service token cannot act as officer.
    officer_create = requests.post(
        url, json={"service_id": "character_certificate"}, headers=backend.officer(), timeout=5
    )
    assert officer_create.status_code == 403
    app_id = create(backend, new_citizen()).json()["application_id"]
    as_citizen = requests.post(
        f"{url}/{app_id}/actions", json={"action": "verify"}, headers=backend.citizen("1")
    )
    assert as_citizen.status_code == 403
    # The bare officer key is no officer credential (tests/test_officer_departments.py).
    bare = requests.post(
        f"{url}/{app_id}/actions",
        json={"action": "verify"},
        headers={"Authorization": f"Bearer {OFFICER_TOKEN}", "X-Officer-Id": "officer-7"},
    )
    assert bare.status_code == 401


def test_bad_input_is_refused_with_a_clear_message(backend: Backend) -> None:
    citizen = new_citizen()
    unknown = create(backend, citizen, service_id="flying_licence")
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "unknown_service"
    assert "flying_licence" in unknown.json()["message"]

    missing = create(
        backend, citizen, fields={k: v for k, v in CHARACTER.items() if k != "father_name"}
    )
    assert missing.status_code == 400
    body = missing.json()
    assert body["error"] == "invalid_fields"
    assert body["details"]["fields"] == {"father_name": "required"}
    assert "father_name" in body["message"]

    bad_pin = create(backend, citizen, "income_certificate", {**INCOME, "pin_code": "12345"})
    assert bad_pin.status_code == 400
    assert set(bad_pin.json()["details"]["fields"]) == {"pin_code"}
    assert "pin_code" in bad_pin.json()["message"]

    stranger = create(backend, citizen, fields={**CHARACTER, "favourite_colour": "blue"})
    assert stranger.json()["details"]["fields"] == {"favourite_colour": "unknown_field"}

    bad_choice = create(backend, citizen, fields={**CHARACTER, "purpose": "world domination"})
    assert set(bad_choice.json()["details"]["fields"]) == {"purpose"}

    not_json = requests.post(
        f"{backend.url}/edistrict/applications",
        data=b"{not json",
        headers=backend.citizen(citizen),
        timeout=5,
    )
    assert not_json.status_code == 400
    assert not_json.json()["error"] == "invalid_json"
    # Nothing was created by any of these.
    listed = requests.get(f"{backend.url}/edistrict/applications", headers=backend.citizen(citizen))
    assert listed.json() == {"applications": [], "total": 0}


def test_a_full_aadhaar_number_is_never_accepted(backend: Backend) -> None:
    citizen = new_citizen()
    learner = {
        "applicant_name": "Ravi Kumar",
        "father_name": "Suresh Kumar",
        "date_of_birth": "1990-03-12",
        "gender": "male",
        "vehicle_class": "mcwg",
        "address": "House 12, Gali 3, Laxmi Nagar, Delhi",
        "aadhaar": "XXXX-XXXX-1234",
    }
    assert create(backend, citizen, "learner_licence", learner).status_code == 201
    number = full_aadhaar()
    for fields in (
        {**learner, "aadhaar": number},
        {**learner, "aadhaar": f"{number[:4]} {number[4:8]} {number[8:]}"},
        {**learner, "address": f"House 12, Laxmi Nagar, Delhi, aadhaar {number}"},
    ):
        answer = create(backend, citizen, "learner_licence", fields)
        assert answer.status_code == 400
        assert answer.json()["error"] == "aadhaar_unmasked"
        assert "XXXX-XXXX-1234" in answer.json()["message"]
    hidden = create(backend, citizen, "learner_licence", {**learner, "aadhaar": number})
    assert hidden.json()["details"]["fields"] == {"aadhaar": "aadhaar_unmasked"}
    listed = requests.get(f"{backend.url}/edistrict/applications", headers=backend.citizen(citizen))
    assert len(listed.json()["applications"]) == 1
    assert number not in listed.text


def test_another_citizens_application_answers_404(backend: Backend) -> None:
    owner, other = new_citizen(), new_citizen()
    app_id = create(backend, owner).json()["application_id"]
    base = f"{backend.url}/edistrict/applications"
    unknown = requests.get(f"{base}/APP-2000-999999", headers=backend.citizen(other))
    theirs = requests.get(f"{base}/{app_id}", headers=backend.citizen(other))
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["error"] == unknown.json()["error"] == "not_found"
    assert attach(backend, other, app_id, "photo").status_code == 404
    assert submit(backend, other, app_id).status_code == 404
    certificate = requests.get(f"{base}/{app_id}/certificate", headers=backend.citizen(other))
    assert certificate.status_code == 404
    others = requests.get(base, headers=backend.citizen(other)).json()
    assert others == {"applications": [], "total": 0}
    mine = requests.get(f"{base}/{app_id}", headers=backend.citizen(owner))
    assert mine.status_code == 200
    assert mine.json()["fields"]["applicant_name"] == "Ravi Kumar"
    assert requests.get(f"{base}/{app_id}", headers=backend.officer()).status_code == 200


def test_create_is_idempotent_per_key(backend: Backend) -> None:
    citizen = new_citizen()
    first = create(backend, citizen, key="form-1")
    again = create(backend, citizen, key="form-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["application_id"] == first.json()["application_id"]
    changed = create(backend, citizen, fields={**CHARACTER, "purpose": "visa"}, key="form-1")
    assert changed.status_code == 409
    assert changed.json()["error"] == "idempotency_conflict"
    listed = requests.get(f"{backend.url}/edistrict/applications", headers=backend.citizen(citizen))
    assert [a["application_id"] for a in listed.json()["applications"]] == [
        first.json()["application_id"]
    ]
    # Keys belong to their citizen: the same key elsewhere is a new request.
    assert create(backend, new_citizen(), key="form-1").status_code == 201
    assert create(backend, citizen, key="x" * 101).json()["error"] == "invalid_idempotency_key"
    assert re.fullmatch(r"APP-2026-\d{6}", first.json()["application_id"])


def test_ids_due_dates_and_date_fields_follow_the_calendar_in_india(
    backend: Backend, clock: Callable[[datetime], None]
) -> None:
    """At 01:30 IST on 1 January 2027 it is still 31 December 2026 in UTC: the new
    application is numbered in 2027, is due 15 days after 1 January, and a date of
    birth of 1 January 2027 is today (not in the future) while the 2nd is refused."""
    clock(datetime(2026, 12, 31, 20, 0))
    citizen = new_citizen()
    created = create(backend, citizen, fields={**CHARACTER, "date_of_birth": "2027-01-01"})
    assert created.status_code == 201, created.text
    app_id = created.json()["application_id"]
    assert re.fullmatch(r"APP-2027-\d{6}", app_id)
    for doc in CHARACTER_DOCS:
        assert attach(backend, citizen, app_id, doc).status_code == 201
    assert submit(backend, citizen, app_id).json()["sla_due"] == "2027-01-16"
    tomorrow = create(backend, citizen, fields={**CHARACTER, "date_of_birth": "2027-01-02"})
    assert tomorrow.status_code == 400
    assert tomorrow.json()["details"]["fields"] == {"date_of_birth": "date_future"}


def test_parallel_creates_get_distinct_ids_and_one_per_key(backend: Backend) -> None:
    citizen = new_citizen()
    with ThreadPoolExecutor(8) as pool:
        distinct = list(pool.map(lambda _: create(backend, citizen), range(12)))
        same_key = list(pool.map(lambda _: create(backend, citizen, key="tap-tap"), range(8)))
    assert {r.status_code for r in distinct} == {201}
    assert len({r.json()["application_id"] for r in distinct}) == 12
    assert sorted(r.status_code for r in same_key) == [200] * 7 + [201]
    assert len({r.json()["application_id"] for r in same_key}) == 1
    listed = requests.get(f"{backend.url}/edistrict/applications", headers=backend.citizen(citizen))
    assert len(listed.json()["applications"]) == 13


def test_fee_free_service_submits_straight_to_submitted(backend: Backend) -> None:
    citizen = new_citizen()
    created = create(backend, citizen)
    assert created.status_code == 201
    app = created.json()
    assert (app["status"], app["fee"], app["paid"], app["sla_due"]) == ("draft", 0, False, None)
    app_id = app["application_id"]

    early = submit(backend, citizen, app_id)
    assert early.status_code == 422
    assert early.json()["error"] == "documents_missing"
    assert early.json()["details"]["missing"] == list(CHARACTER_DOCS)

    wrong_doc = attach(backend, citizen, app_id, "birth_report")
    assert wrong_doc.status_code == 400
    assert wrong_doc.json()["details"]["fields"] == {"document_id": "unknown_document"}
    for doc in CHARACTER_DOCS:
        answer = attach(backend, citizen, app_id, doc)
        assert answer.status_code == 201
        assert answer.json()["document"]["document_id"] == doc

    done = submit(backend, citizen, app_id, key="submit-1")
    assert done.status_code == 200
    app = done.json()
    assert app["status"] == "submitted"
    assert app["paid"] is False
    assert app["sla_due"] == "2026-06-30"  # 15 days
    assert [h["status"] for h in app["history"]] == ["draft", "submitted"]
    assert sorted(d["document_id"] for d in app["documents"]) == sorted(CHARACTER_DOCS)
    # A retried submit with its key answers the same; without a key it is a wrong state.
    assert submit(backend, citizen, app_id, key="submit-1").status_code == 200
    assert submit(backend, citizen, app_id).status_code == 409
    assert attach(backend, citizen, app_id, "photo").status_code == 409


def test_officer_actions_follow_the_state_machine(backend: Backend) -> None:
    citizen = new_citizen()
    app_id = submitted_application(backend, citizen)
    early = requests.get(
        f"{backend.url}/edistrict/applications/{app_id}/certificate",
        headers=backend.citizen(citizen),
    )
    assert early.status_code == 409
    skip = act(backend, app_id, "approve")
    assert skip.status_code == 409
    assert skip.json()["error"] == "wrong_state"
    no_reason = act(backend, app_id, "reject")
    assert no_reason.status_code == 400
    assert no_reason.json()["details"]["fields"] == {"reason": "required"}
    assert act(backend, app_id, "dance").json()["details"]["fields"] == {"action": "invalid_choice"}

    back = act(backend, app_id, "request_resubmission", "The photo is not clear")
    assert back.json()["status"] == "resubmission_requested"
    assert back.json()["status_reason"] == "The photo is not clear"
    assert attach(backend, citizen, app_id, "photo").status_code == 201
    assert submit(backend, citizen, app_id).json()["status"] == "submitted"
    assert act(backend, app_id, "verify").json()["status"] == "verified"
    assert act(backend, app_id, "verify").status_code == 409
    rejected = act(backend, app_id, "reject", "Not a resident of Delhi")
    assert rejected.json()["status"] == "rejected"
    for action in ("verify", "approve", "request_resubmission"):
        assert act(backend, app_id, action, "again").status_code == 409

    history = rejected.json()["history"]
    assert [h["status"] for h in history] == [
        "draft",
        "submitted",
        "resubmission_requested",
        "submitted",
        "verified",
        "rejected",
    ]
    assert history[2]["reason"] == "The photo is not clear"
    assert history[-1]["by"] == "officer:officer-7"

    events = requests.get(f"{backend.url}/events?after=0&limit=500", headers=backend.officer())
    mine = [e for e in events.json()["events"] if e["subject_id"] == app_id]
    assert [e["payload"]["status"] for e in mine] == [h["status"] for h in history]
    assert all(e["citizen_id"] == citizen for e in mine)
    ids = [e["id"] for e in events.json()["events"]]
    assert ids == sorted(ids)
    later = requests.get(f"{backend.url}/events?after={ids[-2]}", headers=backend.officer())
    assert [e["id"] for e in later.json()["events"]] == ids[-1:]
    assert (
        requests.get(f"{backend.url}/events", headers=backend.citizen(citizen)).status_code == 403
    )


def _sign(key: str, message: str) -> str:
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _verify(backend: Backend, token: str) -> tuple[str, dict[str, Any]]:
    page = requests.get(f"{backend.url}/verify/{token}", timeout=5)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    data = requests.get(f"{backend.url}/verify/{token}?format=json", timeout=5)
    assert data.status_code == 200
    return page.text, data.json()


def test_certificate_download_and_verification(backend: Backend) -> None:
    citizen = new_citizen()
    app_id = submitted_application(backend, citizen)
    act(backend, app_id, "verify")
    approved = act(backend, app_id, "approve").json()
    assert approved["status"] == "approved"
    number = approved["certificate_number"]
    assert re.fullmatch(r"CERT-2026-\d{6}", number)

    link = requests.get(
        f"{backend.url}/edistrict/applications/{app_id}/certificate",
        headers=backend.citizen(citizen),
    ).json()
    assert link["filename"] == f"{number}.pdf"
    assert link["url"].startswith(f"{backend.url}/certificates/")
    pdf = requests.get(link["url"], timeout=10)  # no token: the link is the credential
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    text = pdf_text(pdf.content)  # as a reader gets it (the PDF's text is compressed)
    assert number in text
    assert "Ravi Kumar" in text
    # Stored outside anything the service serves, and only reachable by a signed link.
    assert (backend.storage_dir / "certificates" / f"{number}.pdf").exists()
    for bad in (
        link["url"].replace("expires=", "expires=1"),
        link["url"][:-3] + ("AAA" if not link["url"].endswith("AAA") else "BBB"),
        link["url"].split("?")[0],
    ):
        assert requests.get(bad, timeout=5).status_code == 403
    assert requests.get(f"{backend.url}/storage/certificates/{number}.pdf").status_code == 404

    # The QR code's link is printed on the certificate too.
    printed = re.search(r"/verify/([A-Za-z0-9_.-]+)", text)
    assert printed is not None, "the certificate does not print its verification link"
    token = printed.group(1)
    # <number>.<kid>.<HMAC of "kid:number">: a key can be rotated (tests/test_certificate_keys.py)
    assert token == f"{number}.k1.{_sign(SIGNING_KEY, f'k1:{number}')}"
    page, data = _verify(backend, token)
    assert "Genuine" in page and "Not valid" not in page
    assert number in page and "Ravi Kumar" in page
    assert data["valid"] is True
    assert data["applicant_name"] == "Ravi Kumar"
    assert data["service_id"] == "character_certificate"
    assert data["issued_on"] == "2026-06-15"

    signature = token.split(".", 2)[2]
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    tampered_signature = f"{number}.k1.{signature[:middle]}{flipped}{signature[middle + 1 :]}"
    other_number = number[:-1] + ("1" if number[-1] != "1" else "2")
    tampered_number = f"{other_number}.k1.{signature}"
    forged = f"{number}.k1.{_sign('some-other-key-0123456789', f'k1:{number}')}"
    unknown = f"CERT-2000-999999.k1.{_sign(SIGNING_KEY, 'k1:CERT-2000-999999')}"
    other_kid = f"{number}.k9.{_sign(SIGNING_KEY, f'k9:{number}')}"  # no such key id
    for bad_token in (tampered_signature, tampered_number, forged, unknown, other_kid, "garbage"):
        page, data = _verify(backend, bad_token)
        assert "Not valid" in page and "Genuine" not in page
        assert data["valid"] is False
        assert "Ravi Kumar" not in page


def test_logs_hold_no_personal_data(backend: Backend) -> None:
    citizen = new_citizen()
    app_id = submitted_application(backend, citizen)
    act(backend, app_id, "verify")
    act(backend, app_id, "approve")
    create(backend, citizen, fields={**CHARACTER, "address": f"Delhi {full_aadhaar()}"})
    log = backend.log()
    assert app_id in log  # the log is written, with ids
    for secret in (citizen, "Ravi", "Suresh", "Laxmi Nagar", "XXXX-XXXX", full_aadhaar()):
        assert secret not in log
