"""Broadcasts: a department's officer or supervisor announces a scheme or a notice to
the citizens who opted in (backends ``POST /broadcasts``), and watches each
broadcast's report (audience, sent, delivered, read, failed, opted out, pending)
update live on the page.

Before sending, "Preview" shows how many will receive it, how many it concerns but
will not reach and why (said STOP, another district), and the exact message in Hindi
and English with the template's own wording. Citizens who said STOP are counted as
opted out. Each broadcast's page lists its recipients (numbers masked) with their
status; while a page is open its counts and statuses are pulled from the channel
(backends ``POST /broadcasts/{id}/statuses``) every few seconds, not only at the
backends' periodic status sync.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse, redirect
from sanic.response import json as json_response

from dashboard.backends_client import path
from dashboard.feed import masked_number
from dashboard.security import new_token
from dashboard.web import (
    PAGE_ROLES,
    CurrentUser,
    PageError,
    Route,
    audit,
    backends,
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
from service_catalogue.lists import districts

ROLES = PAGE_ROLES["broadcasts"]
CATEGORIES = ("utility", "marketing")
TEXT_MAX = 900
REPORT_KEYS = ("audience", "sent", "delivered", "read", "failed", "opted_out", "pending")
EXCLUSIONS = ("opted_out", "other_district")
#: while a report page is open, statuses are pulled for broadcasts this recent ...
LIVE_FOR = timedelta(days=2)
#: ... at most this many at a time
LIVE_AT_MOST = 5
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def chosen_department(request: Request, user: CurrentUser, value: str) -> str:
    mine = departments_of(user)
    department = value or (mine[0] if mine else "")
    if department not in mine:
        forbid(request, f"department:{department}", page="broadcasts")
    return department


async def _reports(request: Request, department: str) -> tuple[list[dict[str, object]], str | None]:
    result = await backends(request).get("/broadcasts", params={"department": department})
    if not result.ok:
        return [], problem(request, result)
    return list(result.data.get("broadcasts", [])), None


def _broadcasts_page(
    request: Request,
    department: str,
    broadcasts: list[dict[str, object]],
    *,
    status: int = 200,
    nonce: str = "",
    values: dict[str, str] | None = None,
    preview: dict[str, Any] | None = None,
    flash: str | None = None,
    flash_kind: str = "error",
) -> HTTPResponse:
    """The department's broadcasts page: its reports and the form (values kept)."""
    return render(
        request,
        "broadcasts.html",
        status=status,
        department=department,
        broadcasts=broadcasts,
        districts=districts(),
        categories=CATEGORIES,
        nonce=nonce if _NONCE.match(nonce) else new_token()[:32],
        values=values or {},
        report_keys=REPORT_KEYS,
        preview=preview,
        exclusions=EXCLUSIONS,
        flash=flash,
        flash_kind=flash_kind,
    )


def _broadcast_body(
    department: str, category: str, district: str, texts: dict[str, str]
) -> dict[str, object]:
    body: dict[str, object] = {"department": department, "category": category, "text": texts}
    if district:
        body["district"] = district
    return body


async def page(request: Request) -> HTTPResponse:
    user = require(request, *ROLES)
    department = chosen_department(request, user, query(request, "department"))
    broadcasts, error = await _reports(request, department)
    created = query(request, "created")
    flash = error or (t(request, "broadcast_created", broadcast_id=created) if created else None)
    return _broadcasts_page(
        request, department, broadcasts, flash=flash, flash_kind="error" if error else "ok"
    )


async def create(request: Request) -> HTTPResponse:
    user = require(request, *ROLES)
    department = chosen_department(request, user, form(request, "department"))
    category, district, texts, problem_code = _form_values(request)
    nonce = form(request, "nonce")
    result = None
    if problem_code is None:
        result = await backends(request).post(
            "/broadcasts",
            _broadcast_body(department, category, district, texts),
            idempotency_key=nonce if _NONCE.match(nonce) else None,
        )
    if result is None or not result.ok:
        message = problem(request, result) if result is not None else t(request, str(problem_code))
        broadcasts, _ = await _reports(request, department)
        return _broadcasts_page(
            request,
            department,
            broadcasts,
            status=400 if problem_code else 502,
            nonce=nonce,
            values={"category": category, "district": district, **texts},
            flash=message,
        )
    broadcast_id = str(result.data.get("broadcast_id"))
    audit(
        request,
        "broadcast.create",
        broadcast_id,
        {
            "department": department,
            "category": category,
            "district": district or None,
            "audience": result.data.get("audience"),
        },
    )
    return redirect(f"/broadcasts?department={department}&created={broadcast_id}")


def _still_moving(report: dict[str, Any], now: datetime) -> bool:
    """Whether a broadcast may still change: sent messages not yet read, recently."""
    try:
        created = datetime.fromisoformat(str(report.get("created_at")).replace("Z", "+00:00"))
    except ValueError:
        return False
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    unsettled = int(report.get("sent") or 0) - int(report.get("read") or 0)
    return unsettled - int(report.get("failed") or 0) > 0 and now - created < LIVE_FOR


async def _pull(request: Request, broadcasts: list[dict[str, Any]]) -> None:
    """Ask the backends to pull WhatsApp's statuses now for the broadcasts still moving."""
    now = datetime.now(timezone.utc)
    moving = [str(b["broadcast_id"]) for b in broadcasts if _still_moving(b, now)]
    officer = backends(request)
    await asyncio.gather(
        *(
            officer.post(path("broadcasts", broadcast_id, "statuses"), {})
            for broadcast_id in moving[:LIVE_AT_MOST]
        )
    )


