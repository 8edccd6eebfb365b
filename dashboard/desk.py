"""Application desk: each department's queue, an application's page, its documents and
the officer's decisions (verify / approve / reject / ask for resubmission).

Decisions go to the e-District backend (``POST .../actions``), whose events make the
notification outbox tell the citizen. Every list, view, document preview and decision
is audited; an application of another department answers 403 (audited).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from datetime import timedelta
from pathlib import Path
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse, raw, redirect

from dashboard.backends_client import Result, path, refused_department
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
    label,
    problem,
    query,
    render,
    require,
    t,
)
from service_catalogue.india_time import today_in_india

ROLES = PAGE_ROLES["applications"]
PAGE_SIZE = 50
#: Statuses still waiting for the department (what "overdue" and "due soon" look at).
OPEN_STATUSES = ("submitted", "verified", "resubmission_requested", "payment_pending")
ALL_STATUSES = (
    "submitted",
    "verified",
    "resubmission_requested",
    "payment_pending",
    "awaiting_citizen_confirmation",
    "draft",
    "approved",
    "rejected",
    "cancelled",
    "confirmation_locked",
)
#: action -> whether a reason (which the citizen reads) is required
ACTIONS = {"verify": False, "approve": False, "reject": True, "request_resubmission": True}
#: action -> statuses it is offered in (the backend enforces the same transitions)
OFFERED_IN = {
    "verify": ("submitted",),
    "approve": ("verified",),
    "reject": ("submitted", "verified"),
    "request_resubmission": ("submitted", "verified"),
}
DUE_SOON_DAYS = 2
PREVIEW_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/webp")


def department_of(request: Request, service_id: str) -> str | None:
    service = context(request).catalogue.services.get(service_id)
    return service.department if service else None


async def visible_application(request: Request, user: CurrentUser, application_id: str) -> Result:
    """The application from the backend if ``user``'s departments include its service's
    department; 403 (audited) if not; the backend's failure as a page error."""
    result = await backends(request).get(path("edistrict", "applications", application_id))
    if result.status == 403:  # the backends refuse another department's too
        forbid(request, application_id, department=refused_department(result))
    if not result.ok:
        status = 404 if result.status == 404 else 502
        raise PageError(
            status, "not_found" if status == 404 else "unavailable", problem(request, result)
        )
    department = department_of(request, str(result.data.get("service_id")))
    if department not in departments_of(user):
        forbid(request, application_id, department=department)
    return result


@dataclasses.dataclass(frozen=True)
class Filters:
    department: str
    service: str
    status: str
    sla: str
    page: int

    def backend_query(self, request: Request) -> dict[str, str]:
        services = [
            s.id
            for s in context(request).catalogue.services.values()
            if s.department == self.department and (not self.service or s.id == self.service)
        ]
        params = {
            "service_id": ",".join(services),
            "limit": str(PAGE_SIZE),
            "offset": str((self.page - 1) * PAGE_SIZE),
        }
        statuses = self.status or ",".join(("submitted", "verified"))
        if self.sla:
            statuses = self.status or ",".join(OPEN_STATUSES)
            today = today_in_india()
            due = (
                today - timedelta(days=1)
                if self.sla == "overdue"
                else today + timedelta(DUE_SOON_DAYS)
            )
            params["due_before"] = due.isoformat()
        if statuses != "all":
            params["status"] = statuses
        return params


def filters_of(request: Request, user: CurrentUser) -> Filters:
    mine = departments_of(user)
    department = query(request, "department") or (mine[0] if mine else "")
    if department not in mine:
        forbid(request, f"department:{department}", page="applications")
    catalogue = context(request).catalogue
    service = query(request, "service")
    if service and (
        service not in catalogue.services or catalogue.services[service].department != department
    ):
        service = ""
    status = query(request, "status")
    if status not in (*ALL_STATUSES, "all"):
        status = ""
    sla = query(request, "sla")
    page = query(request, "page", "1")
    return Filters(
        department=department,
        service=service,
        status=status,
        sla=sla if sla in ("overdue", "due_soon") else "",
        page=max(1, int(page)) if page.isdigit() else 1,
    )


