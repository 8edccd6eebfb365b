"""Notification outbox, reminders and CSC confirmation, over real HTTP against a fake
channel (tests/support/backends.py FakeChannel) that records what the citizen would get."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from sqlalchemy import insert, select, update

from backends import reminders
from backends.db import Cursor, Database, Event, Notification
from tests.support.backends import (
    Backend,
    FakeChannel,
    backend_with_fake_channel,
    channel_settings,
    fake_channel,
    running_backend,
    set_clock,
)
from tests.test_backends_edistrict import (
    CHARACTER,
    CHARACTER_DOCS,
    act,
    attach,
    create,
    new_citizen,
    submitted_application,
)
from tests.test_backends_payments import new_order, pending_application, wait_for

channel, backend = backend_with_fake_channel("notify")


def notifications(backend: Backend, **query: str) -> list[dict[str, Any]]:
    answer = requests.get(
        f"{backend.url}/notifications", params=query, headers=backend.officer(), timeout=5
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["notifications"])


def first_status(backend: Backend, citizen: str) -> str | None:
    rows = notifications(backend, citizen_id=citizen)
    return str(rows[0]["status"]) if rows else None


def templates_to(channel: FakeChannel, citizen: str) -> list[str]:
    return [body["template"] for body in channel.to(citizen)]


def settle(seconds: float = 1.0) -> None:
    """Give the background tasks (0.1-0.3 s rounds) time to do what they must not do."""
    time.sleep(seconds)


def test_state_change_notified_once_even_if_logged_twice_or_read_again(
    backend: Backend, channel: FakeChannel
) -> None:
    citizen = new_citizen()
    app_id = submitted_application(backend, citizen)
    assert act(backend, app_id, "verify").status_code == 200
    assert wait_for(lambda: "application_documents_verified" in templates_to(channel, citizen))

    db = Database(backend.db_url)
    # The backend logs the same state change a second time, and the outbox's cursor is
    # rewound as after a crash before it was saved.
    original = db.run(
        lambda s: (
            s.execute(select(Event).where(Event.subject_id == app_id, Event.type.like("%status%")))
            .scalars()
            .all()[-1]
        )
    )
    db.run(
        lambda s: s.execute(
            insert(Event).values(
                type=original.type,
                subject_id=app_id,
                citizen_id=citizen,
                payload=original.payload,
                created_at=original.created_at,
            )
        )
    )
    db.run(lambda s: s.execute(update(Cursor).values(position=0)))
    db.dispose()
    assert act(backend, app_id, "approve").status_code == 200
    assert wait_for(lambda: "certificate_issued" in templates_to(channel, citizen))
    settle()

    messages = channel.to(citizen)
    assert [m["template"] for m in messages] == [
        "application_documents_verified",
        "certificate_issued",  # approval with a certificate: one message, not two
    ]
    verified, issued = messages
    assert verified["parameters"] == ["Police Character Certificate", app_id]
    assert (verified["purpose"], verified["language"], verified["to"]) == ("status", "en", citizen)
    assert issued["parameters"][:2] == ["Police Character Certificate", app_id]
    assert issued["parameters"][2].startswith("CERT-")
    rows = notifications(backend, citizen_id=citizen)
    assert [r["status"] for r in rows] == ["sent", "sent"]
    assert rows[0]["message_id"] and rows[0]["phone_number_id"] == "pn-police"


def test_channel_down_retried_with_back_off_then_sent_once(
    backend: Backend, channel: FakeChannel
) -> None:
    citizen = new_citizen()
    app_id = submitted_application(backend, citizen)
    channel.down = True
    try:
        before = channel.attempts
        assert act(backend, app_id, "request_resubmission", "Photo is blurred").status_code == 200
        assert wait_for(lambda: channel.attempts >= before + 3)
        (row,) = notifications(backend, citizen_id=citizen)
        assert (row["status"], row["error"]) == ("pending", "channel_unavailable")
        assert row["attempts"] >= 2
    finally:
        channel.down = False
    assert wait_for(lambda: first_status(backend, citizen) == "sent")
    settle(0.5)
    (message,) = channel.to(citizen)
    assert message["template"] == "application_resubmission"
    assert message["parameters"] == ["Police Character Certificate", app_id, "Photo is blurred"]


def verified_then_approved(backend: Backend, channel: FakeChannel, citizens: int) -> list[str]:
    """Applications of new citizens, each verified and at once approved; returns the
    citizens once every certificate_issued went out."""
    people = [new_citizen() for _ in range(citizens)]
    for citizen in people:
        app_id = submitted_application(backend, citizen)
        assert act(backend, app_id, "verify").status_code == 200
        assert act(backend, app_id, "approve").status_code == 200
    assert wait_for(
        lambda: all("certificate_issued" in templates_to(channel, c) for c in people), 20
    )
    settle(0.3)
    return people


def test_a_slow_first_message_is_not_overtaken_by_the_next(
    backend: Backend, channel: FakeChannel
) -> None:
    """WhatsApp takes a while to accept "documents verified": "certificate issued",
    queued a moment later, must still reach the phone after it."""
    channel.slow["application_documents_verified"] = 0.6
    try:
        people = verified_then_approved(backend, channel, 4)
    finally:
        channel.slow.clear()
    for citizen in people:
        assert templates_to(channel, citizen) == [
            "application_documents_verified",
            "certificate_issued",
        ]


def test_a_message_waiting_for_a_retry_holds_back_the_citizens_next_one(
    backend: Backend, channel: FakeChannel
) -> None:
    """The channel answers 503 to the first try of "documents verified": the citizen's
    "certificate issued" waits for it, while other citizens' messages do not wait."""
    channel.flaky.add("application_documents_verified")
    try:
        people = verified_then_approved(backend, channel, 4)
    finally:
        channel.flaky.clear()
    for citizen in people:
        assert templates_to(channel, citizen) == [
            "application_documents_verified",
            "certificate_issued",
        ]
        verified, issued = notifications(backend, citizen_id=citizen)
        assert (verified["status"], verified["attempts"]) == ("sent", 2)
        assert issued["sent_at"] >= verified["sent_at"]


