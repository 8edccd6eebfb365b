"""A citizen's messaging preferences and their erasure route.

- ``broadcasts`` / ``reminders``: STOP turns both off, START both on;
- ``status_updates``: notifications about the citizen's own applications and grievances
  (off after consent is withdrawn);
- ``departments``: whose broadcasts the citizen opted in to; ``district``, ``language``.

Every sender reads the row immediately before each send (:func:`preference_of`); a
citizen never seen here has not opted out (WhatsApp opt-in is given by writing to the
number) but has opted in to no department's broadcasts.
"""

from __future__ import annotations

from typing import Any

from sanic import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from backends.db import Database, Preference, add_event, iso, utcnow
from backends.web import LANGUAGES, ApiError, authenticate, citizen, context, json_body
from service_catalogue.lists import districts

FLAGS = ("broadcasts", "reminders", "status_updates")
FIELDS = (*FLAGS, "departments", "district", "language")


def render(citizen_id: str, preference: Preference | None) -> dict[str, Any]:
    if preference is None:
        return {
            "citizen_id": citizen_id,
            "broadcasts": True,
            "reminders": True,
            "status_updates": True,
            "departments": [],
            "district": None,
            "language": None,
            "updated_at": None,
        }
    return {
        "citizen_id": citizen_id,
        "broadcasts": bool(preference.broadcasts),
        "reminders": bool(preference.reminders),
        "status_updates": preference.status_updates is not False,
        "departments": list(preference.departments or []),
        "district": preference.district,
        "language": preference.language,
        "updated_at": iso(preference.updated_at),
    }


_TABLE = Preference.__table__
_BY_ID = select(_TABLE).where(_TABLE.c.citizen_id == bindparam("citizen_id"))


def preference_of(session: Session, citizen_id: str) -> dict[str, Any]:
    """The citizen's current preferences (defaults for a citizen never seen)."""
    return render(citizen_id, session.get(Preference, citizen_id))


def preference_now(db: Database, citizen_id: str) -> dict[str, Any]:
    """The same, read outside any unit of work: what senders check right before each
    message (kept cheap: one pre-compiled query on a pooled connection)."""
    with db.engine.connect() as connection:
        row = connection.execute(_BY_ID, {"citizen_id": citizen_id}).first()
    return render(citizen_id, Preference(**row._mapping) if row is not None else None)


async def get_preferences(request: Request, citizen_id: str) -> HTTPResponse:
    caller = authenticate(request)
    if not caller.sees(citizen_id):
        raise ApiError(404, "not_found", "No such citizen.")
    return json_response(
        context(request).db.run(lambda session: preference_of(session, citizen_id))
    )


def _check(body: dict[str, Any], departments: set[str]) -> dict[str, str]:
    """Field errors of a (partial) preferences body."""
    problems = {k: "unknown" for k in body if k not in FIELDS}
    problems.update(
        {k: "not_boolean" for k in FLAGS if k in body and not isinstance(body[k], bool)}
    )
    if "departments" in body:
        value = body["departments"]
        if not isinstance(value, list) or not all(isinstance(d, str) for d in value):
            problems["departments"] = "not_a_list"
        elif set(value) - departments:
            problems["departments"] = "unknown_department"
    if body.get("district") is not None and body["district"] not in districts():
        problems["district"] = "unknown_district"
    if body.get("language") is not None and body["language"] not in LANGUAGES:
        problems["language"] = "invalid_choice"
    return problems


async def put_preferences(request: Request, citizen_id: str) -> HTTPResponse:
    caller = citizen(request)
    if caller.citizen_id != citizen_id:
        raise ApiError(404, "not_found", "No such citizen.")
    ctx = context(request)
    body = json_body(request)
    problems = _check(body, set(ctx.catalogue.departments))
    if problems or not body:
        raise ApiError(
            400,
            "invalid_preferences",
            "Send at least one of " + ", ".join(FIELDS) + ": flags as true or false, "
            "departments as catalogue ids, district as an id of service_catalogue/districts.yml, "
            "language hi or en.",
            {"fields": problems},
        )
    if "departments" in body:
        body["departments"] = sorted(set(body["departments"]))

    def work(session: Session) -> dict[str, Any]:
        preference = session.get(Preference, citizen_id)
        now = utcnow()
        if preference is None:
            preference = Preference(
                citizen_id=citizen_id,
                broadcasts=True,
                reminders=True,
                status_updates=True,
                departments=[],
                updated_at=now,
            )
            session.add(preference)
        before = render(citizen_id, preference)
        for key in FIELDS:
            if key in body:
                setattr(preference, key, body[key])
        preference.updated_at = now
        session.flush()
        after = render(citizen_id, preference)
        changed = {k: after[k] for k in FIELDS if before[k] != after[k]}
        if changed:
            add_event(session, "citizen.preferences_changed", citizen_id, citizen_id, changed, now)
        return after

    return json_response(ctx.db.run(work))
