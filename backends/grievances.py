"""Grievances (modelled on PGMS/CPGRAMS), SLA escalation and citizen feedback.

States ``open → in_progress → resolved → closed`` (closed by the citizen's feedback);
a citizen who says a resolved grievance was not resolved reopens it (back to
``in_progress`` if an officer has it, else ``open``, with a new due time).
Each grievance has a due time: ``GRIEVANCE_SLA_DAYS_BY_DEPARTMENT`` for its department
if set, else its category's ``sla_days`` in ``service_catalogue/grievances.yml``, else
``GRIEVANCE_SLA_DAYS``. When an open or in-progress grievance passes it, the escalator
raises its level by one (at most to 3) and gives it a new due time, so one breach
escalates once.
"""

from __future__ import annotations

import functools
import logging
import re
from datetime import datetime, timedelta
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backends import edistrict
from backends.config import Settings
from backends.db import Feedback, Grievance, add_event, events_of, iso, ist_date, next_id, utcnow
from backends.web import (
    LANGUAGES,
    ApiError,
    Caller,
    Context,
    Problems,
    citizen,
    context,
    create_once,
    json_body,
    list_query,
    not_found,
    officer,
    wrong_state,
)
from backends.web import authenticate as any_caller
from connectors import media
from service_catalogue import CatalogueError
from service_catalogue.lists import grievance_categories

log = logging.getLogger(__name__)

CATEGORIES = (
    "water",
    "sewer",
    "roads",
    "streetlight",
    "garbage",
    "electricity",
    "pension",
    "ration",
    "certificate_delay",
    "corruption",
    "staff_behaviour",
    "other",
)
ACTIONS = ("assign", "reply", "resolve")
OPEN_STATES = ("open", "in_progress")
MAX_LEVEL = 3
ATTACHMENT_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/webp", "audio/ogg")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_PIN = re.compile(r"^[1-9][0-9]{5}$")


@functools.lru_cache(maxsize=1)
def category_sla_days() -> dict[str, float]:
    """SLA days per category of the chat's list (``service_catalogue/grievances.yml``,
    shared with the actions), if it loads."""
    try:
        categories = grievance_categories()
    except CatalogueError as exc:
        log.warning("grievance SLAs fall back to the defaults: %s", exc)
        return {}
    return {cid: float(c["sla_days"]) for cid, c in categories.items()}


def sla_days(settings: Settings, category: str, department: str) -> float:
    """GRIEVANCE_SLA_DAYS_BY_DEPARTMENT, else the category's SLA, else GRIEVANCE_SLA_DAYS."""
    if department in settings.grievance_sla_by_department:
        return settings.grievance_sla_by_department[department]
    return category_sla_days().get(category, settings.grievance_sla_days)


def render(session: Session, g: Grievance) -> dict[str, Any]:
    history: list[dict[str, Any]] = []
    for e in events_of(session, g.id):
        item = {"event": e.type.split(".", 1)[1], "at": iso(e.created_at)}
        item.update(e.payload)
        history.append(item)
    return {
        "grievance_id": g.id,
        "category": g.category,
        "department": g.department,
        "description": g.description,
        "location": g.location,
        "attachment": g.attachment,
        "language": g.language,
        "status": g.status,
        "escalation_level": g.escalation_level,
        "due_at": iso(g.due_at),
        "sla_due": iso(ist_date(g.due_at)),  # the date in India
        "assigned_to": g.assigned_to,
        "feedback": (
            {"rating": g.rating, "comment": g.feedback_comment} if g.rating is not None else None
        ),
        "history": history,
        "created_at": iso(g.created_at),
        "updated_at": iso(g.updated_at),
        "resolved_at": iso(g.resolved_at),
        "closed_at": iso(g.closed_at),
    }


def visible(session: Session, caller: Caller, grievance_id: str) -> Grievance:
    g = session.get(Grievance, grievance_id)
    if g is None or not caller.sees(g.citizen_id):
        raise not_found("grievance", grievance_id)
    caller.check_department(g.department, "Grievance", grievance_id)
    return g


def _log(session: Session, g: Grievance, kind: str, now: datetime, **payload: Any) -> None:
    g.updated_at = now
    add_event(session, f"grievance.{kind}", g.id, g.citizen_id, payload, now)


def _set_status(
    session: Session, g: Grievance, status: str, by: str, now: datetime, **extra: Any
) -> None:
    g.status = status
    _log(session, g, "status_changed", now, status=status, by=by, **extra)