def test_a_grievance_resolved_again_after_the_citizen_reopened_it_is_announced_again(
    backend: Backend, channel: FakeChannel
) -> None:
    citizen = new_citizen()
    filed = requests.post(
        f"{backend.url}/grievances",
        json={
            "category": "streetlight",
            "department": "mcd",
            "description": "The street light outside house 12 is off.",
            "language": "en",
        },
        headers=backend.citizen(citizen),
        timeout=10,
    )
    grievance_id = filed.json()["grievance_id"]

    def officer_resolves() -> None:
        resolved = requests.post(
            f"{backend.url}/grievances/{grievance_id}/actions",
            json={"action": "resolve", "message": "Fixed."},
            headers=backend.officer(),
            timeout=10,
        )
        assert resolved.status_code == 200, resolved.text

    officer_resolves()
    assert wait_for(lambda: templates_to(channel, citizen) == ["grievance_resolved"])
    reopened = requests.post(
        f"{backend.url}/grievances/{grievance_id}/reopen",
        json={"comment": "Still off"},
        headers=backend.citizen(citizen),
        timeout=10,
    )
    assert reopened.json()["status"] == "open"
    officer_resolves()
    assert wait_for(lambda: templates_to(channel, citizen).count("grievance_resolved") == 2)
    settle(0.5)
    assert [m["parameters"] for m in channel.to(citizen)] == [[grievance_id], [grievance_id]]


def test_refused_message_fails_permanently_with_the_channels_code(
    backend: Backend, channel: FakeChannel
) -> None:
    citizen = new_citizen()
    app_id = submitted_application(backend, citizen)
    channel.refuse["application_rejected"] = "invalid_recipient"
    try:
        assert act(backend, app_id, "reject", "Not eligible").status_code == 200
        assert wait_for(lambda: first_status(backend, citizen) not in (None, "pending"))
        settle(0.5)
        (row,) = notifications(backend, citizen_id=citizen)
    finally:
        channel.refuse.clear()
    assert (row["status"], row["error"], row["attempts"]) == ("failed", "invalid_recipient", 1)
    assert channel.to(citizen) == []


