"""CSC assisted mode: a Common Service Centre operator files an application for a
citizen identified by their mobile number.

The form is the catalogue's (labels in English and Hindi, checked with
``service_catalogue.validation``; an Aadhaar number is kept only as its mask). Uploaded
documents are checked like WhatsApp uploads (type by content, size) and stored in the
same media store. The backend creates the application for the citizen (WhatsApp id
``91`` + mobile) with ``channel: csc`` and ``operator: {id, name, centre}``; it waits
in ``awaiting_citizen_confirmation`` until the citizen confirms with the code sent to
their WhatsApp. "My filings" shows each filing's state.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, datetime
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse, redirect
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import media
from dashboard.backends_client import path
from dashboard.db import CscFiling, utcnow
from dashboard.security import new_token
from dashboard.web import (
    PAGE_ROLES,
    PageError,
    Route,
    audit,
    backends,
    context,
    form,
    ist,
    language,
    messages,
    problem,
    query,
    render,
    require,
    t,
)
from service_catalogue import Field, Service
from service_catalogue.india_time import today_in_india
from service_catalogue.validation import check

ROLES = PAGE_ROLES["csc"]
MOBILE = Field("mobile", "mobile", {"en": "Mobile", "hi": "मोबाइल"})
FILINGS_SHOWN = 50
_NONCE_LENGTH = 32


def service_of(request: Request, service_id: str) -> Service:
    service = context(request).catalogue.services.get(service_id)
    if service is None:
        raise PageError(404, "service_unknown")
    return service


async def services(request: Request) -> HTTPResponse:
    require(request, *ROLES)
    return render(request, "csc.html")


def _form_page(
    request: Request,
    service: Service,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    flash: str | None = None,
    nonce: str | None = None,
    status: int = 200,
) -> HTTPResponse:
    return render(
        request,
        "csc_form.html",
        status=status,
        service=service,
        values=values or {},
        errors=errors or {},
        nonce=nonce or new_token()[:_NONCE_LENGTH],
        flash=flash,
        flash_kind="error",
    )


async def new_filing(request: Request) -> HTTPResponse:
    require(request, *ROLES)
    return _form_page(request, service_of(request, query(request, "service")))


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


@dataclasses.dataclass
class Checked:
    wa_id: str | None
    fields: dict[str, Any]
    uploads: dict[str, tuple[bytes, str, str, str]]  # document id -> (data, mime, sha, name)
    errors: dict[str, str]  # field or document id -> message
    shown: dict[str, str]  # what to put back in the form (never a full Aadhaar number)


def _check_form(request: Request, service: Service) -> Checked:
    today = today_in_india()
    errors: dict[str, str] = {}
    shown: dict[str, str] = {}
    mobile = check(MOBILE, form(request, "mobile"), today)
    wa_id = None
    if mobile.ok:
        wa_id = str(mobile.value).lstrip("+")
        shown["mobile"] = form(request, "mobile")
    else:
        errors["mobile"] = t(request, "mobile_invalid")
    shown["language"] = form(request, "language")
    fields: dict[str, Any] = {}
    for field in service.fields:
        raw = form(request, f"field_{field.id}")
        if not raw and field.optional:
            continue
        checked = check(field, raw, today)
        if checked.ok:
            fields[field.id] = _plain(checked.value)
            shown[field.id] = str(checked.value) if field.type == "aadhaar" else raw
        else:
            errors[field.id] = t(request, f"field.{checked.error}")
            shown[field.id] = "" if field.type == "aadhaar" else raw
    uploads: dict[str, tuple[bytes, str, str, str]] = {}
    for document in service.documents:
        upload = request.files.get(f"document_{document.id}") if request.files else None
        if upload is None or not upload.body:
            if document.required:
                errors[document.id] = t(request, "document_required", document=document.title("en"))
            continue
        declared = str(upload.type or "").split(";")[0].strip()
        verdict = media.check_upload(upload.body, declared, None)
        if not verdict.ok:
            errors[document.id] = t(request, "upload_invalid", document=document.title("en"))
            continue
        name = (upload.name or f"{document.id}.{media.EXTENSIONS[str(verdict.mime_type)]}")[-200:]
        uploads[document.id] = (
            bytes(upload.body),
            str(verdict.mime_type),
            str(verdict.sha256_hex),
            name.replace("/", "_").replace("\\", "_"),
        )
    return Checked(wa_id, fields, uploads, errors, shown)


async def submit_filing(request: Request) -> HTTPResponse:
    user = require(request, *ROLES)
    service = service_of(request, form(request, "service"))
    nonce = form(request, "nonce")
    if len(nonce) != _NONCE_LENGTH or not nonce.replace("-", "").replace("_", "").isalnum():
        nonce = new_token()[:_NONCE_LENGTH]
    checked = _check_form(request, service)
    if checked.errors or checked.wa_id is None:
        return _form_page(
            request,
            service,
            values=checked.shown,
            errors=checked.errors,
            flash=t(request, "invalid_fields"),
            nonce=nonce,
            status=400,
        )
    wa_id = checked.wa_id
    client = context(request).backends
    created = await client.request(
        "POST",
        "/edistrict/applications",
        citizen_id=wa_id,
        idempotency_key=f"csc-{nonce}",
        body={
            "service_id": service.id,
            "fields": checked.fields,
            "language": "en" if form(request, "language") == "en" else "hi",
            "channel": "csc",
            "operator": {"id": user.username, "name": user.name, "centre": user.csc_centre or ""},
        },
    )
    if not created.ok:
        audit(request, "csc.file_failed", service.id, {"error": created.error})
        errors = {
            f: t(request, f"field.{c}" if f"field.{c}" in messages() else "field.invalid")
            for f, c in created.fields.items()
        }
        return _form_page(
            request,
            service,
            values=checked.shown,
            errors=errors,
            flash=problem(request, created),
            nonce=nonce,
            status=502 if created.status in (0, 500, 502, 503) else 400,
        )
    application_id = str(created.data["application_id"])
    media_dir = context(request).settings.media_dir
    for document_id, (data, mime, sha, name) in checked.uploads.items():
        ref = await asyncio.to_thread(media.store, data, media_dir, sha, mime)
        attached = await client.request(
            "POST",
            path("edistrict", "applications", application_id, "documents"),
            citizen_id=wa_id,
            body={
                "document_id": document_id,
                "filename": name,
                "mime_type": mime,
                "size": len(data),
                "sha256": sha,
                "storage_ref": ref,
            },
        )
        if not attached.ok:
            audit(request, "csc.document_failed", application_id, {"document_id": document_id})
            return _form_page(
                request,
                service,
                values=checked.shown,
                flash=problem(request, attached),
                nonce=nonce,  # the same filing is resumed, not duplicated
                status=502,
            )

    def record(session: Session) -> None:
        if session.get(CscFiling, application_id) is None:
            session.add(
                CscFiling(
                    application_id=application_id,
                    user_id=user.id,
                    centre=user.csc_centre or "",
                    service_id=service.id,
                    mobile_last4=wa_id[-4:],
                    created_at=utcnow(),
                )
            )

    context(request).db.run(record)
    audit(
        request,
        "csc.file",
        application_id,
        {"service_id": service.id, "centre": user.csc_centre, "documents": sorted(checked.uploads)},
    )
    return redirect(f"/csc/filings?filed={application_id}")


def operator_state(status: str | None) -> str:
    """What a filing's backend status means to the operator (a ``messages.yml`` key)."""
    if status is None:
        return "csc.unknown"
    if status in ("awaiting_citizen_confirmation", "cancelled", "confirmation_locked"):
        return f"csc.{status}"
    return "csc.confirmed"


