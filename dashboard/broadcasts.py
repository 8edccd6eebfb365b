"""Broadcasts: a department's officer or supervisor announces a scheme or a notice to
the citizens who opted in (backends ``POST /broadcasts``), and watches each
broadcast's report (audience, sent, delivered, read, failed, opted out, pending)
update live on the page."""

from __future__ import annotations

import re

from sanic import Request
from sanic.response import HTTPResponse, redirect
from sanic.response import json as json_response

from dashboard.security import new_token
from dashboard.web import (
    PAGE_ROLES,
    CurrentUser,
    Route,
    audit,
    backends,
    departments_of,
    forbid,
    form,
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


async def page(request: Request) -> HTTPResponse:
    user = require(request, *ROLES)
    department = chosen_department(request, user, query(request, "department"))
    broadcasts, error = await _reports(request, department)
    created = query(request, "created")
    flash = error or (t(request, "broadcast_created", broadcast_id=created) if created else None)
    return render(
        request,
        "broadcasts.html",
        department=department,
        broadcasts=broadcasts,
        districts=districts(),
        categories=CATEGORIES,
        nonce=new_token()[:32],
        values={},
        report_keys=REPORT_KEYS,
        flash=flash,
        flash_kind="error" if error else "ok",
    )


async def create(request: Request) -> HTTPResponse:
    user = require(request, *ROLES)
    department = chosen_department(request, user, form(request, "department"))
    category = form(request, "category")
    district = form(request, "district")
    texts = {"hi": form(request, "text_hi"), "en": form(request, "text_en")}
    nonce = form(request, "nonce")
    problem_code = None
    if category not in CATEGORIES:
        problem_code = "invalid_fields"
    elif not all(texts.values()) or any(len(v) > TEXT_MAX for v in texts.values()):
        problem_code = "broadcast_text_required"
    elif district and district not in districts():
        problem_code = "invalid_fields"
    result = None
    if problem_code is None:
        body: dict[str, object] = {"department": department, "category": category, "text": texts}
        if district:
            body["district"] = district
        result = await backends(request).post(
            "/broadcasts", body, idempotency_key=nonce if _NONCE.match(nonce) else None
        )
    if result is None or not result.ok:
        message = problem(request, result) if result is not None else t(request, str(problem_code))
        broadcasts, _ = await _reports(request, department)
        return render(
            request,
            "broadcasts.html",
            status=400 if problem_code else 502,
            department=department,
            broadcasts=broadcasts,
            districts=districts(),
            categories=CATEGORIES,
            nonce=nonce if _NONCE.match(nonce) else new_token()[:32],
            values={"category": category, "district": district, **texts},
            report_keys=REPORT_KEYS,
            flash=message,
            flash_kind="error",
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


async def reports(request: Request) -> HTTPResponse:
    """The department's broadcast reports as JSON, for the page's live refresh."""
    user = require(request, *ROLES)
    department = chosen_department(request, user, query(request, "department"))
    broadcasts, error = await _reports(request, department)
    body = {
        "reports": {
            str(b.get("broadcast_id")): {k: b.get(k, 0) for k in REPORT_KEYS} for b in broadcasts
        },
        "error": error,
    }
    return json_response(body, status=502 if error else 200)


ROUTES: list[Route] = [
    ("GET", "/broadcasts", page),
    ("POST", "/broadcasts", create),
    ("GET", "/broadcasts/reports.json", reports),
]