def test_delivery_and_read_statuses_are_recorded(backend: Backend, channel: FakeChannel) -> None:
    citizen = new_citizen()
    app_id = submitted_application(backend, citizen)
    act(backend, app_id, "verify")
    assert wait_for(lambda: first_status(backend, citizen) == "sent")
    message_id = notifications(backend, citizen_id=citizen)[0]["message_id"]
    channel.statuses[message_id] = "delivered"
    assert wait_for(lambda: first_status(backend, citizen) == "delivered")
    channel.statuses[message_id] = "read"
    assert wait_for(lambda: first_status(backend, citizen) == "read")


def test_status_updates_stop_after_consent_is_withdrawn(
    backend: Backend, channel: FakeChannel
) -> None:
    citizen = new_citizen()
    app_id = submitted_application(backend, citizen)
    withdrawn = requests.put(
        f"{backend.url}/citizens/{citizen}/preferences",
        json={"status_updates": False, "broadcasts": False, "reminders": False},
        headers=backend.citizen(citizen),
        timeout=5,
    )
    assert withdrawn.status_code == 200
    act(backend, app_id, "verify")
    assert wait_for(lambda: first_status(backend, citizen) not in (None, "pending"))
    assert notifications(backend, citizen_id=citizen)[0]["status"] == "skipped"
    assert channel.to(citizen) == []


# --------------------------------------------------------------------------- reminders


def reminder_rows(backend: Backend, app_id: str, kind: str) -> list[dict[str, Any]]:
    answer = requests.get(
        f"{backend.url}/reminders",
        params={"application_id": app_id},
        headers=backend.officer(),
        timeout=5,
    )
    return [r for r in answer.json()["reminders"] if r["kind"] == kind]


def test_fee_reminder_survives_a_restart_and_stops_when_the_citizen_pays(tmp_path: Path) -> None:
    with fake_channel() as channel:  # keys are per database: a channel of its own
        fee_reminder_scenario(tmp_path, channel)


def fee_reminder_scenario(tmp_path: Path, channel: FakeChannel) -> None:
    settings = channel_settings(channel, tmp_path)
    # 11:00 IST on 31 December: daytime, so nothing is held back for quiet hours; the
    # year ends on the way
    morning = datetime(2026, 12, 31, 5, 30)
    set_clock(tmp_path, morning)
    citizen, stopper = new_citizen(), new_citizen()
    with running_backend(tmp_path, **settings) as backend:
        app_id = pending_application(backend, citizen)["application_id"]
        stopped_app = pending_application(backend, stopper)["application_id"]
        stop = requests.put(
            f"{backend.url}/citizens/{stopper}/preferences",
            json={"broadcasts": False, "reminders": False},
            headers=backend.citizen(stopper),
            timeout=5,
        )
        assert stop.status_code == 200
        assert wait_for(lambda: reminder_rows(backend, app_id, "fee_unpaid"))
        (reminder,) = reminder_rows(backend, app_id, "fee_unpaid")
        # learner_licence overrides the catalogue's default (24 h) with 6 hours
        assert reminder["status"] == "scheduled"
        # No "documents missing" reminder is left for a submitted draft. Whether the
        # outbox scheduled one depends on whether its round (every 0.1 s) read the
        # draft's event before the submission: if it did, it was cancelled.
        documents = reminder_rows(backend, app_id, "documents_missing")
        assert [(r["status"], r["reason"]) for r in documents] in ([], [("cancelled", "acted")])
        due = datetime.strptime(reminder["due_at"], "%Y-%m-%dT%H:%M:%SZ")
        assert timedelta(hours=5, minutes=59) <= due - morning <= timedelta(hours=6, minutes=1)
        settle(0.5)
        assert "reminder_fee_unpaid" not in templates_to(channel, citizen)

    set_clock(tmp_path, morning + timedelta(hours=6, minutes=5))  # 17:05 IST
    with running_backend(tmp_path, **settings) as backend:
        assert wait_for(lambda: "reminder_fee_unpaid" in templates_to(channel, citizen))
        (sent,) = [m for m in channel.to(citizen) if m["template"] == "reminder_fee_unpaid"]
        assert sent["parameters"] == ["लर्नर लाइसेंस", app_id, "200"]  # filed in Hindi
        assert sent["purpose"] == "reminder" and sent["language"] == "hi"
        # STOP: no reminder for the other citizen, ever
        (stopped,) = reminder_rows(backend, stopped_app, "fee_unpaid")
        assert (stopped["status"], stopped["reason"]) == ("cancelled", "opted_out")
        assert channel.to(stopper) == []

        order = new_order(backend, citizen, app_id).json()
        requests.post(order["payment_url"], data={"outcome": "success"}, timeout=5)
        assert wait_for(lambda: "payment_received" in templates_to(channel, citizen))
        assert wait_for(
            lambda: reminder_rows(backend, app_id, "fee_unpaid")[0]["status"] == "cancelled"
        )
        # three days on (18:00 IST), when the second fee reminder and a draft's
        # "documents missing" one would have been due
        set_clock(tmp_path, morning + timedelta(days=3, hours=7))
        settle()
        assert templates_to(channel, citizen).count("reminder_fee_unpaid") == 1
        assert "reminder_documents_missing" not in templates_to(channel, citizen)
        (payment,) = [m for m in channel.to(citizen) if m["template"] == "payment_received"]
        assert payment["parameters"][:2] == ["200", app_id]


