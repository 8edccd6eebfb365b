"""Reminders about an application, durable in the ``reminders`` table.

Scheduled by :mod:`backends.outbox` from state changes, with the service's settings
(``reminders`` in ``service_catalogue/services.yml``):

- ``fee_unpaid``: the application awaits payment; due after ``fee_unpaid_hours``;
  cancelled when paid;
- ``documents_missing``: a draft, or resubmission requested; due after
  ``documents_missing_days`` (a draft only if required documents are missing);
  cancelled when submitted;
- ``certificate_ready``: the certificate is issued; due after ``certificate_ready_days``;
  cancelled when it is downloaded.

:func:`run_due` (the background task) re-checks the application when a reminder is due
and sends it through the outbox (purpose ``reminder``) only if it still applies, the
citizen accepts reminders, it is not quiet time (21:00-08:00 IST: deferred to 08:00)
and the citizen got fewer than ``REMINDERS_PER_CITIZEN_PER_DAY`` today (IST; else
deferred to tomorrow 08:00). A reminder repeats ``repeat_hours`` apart, at most
``max_per_subject`` times.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backends import notifications
from backends.citizens import preference_of
from backends.db import (
    IST,
    Application,
    Document,
    Event,
    Notification,
    Reminder,
    iso,
)
from backends.web import Context, context, officer
from service_catalogue import Service

log = logging.getLogger(__name__)

TEMPLATES = {
    "fee_unpaid": "reminder_fee_unpaid",
    "documents_missing": "reminder_documents_missing",
    "certificate_ready": "reminder_certificate_ready",
}
QUIET_FROM, QUIET_UNTIL = 21, 8  # hours, IST


def schedule(
    session: Session, app: Application, service: Service, kind: str, key: str, now: datetime
) -> None:
    """A reminder of ``kind`` about ``app`` unless one with ``key`` exists already."""
    if session.execute(select(Reminder.id).where(Reminder.dedupe_key == key)).first():
        return
    settings = service.reminders
    after = {
        "fee_unpaid": timedelta(hours=settings.fee_unpaid_hours),
        "documents_missing": timedelta(days=settings.documents_missing_days),
        "certificate_ready": timedelta(days=settings.certificate_ready_days),
    }[kind]
    session.add(
        Reminder(
            dedupe_key=key,
            kind=kind,
            application_id=app.id,
            citizen_id=app.citizen_id,
            status="scheduled",
            due_at=now + after,
            sent=0,
            max_count=settings.max_per_subject,
            repeat_hours=settings.repeat_hours,
            created_at=now,
            updated_at=now,
        )
    )


def cancel(session: Session, application_id: str, kind: str, reason: str, now: datetime) -> int:
    """Cancel the application's scheduled reminders of ``kind`` and their unsent messages."""
    ids = list(
        session.execute(
            select(Reminder.id).where(
                Reminder.application_id == application_id,
                Reminder.kind == kind,
                Reminder.status == "scheduled",
            )
        ).scalars()
    )
    for reminder in session.execute(select(Reminder).where(Reminder.id.in_(ids))).scalars():
        reminder.status = "cancelled"
        reminder.reason = reason
        reminder.updated_at = now
    session.execute(
        update(Notification)
        .where(
            Notification.purpose == "reminder",
            Notification.subject_id == application_id,
            Notification.template == TEMPLATES[kind],
            Notification.status == "pending",
        )
        .values(status="cancelled", error=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return len(ids)


def on_status(
    session: Session, app: Application, service: Service, status: str, cycle: int, now: datetime
) -> None:
    """Schedule or cancel reminders for an application that moved to ``status``.

    Decided on the application's current state too: an event may be read again after
    later ones (see backends/outbox.py), and must not undo what they did.
    """
    current = app.status
    if current != "payment_pending":
        cancel(session, app.id, "fee_unpaid", "acted", now)
    if current not in ("draft", "resubmission_requested"):
        cancel(session, app.id, "documents_missing", "acted", now)
    if status != current:
        return
    if status == "payment_pending" and app.fee > 0:
        schedule(session, app, service, "fee_unpaid", f"fee_unpaid:{app.id}:{cycle}", now)
    if status in ("draft", "resubmission_requested") and service.documents:
        key = f"documents_missing:{app.id}:{status}:{cycle}"
        schedule(session, app, service, "documents_missing", key, now)


def _applies(session: Session, reminder: Reminder, app: Application, service: Service) -> bool:
    """Whether the citizen still has to act."""
    if reminder.kind == "fee_unpaid":
        return app.status == "payment_pending" and not app.paid
    if reminder.kind == "documents_missing":
        if app.status == "resubmission_requested":
            return True
        attached = set(
            session.execute(
                select(Document.document_id).where(Document.application_id == app.id)
            ).scalars()
        )
        return app.status == "draft" and any(
            d.required and d.id not in attached for d in service.documents
        )
    downloaded = session.execute(
        select(Event.id).where(Event.subject_id == app.id, Event.type == "certificate.downloaded")
    ).first()
    return (
        app.status == "approved"
        and app.certificate_number is not None
        and app.revoked_at is None
        and downloaded is None
    )


def _next_morning(now: datetime, days: int = 0) -> datetime:
    """08:00 IST on the IST day of ``now`` plus ``days``, in UTC."""
    local = now + IST
    morning = local.replace(hour=QUIET_UNTIL, minute=0, second=0, microsecond=0)
    return morning + timedelta(days=days) - IST


def _allowed_at(session: Session, ctx: Context, citizen_id: str, now: datetime) -> datetime:
    """``now`` if a reminder may go to the citizen now, else when it may."""
    hour = (now + IST).hour
    if hour >= QUIET_FROM:
        return _next_morning(now, 1)
    if hour < QUIET_UNTIL:
        return _next_morning(now)
    day_start = (now + IST).replace(hour=0, minute=0, second=0, microsecond=0) - IST
    today = session.execute(
        select(func.count()).where(
            Notification.citizen_id == citizen_id,
            Notification.purpose == "reminder",
            Notification.created_at >= day_start,
            Notification.status != "cancelled",
        )
    ).scalar_one()
    if today >= ctx.settings.reminders_per_day:
        return _next_morning(now, 1)
    return now


def run_due(session: Session, ctx: Context, now: datetime) -> int:
    """Send (through the outbox) every reminder due at ``now``; returns how many."""
    due = (
        session.execute(
            select(Reminder)
            .where(Reminder.status == "scheduled", Reminder.due_at <= now)
            .order_by(Reminder.due_at, Reminder.id)
            .limit(200)
        )
        .scalars()
        .all()
    )
    queued = 0
    for reminder in due:
        reminder.updated_at = now
        app = session.get(Application, reminder.application_id)
        service = ctx.catalogue.services.get(app.service_id) if app is not None else None
        if (
            app is None
            or service is None
            or app.citizen_id != reminder.citizen_id
            or not _applies(session, reminder, app, service)
        ):
            reminder.status, reminder.reason = "done", "no_longer_applies"
            continue
        if not preference_of(session, reminder.citizen_id)["reminders"]:
            reminder.status, reminder.reason = "cancelled", "opted_out"
            continue
        allowed = _allowed_at(session, ctx, reminder.citizen_id, now)
        if allowed > now:
            reminder.due_at = allowed
            continue
        language = notifications.language_of(session, app.citizen_id, app.language)
        parameters = {"service": service.title(language), "application_id": app.id}
        if reminder.kind == "fee_unpaid":
            parameters["amount"] = str(app.fee)
        notifications.enqueue(
            session,
            key=f"reminder:{reminder.id}:{reminder.sent + 1}",
            citizen_id=app.citizen_id,
            purpose="reminder",
            template=TEMPLATES[reminder.kind],
            parameters=parameters,
            language=language,
            department=service.department,
            subject_id=app.id,
            reminder_id=reminder.id,
            now=now,
        )
        reminder.sent += 1
        queued += 1
        if reminder.sent >= reminder.max_count:
            reminder.status, reminder.reason = "done", "sent"
        else:
            reminder.due_at = now + timedelta(hours=reminder.repeat_hours)
    session.flush()
    return queued


def render(reminder: Reminder) -> dict[str, Any]:
    return {
        "id": reminder.id,
        "kind": reminder.kind,
        "application_id": reminder.application_id,
        "status": reminder.status,
        "reason": reminder.reason,
        "due_at": iso(reminder.due_at),
        "sent": reminder.sent,
        "max_count": reminder.max_count,
    }


async def list_reminders(request: Request) -> HTTPResponse:
    """``GET /reminders?application_id=`` (officer): an application's reminders."""
    officer(request)
    application_id = request.args.get("application_id", "")

    def work(session: Session) -> dict[str, Any]:
        rows = session.execute(
            select(Reminder).where(Reminder.application_id == application_id).order_by(Reminder.id)
        ).scalars()
        return {"reminders": [render(r) for r in rows]}

    return json_response(context(request).db.run(work))