def _location(body: dict[str, Any], problems: Problems) -> dict[str, Any] | None:
    location = body.get("location")
    if location is None:
        return None
    if not isinstance(location, dict) or set(location) - {
        "text",
        "latitude",
        "longitude",
        "pin_code",
    }:
        problems.add(
            "location",
            "invalid",
            "'location' must be an object with text, latitude, longitude and/or pin_code.",
        )
        return None
    text = problems.text(location, "text", required=False, max_len=300)
    for key, bound in (("latitude", 90), ("longitude", 180)):
        value = location.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or abs(value) > bound
        ):
            problems.add(f"location.{key}", "out_of_range", f"'{key}' must be -{bound} to {bound}.")
    pin = location.get("pin_code")
    if pin is not None and not (isinstance(pin, str) and _PIN.match(pin)):
        problems.add("location.pin_code", "pin_invalid", "'pin_code' must be a 6-digit PIN code.")
    clean = {k: v for k, v in location.items() if v is not None}
    if text is not None:
        clean["text"] = text
    return clean or None


def _attachment(body: dict[str, Any], problems: Problems) -> dict[str, Any] | None:
    attachment = body.get("attachment")
    if attachment is None:
        return None
    if not isinstance(attachment, dict):
        problems.add("attachment", "invalid", "'attachment' must be an object.")
        return None
    ref = problems.text(attachment, "storage_ref", max_len=500)
    mime = problems.choice(attachment, "mime_type", ATTACHMENT_TYPES, None)
    sha = attachment.get("sha256")
    if not (isinstance(sha, str) and _SHA256.match(sha)):
        problems.add("attachment.sha256", "invalid", "'sha256' must be 64 hexadecimal characters.")
        return None
    return {"storage_ref": ref, "mime_type": mime, "sha256": sha.lower()}


# --------------------------------------------------------------------------- routes


async def create_grievance(request: Request) -> HTTPResponse:
    caller = citizen(request)
    ctx = context(request)
    body = json_body(request)
    problems = Problems()
    category = problems.choice(body, "category", CATEGORIES, None)
    department = problems.choice(body, "department", tuple(ctx.catalogue.departments), None)
    description = problems.text(body, "description", min_len=10, max_len=2000)
    location = _location(body, problems)
    attachment = _attachment(body, problems)
    language = problems.choice(body, "language", LANGUAGES, "hi")
    problems.check()
    assert category and department and description and language

    def create(session: Session) -> str:
        now = utcnow()
        g = Grievance(
            id=next_id(session, "GRV", now),
            citizen_id=caller.citizen_id,
            category=category,
            department=department,
            description=description,
            location=location,
            attachment=attachment,
            language=language,
            escalation_level=0,
            due_at=now + timedelta(days=sla_days(ctx.settings, category, department)),
            created_at=now,
        )
        session.add(g)
        _set_status(session, g, "open", "citizen", now, due_at=iso(g.due_at))
        session.flush()
        if attachment:  # the file is kept while the grievance holds it (connectors/media.py)
            media.add_reference(
                ctx.settings.media_dir, attachment["storage_ref"], f"grievance-{g.id}"
            )
        return str(g.id)

    return create_once(
        request,
        caller,
        "grievances.create",
        body,
        create,
        lambda session, gid: render(session, visible(session, caller, gid)),
    )


async def list_grievances(request: Request) -> HTTPResponse:
    caller = any_caller(request)

    wanted = list_query(request, ("department", "status", "assigned_to"))

    def work(session: Session) -> dict[str, Any]:
        query = select(Grievance)
        if caller.role == "citizen":
            query = query.where(Grievance.citizen_id == caller.citizen_id)
        else:  # an officer lists their departments' grievances only
            query = query.where(Grievance.department.in_(sorted(caller.departments)))
        for name, column in (
            ("department", Grievance.department),
            ("status", Grievance.status),
            ("assigned_to", Grievance.assigned_to),
        ):
            if wanted.values[name]:
                query = query.where(column.in_(wanted.values[name]))
        if wanted.due_before is not None:
            query = query.where(Grievance.due_at <= wanted.due_before)
        total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        query = query.order_by(Grievance.created_at.desc(), Grievance.id.desc())
        found = session.execute(query.offset(wanted.offset).limit(wanted.limit)).scalars().all()
        return {"grievances": [render(session, g) for g in found], "total": total}

    return json_response(context(request).db.run(work))


async def get_grievance(request: Request, grievance_id: str) -> HTTPResponse:
    caller = any_caller(request)
    return json_response(
        context(request).db.run(
            lambda session: render(session, visible(session, caller, grievance_id))
        )
    )


async def grievance_action(request: Request, grievance_id: str) -> HTTPResponse:
    caller = officer(request, named=True)
    body = json_body(request)
    problems = Problems()
    action = problems.choice(body, "action", ACTIONS, None)
    message = problems.text(body, "message", required=action == "reply", max_len=2000)
    assignee = problems.text(body, "officer", required=False, max_len=64)
    problems.check()
    by = f"officer:{caller.officer_id}"

    def work(session: Session) -> dict[str, Any]:
        g = visible(session, caller, grievance_id)
        if g.status not in OPEN_STATES:
            raise wrong_state("Grievance", g.id, g.status, f"given action {action!r}")
        now = utcnow()
        if action == "assign":
            g.assigned_to = assignee or caller.officer_id
            if g.status == "open":
                _set_status(session, g, "in_progress", by, now, assigned_to=g.assigned_to)
            else:
                _log(session, g, "assigned", now, assigned_to=g.assigned_to, by=by)
        elif action == "reply":
            _log(session, g, "replied", now, message=message, by=by)
        else:
            g.resolved_at = now
            _set_status(session, g, "resolved", by, now, message=message)
        session.flush()
        return render(session, g)

    return json_response(context(request).db.run(work))


