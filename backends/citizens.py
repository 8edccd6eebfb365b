"""A citizen's messaging preferences: STOP / START for broadcasts and reminders.

Read by whatever sends broadcasts or reminders before each send; a citizen never seen
here has not opted out (WhatsApp opt-in is given by writing to the number).
"""

from __future__ import annotations

from typing import Any

from sanic import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sqlalchemy.orm import Session

from backends.db import Preference, add_event, iso, utcnow
from backends.web import ApiError, authenticate, citizen, context, json_body

FLAGS = ("broadcasts", "reminders")


def render(citizen_id: str, preference: Preference | None) -> dict[str, Any]:
    if preference is None:
        return {"citizen_id": citizen_id, "broadcasts": True, "reminders": True, "updated_at": None}
    return {
        "citizen_id": citizen_id,
        "broadcasts": bool(preference.broadcasts),
        "reminders": bool(preference.reminders),
        "updated_at": iso(preference.updated_at),
    }


async def get_preferences(request: Request, citizen_id: str) -> HTTPResponse:
    caller = authenticate(request)
    if not caller.sees(citizen_id):
        raise ApiError(404, "not_found", "No such citizen.")
    return json_response(
        context(request).db.run(
            lambda session: render(citizen_id, session.get(Preference, citizen_id))
        )
    )


async def put_preferences(request: Request, citizen_id: str) -> HTTPResponse:
    caller = citizen(request)
    if caller.citizen_id != citizen_id:
        raise ApiError(404, "not_found", "No such citizen.")
    body = json_body(request)
    unknown = sorted(set(body) - set(FLAGS))
    wrong = [k for k in FLAGS if k in body and not isinstance(body[k], bool)]
    if unknown or wrong or not body:
        raise ApiError(
            400,
            "invalid_preferences",
            "Send at least one of 'broadcasts', 'reminders' as true or false.",
            {"fields": {**{k: "unknown" for k in unknown}, **{k: "not_boolean" for k in wrong}}},
        )

    def work(session: Session) -> dict[str, Any]:
        preference = session.get(Preference, citizen_id)
        now = utcnow()
        if preference is None:
            preference = Preference(
                citizen_id=citizen_id, broadcasts=True, reminders=True, updated_at=now
            )
            session.add(preference)
        before = render(citizen_id, preference)
        for flag in FLAGS:
            if flag in body:
                setattr(preference, flag, body[flag])
        preference.updated_at = now
        session.flush()
        after = render(citizen_id, preference)
        if {k: before[k] for k in FLAGS} != {k: after[k] for k in FLAGS}:
            add_event(
                session,
                "citizen.preferences_changed",
                citizen_id,
                citizen_id,
                {k: after[k] for k in FLAGS},
                now,
            )
        return after

    return json_response(context(request).db.run(work))