async def reports(request: Request) -> HTTPResponse:
    """The department's broadcast reports as JSON, for the page's live refresh (the
    statuses pulled from the channel first)."""
    user = require(request, *ROLES)
    department = chosen_department(request, user, query(request, "department"))
    broadcasts, error = await _reports(request, department)
    if not error:
        await _pull(request, broadcasts)
        broadcasts, error = await _reports(request, department)
    body = {
        "reports": {
            str(b.get("broadcast_id")): {k: b.get(k, 0) for k in REPORT_KEYS} for b in broadcasts
        },
        "error": error,
    }
    return json_response(body, status=502 if error else 200)


def _form_values(request: Request) -> tuple[str, str, dict[str, str], str | None]:
    """category, district, texts and the problem (a ``messages.yml`` key) if any."""
    category = form(request, "category")
    district = form(request, "district")
    texts = {"hi": form(request, "text_hi"), "en": form(request, "text_en")}
    problem_code = None
    if category not in CATEGORIES:
        problem_code = "invalid_fields"
    elif not all(texts.values()) or any(len(v) > TEXT_MAX for v in texts.values()):
        problem_code = "broadcast_text_required"
    elif district and district not in districts():
        problem_code = "invalid_fields"
    return category, district, texts, problem_code


async def preview(request: Request) -> HTTPResponse:
    """Nothing is sent: the audience (who will receive it, who will not and why) and the
    exact message in Hindi and English, with a button that sends this very text."""
    user = require(request, *ROLES)
    department = chosen_department(request, user, form(request, "department"))
    category, district, texts, problem_code = _form_values(request)
    nonce = form(request, "nonce")
    result = None
    if problem_code is None:
        body = _broadcast_body(department, category, district, texts)
        result = await backends(request).post("/broadcasts/preview", body)
    broadcasts, _ = await _reports(request, department)
    shown = None
    if result is not None and result.ok:
        excluded = result.data.get("excluded") or {}
        counts = {k: int(excluded.get(k) or 0) for k in EXCLUSIONS}
        audience = int(result.data.get("audience") or 0)
        shown = {
            "audience": audience,
            "excluded": counts,
            "message": dict(result.data.get("message") or {}),
        }
        audit(
            request,
            "broadcast.preview",
            f"department:{department}",
            {"category": category, "district": district or None, "audience": audience, **counts},
        )
    message = None
    if shown is None:
        message = problem(request, result) if result is not None else t(request, str(problem_code))
    return _broadcasts_page(
        request,
        department,
        broadcasts,
        status=200 if shown else (400 if problem_code else 502),
        nonce=nonce,
        values={"category": category, "district": district, **texts},
        preview=shown,
        flash=message,
    )


async def broadcast_page(request: Request, broadcast_id: str) -> HTTPResponse:
    """One broadcast: its report and each recipient's status, numbers masked."""
    user = require(request, *ROLES)
    shown, error = await _recipients(request, user, broadcast_id)
    audit(request, "broadcast.view", broadcast_id)
    return render(
        request,
        "broadcast.html",
        report=shown["report"],
        recipients=shown["recipients"],
        report_keys=REPORT_KEYS,
        districts=districts(),
        flash=error,
        flash_kind="error",
    )


async def _recipients(
    request: Request, user: CurrentUser, broadcast_id: str, *, pull: bool = False
) -> tuple[dict[str, Any], str | None]:
    officer = backends(request)
    if pull:
        pulled = await officer.post(path("broadcasts", broadcast_id, "statuses"), {})
        got = pulled if pulled.ok else await officer.get(path("broadcasts", broadcast_id))
    else:
        got = await officer.get(path("broadcasts", broadcast_id))
    if not got.ok:
        if got.status == 404:
            raise PageError(404, "not_found")
        if got.status == 403:
            forbid(request, broadcast_id, page="broadcasts")
        return {"report": {"broadcast_id": broadcast_id}, "recipients": []}, problem(request, got)
    report = dict(got.data)
    chosen_department(request, user, str(report.get("department")))
    rows = await officer.get("/notifications", params={"broadcast_id": broadcast_id})
    recipients = [
        {
            "id": n["id"],
            "number": masked_number(str(n["citizen_id"])),
            "language": n.get("language") or "",
            "status": n.get("status") or "",
            "status_text": label(request, "recipient", n.get("status") or ""),
            "updated_at": n.get("updated_at"),
        }
        for n in (rows.data.get("notifications") or [] if rows.ok else [])
    ]
    return {"report": report, "recipients": recipients}, None if rows.ok else problem(request, rows)


async def broadcast_report(request: Request, broadcast_id: str) -> HTTPResponse:
    """One broadcast's counts and recipients' statuses (pulled from the channel first),
    in the shape the page's live refresh reads."""
    user = require(request, *ROLES)
    shown, error = await _recipients(request, user, broadcast_id, pull=True)
    report = shown["report"]
    body: dict[str, Any] = {broadcast_id: {k: report.get(k, 0) for k in REPORT_KEYS}}
    for r in shown["recipients"]:
        body[f"r-{r['id']}"] = {"status": r["status_text"]}
    return json_response({"reports": body, "error": error}, status=502 if error else 200)


ROUTES: list[Route] = [
    ("GET", "/broadcasts", page),
    ("POST", "/broadcasts", create),
    ("POST", "/broadcasts/preview", preview),
    ("GET", "/broadcasts/reports.json", reports),
    ("GET", "/broadcasts/<broadcast_id>", broadcast_page),
    ("GET", "/broadcasts/<broadcast_id>/report.json", broadcast_report),
]