async def grievance_feedback(request: Request, grievance_id: str) -> HTTPResponse:
    caller = citizen(request)
    body = json_body(request)
    problems = Problems()
    rating = problems.integer(body, "rating", 1, 5)
    comment = problems.text(body, "comment", required=False, max_len=1000)
    problems.check()

    def work(session: Session) -> dict[str, Any]:
        g = visible(session, caller, grievance_id)
        if g.status != "resolved":
            raise wrong_state("Grievance", g.id, g.status, "rated (only resolved ones can be)")
        now = utcnow()
        g.rating = rating
        g.feedback_comment = comment
        g.closed_at = now
        _set_status(session, g, "closed", "citizen", now, rating=rating)
        session.flush()
        return render(session, g)

    return json_response(context(request).db.run(work))


async def grievance_reopen(request: Request, grievance_id: str) -> HTTPResponse:
    """``POST /grievances/{id}/reopen``: the citizen says it was not resolved."""
    caller = citizen(request)
    ctx = context(request)
    body = json_body(request)
    problems = Problems()
    comment = problems.text(body, "comment", required=False, max_len=1000)
    problems.check()

    def work(session: Session) -> dict[str, Any]:
        g = visible(session, caller, grievance_id)
        if g.status != "resolved":
            raise wrong_state("Grievance", g.id, g.status, "reopened (only resolved ones can be)")
        now = utcnow()
        g.resolved_at = None
        g.due_at = now + timedelta(days=sla_days(ctx.settings, g.category, g.department))
        extra: dict[str, Any] = {"reason": "not_resolved", "due_at": iso(g.due_at)}
        if comment:
            extra["comment"] = comment
        target = "in_progress" if g.assigned_to else "open"
        _set_status(session, g, target, "citizen", now, **extra)
        session.flush()
        return render(session, g)

    return json_response(context(request).db.run(work))


def escalate_due(session: Session, ctx: Context, now: datetime) -> list[str]:
    """Escalate every open/in-progress grievance past its due time, once per breach."""
    due = (
        session.execute(
            select(Grievance)
            .where(
                Grievance.status.in_(OPEN_STATES),
                Grievance.due_at <= now,
                Grievance.escalation_level < MAX_LEVEL,
            )
            .order_by(Grievance.due_at)
        )
        .scalars()
        .all()
    )
    for g in due:
        g.escalation_level += 1
        g.due_at = now + timedelta(days=sla_days(ctx.settings, g.category, g.department))
        _log(
            session,
            g,
            "escalated",
            now,
            status=g.status,
            escalation_level=g.escalation_level,
            due_at=iso(g.due_at),
            by="system",
        )
    session.flush()
    if due:
        log.info("escalated %d grievance(s)", len(due))
    return [str(g.id) for g in due]


async def escalate_due_route(request: Request) -> HTTPResponse:
    officer(request)
    ctx = context(request)
    return json_response(
        {"escalated": ctx.db.run(lambda session: escalate_due(session, ctx, utcnow()))}
    )


async def create_feedback(request: Request) -> HTTPResponse:
    """``POST /feedback``: a rating of the service (optionally of one application)."""
    caller = citizen(request)
    body = json_body(request)
    problems = Problems()
    rating = problems.integer(body, "rating", 1, 5)
    comment = problems.text(body, "comment", required=False, max_len=1000)
    application_id = problems.text(body, "application_id", required=False, max_len=20)
    language = problems.choice(body, "language", LANGUAGES, "hi")
    problems.check()

    def create(session: Session) -> str:
        if application_id is not None:
            edistrict.visible(session, caller, application_id)
        item = Feedback(
            citizen_id=caller.citizen_id,
            rating=rating,
            comment=comment,
            application_id=application_id,
            language=language,
            created_at=utcnow(),
        )
        session.add(item)
        session.flush()
        add_event(
            session,
            "feedback.received",
            f"FB-{item.id}",
            caller.citizen_id,
            {"rating": rating, "application_id": application_id},
            item.created_at,
        )
        return str(item.id)

    def show(session: Session, feedback_id: str) -> dict[str, Any]:
        item = session.get(Feedback, int(feedback_id))
        if item is None or item.citizen_id != caller.citizen_id:
            raise ApiError(404, "not_found", "No such feedback.")
        return {
            "feedback": {
                "feedback_id": item.id,
                "rating": item.rating,
                "comment": item.comment,
                "application_id": item.application_id,
                "language": item.language,
                "created_at": iso(item.created_at),
            }
        }

    return create_once(request, caller, "feedback.create", body, create, show)
