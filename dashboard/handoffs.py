"""Handoffs (supervisors and administrators): who holds which citizen's chat, for how long.

- ``GET /handoffs``: the handoffs a user may manage (:func:`~dashboard.conversations.
  may_manage`: a supervisor's departments' and the helpdesk's, every one for an
  administrator), oldest first; those held longer than ``DASHBOARD_HANDOFF_STALE_MINUTES``
  are flagged (the conversations list tells supervisors how many there are).
- ``POST /handoffs/<wa_id>/release``: the assistant answers again and the citizen is
  told (the channel ends the handoff with ``override``).
- ``POST /handoffs/<wa_id>/reassign``: another officer of the handoff's department (for
  a helpdesk handoff: anyone who answers citizens; the handoff then belongs to their
  department) holds it from now; the citizen is told who.

:func:`release_disabled` ends the handoffs of disabled accounts: the Users page runs it
when an administrator disables one, and the dashboard every ``RELEASE_SWEEP_SECONDS``
(for an account disabled with ``python -m dashboard.users disable``). The channel also
ends any handoff whose officer has been silent for its timeout (connectors/handoffs.py).
Every action is audited.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse, redirect
from sqlalchemy import select

from dashboard.backends_client import Result
from dashboard.channel_client import ChannelClient, Officer
from dashboard.conversations import is_stale, live, may_manage, since_epoch
from dashboard.db import Database, User
from dashboard.feed import masked_number
from dashboard.users import all_users
from dashboard.web import (
    PAGE_ROLES,
    Context,
    CurrentUser,
    PageError,
    Route,
    audit,
    context,
    forbid,
    form,
    ist,
    language,
    problem,
    query,
    render,
    require,
    t,
)
from service_catalogue import pick

log = logging.getLogger(__name__)

ROLES = PAGE_ROLES["handoffs"]
#: Roles that answer citizens, i.e. may be given a handoff.
HOLDER_ROLES = ("officer", "supervisor", "helpdesk")
RELEASE_SWEEP_SECONDS = 60.0
DONE = ("handoff_released_by_you", "handoff_reassigned")


@dataclasses.dataclass(frozen=True)
class Held:
    """A handoff as the page shows it."""

    wa_id: str
    who: str
    officer_id: str
    officer_name: str
    department: str
    department_name: str
    since: str  # IST
    minutes: int
    stale: bool
    candidates: list[tuple[str, str]]  # (username, "Name · department") to reassign to


def may_hold(target: User, department: str) -> bool:
    """May ``target`` be given a handoff of ``department`` ("" = the helpdesk's)?"""
    if target.disabled or target.role not in HOLDER_ROLES:
        return False
    if not department:
        return True
    return target.role in ("officer", "supervisor") and department in (target.departments or [])


def department_for(target: User, department: str) -> str:
    """The department a reassigned handoff speaks for: its own, or for a helpdesk handoff
    given to an officer, the officer's (first) department."""
    if department or target.role == "helpdesk":
        return department
    return sorted(target.departments or [""])[0]


async def _handoffs(request: Request) -> list[dict[str, Any]]:
    result = await live(request).channel.handoffs()
    if not result.ok:
        raise PageError(502, "channel_unreachable", result.message)
    return list(result.data.get("handoffs") or [])


def _department_name(request: Request, department: str) -> str:
    departments = context(request).catalogue.departments
    if department in departments:
        return pick(departments[department].name, language(request))
    return t(request, "helpdesk") if not department else department


async def page(request: Request) -> HTTPResponse:
    user = require(request, *ROLES)
    ctx = context(request)
    rows = [r for r in await _handoffs(request) if may_manage(user, r)]
    now = live(request).feed.clock()
    stale_seconds = ctx.settings.handoff_stale_seconds
    users = all_users(ctx.db)
    held = []
    for row in sorted(rows, key=since_epoch):
        department = str(row.get("department") or "")
        held.append(
            Held(
                wa_id=str(row["wa_id"]),
                who=masked_number(str(row["wa_id"])),
                officer_id=str(row["officer_id"]),
                officer_name=str(row["officer_name"]),
                department=department,
                department_name=_department_name(request, department),
                since=ist(since_epoch(row), lang=language(request)),
                minutes=int(max(0.0, now - since_epoch(row)) // 60),
                stale=is_stale(row, now, stale_seconds),
                candidates=[
                    (u.username, _candidate(request, u))
                    for u in users
                    if u.username != row["officer_id"] and may_hold(u, department)
                ],
            )
        )
    audit(request, "handoffs.view")
    done = query(request, "done")
    return render(
        request,
        "handoffs.html",
        held=held,
        stale_minutes=f"{stale_seconds / 60:g}",
        flash=t(request, done) if done in DONE else None,
        flash_kind="ok",
    )


def _candidate(request: Request, user: User) -> str:
    departments = ", ".join(_department_name(request, d) for d in user.departments or [])
    return f"{user.name} · {departments or t(request, 'helpdesk')}"


async def _managed(request: Request, user: CurrentUser, wa_id: str) -> dict[str, Any]:
    """The handoff of ``wa_id`` if ``user`` may manage it: 404 none, 403 (audited) not theirs."""
    row = next((r for r in await _handoffs(request) if r.get("wa_id") == wa_id), None)
    if row is None:
        raise PageError(404, "not_in_handoff")
    if not may_manage(user, row):
        forbid(request, wa_id, page="handoff", department=row.get("department"))
    return row


def _back(request: Request, done: str) -> HTTPResponse:
    target = form(request, "next")
    if target.startswith("/conversations/") and "//" not in target:
        return redirect(f"{target}?done={done}")
    return redirect(f"/handoffs?done={done}")


async def release(request: Request, wa_id: str) -> HTTPResponse:
    user = require(request, *ROLES)
    row = await _managed(request, user, wa_id)
    officer = Officer(user.username, user.name, str(row.get("department") or ""))
    result = await live(request).channel.release(wa_id, officer, reason="supervisor")
    audit(
        request,
        "handoff.release",
        wa_id,
        {"ok": result.ok, "error": result.error, "holder": row["officer_id"]},
    )
    if not result.ok:
        raise _failed(request, result)
    return _back(request, "handoff_released_by_you")


async def reassign(request: Request, wa_id: str) -> HTTPResponse:
    user = require(request, *ROLES)
    row = await _managed(request, user, wa_id)
    department = str(row.get("department") or "")
    username = form(request, "officer").lower()
    db = context(request).db
    target = db.run(
        lambda s: s.execute(select(User).where(User.username == username)).scalar_one_or_none()
    )
    if target is None or target.username == row["officer_id"] or not may_hold(target, department):
        raise PageError(400, "reassign_invalid")
    officer = Officer(target.username, target.name, department_for(target, department))
    result = await live(request).channel.reassign(wa_id, officer, by=user.username)
    audit(
        request,
        "handoff.reassign",
        wa_id,
        {
            "ok": result.ok,
            "error": result.error,
            "from": row["officer_id"],
            "to": target.username,
            "department": officer.department,
        },
    )
    if not result.ok:
        raise _failed(request, result)
    return _back(request, "handoff_reassigned")


def _failed(request: Request, result: Result) -> PageError:
    status = result.status if 400 <= result.status < 500 else 502
    return PageError(status, "handoff_failed", problem(request, result))


# --------------------------------------------------------------------------- disabled


async def release_disabled(
    db: Database, channel: ChannelClient, only: str | None = None
) -> list[str]:
    """End every handoff held by a disabled account (``only``: that username's); the
    conversations released."""
    listed = await channel.handoffs()
    if not listed.ok:
        log.warning("handoffs: the channel cannot be reached (%s)", listed.error)
        return []
    rows = [r for r in listed.data.get("handoffs") or [] if only in (None, r.get("officer_id"))]
    holders = {str(r.get("officer_id")) for r in rows}
    if not holders:
        return []
    disabled = set(
        db.run(
            lambda s: list(
                s.execute(
                    select(User.username).where(User.username.in_(holders), User.disabled)
                ).scalars()
            )
        )
    )
    released = []
    for row in rows:
        if row.get("officer_id") not in disabled:
            continue
        system = Officer("dashboard", "Delhi Sewa", str(row.get("department") or ""))
        result = await channel.release(str(row["wa_id"]), system, reason="account_disabled")
        if result.ok:
            released.append(str(row["wa_id"]))
        else:
            log.warning(
                "handoffs: releasing a disabled account's handoff failed (%s)", result.error
            )
    return released


async def sweep_disabled(ctx: Context) -> None:
    """Every ``RELEASE_SWEEP_SECONDS``: :func:`release_disabled` (runs as a dashboard task)."""
    settings = ctx.settings
    channel = ChannelClient(
        settings.channel_url, settings.whatsapp_internal_token, settings.backends_timeout_seconds
    )
    try:
        while True:
            try:
                released = await release_disabled(ctx.db, channel)
                if released:
                    log.info("handoffs: %d handoff(s) of disabled accounts released", len(released))
            except Exception:  # noqa: BLE001 - the next sweep tries again
                log.exception("handoffs: the sweep failed")
            await asyncio.sleep(RELEASE_SWEEP_SECONDS)
    finally:
        await channel.close()


ROUTES: list[Route] = [
    ("GET", "/handoffs", page),
    ("POST", "/handoffs/<wa_id:str>/release", release),
    ("POST", "/handoffs/<wa_id:str>/reassign", reassign),
]