async def filings(request: Request) -> HTTPResponse:
    user = require(request, *ROLES)
    rows = context(request).db.run(
        lambda session: list(
            session.execute(
                select(CscFiling)
                .where(CscFiling.user_id == user.id)
                .order_by(CscFiling.created_at.desc())
                .limit(FILINGS_SHOWN)
            ).scalars()
        )
    )
    officer = backends(request)
    results = await asyncio.gather(
        *(officer.get(path("edistrict", "applications", r.application_id)) for r in rows)
    )
    shown = []
    for row, result in zip(rows, results):
        status = str(result.data.get("status")) if result.ok else None
        service = context(request).catalogue.services.get(row.service_id)
        shown.append(
            {
                "application_id": row.application_id,
                "service": service.title(language(request)) if service else row.service_id,
                "mobile": f"XXXXXX{row.mobile_last4}",
                "filed_at": ist(row.created_at.isoformat(), False, language(request)),
                "state": t(request, operator_state(status)),
                "state_key": operator_state(status),
                "status": status or "",
            }
        )
    audit(request, "csc.filings_list", user.username, {"shown": [r.application_id for r in rows]})
    filed = query(request, "filed")
    return render(
        request,
        "csc_filings.html",
        filings=shown,
        flash=t(request, "csc_filed", application_id=filed) if filed else None,
    )


ROUTES: list[Route] = [
    ("GET", "/csc", services),
    ("GET", "/csc/new", new_filing),
    ("POST", "/csc/new", submit_filing),
    ("GET", "/csc/filings", filings),
]
