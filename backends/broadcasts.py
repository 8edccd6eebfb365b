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
from service_catalogue.templates import load_templates

CATEGORIES = ("utility", "marketing")
TEMPLATES = {"utility": "department_notice", "marketing": "scheme_announcement"}
TEXT_MAX = 900  # WhatsApp's template parameter limit leaves room for the wording
OPEN_GRIEVANCE_STATES = ("open", "in_progress")


#: why a citizen the broadcast concerns does not receive it (the audience preview)
EXCLUSIONS = ("opted_out", "other_district")


def audience(
    session: Session, ctx: Context, department: str, category: str, district: str | None
) -> dict[str, str]:
    """citizen id -> language of everyone the broadcast goes to."""
    return audience_and_excluded(session, ctx, department, category, district)[0]


def audience_and_excluded(
    session: Session, ctx: Context, department: str, category: str, district: str | None
) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """Who receives it (citizen id -> language) and who it concerns but does not reach
    (citizen id -> (language, one of :data:`EXCLUSIONS`)): citizens who said STOP, and
    those known to live in another district (or, for a district notice to citizens with
    an application or grievance, whose district is unknown)."""
    opted: dict[str, str] = {}
    excluded: dict[str, tuple[str, str]] = {}
    everyone = {p.citizen_id: p for p in session.execute(select(Preference)).scalars().all()}
    for p in everyone.values():
        if department not in (p.departments or []):
            continue
        if district is not None and p.district != district:
            excluded[p.citizen_id] = (p.language or "hi", "other_district")
        elif not p.broadcasts:
            excluded[p.citizen_id] = (p.language or "hi", "opted_out")
        else:
            opted[p.citizen_id] = p.language or "hi"
    if category == "marketing":
        return opted, excluded
    stopped = {c for c, p in everyone.items() if not p.broadcasts}
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
        if citizen_id in opted or citizen_id.startswith(PSEUDONYM_PREFIX):
            continue
        preference = everyone.get(citizen_id)
        if district is not None and (preference is None or preference.district != district):
            excluded.setdefault(citizen_id, (language, "other_district"))
            continue
        if citizen_id in stopped:
            excluded[citizen_id] = (everyone[citizen_id].language or language, "opted_out")
            continue
        opted[citizen_id] = (preference.language if preference else None) or language
    return opted, excluded


def message_for(
    ctx: Context, department: str, category: str, text: dict[str, str], language: str
) -> str:
    """The exact message a citizen reading ``language`` receives (the template's own
    wording around the officer's text)."""
    names = ctx.catalogue.departments[department].name
    parameters = {"department": pick(names, language), "text": pick(text, language)}
    return load_templates()[TEMPLATES[category]].render(language, parameters).text


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
    department, category, district, text = _checked_body(ctx, body)
    caller.check_department(department, "Broadcast for", department)

    def create(session: Session) -> str:
        now = utcnow()
        broadcast_id = next_id(session, "BRD", now)
        recipients, excluded = audience_and_excluded(session, ctx, department, category, district)
        names = ctx.catalogue.departments[department].name
        stopped = {c: lang for c, (lang, why) in excluded.items() if why == "opted_out"}
        for n, (citizen_id, language) in enumerate(
            [*sorted(recipients.items()), *sorted(stopped.items())], start=1
        ):
            # a citizen who said STOP gets a row already ``opted_out``: counted, never sent
            row = notifications.enqueue(
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
            if row is not None and citizen_id in stopped:
                row.status = "opted_out"
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


def _checked_body(
    ctx: Context, body: dict[str, Any]
) -> tuple[str, str, str | None, dict[str, str]]:
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
    return department, category, district, {k: str(v).strip() for k, v in text.items()}


async def preview_broadcast(request: Request) -> HTTPResponse:
    """``POST /broadcasts/preview`` (the create body): nothing is sent; how many would
    receive it, how many it concerns but would not reach and why, and the exact message
    in Hindi and English."""
    caller = officer(request)
    ctx = context(request)
    department, category, district, text = _checked_body(ctx, json_body(request))
    caller.check_department(department, "Broadcast for", department)

    def work(session: Session) -> dict[str, Any]:
        recipients, excluded = audience_and_excluded(session, ctx, department, category, district)
        reasons = [why for _, why in excluded.values()]
        return {
            "department": department,
            "category": category,
            "district": district,
            "template": TEMPLATES[category],
            "audience": len(recipients),
            "by_language": {
                lang: sum(1 for v in recipients.values() if v == lang) for lang in ("hi", "en")
            },
            "excluded": {why: reasons.count(why) for why in EXCLUSIONS},
            "message": {
                lang: message_for(ctx, department, category, text, lang) for lang in ("hi", "en")
            },
        }

    return json_response(ctx.db.run(work))


async def pull_statuses(request: Request, broadcast_id: str) -> HTTPResponse:
    """``POST /broadcasts/{id}/statuses``: ask the channel now what WhatsApp reported for
    this broadcast's messages (delivered, read, failed) instead of waiting for the
    periodic status sync; answers the report."""
    caller = officer(request)
    ctx = context(request)

    def due(session: Session) -> list[tuple[int, str]]:
        _visible(session, caller, broadcast_id)
        Notification = notifications.Notification
        rows = session.execute(
            select(Notification.id, Notification.message_id).where(
                Notification.broadcast_id == broadcast_id,
                Notification.status.in_(("sent", "delivered")),
                Notification.message_id.is_not(None),
            )
        ).all()
        return [(int(i), str(m)) for i, m in rows]

    rows = ctx.db.run(due)
    pulled = False
    if rows and ctx.settings.channel_url and ctx.settings.internal_token:
        channel = notifications.Channel(ctx)
        try:
            status, answer = await channel.post("/statuses", {"ids": [m for _, m in rows]})
        except notifications.ChannelDown:
            status, answer = 503, {}
        finally:
            await channel.close()
        statuses = answer.get("statuses") if status == 200 else None
        if isinstance(statuses, dict):
            ctx.db.run(
                lambda session: notifications.record_statuses(
                    session, rows, statuses, utcnow().replace(microsecond=0)
                )
            )
            pulled = True

    def answer_report(session: Session) -> dict[str, Any]:
        return {**report(session, _visible(session, caller, broadcast_id)), "pulled": pulled}

    return json_response(ctx.db.run(answer_report))


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