@pytest.mark.parametrize(
    ("ist", "allowed_ist"),
    [
        ("2026-12-04 00:30", "2026-12-04 08:00"),
        ("2026-12-04 04:15", "2026-12-04 08:00"),
        ("2026-12-04 07:59", "2026-12-04 08:00"),
        ("2026-12-04 08:00", "2026-12-04 08:00"),
        ("2026-12-04 20:59", "2026-12-04 20:59"),
        ("2026-12-04 21:00", "2026-12-05 08:00"),
        ("2026-12-04 23:59", "2026-12-05 08:00"),
        ("2026-12-31 23:59", "2027-01-01 08:00"),
        ("2027-01-01 00:00", "2027-01-01 08:00"),
        ("2027-02-28 22:00", "2027-03-01 08:00"),
    ],
)
def test_quiet_hours_are_21_to_8_in_india(tmp_path: Path, ist: str, allowed_ist: str) -> None:
    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    db.create_all()
    ctx: Any = SimpleNamespace(settings=SimpleNamespace(reminders_per_day=2))
    india = timedelta(hours=5, minutes=30)
    now = datetime.fromisoformat(ist) - india
    allowed = db.run(lambda s: reminders._allowed_at(s, ctx, "c1", now))  # noqa: SLF001
    assert allowed + india == datetime.fromisoformat(allowed_ist)
    db.dispose()


def test_the_daily_cap_counts_the_day_in_india(tmp_path: Path) -> None:
    """Two reminders queued at 19:00 and 19:30 UTC on 4 December were sent on India's
    5 December (00:30 and 01:00 IST): at 10:00 IST on the 5th the cap of two is reached,
    though by the UTC date they were yesterday's."""
    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    db.create_all()
    ctx: Any = SimpleNamespace(settings=SimpleNamespace(reminders_per_day=2))
    for n, at in enumerate((datetime(2026, 12, 4, 19, 0), datetime(2026, 12, 4, 19, 30))):
        db.run(lambda s, n=n, at=at: s.add(reminder_notification(n, at)))
    ten_ist = datetime(2026, 12, 5, 4, 30)
    allowed = reminders._allowed_at  # noqa: SLF001 - the policy itself
    assert db.run(lambda s: allowed(s, ctx, "c1", ten_ist)) == datetime(2026, 12, 6, 2, 30)
    assert db.run(lambda s: allowed(s, ctx, "c2", ten_ist)) == ten_ist
    db.dispose()


