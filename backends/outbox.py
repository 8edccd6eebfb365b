"""From the ``events`` log to notifications and reminders.

The ``outbox`` job (:mod:`backends.jobs`, :func:`process`) reads events after a durable
cursor (row ``outbox`` of ``cursors``) and turns each relevant one into a
``notifications`` row whose unique ``dedupe_key`` is derived from the event's content
(type, subject, new state, reason) — never from the event's id — so the same state
change logged twice, or events read again after a crash, give one message. The cursor
only moves past events older than :data:`SETTLE` (ids may become visible out of order on
PostgreSQL); younger ones are read again next round, harmlessly.

- ``application.status_changed`` to verified, approved (only when no certificate
  follows), rejected, resubmission_requested → ``application_*``; every status change
  schedules or cancels reminders (:func:`backends.reminders.on_status`);
- ``order.paid`` → ``payment_received``, cancels fee reminders;
- ``certificate.issued`` → ``certificate_issued``, schedules ``certificate_ready``;
  ``certificate.downloaded`` cancels it;
- ``grievance.replied`` → ``grievance_updated``; ``grievance.status_changed`` to resolved
  → ``grievance_resolved`` (again after the citizen reopened it);
  ``grievance.escalated`` → ``grievance_escalated``.

``csc_confirmation`` is queued by the CSC filing itself (it alone knows the code).
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backends import notifications, reminders
from backends.db import Application, Cursor, Event, Grievance, events_of
from backends.erasure import PSEUDONYM_PREFIX
from backends.web import Context

log = logging.getLogger(__name__)

CURSOR = "outbox"
SETTLE = timedelta(seconds=5)
BATCH = 500
TEXTS_PATH = Path(__file__).with_name("notification_texts.yml")

STATUS_TEMPLATES = {
    "verified": "application_documents_verified",
    "approved": "application_approved",
    "rejected": "application_rejected",
    "resubmission_requested": "application_resubmission",
}


@functools.lru_cache(maxsize=1)
def texts() -> dict[str, Any]:
    """Parameter texts worded by the backends (``notification_texts.yml``)."""
    return dict(yaml.safe_load(TEXTS_PATH.read_text(encoding="utf-8")))


def cycle(session: Session, event: Event) -> int:
    """How many resubmissions of the application were completed before ``event``: the
    same state reached again in a later round is a new message, within one round not."""
    return sum(
        1
        for e in events_of(session, event.subject_id)
        if e.id < event.id
        and e.type == "application.status_changed"
        and e.payload.get("previous") == "resubmission_requested"
        and e.payload.get("status") in ("submitted", "payment_pending")
    )


def _application(
    session: Session, ctx: Context, event: Event, application_id: str, now: datetime
) -> None:
    app = session.get(Application, application_id)
    service = ctx.catalogue.services.get(app.service_id) if app is not None else None
    if app is None or service is None:
        return
    language = notifications.language_of(session, app.citizen_id, app.language)
    common: dict[str, Any] = {
        "citizen_id": app.citizen_id,
        "language": language,
        "department": service.department,
        "subject_id": app.id,
        "event_id": event.id,
        "now": now,
    }
    payload = event.payload
    if event.type == "order.paid":
        reminders.cancel(session, app.id, "fee_unpaid", "paid", now)
        notifications.enqueue(
            session,
            key=f"order.paid:{event.subject_id}",  # the order's id
            purpose="status",
            template="payment_received",
            parameters={
                "amount": str(payload.get("amount", app.fee)),
                "application_id": app.id,
                "receipt_number": str(payload.get("receipt_number") or ""),
            },
            **common,
        )
        return
    if event.type == "certificate.downloaded":
        reminders.cancel(session, app.id, "certificate_ready", "downloaded", now)
        return
    if event.type == "certificate.issued":
        number = str(payload.get("certificate_number") or app.certificate_number)
        reminders.schedule(
            session, app, service, "certificate_ready", f"certificate_ready:{number}", now
        )
        notifications.enqueue(
            session,
            key=f"certificate.issued:{app.id}:{number}",
            purpose="status",
            template="certificate_issued",
            parameters={
                "service": service.title(language),
                "application_id": app.id,
                "certificate_number": number,
            },
            **common,
        )
        return
    status = str(payload.get("status"))
    round_ = cycle(session, event)
    reminders.on_status(session, app, service, status, round_, now)
    template = STATUS_TEMPLATES.get(status)
    if template is None or (status == "approved" and service.issues_document):
        return  # an issued certificate is announced by certificate_issued
    parameters = {"service": service.title(language), "application_id": app.id}
    if status in ("rejected", "resubmission_requested"):
        parameters["reason"] = str(payload.get("reason") or "")
    notifications.enqueue(
        session,
        key=f"application:{app.id}:{status}:{round_}:{notifications.digest(parameters)}",
        purpose="status",
        template=template,
        parameters=parameters,
        **common,
    )


def resolutions_before(session: Session, event: Event) -> int:
    """How often the grievance was resolved before ``event`` (the citizen reopened it
    since): each resolution is a new message."""
    return sum(
        1
        for e in events_of(session, event.subject_id)
        if e.id < event.id
        and e.type == "grievance.status_changed"
        and e.payload.get("status") == "resolved"
    )


def _grievance(session: Session, event: Event, now: datetime) -> None:
    g = session.get(Grievance, event.subject_id)
    if g is None:
        return
    payload = event.payload
    kind = event.type.split(".", 1)[1]
    parameters: dict[str, Any] = {"grievance_id": g.id}
    if kind == "replied" and payload.get("message"):
        template = "grievance_updated"
        parameters["reply"] = str(payload["message"])
        key = f"grievance:{g.id}:replied:{notifications.digest(parameters)}"
    elif kind == "status_changed" and payload.get("status") == "resolved":
        template, key = "grievance_resolved", f"grievance:{g.id}:resolved"
        again = resolutions_before(session, event)  # resolved again after a reopening
        key += f":{again}" if again else ""
    elif kind == "escalated":
        template = "grievance_escalated"
        level = int(payload.get("escalation_level") or g.escalation_level)
        key = f"grievance:{g.id}:escalated:{level}"
    else:
        return
    language = notifications.language_of(session, g.citizen_id, g.language)
    if template == "grievance_escalated":
        levels = texts()["escalation_levels"]
        parameters["level"] = levels.get(level, levels[max(levels)])[language]
    notifications.enqueue(
        session,
        key=key,
        citizen_id=g.citizen_id,
        purpose="status",
        template=template,
        parameters=parameters,
        language=language,
        department=g.department,
        subject_id=g.id,
        event_id=event.id,
        now=now,
    )


def handle(session: Session, ctx: Context, event: Event, now: datetime) -> None:
    """The notifications and reminder changes one event calls for (idempotent)."""
    if not event.citizen_id or event.citizen_id.startswith(PSEUDONYM_PREFIX):
        return
    if event.type in (
        "application.status_changed",
        "order.paid",
        "certificate.issued",
        "certificate.downloaded",
    ):
        # an order's event is about the order's application
        application_id = (
            str(event.payload.get("application_id") or "")
            if event.type == "order.paid"
            else event.subject_id
        )
        _application(session, ctx, event, application_id, now)
    elif event.type.startswith("grievance."):
        _grievance(session, event, now)


class _CursorMoved(Exception):
    """Another process advanced the cursor first: its round wins, ours is rolled back."""


def process(session: Session, ctx: Context, now: datetime) -> int:
    """One round: handle events after the cursor; returns how many were read."""
    cursor = session.get(Cursor, CURSOR)
    if cursor is None:
        cursor = Cursor(name=CURSOR, position=0)
        session.add(cursor)
        session.flush()
    start = int(cursor.position)
    events = list(
        session.execute(select(Event).where(Event.id > start).order_by(Event.id).limit(BATCH))
        .scalars()
        .all()
    )
    settled, contiguous = start, True
    for event in events:
        handle(session, ctx, event, now)
        contiguous = contiguous and event.created_at <= now - SETTLE
        if contiguous:
            settled = int(event.id)
    if settled != start:
        moved = session.execute(
            update(Cursor)
            .where(Cursor.name == CURSOR, Cursor.position == start)
            .values(position=settled)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            raise _CursorMoved()
    session.flush()
    return len(events) if settled != start else 0
