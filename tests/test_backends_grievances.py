"""backends: grievances (register, status, SLA escalation, officer actions, feedback)
and the feedback endpoint, over real HTTP."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import update

from backends.db import Database, Grievance
from service_catalogue.validation import verhoeff_valid
from tests.support.backends import Backend, running_backend, set_clock

COMPLAINT = {
    "category": "water",
    "department": "djb",
    "description": "No water supply in our lane for three days.",
    "location": {"text": "Gali 4, Shakarpur", "latitude": 28.63, "longitude": 77.28},
    "language": "hi",
}


#: The service's clock here: 01:30 IST on 8 December 2026, still the 7th in UTC
NIGHT = datetime(2026, 12, 7, 20, 0)


@contextlib.contextmanager
def pinned_backend(directory: Path, **env: str) -> Iterator[Backend]:
    with running_backend(directory, **set_clock(directory, NIGHT), **env) as running:
        yield running


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    # The background escalator stays out of the way: tests call escalate-due themselves.
    directory = tmp_path_factory.mktemp("grievances")
    with pinned_backend(directory, ESCALATION_INTERVAL_SECONDS="3600") as running:
        yield running


def new_citizen() -> str:
    return "9196" + str(uuid.uuid4().int)[:8]


def register(
    backend: Backend, citizen: str, key: str | None = None, **changes: Any
) -> requests.Response:
    return requests.post(
        f"{backend.url}/grievances",
        json={**COMPLAINT, **changes},
        headers=backend.citizen(citizen, key),
        timeout=10,
    )


def grievance(backend: Backend, citizen: str, grievance_id: str) -> dict[str, Any]:
    return dict(
        requests.get(
            f"{backend.url}/grievances/{grievance_id}", headers=backend.citizen(citizen)
        ).json()
    )


def act(backend: Backend, grievance_id: str, **body: Any) -> requests.Response:
    return requests.post(
        f"{backend.url}/grievances/{grievance_id}/actions",
        json=body,
        headers=backend.officer("officer-9"),
        timeout=10,
    )


def feedback(backend: Backend, citizen: str, grievance_id: str, **body: Any) -> requests.Response:
    return requests.post(
        f"{backend.url}/grievances/{grievance_id}/feedback",
        json=body,
        headers=backend.citizen(citizen),
        timeout=10,
    )


def make_overdue(backend: Backend, grievance_id: str) -> None:
    past = NIGHT - timedelta(minutes=5)  # the service's clock is at NIGHT or later
    db = Database(backend.db_url)
    db.run(
        lambda s: s.execute(
            update(Grievance).where(Grievance.id == grievance_id).values(due_at=past)
        )
    )
    db.dispose()


def escalate(backend: Backend) -> list[str]:
    answer = requests.post(f"{backend.url}/grievances/escalate-due", headers=backend.officer())
    assert answer.status_code == 200
    return list(answer.json()["escalated"])


def test_register_and_track_a_grievance(backend: Backend) -> None:
    citizen = new_citizen()
    first = register(backend, citizen, key="complaint-1")
    assert first.status_code == 201
    g = first.json()
    assert g["grievance_id"].startswith("GRV-2026-")
    assert len(g["grievance_id"]) == len("GRV-2026-000001")
    assert (g["status"], g["escalation_level"], g["category"], g["department"]) == (
        "open",
        0,
        "water",
        "djb",
    )
    assert g["location"]["text"] == "Gali 4, Shakarpur"
    # Water complaints have a 3-day SLA (service_catalogue/grievances.yml).
    due = datetime.fromisoformat(g["due_at"].rstrip("Z"))
    assert timedelta(days=3) <= due - NIGHT < timedelta(days=3, minutes=5)
    # due 10 December 20:00 UTC, which is 11 December in Delhi: the date shown
    assert (g["due_at"][:10], g["sla_due"]) == ("2026-12-10", "2026-12-11")

    again = register(backend, citizen, key="complaint-1")
    assert again.status_code == 200
    assert again.json()["grievance_id"] == g["grievance_id"]
    assert register(backend, citizen, key="complaint-1", category="sewer").status_code == 409
    listed = requests.get(f"{backend.url}/grievances", headers=backend.citizen(citizen)).json()
    assert [x["grievance_id"] for x in listed["grievances"]] == [g["grievance_id"]]

    assert grievance(backend, citizen, g["grievance_id"])["status"] == "open"
    other = requests.get(
        f"{backend.url}/grievances/{g['grievance_id']}", headers=backend.citizen(new_citizen())
    )
    assert other.status_code == 404
    assert feedback(backend, new_citizen(), g["grievance_id"], rating=5).status_code == 404


def test_bad_grievances_are_refused_with_a_clear_message(backend: Backend) -> None:
    citizen = new_citizen()
    short = register(backend, citizen, description="No water")
    assert short.status_code == 400
    assert short.json()["error"] == "invalid_fields"
    assert short.json()["details"]["fields"] == {"description": "too_short"}
    assert "10" in short.json()["message"] and "description" in short.json()["message"]
    long = register(backend, citizen, description="x" * 2001)
    assert long.json()["details"]["fields"] == {"description": "too_long"}
    wrong = register(backend, citizen, category="aliens", department="nasa")
    assert wrong.json()["details"]["fields"] == {
        "category": "invalid_choice",
        "department": "invalid_choice",
    }
    place = register(backend, citizen, location={"latitude": 123, "pin_code": "12"})
    assert set(place.json()["details"]["fields"]) == {"location.latitude", "location.pin_code"}
    number = next(f"23456789012{d}" for d in "0123456789" if verhoeff_valid(f"23456789012{d}"))
    leaked = register(backend, citizen, description=f"My aadhaar {number} was misused here")
    assert leaked.status_code == 400
    assert leaked.json()["error"] == "aadhaar_unmasked"
    assert leaked.json()["details"]["fields"] == {"description": "aadhaar_unmasked"}
    listed = requests.get(f"{backend.url}/grievances", headers=backend.citizen(citizen)).json()
    assert listed == {"grievances": [], "total": 0}


def test_overdue_grievances_escalate_once_per_breach(backend: Backend) -> None:
    citizen = new_citizen()
    grievance_id = register(backend, citizen).json()["grievance_id"]
    assert grievance_id not in escalate(backend)
    refused = requests.post(
        f"{backend.url}/grievances/escalate-due", headers=backend.citizen(citizen)
    )
    assert refused.status_code == 403

    make_overdue(backend, grievance_id)
    assert escalate(backend) == [grievance_id]
    assert escalate(backend) == []  # the same breach escalates once
    g = grievance(backend, citizen, grievance_id)
    assert g["escalation_level"] == 1
    assert g["status"] == "open"
    assert datetime.fromisoformat(g["due_at"].rstrip("Z")) >= NIGHT + timedelta(days=3)
    escalations = [h for h in g["history"] if h["event"] == "escalated"]
    assert [h["escalation_level"] for h in escalations] == [1]

    for level in (2, 3):
        make_overdue(backend, grievance_id)
        assert escalate(backend) == [grievance_id]
        assert grievance(backend, citizen, grievance_id)["escalation_level"] == level
    make_overdue(backend, grievance_id)
    assert escalate(backend) == []  # level 3 is the top
    assert grievance(backend, citizen, grievance_id)["escalation_level"] == 3

    # Resolved grievances are not escalated.
    other = register(backend, citizen).json()["grievance_id"]
    act(backend, other, action="resolve", message="Supply restored")
    make_overdue(backend, other)
    assert escalate(backend) == []


def test_officer_actions_resolve_and_citizen_feedback_closes(backend: Backend) -> None:
    citizen = new_citizen()
    grievance_id = register(backend, citizen).json()["grievance_id"]
    early = feedback(backend, citizen, grievance_id, rating=5)
    assert early.status_code == 409
    assert early.json()["error"] == "wrong_state"

    assigned = act(backend, grievance_id, action="assign", officer="je-djb-12")
    assert assigned.status_code == 200
    assert (assigned.json()["status"], assigned.json()["assigned_to"]) == (
        "in_progress",
        "je-djb-12",
    )
    assert act(backend, grievance_id, action="reply").json()["details"]["fields"] == {
        "message": "required"
    }
    replied = act(backend, grievance_id, action="reply", message="A tanker is on its way.")
    assert replied.json()["history"][-1]["message"] == "A tanker is on its way."
    resolved = act(backend, grievance_id, action="resolve", message="Pipeline repaired.")
    assert resolved.json()["status"] == "resolved"
    assert act(backend, grievance_id, action="resolve").status_code == 409
    assert act(backend, grievance_id, action="bribe").status_code == 400
    citizen_action = requests.post(
        f"{backend.url}/grievances/{grievance_id}/actions",
        json={"action": "resolve"},
        headers=backend.citizen(citizen),
    )
    assert citizen_action.status_code == 403

    assert feedback(backend, citizen, grievance_id, rating=6).json()["details"]["fields"] == {
        "rating": "out_of_range"
    }
    closed = feedback(backend, citizen, grievance_id, rating=4, comment="Quick, thank you")
    assert closed.status_code == 200
    g = closed.json()
    assert g["status"] == "closed"
    assert g["feedback"] == {"rating": 4, "comment": "Quick, thank you"}
    statuses = [h["status"] for h in g["history"] if h["event"] == "status_changed"]
    assert statuses == ["open", "in_progress", "resolved", "closed"]
    assert feedback(backend, citizen, grievance_id, rating=5).status_code == 409

    events = requests.get(f"{backend.url}/events?limit=500", headers=backend.officer()).json()
    mine = [e["type"] for e in events["events"] if e["subject_id"] == grievance_id]
    assert mine.count("grievance.status_changed") == 4


def reopen(backend: Backend, citizen: str, grievance_id: str, **body: Any) -> requests.Response:
    return requests.post(
        f"{backend.url}/grievances/{grievance_id}/reopen",
        json=body,
        headers=backend.citizen(citizen),
        timeout=10,
    )


def test_a_citizen_reopens_a_grievance_that_was_not_resolved(backend: Backend) -> None:
    citizen = new_citizen()
    grievance_id = register(backend, citizen).json()["grievance_id"]
    assert reopen(backend, citizen, grievance_id).status_code == 409  # not resolved yet
    act(backend, grievance_id, action="assign", officer="je-djb-12")
    act(backend, grievance_id, action="resolve", message="Pipeline repaired.")
    assert reopen(backend, new_citizen(), grievance_id).status_code == 404

    reopened = reopen(backend, citizen, grievance_id, comment="Still no water in the lane")
    assert reopened.status_code == 200, reopened.text
    g = reopened.json()
    # back with the officer who had it, due again after the category's 3 days
    assert (g["status"], g["assigned_to"], g["resolved_at"], g["feedback"]) == (
        "in_progress",
        "je-djb-12",
        None,
        None,
    )
    assert datetime.fromisoformat(g["due_at"].rstrip("Z")) >= NIGHT + timedelta(days=3)
    last = g["history"][-1]
    assert (last["event"], last["status"], last["by"], last["reason"], last["comment"]) == (
        "status_changed",
        "in_progress",
        "citizen",
        "not_resolved",
        "Still no water in the lane",
    )
    assert reopen(backend, citizen, grievance_id).status_code == 409
    assert feedback(backend, citizen, grievance_id, rating=2).status_code == 409
    # resolved again, then rated: closed
    act(backend, grievance_id, action="resolve", message="Valve replaced.")
    assert feedback(backend, citizen, grievance_id, rating=4).json()["status"] == "closed"

    unassigned = register(backend, citizen).json()["grievance_id"]
    act(backend, unassigned, action="resolve", message="Done.")
    assert reopen(backend, citizen, unassigned).json()["status"] == "open"


def test_feedback_endpoint(backend: Backend) -> None:
    citizen = new_citizen()
    url = f"{backend.url}/feedback"
    sent = requests.post(
        url,
        json={"rating": 5, "comment": "Very easy", "language": "en"},
        headers=backend.citizen(citizen, "fb-1"),
    )
    assert sent.status_code == 201
    assert sent.json()["feedback"]["rating"] == 5
    again = requests.post(
        url,
        json={"rating": 5, "comment": "Very easy", "language": "en"},
        headers=backend.citizen(citizen, "fb-1"),
    )
    assert again.status_code == 200
    assert again.json()["feedback"]["feedback_id"] == sent.json()["feedback"]["feedback_id"]
    zero = requests.post(url, json={"rating": 0}, headers=backend.citizen(citizen))
    assert zero.status_code == 400
    assert zero.json()["details"]["fields"] == {"rating": "out_of_range"}
    assert requests.post(url, json={"rating": 3}).status_code == 401
    foreign = requests.post(
        url,
        json={"rating": 3, "application_id": "APP-2000-000001"},
        headers=backend.citizen(citizen),
    )
    assert foreign.status_code == 404


def test_background_task_escalates_overdue_grievances(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with pinned_backend(
        tmp_path_factory.mktemp("escalator"), ESCALATION_INTERVAL_SECONDS="0.2"
    ) as backend:
        citizen = new_citizen()
        grievance_id = register(backend, citizen, category="garbage", department="mcd").json()[
            "grievance_id"
        ]
        make_overdue(backend, grievance_id)
        deadline = time.monotonic() + 10
        while grievance(backend, citizen, grievance_id)["escalation_level"] == 0:
            assert time.monotonic() < deadline, "the escalator did not run"
            time.sleep(0.1)
        time.sleep(0.5)  # later runs do not escalate the same breach again
        assert grievance(backend, citizen, grievance_id)["escalation_level"] == 1