def reminder_notification(n: int, at: datetime) -> Notification:
    return Notification(
        dedupe_key=f"cap{n}",
        citizen_id="c1",
        purpose="reminder",
        template="reminder_documents_missing",
        language="hi",
        status="sent",
        attempts=1,
        next_attempt_at=at,
        created_at=at,
        updated_at=at,
    )


def test_reminders_wait_for_daytime_and_a_daily_cap(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    db.create_all()
    ctx: Any = SimpleNamespace(settings=SimpleNamespace(reminders_per_day=2))
    night = datetime(2026, 12, 4, 17, 0)  # 22:30 IST
    early = datetime(2026, 12, 4, 0, 0)  # 05:30 IST
    day = datetime(2026, 12, 4, 6, 0)  # 11:30 IST
    next_morning = datetime(2026, 12, 5, 2, 30)  # 08:00 IST
    allowed = reminders._allowed_at  # noqa: SLF001 - the policy itself
    assert db.run(lambda s: allowed(s, ctx, "c1", night)) == next_morning
    assert db.run(lambda s: allowed(s, ctx, "c1", early)) == datetime(2026, 12, 4, 2, 30)
    assert db.run(lambda s: allowed(s, ctx, "c1", day)) == day

    def sent_today(session: Any, n: int) -> None:
        session.add(
            Notification(
                dedupe_key=f"k{n}",
                citizen_id="c1",
                purpose="reminder",
                template="reminder_documents_missing",
                language="hi",
                status="sent",
                attempts=1,
                next_attempt_at=day,
                created_at=day - timedelta(hours=1),
                updated_at=day,
            )
        )

    db.run(lambda s: sent_today(s, 1))
    assert db.run(lambda s: allowed(s, ctx, "c1", day)) == day
    db.run(lambda s: sent_today(s, 2))
    assert db.run(lambda s: allowed(s, ctx, "c1", day)) == next_morning
    assert db.run(lambda s: allowed(s, ctx, "c2", day)) == day
    db.dispose()


# --------------------------------------------------------------------------- CSC


def csc_application(backend: Backend, citizen: str) -> str:
    created = create(
        backend,
        citizen,
        channel="csc",
        operator={"id": "csc-op-17", "name": "Anil", "centre": "CSC Laxmi Nagar"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "awaiting_citizen_confirmation"
    app_id = str(created.json()["application_id"])
    for doc in CHARACTER_DOCS:
        assert attach(backend, citizen, app_id, doc).status_code == 201
    return app_id


def confirm(backend: Backend, citizen: str, app_id: str, code: str) -> requests.Response:
    return requests.post(
        f"{backend.url}/edistrict/applications/{app_id}/confirm",
        json={"code": code},
        headers=backend.citizen(citizen),
        timeout=5,
    )


def code_sent_to(channel: FakeChannel, citizen: str) -> str:
    assert wait_for(lambda: "csc_confirmation" in templates_to(channel, citizen))
    (message,) = [m for m in channel.to(citizen) if m["template"] == "csc_confirmation"]
    service, centre, code = message["parameters"]
    assert (service, centre, message["purpose"]) == (
        "Police Character Certificate",
        "CSC Laxmi Nagar",
        "csc",
    )
    return str(code)


def test_csc_filing_goes_ahead_once_the_citizen_confirms_the_code(
    backend: Backend, channel: FakeChannel
) -> None:
    citizen = new_citizen()
    app_id = csc_application(backend, citizen)
    code = code_sent_to(channel, citizen)
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    refused = confirm(backend, citizen, app_id, wrong)
    assert refused.status_code == 422
    assert refused.json()["error"] == "wrong_code"
    assert refused.json()["details"] == {
        "attempts_left": 4,
        "status": "awaiting_citizen_confirmation",
    }
    other = confirm(backend, new_citizen(), app_id, code)
    assert other.status_code == 404

    confirmed = confirm(backend, citizen, app_id, code)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "submitted"  # fee 0, documents attached
    assert confirmed.json()["fields"] == CHARACTER
    assert confirm(backend, citizen, app_id, code).status_code == 409
    # the code is not kept once it went out (the send's outcome is recorded in the next
    # batch, a moment after the channel got the message)
    assert wait_for(
        lambda: notifications(backend, subject_id=app_id, purpose="csc")[0]["status"] == "sent"
    )
    (row,) = notifications(backend, subject_id=app_id, purpose="csc")
    assert row["status"] == "sent" and code not in row["parameters"]


def test_the_csc_code_is_never_stored_in_the_notification_yet_reaches_the_citizen(
    backend: Backend, channel: FakeChannel
) -> None:
    """Item 10 of issue 13: while the message waits (the channel is down) and after it is
    sent, the notification row holds no code; the citizen still gets a code that works."""
    citizen = new_citizen()
    channel.down = True
    try:
        before = channel.attempts
        app_id = csc_application(backend, citizen)
        assert wait_for(lambda: channel.attempts >= before + 1)
        (waiting,) = notifications(backend, subject_id=app_id, purpose="csc")
        assert waiting["status"] == "pending"
        stored = stored_parameters(backend, app_id)
        assert not [p for p in stored if re.fullmatch(r"\d{6}", str(p))], stored
    finally:
        channel.down = False
    code = code_sent_to(channel, citizen)
    assert code not in json.dumps(stored_parameters(backend, app_id))
    assert confirm(backend, citizen, app_id, code).status_code == 200


def stored_parameters(backend: Backend, app_id: str) -> list[Any]:
    db = Database(backend.db_url)
    try:
        return db.run(
            lambda s: list(
                s.execute(
                    select(Notification.parameters).where(
                        Notification.subject_id == app_id, Notification.purpose == "csc"
                    )
                ).scalar_one()
            )
        )
    finally:
        db.dispose()


def test_csc_filing_locked_after_five_wrong_codes_or_declined(
    backend: Backend, channel: FakeChannel
) -> None:
    citizen = new_citizen()
    app_id = csc_application(backend, citizen)
    code = code_sent_to(channel, citizen)
    wrong = f"{(int(code) + 7) % 10**6:06d}"
    answers = [confirm(backend, citizen, app_id, wrong) for _ in range(5)]
    assert [a.json()["details"]["attempts_left"] for a in answers] == [4, 3, 2, 1, 0]
    assert answers[-1].json()["error"] == "confirmation_locked"
    locked = confirm(backend, citizen, app_id, code)  # even the right code, now
    assert locked.status_code == 409 and locked.json()["details"]["status"] == (
        "confirmation_locked"
    )

    other = new_citizen()
    declined_id = csc_application(backend, other)
    declined = requests.post(
        f"{backend.url}/edistrict/applications/{declined_id}/decline",
        json={},
        headers=backend.citizen(other),
        timeout=5,
    )
    assert declined.status_code == 200 and declined.json()["status"] == "cancelled"


def test_a_database_older_than_the_migration_baseline_is_refused_untouched(
    tmp_path: Path,
) -> None:
    """A database made before preferences had status_updates/departments is not patched
    column by column at start-up any more (issue 13, item 11): the migrations refuse it,
    naming what is missing, and change nothing (tests/test_migrations.py)."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db = Database(url)
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE citizen_preferences (citizen_id VARCHAR(64) PRIMARY KEY, "
            "broadcasts BOOLEAN NOT NULL, reminders BOOLEAN NOT NULL, updated_at DATETIME NOT NULL)"
        )
        connection.exec_driver_sql(
            "INSERT INTO citizen_preferences VALUES ('919800000300', 0, 0, '2026-01-01 00:00:00')"
        )
    with pytest.raises(RuntimeError, match="predates the baseline.*citizen_preferences.status"):
        db.create_all()
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT * FROM citizen_preferences").all()
    assert [tuple(r) for r in rows] == [("919800000300", 0, 0, "2026-01-01 00:00:00")]
    db.dispose()