async def queue(request: Request) -> HTTPResponse:
    user = require(request, *ROLES)
    filters = filters_of(request, user)
    result = await backends(request).get(
        path("edistrict", "applications"), params=filters.backend_query(request)
    )
    applications = result.data.get("applications", []) if result.ok else []
    audit(
        request,
        "applications.list",
        filters.department,
        {**dataclasses.asdict(filters), "shown": [a.get("application_id") for a in applications]},
    )
    return render(
        request,
        "applications.html",
        filters=filters,
        applications=applications,
        total=int(result.data.get("total", len(applications))) if result.ok else 0,
        page_size=PAGE_SIZE,
        statuses=ALL_STATUSES,
        today=today_in_india().isoformat(),
        flash=None if result.ok else problem(request, result),
        flash_kind="error",
    )


async def show_page(
    request: Request,
    user: CurrentUser,
    application_id: str,
    *,
    flash: str | None = None,
    flash_kind: str = "ok",
    status: int = 200,
) -> HTTPResponse:
    result = await visible_application(request, user, application_id)
    audit(request, "application.view", application_id)
    application = result.data
    service = context(request).catalogue.services.get(str(application.get("service_id")))
    return render(
        request,
        "application.html",
        status=status,
        application=application,
        service=service,
        actions={
            action: needs_reason
            for action, needs_reason in ACTIONS.items()
            if application.get("status") in OFFERED_IN[action]
        },
        today=today_in_india().isoformat(),
        flash=flash,
        flash_kind=flash_kind,
    )


async def application_page(request: Request, application_id: str) -> HTTPResponse:
    user = require(request, *ROLES)
    done = query(request, "done")
    action = label(request, "action", done)
    flash = t(request, "action_done", action=action) if done in ACTIONS else None
    return await show_page(request, user, application_id, flash=flash)


async def application_action(request: Request, application_id: str) -> HTTPResponse:
    user = require(request, *ROLES)
    action = form(request, "action")
    reason = form(request, "reason")
    if action not in ACTIONS:
        raise PageError(400, "not_allowed")
    await visible_application(request, user, application_id)
    if ACTIONS[action] and not reason:
        return await show_page(
            request,
            user,
            application_id,
            flash=t(request, "reason_required"),
            flash_kind="error",
            status=400,
        )
    body: dict[str, Any] = {"action": action}
    if reason:
        body["reason"] = reason[:1000]
    result = await backends(request).post(
        path("edistrict", "applications", application_id, "actions"), body
    )
    audit(
        request,
        f"application.{action}",
        application_id,
        {
            "ok": result.ok,
            "error": result.error,
            "status": result.data.get("status") if result.ok else None,
        },
    )
    if not result.ok:
        return await show_page(
            request,
            user,
            application_id,
            flash=problem(request, result),
            flash_kind="error",
            status=409 if result.status == 409 else 502,
        )
    return redirect(f"/applications/{application_id}?done={action}")


def stored_file(request: Request, storage_ref: str, sha256: str) -> bytes:
    """The bytes of ``media/<sha256>.<ext>`` from the media store, if they still hash to
    ``sha256``; 404 otherwise (never a path outside the store)."""
    media_dir = context(request).settings.media_dir.resolve()
    name = Path(storage_ref).name
    candidate = (media_dir / name).resolve()
    if (
        not storage_ref.startswith("media/")
        or candidate.parent != media_dir
        or not candidate.is_file()
    ):
        raise PageError(404, "document_missing")
    data = candidate.read_bytes()
    if not hmac.compare_digest(hashlib.sha256(data).hexdigest(), sha256.lower()):
        raise PageError(404, "document_missing")
    return data


def inline_file(data: bytes, mime_type: str) -> HTTPResponse:
    """A document for preview: inline, never sniffed, never cached."""
    if mime_type not in PREVIEW_TYPES:
        mime_type = "application/octet-stream"
    return raw(
        data,
        content_type=mime_type,
        headers={
            "Content-Disposition": "inline",
            "Cache-Control": "no-store",
        },
    )


async def document(request: Request, application_id: str, document_id: str) -> HTTPResponse:
    user = require(request, *ROLES)
    application = (await visible_application(request, user, application_id)).data
    found = next(
        (d for d in application.get("documents", []) if d.get("document_id") == document_id), None
    )
    if found is None:
        raise PageError(404, "document_missing")
    data = stored_file(request, str(found.get("storage_ref", "")), str(found.get("sha256", "")))
    audit(request, "document.view", application_id, {"document_id": document_id})
    return inline_file(data, str(found.get("mime_type", "")))


ROUTES: list[Route] = [
    ("GET", "/applications", queue),
    ("GET", "/applications/<application_id>", application_page),
    ("POST", "/applications/<application_id>/actions", application_action),
    ("GET", "/applications/<application_id>/documents/<document_id>", document),
]
