"""Grievance desk: each department's queue with SLA timers and escalation levels, a
grievance's page, and assign / reply / resolve (the grievance backend's officer
actions, which notify the citizen through the outbox). Everything is audited; a
grievance of another department answers 403 (audited)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse, redirect
from sqlalchemy import select

from dashboard.backends_client import Result, path, refused_department
from dashboard.db import User
from dashboard.desk import inline_file, stored_file
from dashboard.web import (
    PAGE_ROLES,
    CurrentUser,
    PageError,
    Route,
    audit,
    backends,
    context,
    departments_of,
    forbid,
    form,
    problem,
    query,
    render,
    require,
    t,
)

ROLES = PAGE_ROLES["grievances"]
PAGE_SIZE = 50
OPEN_STATUSES = ("open", "in_progress")
ALL_STATUSES = ("open", "in_progress", "resolved", "closed")
ACTIONS = ("assign", "reply", "resolve")
DUE_SOON = timedelta(days=1)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


async def visible_grievance(request: Request, user: CurrentUser, grievance_id: str) -> Result:
    result = await backends(request).get(path("grievances", grievance_id))
    if result.status == 403:  # the backends refuse another department's too
        forbid(request, grievance_id, department=refused_department(result))
    if not result.ok:
        status = 404 if result.status == 404 else 502
        raise PageError(
            status, "not_found" if status == 404 else "unavailable", problem(request, result)
        )
    department = result.data.get("department")
    if department not in departments_of(user):
        forbid(request, grievance_id, department=department)
    return result


@dataclasses.dataclass(frozen=True)
class Filters:
    department: str
    status: str
    sla: str  # "", "due_soon", "overdue"
    assigned: str  # "", "me", "unassigned"
    escalated: bool
    page: int


def filters_of(request: Request, user: CurrentUser) -> Filters:
    mine = departments_of(user)
    department = query(request, "department") or (mine[0] if mine else "")
    if department not in mine:
        forbid(request, f"department:{department}", page="grievances")
    status = query(request, "status")
    sla = query(request, "sla")
    assigned = query(request, "assigned")
    page = query(request, "page", "1")
    escalated = query(request, "escalated", "1" if user.role == "supervisor" else "")
    return Filters(
        department=department,
        status=status if status in (*ALL_STATUSES, "all") else "",
        sla=sla if sla in ("due_soon", "overdue") else "",
        assigned=assigned if assigned in ("me", "unassigned") else "",
        escalated=escalated == "1",
        page=max(1, int(page)) if page.isdigit() else 1,
    )


async def queue(request: Request) -> HTTPResponse:
    user = require(request, *ROLES)
    filters = filters_of(request, user)
    params = {
        "department": filters.department,
        "limit": str(PAGE_SIZE),
        "offset": str((filters.page - 1) * PAGE_SIZE),
    }
    status = filters.status or ",".join(OPEN_STATUSES)
    if status != "all":
        params["status"] = status
    if filters.sla:
        params["due_before"] = _iso(
            _now() + (DUE_SOON if filters.sla == "due_soon" else timedelta())
        )
    if filters.assigned == "me":
        params["assigned_to"] = user.username
    result = await backends(request).get("/grievances", params=params)
    grievances = result.data.get("grievances", []) if result.ok else []
    if filters.assigned == "unassigned":
        grievances = [g for g in grievances if not g.get("assigned_to")]
    if filters.escalated:
        grievances = [g for g in grievances if int(g.get("escalation_level") or 0) > 0]
    audit(
        request,
        "grievances.list",
        filters.department,
        {**dataclasses.asdict(filters), "shown": [g.get("grievance_id") for g in grievances]},
    )
    return render(
        request,
        "grievances.html",
        filters=filters,
        grievances=grievances,
        total=int(result.data.get("total", 0)) if result.ok else 0,
        page_size=PAGE_SIZE,
        statuses=ALL_STATUSES,
        now=_iso(_now()),
        flash=None if result.ok else problem(request, result),
        flash_kind="error",
    )


def colleagues(request: Request, department: str) -> list[tuple[str, str]]:
    """(username, name) of the active officers and supervisors of ``department``."""
    users = context(request).db.run(
        lambda session: list(
            session.execute(
                select(User).where(
                    User.disabled.is_(False), User.role.in_(("officer", "supervisor"))
                )
            ).scalars()
        )
    )
    return sorted((u.username, u.name) for u in users if department in (u.departments or []))


async def show_page(
    request: Request,
    user: CurrentUser,
    grievance_id: str,
    *,
    flash: str | None = None,
    flash_kind: str = "ok",
    status: int = 200,
) -> HTTPResponse:
    grievance = (await visible_grievance(request, user, grievance_id)).data
    audit(request, "grievance.view", grievance_id)
    return render(
        request,
        "grievance.html",
        status=status,
        grievance=grievance,
        officers=colleagues(request, str(grievance.get("department"))),
        now=_iso(_now()),
        flash=flash,
        flash_kind=flash_kind,
    )


async def grievance_page(request: Request, grievance_id: str) -> HTTPResponse:
    user = require(request, *ROLES)
    done = query(request, "done")
    flash = t(request, "action_done", action=done) if done in ACTIONS else None
    return await show_page(request, user, grievance_id, flash=flash)


async def grievance_action(request: Request, grievance_id: str) -> HTTPResponse:
    user = require(request, *ROLES)
    action = form(request, "action")
    if action not in ACTIONS:
        raise PageError(400, "not_allowed")
    grievance = (await visible_grievance(request, user, grievance_id)).data
    body: dict[str, Any] = {"action": action}
    detail: dict[str, Any] = {}
    if action == "assign":
        assignee = form(request, "officer") or user.username
        allowed = {u for u, _ in colleagues(request, str(grievance.get("department")))}
        if assignee not in allowed:
            forbid(request, grievance_id, assignee=assignee)
        body["officer"] = detail["assignee"] = assignee
    else:
        message = form(request, "message")
        if action == "reply" and not message:
            return await show_page(
                request,
                user,
                grievance_id,
                flash=t(request, "message_required"),
                flash_kind="error",
                status=400,
            )
        if message:
            body["message"] = message[:2000]
    result = await backends(request).post(path("grievances", grievance_id, "actions"), body)
    detail.update(ok=result.ok, error=result.error)
    audit(request, f"grievance.{action}", grievance_id, detail)
    if not result.ok:
        return await show_page(
            request,
            user,
            grievance_id,
            flash=problem(request, result),
            flash_kind="error",
            status=409 if result.status == 409 else 502,
        )
    return redirect(f"/grievances/{grievance_id}?done={action}")


async def attachment(request: Request, grievance_id: str) -> HTTPResponse:
    user = require(request, *ROLES)
    grievance = (await visible_grievance(request, user, grievance_id)).data
    found = grievance.get("attachment") or {}
    if not found.get("storage_ref"):
        raise PageError(404, "document_missing")
    data = stored_file(request, str(found["storage_ref"]), str(found.get("sha256", "")))
    audit(request, "grievance.attachment_view", grievance_id)
    return inline_file(data, str(found.get("mime_type", "")))


ROUTES: list[Route] = [
    ("GET", "/grievances", queue),
    ("GET", "/grievances/<grievance_id>", grievance_page),
    ("POST", "/grievances/<grievance_id>/actions", grievance_action),
    ("GET", "/grievances/<grievance_id>/attachment", attachment),
]
