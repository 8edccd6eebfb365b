"""The application desk, grievance desk, broadcasts and CSC assisted mode against the
real backends (with a fake channel that records what citizens receive) and the real
dashboard, both over HTTP."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select, update

from backends.db import Application
from backends.db import Database as BackendsDatabase
from dashboard.db import AuditEntry
from dashboard.db import Database as DashboardDatabase
from tests.support.backends import (
    Backend,
    FakeChannel,
    backend_with_fake_channel,
)
from tests.support.dashboard import Dashboard, csrf_of, running_dashboard
from tests.test_backends_edistrict import (
    create,
    full_aadhaar,
    new_citizen,
    submitted_application,
)
from tests.test_backends_payments import wait_for

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


channel, backend = backend_with_fake_channel("desk-backend")


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[Dashboard]:
    with running_dashboard(tmp_path_factory.mktemp("desk"), backends_url=backend.url) as running:
        running.add_user("pooja", "officer", ["police"], name="Pooja Singh")
        running.add_user("vikram", "officer", ["police"], name="Vikram Rao")
        running.add_user("ravi", "officer", ["revenue"], name="Ravi Kumar")
        running.add_user("csc.anil", "csc_operator", centre="CSC Laxmi Nagar", name="Anil")
        yield running


@pytest.fixture(scope="module")
def police(dash: Dashboard) -> requests.Session:
    return dash.sign_in("pooja")


@pytest.fixture(scope="module")
def revenue(dash: Dashboard) -> requests.Session:
    return dash.sign_in("ravi")


def media_dir(dash: Dashboard) -> Path:
    return Path(dash.db_url.split("///", 1)[1]).parent / "media"


def audited(dash: Dashboard, **where: Any) -> list[AuditEntry]:
    db = DashboardDatabase(dash.db_url)
    try:
        query = select(AuditEntry).order_by(AuditEntry.id)
        for key, value in where.items():
            query = query.where(getattr(AuditEntry, key) == value)
        return db.run(lambda s: list(s.execute(query).scalars()))
    finally:
        db.dispose()


def backend_get(backend: Backend, path: str, **params: str) -> dict[str, Any]:
    answer = requests.get(
        f"{backend.url}{path}", params=params, headers=backend.officer(), timeout=10
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def decide(
    dash: Dashboard, browser: requests.Session, app_id: str, action: str, reason: str = ""
) -> requests.Response:
    """Press a decision button on the application page."""
    path = f"/applications/{app_id}"
    return dash.post(browser, f"{path}/actions", {"action": action, "reason": reason}, page=path)


def templates_to(channel: FakeChannel, citizen: str) -> list[str]:
    return [body["template"] for body in channel.to(citizen)]


# --------------------------------------------------------------------------- applications


def test_officer_decides_on_the_desk_and_the_citizen_is_notified(
    dash: Dashboard, backend: Backend, channel: FakeChannel, police: requests.Session
) -> None:
    citizen = new_citizen()
    app_id = submitted_application(backend, citizen)
    queue = police.get(f"{dash.url}/applications", timeout=10)
    assert app_id in queue.text and "Police Character Certificate" in queue.text
    page = police.get(f"{dash.url}/applications/{app_id}", timeout=10)
    assert page.status_code == 200 and "Ravi Kumar" in page.text and citizen not in page.text
    assert 'value="verify"' in page.text and 'value="approve"' not in page.text  # not yet

    for action in ("verify", "approve"):
        done = decide(dash, police, app_id, action)
        assert done.status_code == 200 and done.url.endswith(f"?done={action}")
    application = backend_get(backend, f"/edistrict/applications/{app_id}")
    assert application["status"] == "approved"
    assert application["history"][-1]["by"] == "officer:pooja"
    # A certificate-issuing service announces the approval with the certificate.
    assert wait_for(lambda: "certificate_issued" in templates_to(channel, citizen), 30)
    actions = [e.action for e in audited(dash, subject=app_id, username="pooja")]
    assert actions[:1] == ["application.view"] and "application.approve" in actions
    assert audited(dash, action="applications.list", username="pooja")

    again = decide(dash, police, app_id, "approve")
    assert again.status_code == 409 and "changed in the meantime" in again.text


def test_officer_of_another_department_is_refused_and_it_is_audited(
    dash: Dashboard, backend: Backend, revenue: requests.Session
) -> None:
    app_id = submitted_application(backend, new_citizen())
    page = revenue.get(f"{dash.url}/applications/{app_id}", timeout=10)
    assert page.status_code == 403 and "not allowed" in page.text
    assert "Ravi Kumar" not in page.text.replace(">Ravi Kumar<", "")  # only the header's name
    token = csrf_of(revenue.get(f"{dash.url}/applications", timeout=10).text)
    acted = revenue.post(
        f"{dash.url}/applications/{app_id}/actions",
        data={"csrf_token": token, "action": "verify"},
        timeout=10,
    )
    assert acted.status_code == 403
    preview = revenue.get(f"{dash.url}/applications/{app_id}/documents/photo", timeout=10)
    assert preview.status_code == 403
    assert backend_get(backend, f"/edistrict/applications/{app_id}")["status"] == "submitted"
    denied = audited(dash, action="access_denied", subject=app_id, username="ravi")
    assert len(denied) == 3 and denied[0].detail == {"department": "police"}
    assert revenue.get(f"{dash.url}/applications", timeout=10).text.count(app_id) == 0


def test_reject_and_resubmission_need_a_reason_the_citizen_reads(
    dash: Dashboard, backend: Backend, channel: FakeChannel, police: requests.Session
) -> None:
    citizen = new_citizen()
    app_id = submitted_application(backend, citizen)
    refused = decide(dash, police, app_id, "reject", " ")
    assert refused.status_code == 400 and "Give a reason" in refused.text
    reason = "The photo is not readable; please attach a clear photo."
    assert decide(dash, police, app_id, "request_resubmission", reason).ok
    application = backend_get(backend, f"/edistrict/applications/{app_id}")
    assert (application["status"], application["status_reason"]) == (
        "resubmission_requested",
        reason,
    )
    assert wait_for(lambda: "application_resubmission" in templates_to(channel, citizen), 30)


def test_document_preview_streams_the_stored_file_only_while_it_is_intact(
    dash: Dashboard, backend: Backend, police: requests.Session
) -> None:
    citizen = new_citizen()
    created = create(backend, citizen).json()
    app_id = created["application_id"]
    sha = hashlib.sha256(PDF).hexdigest()
    stored = media_dir(dash) / f"{sha}.pdf"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(PDF)
    document = {
        "document_id": "photo",
        "filename": "photo.pdf",
        "mime_type": "application/pdf",
        "size": len(PDF),
        "sha256": sha,
        "storage_ref": f"media/{sha}.pdf",
    }
    attached = requests.post(
        f"{backend.url}/edistrict/applications/{app_id}/documents",
        json=document,
        headers=backend.citizen(citizen),
        timeout=10,
    )
    assert attached.status_code == 201, attached.text
    url = f"{dash.url}/applications/{app_id}/documents/photo"
    page = police.get(f"{dash.url}/applications/{app_id}", timeout=10).text
    assert f'src="/applications/{app_id}/documents/photo"' in page
    preview = police.get(url, timeout=10)
    assert preview.status_code == 200 and preview.content == PDF
    assert preview.headers["content-type"] == "application/pdf"
    assert preview.headers["content-disposition"] == "inline"
    assert audited(dash, action="document.view", subject=app_id)[0].detail == {
        "document_id": "photo"
    }
    stored.write_bytes(PDF + b"tampered")
    assert police.get(url, timeout=10).status_code == 404
    assert police.get(f"{url}x", timeout=10).status_code == 404


def test_queue_filters_by_status_service_and_sla(
    dash: Dashboard, backend: Backend, police: requests.Session
) -> None:
    late = submitted_application(backend, new_citizen())
    fresh = submitted_application(backend, new_citizen())
    verified = submitted_application(backend, new_citizen())
    assert decide(dash, police, verified, "verify").ok
    db = BackendsDatabase(backend.db_url)
    try:
        past = date.today() - timedelta(days=3)
        db.run(
            lambda s: s.execute(
                update(Application).where(Application.id == late).values(sla_due=past)
            )
        )
    finally:
        db.dispose()

    def shown(**params: str) -> set[str]:
        page = police.get(f"{dash.url}/applications", params=params, timeout=10)
        assert page.status_code == 200
        return set(re.findall(r"APP-\d{4}-\d{6}", page.text))

    assert {late, fresh, verified} <= shown()
    overdue = shown(sla="overdue")
    assert late in overdue and fresh not in overdue
    only_verified = shown(status="verified")
    assert verified in only_verified and fresh not in only_verified
    assert not shown(service="tenant_verification") & {late, fresh, verified}
    assert {late, fresh, verified} <= shown(service="character_certificate")


# --------------------------------------------------------------------------- grievances


def new_grievance(backend: Backend, citizen: str, department: str = "police") -> str:
    body = {
        "category": "staff_behaviour",
        "department": department,
        "language": "hi",
        "description": "The beat constable asked for money to verify my address.",
    }
    created = requests.post(
        f"{backend.url}/grievances",
        json=body,
        headers=backend.citizen(citizen, key=str(uuid.uuid4())),
        timeout=10,
    )
    assert created.status_code == 201, created.text
    return str(created.json()["grievance_id"])


def test_grievance_is_assigned_replied_and_resolved_from_the_desk(
    dash: Dashboard,
    backend: Backend,
    channel: FakeChannel,
    police: requests.Session,
    revenue: requests.Session,
) -> None:
    citizen = new_citizen()
    grievance_id = new_grievance(backend, citizen)
    queue = police.get(f"{dash.url}/grievances", timeout=10).text
    assert grievance_id in queue and "data-due=" in queue
    path = f"/grievances/{grievance_id}"
    assert revenue.get(f"{dash.url}{path}", timeout=10).status_code == 403

    def act(**form: str) -> requests.Response:
        return dash.post(police, f"{path}/actions", form, page=path)

    assert act(action="assign", officer="vikram").ok
    assert backend_get(backend, f"/grievances/{grievance_id}")["assigned_to"] == "vikram"
    assert act(action="assign", officer="ravi").status_code == 403  # another department
    assert act(action="assign").ok  # to oneself
    mine = police.get(f"{dash.url}/grievances", params={"assigned": "me"}, timeout=10).text
    assert grievance_id in mine

    empty = act(action="reply", message="")
    assert empty.status_code == 400 and "Write a message" in empty.text
    reply = "We have sent an inspector; you will be contacted within two days."
    assert act(action="reply", message=reply).ok
    assert act(action="resolve", message="Inquiry done.").ok

    grievance = backend_get(backend, f"/grievances/{grievance_id}")
    assert (grievance["status"], grievance["assigned_to"]) == ("resolved", "pooja")
    replied = [h for h in grievance["history"] if h["event"] == "replied"]
    assert replied and replied[0]["message"] == reply and replied[0]["by"] == "officer:pooja"
    assert wait_for(lambda: "grievance_resolved" in templates_to(channel, citizen), 30)
    assert "grievance_updated" in templates_to(channel, citizen)
    actions = [e.action for e in audited(dash, subject=grievance_id)]
    for expected in ("grievance.view", "grievance.assign", "grievance.reply", "grievance.resolve"):
        assert expected in actions
    closed = police.get(f"{dash.url}{path}", timeout=10).text
    assert 'value="resolve"' not in closed and reply in closed


# --------------------------------------------------------------------------- broadcasts


def test_broadcast_is_sent_once_for_the_officers_department_with_a_report(
    dash: Dashboard, backend: Backend, police: requests.Session
) -> None:
    page = police.get(f"{dash.url}/broadcasts", timeout=10)
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text)
    assert nonce
    form = {
        "department": "police",
        "category": "utility",
        "district": "east",
        "nonce": nonce.group(1),
        "text_hi": "थाने में रविवार को सत्यापन शिविर लगेगा।",
        "text_en": "A verification camp is held at the police station on Sunday.",
    }
    first = police.post(f"{dash.url}/broadcasts", data={"csrf_token": csrf_of(page.text), **form})
    second = police.post(f"{dash.url}/broadcasts", data={"csrf_token": csrf_of(page.text), **form})
    assert first.ok and second.ok and "is being sent" in first.text
    ours = [
        b
        for b in backend_get(backend, "/broadcasts", department="police")["broadcasts"]
        if b["text"]["en"] == form["text_en"]
    ]
    assert len(ours) == 1, "a double submit must not send twice"
    assert (ours[0]["officer_id"], ours[0]["district"]) == ("pooja", "east")
    report = police.get(f"{dash.url}/broadcasts/reports.json", timeout=10).json()["reports"]
    assert set(report[ours[0]["broadcast_id"]]) == {
        "audience",
        "sent",
        "delivered",
        "read",
        "failed",
        "opted_out",
        "pending",
    }
    assert audited(dash, action="broadcast.create", subject=ours[0]["broadcast_id"])

    token = csrf_of(page.text)
    missing = police.post(
        f"{dash.url}/broadcasts", data={"csrf_token": token, **form, "text_hi": ""}, timeout=10
    )
    assert missing.status_code == 400 and "both Hindi and English" in missing.text
    elsewhere = police.post(
        f"{dash.url}/broadcasts", data={"csrf_token": token, **form, "department": "revenue"}
    )
    assert elsewhere.status_code == 403


# --------------------------------------------------------------------------- CSC


def csc_form(mobile: str, **fields: str) -> dict[str, str]:
    values = {
        "service": "learner_licence",
        "mobile": mobile,
        "language": "hi",
        "field_applicant_name": "Kamla Devi",
        "field_father_name": "Hari Ram",
        "field_date_of_birth": "12-03-1990",
        "field_gender": "female",
        "field_vehicle_class": "mcwg",
        "field_address": "H. No. 7, Gali 2, Seelampur, Delhi",
        "field_aadhaar": full_aadhaar(),
    }
    values.update(fields)
    return values


def documents(*names: str) -> dict[str, tuple[str, bytes, str]]:
    return {f"document_{n}": (f"{n}.pdf", PDF + n.encode(), "application/pdf") for n in names}


LEARNER_DOCS = ("address_proof", "age_proof", "photo", "signature")


def test_csc_operator_files_for_a_citizen_who_then_confirms(
    dash: Dashboard, backend: Backend, channel: FakeChannel
) -> None:
    operator = dash.sign_in("csc.anil")
    national = "98" + str(uuid.uuid4().int)[:8]
    citizen = "91" + national
    page = operator.get(f"{dash.url}/csc/new?service=learner_licence", timeout=10)
    assert page.status_code == 200 and "लर्नर" in page.text  # Hindi labels beside English
    token = csrf_of(page.text)
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text)
    assert nonce
    filed = operator.post(
        f"{dash.url}/csc/new",
        data={"csrf_token": token, "nonce": nonce.group(1), **csc_form(national)},
        files=documents(*LEARNER_DOCS),
        timeout=30,
    )
    assert filed.status_code == 200, filed.text[-2000:]
    assert "/csc/filings" in filed.url and "Awaiting the citizen" in filed.text
    application_id = re.search(r"APP-\d{4}-\d{6}", filed.url)
    assert application_id
    app_id = application_id.group(0)

    mine = backend_get(backend, "/edistrict/applications", status="awaiting_citizen_confirmation")
    (application,) = [a for a in mine["applications"] if a["application_id"] == app_id]
    assert application["channel"] == "csc"
    assert application["operator"] == {
        "id": "csc.anil",
        "name": "Anil",
        "centre": "CSC Laxmi Nagar",
    }
    assert re.fullmatch(r"XXXX-XXXX-\d{4}", application["fields"]["aadhaar"])
    assert sorted(d["document_id"] for d in application["documents"]) == sorted(LEARNER_DOCS)
    for d in application["documents"]:
        assert (media_dir(dash) / Path(d["storage_ref"]).name).is_file()
    assert full_aadhaar() not in dash.log()
    assert full_aadhaar() not in str([e.detail for e in audited(dash)])

    assert wait_for(lambda: "csc_confirmation" in templates_to(channel, citizen), 30)
    (message,) = [m for m in channel.to(citizen) if m["template"] == "csc_confirmation"]
    code = str(message["parameters"][-1])
    confirmed = requests.post(
        f"{backend.url}/edistrict/applications/{app_id}/confirm",
        json={"code": code},
        headers=backend.citizen(citizen),
        timeout=10,
    )
    assert confirmed.status_code == 200, confirmed.text
    filings = operator.get(f"{dash.url}/csc/filings", timeout=10).text
    row = re.search(rf'data-application="{app_id}".*?</tr>', filings, re.S)
    assert row and "Confirmed by the citizen" in row.group(0) and national not in filings
    assert audited(dash, action="csc.file", subject=app_id, username="csc.anil")


def test_csc_form_errors_are_shown_per_field_and_nothing_is_filed(
    dash: Dashboard, backend: Backend
) -> None:
    operator = dash.sign_in("csc.anil")
    before = backend_get(backend, "/edistrict/applications", limit="500")["total"]
    page = operator.get(f"{dash.url}/csc/new?service=learner_licence", timeout=10)
    bad = csc_form("12345", field_date_of_birth="31-02-1990", field_aadhaar="123412341234")
    fake_pdf = ("s.pdf", b"<html>not a pdf", "application/pdf")
    refused = operator.post(
        f"{dash.url}/csc/new",
        data={"csrf_token": csrf_of(page.text), **bad},
        files={**documents("address_proof", "age_proof", "photo"), "document_signature": fake_pdf},
        timeout=30,
    )
    assert refused.status_code == 400
    errors = dict(re.findall(r'data-error="([a-z_]+)">([^<]+)<', refused.text))
    assert set(errors) == {"date_of_birth", "aadhaar", "signature"}
    assert "10-digit" in refused.text  # the mobile number
    assert "123412341234" not in refused.text  # an Aadhaar entry is never echoed back
    assert backend_get(backend, "/edistrict/applications", limit="500")["total"] == before
