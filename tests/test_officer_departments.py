"""Officers act in their own departments only (issue 13, item 4): the backends take a
credential the dashboard signs (``ops.tokens``) naming the officer and departments, and
refuse (403) every application, grievance and broadcast of another department. The bare
shared key, with any X-Officer-Id, no longer makes anyone an officer."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from ops import tokens
from tests.support.backends import OFFICER_TOKEN, Backend, running_backend

INCOME = {  # income_certificate: the revenue department's
    "applicant_name": "Sunita Devi",
    "father_name": "Ram Lal",
    "address": "B-45, Shakarpur, Delhi",
    "pin_code": "110092",
    "annual_income": 120000,
    "income_source": "salary",
    "purpose": "scholarship",
}
INCOME_DOCS = ("identity_proof", "address_proof", "income_proof", "photo")
REVENUE = {"revenue"}
TRANSPORT = {"transport"}


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    with running_backend(tmp_path_factory.mktemp("departments")) as running:
        yield running


def officer(officer_id: str, departments: set[str]) -> dict[str, str]:
    return Backend.officer(officer_id, departments)


def revenue_application(backend: Backend) -> str:
    citizen = "9197" + str(uuid.uuid4().int)[:8]
    created = requests.post(
        f"{backend.url}/edistrict/applications",
        json={"service_id": "income_certificate", "fields": INCOME, "language": "en"},
        headers=backend.citizen(citizen),
        timeout=10,
    )
    assert created.status_code == 201, created.text
    app_id = str(created.json()["application_id"])
    for doc in INCOME_DOCS:
        attached = requests.post(
            f"{backend.url}/edistrict/applications/{app_id}/documents",
            json={
                "document_id": doc,
                "filename": f"{doc}.pdf",
                "mime_type": "application/pdf",
                "size": 2048,
                "sha256": hashlib.sha256(doc.encode()).hexdigest(),
                "storage_ref": f"uploads/{doc}",
            },
            headers=backend.citizen(citizen),
            timeout=10,
        )
        assert attached.status_code == 201, attached.text
    submitted = requests.post(
        f"{backend.url}/edistrict/applications/{app_id}/submit",
        json={},
        headers=backend.citizen(citizen),
        timeout=10,
    )
    assert submitted.json()["status"] == "submitted", submitted.text
    return app_id


def act(backend: Backend, app_id: str, action: str, headers: dict[str, str]) -> requests.Response:
    return requests.post(
        f"{backend.url}/edistrict/applications/{app_id}/actions",
        json={"action": action},
        headers=headers,
        timeout=10,
    )


def status(backend: Backend, app_id: str) -> str:
    url = f"{backend.url}/edistrict/applications/{app_id}"
    return str(requests.get(url, headers=officer("rev-1", REVENUE), timeout=10).json()["status"])


def test_a_transport_officer_cannot_approve_a_revenue_application(backend: Backend) -> None:
    app_id = revenue_application(backend)
    assert act(backend, app_id, "verify", officer("rev-1", REVENUE)).status_code == 200

    refused = act(backend, app_id, "approve", officer("tpt-1", TRANSPORT))
    assert refused.status_code == 403
    assert refused.json()["error"] == "wrong_department"
    assert status(backend, app_id) == "verified"
    seen = requests.get(
        f"{backend.url}/edistrict/applications/{app_id}",
        headers=officer("tpt-1", TRANSPORT),
        timeout=10,
    )
    assert seen.status_code == 403

    assert act(backend, app_id, "approve", officer("rev-1", REVENUE)).status_code == 200
    assert status(backend, app_id) == "approved"


def test_an_officer_lists_only_their_departments_applications(backend: Backend) -> None:
    app_id = revenue_application(backend)
    url = f"{backend.url}/edistrict/applications"
    params = {"status": "submitted", "limit": "200"}
    mine = requests.get(url, params=params, headers=officer("rev-1", REVENUE), timeout=10)
    theirs = requests.get(url, params=params, headers=officer("tpt-1", TRANSPORT), timeout=10)
    assert app_id in [a["application_id"] for a in mine.json()["applications"]]
    assert app_id not in [a["application_id"] for a in theirs.json()["applications"]]


def test_grievances_and_broadcasts_of_another_department_are_refused(backend: Backend) -> None:
    filed = requests.post(
        f"{backend.url}/grievances",
        json={
            "category": "water",
            "department": "djb",
            "description": "No water supply in our lane for three days.",
            "location": {"text": "Gali 4, Shakarpur"},
            "language": "hi",
        },
        headers=backend.citizen("919712345678"),
        timeout=10,
    )
    assert filed.status_code == 201, filed.text
    grievance = f"{backend.url}/grievances/{filed.json()['grievance_id']}"
    assign = {"action": "assign"}
    tpt, djb = officer("tpt-1", TRANSPORT), officer("je-djb-1", {"djb"})
    assert requests.post(f"{grievance}/actions", json=assign, headers=tpt).status_code == 403
    assert requests.get(grievance, headers=tpt, timeout=10).status_code == 403
    assert requests.post(f"{grievance}/actions", json=assign, headers=djb).status_code == 200

    notice = {"department": "djb", "category": "utility", "text": {"hi": "सूचना", "en": "Notice"}}
    sent = requests.post(f"{backend.url}/broadcasts", json=notice, headers=tpt, timeout=10)
    assert sent.status_code == 403
    assert sent.json()["error"] == "wrong_department"


@pytest.mark.parametrize(
    "credential",
    [
        OFFICER_TOKEN,  # the bare shared key: the old officer token
        tokens.sign_officer("another-key-0123456789", "rev-1", REVENUE),
        tokens.sign_officer(OFFICER_TOKEN, "rev-1", REVENUE, now=time.time() - 3600),
        tokens.sign_officer(OFFICER_TOKEN, "tpt-1", TRANSPORT).replace(".", ".x", 1),
    ],
    ids=["bare-key", "wrong-key", "expired", "tampered"],
)
def test_only_a_valid_signed_credential_makes_an_officer(backend: Backend, credential) -> None:
    app_id = revenue_application(backend)
    headers = {"Authorization": f"Bearer {credential}", "X-Officer-Id": "rev-1"}
    answer = act(backend, app_id, "verify", headers)
    assert answer.status_code == 401
    assert status(backend, app_id) == "submitted"


def test_the_officer_is_the_one_the_credential_names(backend: Backend) -> None:
    app_id = revenue_application(backend)
    headers = {**officer("rev-1", REVENUE), "X-Officer-Id": "rev-2"}
    assert act(backend, app_id, "verify", headers).status_code == 403
