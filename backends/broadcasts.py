"""Department broadcasts: ``POST /broadcasts``, ``GET /broadcasts[/{id}]`` (officer token).

The audience is fixed when the broadcast is created, one ``notifications`` row per
citizen (purpose ``broadcast``, template ``department_notice`` for utility,
``scheme_announcement`` for marketing):

- citizens who opted in to the department (``departments`` in their preferences) and
  accept broadcasts, in the given district if one is given;
- utility only: also citizens with an unfinished application or open grievance of the
  department who have not said STOP (and, with a district, are known to live there).

The outbox sends them from the department's number, paced at
``BROADCAST_RATE_PER_SECOND`` per department, re-reading each citizen's preferences
immediately before each message: a STOP committed a moment earlier makes the row
``opted_out`` instead of sent.
"""

from __future__ import annotations

from typing import Any

from sanic import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sqlalchemy import select
from sqlalchemy.orm import Session

from backends import notifications
from backends.db import Application, Broadcast, Grievance, Preference, iso, next_id, utcnow
from backends.erasure import FINAL_STATES, PSEUDONYM_PREFIX
from backends.web import (
    ApiError,
    Caller,
    Context,
    Problems,
    context,
    create_once,
    json_body,
    officer,
)
from service_catalogue import pick
from service_catalogue.lists import districts

CATEGORIES = ("utility", "marketing")
TEMPLATES = {"utility": "department_notice", "marketing": "scheme_announcement"}
TEXT_MAX = 900  # WhatsApp's template parameter limit leaves room for the wording
OPEN_GRIEVANCE_STATES = ("open", "in_progress")


def audience(
    session: Session, ctx: Context, department: str, category: str, district: str | None
) -> dict[str, str]:
    """citizen id -> language of everyone the broadcast goes to."""
    opted: dict[str, str] = {}
    preferences = {
        p.citizen_id: p
        for p in session.execute(select(Preference).where(Preference.broadcasts.is_(True)))
        .scalars()
        .all()
    }
    for p in preferences.values():
        if department in (p.departments or []) and (district is None or p.district == district):
            opted[p.citizen_id] = p.language or "hi"
    if category == "marketing":
        return opted
    stopped = set(
        session.execute(
            select(Preference.citizen_id).where(Preference.broadcasts.is_(False))
        ).scalars()
    )
    services = [s.id for s in ctx.catalogue.by_department(department)]
    involved = list(
        session.execute(
            select(Application.citizen_id, Application.language).where(
                Application.service_id.in_(services), Application.status.not_in(FINAL_STATES)
            )
        ).all()
    ) + list(
        session.execute(
            select(Grievance.citizen_id, Grievance.language).where(
                Grievance.department == department, Grievance.status.in_(OPEN_GRIEVANCE_STATES)
            )
        ).all()
    )
    for citizen_id, language in involved:
        if citizen_id in opted or citizen_id in stopped:
            continue
        if citizen_id.startswith(PSEUDONYM_PREFIX):
            continue
        preference = preferences.get(citizen_id)
        if district is not None and (preference is None or preference.district != district):
            continue
        opted[citizen_id] = (preference.language if preference else None) or language
    return opted


def report(session: Session, broadcast: Broadcast) -> dict[str, Any]:
    n = notifications.counts(session, notifications.Notification.broadcast_id == broadcast.id)
    return {
        "broadcast_id": broadcast.id,
        "department": broadcast.department,
        "category": broadcast.category,
        "district": broadcast.district,
        "text": broadcast.text,
        "officer_id": broadcast.officer_id,
        "created_at": iso(broadcast.created_at),
        "audience": broadcast.audience,
        "sent": n.get("sent", 0) + n.get("delivered", 0) + n.get("read", 0),
        "delivered": n.get("delivered", 0) + n.get("read", 0),
        "read": n.get("read", 0),
        "failed": n.get("failed", 0),
        "opted_out": n.get("opted_out", 0) + n.get("skipped", 0),
        "cancelled": n.get("cancelled", 0),
        "pending": n.get("pending", 0),
    }


def _visible(session: Session, caller: Caller, broadcast_id: str) -> Broadcast:
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise ApiError(404, "not_found", f"No broadcast {broadcast_id!r}.")
    caller.check_department(broadcast.department, "Broadcast", broadcast_id)
    return broadcast


async def create_broadcast(request: Request) -> HTTPResponse:
    caller = officer(request, named=True)
    ctx = context(request)
    body = json_body(request)
    problems = Problems()
    department = problems.choice(body, "department", tuple(ctx.catalogue.departments), None)
    category = problems.choice(body, "category", CATEGORIES, None)
    district = body.get("district")
    if district is not None and district not in districts():
        problems.add("district", "unknown_district", "'district' must be a Delhi district id.")
    text = body.get("text")
    if not isinstance(text, dict) or set(text) != {"hi", "en"}:
        problems.add("text", "required", '\'text\' must be {"hi": ..., "en": ...}.')
    else:
        for language in ("hi", "en"):
            problems.text(text, language, max_len=TEXT_MAX)
    problems.check()
    assert department is not None and category is not None and isinstance(text, dict)
    caller.check_department(department, "Broadcast for", department)

    def create(session: Session) -> str:
        now = utcnow()
        broadcast_id = next_id(session, "BRD", now)
        recipients = audience(session, ctx, department, category, district)
        names = ctx.catalogue.departments[department].name
        for n, (citizen_id, language) in enumerate(sorted(recipients.items()), start=1):
            notifications.enqueue(
                session,
                key=f"broadcast:{broadcast_id}:{n}",
                citizen_id=citizen_id,
                purpose="broadcast",
                template=TEMPLATES[category],
                parameters={"department": pick(names, language), "text": pick(text, language)},
                language=language,
                department=department,
                broadcast_id=broadcast_id,
                now=now,
                check_duplicate=False,
            )
        session.add(
            Broadcast(
                id=broadcast_id,
                department=department,
                category=category,
                text={"hi": text["hi"].strip(), "en": text["en"].strip()},
                district=district,
                officer_id=caller.officer_id,
                audience=len(recipients),
                created_at=now,
            )
        )
        session.flush()
        return broadcast_id

    return create_once(
        request,
        caller,
        "broadcasts.create",
        body,
        create,
        lambda session, broadcast_id: report(session, _visible(session, caller, broadcast_id)),
    )


async def get_broadcast(request: Request, broadcast_id: str) -> HTTPResponse:
    caller = officer(request)
    return json_response(
        context(request).db.run(
            lambda session: report(session, _visible(session, caller, broadcast_id))
        )
    )


async def list_broadcasts(request: Request) -> HTTPResponse:
    caller = officer(request)
    department = request.args.get("department")

    def work(session: Session) -> dict[str, Any]:
        query = select(Broadcast).order_by(Broadcast.created_at.desc(), Broadcast.id.desc())
        query = query.where(Broadcast.department.in_(sorted(caller.departments)))
        if department:
            query = query.where(Broadcast.department == department)
        return {
            "broadcasts": [report(session, b) for b in session.execute(query.limit(100)).scalars()]
        }

    return json_response(context(request).db.run(work))
