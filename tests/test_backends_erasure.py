"""Erasure of a citizen's data over real HTTP, checked by scanning every table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
from sqlalchemy import MetaData, select

from backends.db import Database
from tests.support.backends import (
    Backend,
    FakeChannel,
    backend_with_fake_channel,
)
from tests.test_backends_edistrict import CHARACTER, CHARACTER_DOCS, act, attach, create, submit
from tests.test_backends_payments import LEARNER, new_order, pending_application, wait_for

CITIZEN = "919812345678"
NAME = "Kamla Devi Sharma"
ADDRESS = "Flat 7, Mayur Vihar Phase 2, Delhi"
MOBILE = "9876543210"
#: every personal value the citizen gave, in any of their records
PERSONAL = (CITIZEN, NAME, "Mayur Vihar", MOBILE, LEARNER["applicant_name"], "Laxmi Nagar")


channel, backend = backend_with_fake_channel("erasure")


def post(backend: Backend, path: str, body: dict[str, Any], **headers: str) -> requests.Response:
    return requests.post(
        f"{backend.url}{path}",
        json=body,
        headers=headers or backend.citizen(CITIZEN),
        timeout=10,
    )


def everything_of_the_citizen(backend: Backend, channel: FakeChannel) -> dict[str, str]:
    """A certificate, a paid fee, open applications, a document file, a grievance with
    feedback, feedback, preferences and the notifications about them."""
    me = backend.citizen(CITIZEN)
    fields = {**CHARACTER, "applicant_name": NAME, "address": ADDRESS}
    certified = create(backend, CITIZEN, fields=fields).json()["application_id"]
    for doc in CHARACTER_DOCS:
        attach(backend, CITIZEN, certified, doc)
    submit(backend, CITIZEN, certified)
    act(backend, certified, "verify")
    assert act(backend, certified, "approve").json()["certificate_number"]

    paid = pending_application(backend, CITIZEN)["application_id"]
    order = new_order(backend, CITIZEN, paid).json()
    requests.post(order["payment_url"], data={"outcome": "success"}, timeout=5)

    tanker = post(
        backend,
        "/edistrict/applications",
        {
            "service_id": "water_tanker_request",
            "fields": {
                "delivery_address": ADDRESS,
                "pin_code": "110091",
                "tanker_reason": "no_supply",
                "mobile": MOBILE,
            },
            "language": "en",
        },
    ).json()["application_id"]
    submit(backend, CITIZEN, tanker)

    draft = create(backend, CITIZEN, fields=fields).json()["application_id"]
    photo = backend.storage_dir / "uploads" / f"{CITIZEN}-photo.jpg"
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(b"\xff\xd8 a face")
    uploaded = post(
        backend,
        f"/edistrict/applications/{draft}/documents",
        {
            "document_id": "photo",
            "filename": "photo.jpg",
            "mime_type": "image/jpeg",
            "size": 9,
            "sha256": "ab" * 32,
            "storage_ref": f"uploads/{CITIZEN}-photo.jpg",
        },
    )
    assert uploaded.status_code == 201

    grievance = post(
        backend,
        "/grievances",
        {
            "category": "water",
            "department": "djb",
            "description": f"No water for a week at {ADDRESS}. Call {NAME} on {MOBILE}.",
            "location": {"text": ADDRESS, "pin_code": "110091"},
            "language": "en",
        },
    ).json()["grievance_id"]
    officer = backend.officer()
    post(backend, f"/grievances/{grievance}/actions", {"action": "resolve"}, **officer)
    post(backend, f"/grievances/{grievance}/feedback", {"rating": 4, "comment": f"Thanks, {NAME}"})
    assert post(backend, "/feedback", {"rating": 5, "comment": f"{NAME} is happy"}).ok
    preferences = requests.put(
        f"{backend.url}/citizens/{CITIZEN}/preferences",
        json={"district": "east", "departments": ["djb"], "language": "en"},
        headers=me,
        timeout=5,
    )
    assert preferences.status_code == 200
    assert wait_for(
        lambda: (
            {"certificate_issued", "payment_received", "grievance_resolved"}
            <= {m["template"] for m in channel.to(CITIZEN)}
        )
    )
    return {"certified": certified, "photo": str(photo)}


def leftovers(db_url: str, certified: str) -> list[str]:
    """Every row of every table still holding a personal value, except the kept ones."""
    db = Database(db_url)
    metadata = MetaData()
    metadata.reflect(db.engine)
    found = []
    with db.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                text = " ".join(str(v) for v in row)
                hits = [value for value in PERSONAL if value in text]
                kept = (table.name == "applications" and row.id == certified) or (
                    table.name == "payment_orders"
                )
                if hits and not kept:
                    found.append(f"{table.name}: {hits}")
    db.dispose()
    return found


def test_erasure_leaves_only_the_certificate_and_payment(
    backend: Backend, channel: FakeChannel
) -> None:
    made = everything_of_the_citizen(backend, channel)
    assert leftovers(backend.db_url, made["certified"])  # the scan does see personal data

    other = post(backend, f"/citizens/{CITIZEN}/erasure", {}, **backend.citizen("919800000999"))
    assert other.status_code == 404

    erased = post(backend, f"/citizens/{CITIZEN}/erasure", {})
    assert erased.status_code == 200, erased.text
    answer = erased.json()
    assert answer["kept"] == {"certificates": 1, "payments": 1}
    assert answer["erased"]["applications"] == 3
    assert answer["erased"]["grievances"] == answer["erased"]["feedback"] == 1
    assert answer["erased"]["preferences"] == 1
    assert answer["erased"]["notifications"] >= 3

    assert leftovers(backend.db_url, made["certified"]) == []
    assert not Path(made["photo"]).exists()
    mine = requests.get(
        f"{backend.url}/edistrict/applications", headers=backend.citizen(CITIZEN), timeout=5
    ).json()["applications"]
    assert [a["application_id"] for a in mine] == [made["certified"]]
    assert mine[0]["fields"]["applicant_name"] == NAME  # the issued certificate stays whole

    again = post(backend, f"/citizens/{CITIZEN}/erasure", {}, **backend.officer("dpo-1"))
    assert again.status_code == 200
    assert set(again.json()["erased"].values()) == {0}
    assert again.json()["kept"] == answer["kept"]
    assert CITIZEN not in backend.log() and NAME not in backend.log()
