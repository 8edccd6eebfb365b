"""Certificates: the PDF, its QR verification token and the signed download link.

- Verification token (printed as a QR code): ``<certificate number>.<kid>.<base64url
  HMAC-SHA256 of "<kid>:<number>" with the key of that kid>``; ``/verify/<token>`` says
  "Genuine" only for an untampered token of an issued, unrevoked certificate. New tokens
  use ``CERTIFICATE_SIGNING_KEY`` under ``CERTIFICATE_SIGNING_KID``; a rotated key moves
  to ``CERTIFICATE_RETIRED_KEYS`` and the certificates it signed (printed, unchangeable)
  still verify. Tokens printed before key ids (``<number>.<HMAC of the number>``) verify
  against the current and every retired key.
- Download link: ``/certificates/<number>.pdf?expires=<unix time>&signature=<HMAC of
  "download:<number>:<expires>">``, valid 15 minutes, no bearer token needed.
- PDFs are written under ``STORAGE_DIR/certificates`` (outside any web root) and are
  only ever served through a valid download link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import logging
import os
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse, raw
from sanic.response import json as json_response
from sqlalchemy import select
from sqlalchemy.orm import Session

from backends import certificate_pdf
from backends.config import CERTIFICATE_LINK_SECONDS, Settings
from backends.db import Application, add_event, iso, ist_date, next_id, utcnow
from backends.web import ApiError, Context, context, page
from service_catalogue import Catalogue, Service

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"^CERT-\d{4}-\d{6,}$")


def _sign(key: str, message: str) -> str:
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _keys(settings: Settings) -> dict[str, str]:
    """Every key a token may be signed with, by kid (the current one first)."""
    return {settings.signing_kid: settings.signing_key, **settings.retired_signing_keys}


def token_for(settings: Settings, number: str) -> str:
    kid = settings.signing_kid
    return f"{number}.{kid}.{_sign(settings.signing_key, f'{kid}:{number}')}"


def number_from_token(settings: Settings, token: str) -> str | None:
    """The certificate number of an authentic token, else ``None``."""
    parts = token.split(".")
    keys = _keys(settings)
    if len(parts) == 3:  # number.kid.signature
        number, kid, signature = parts
        key = keys.get(kid)
        candidates = [_sign(key, f"{kid}:{number}")] if key else []
    elif len(parts) == 2:  # printed before key ids: number.signature
        number, signature = parts
        candidates = [_sign(key, number) for key in keys.values()]
    else:
        return None
    if not _NUMBER.match(number):
        return None
    # Compare the text, not decoded bytes: base64 has spare bits in its last character.
    authentic = any(hmac.compare_digest(c.encode(), signature.encode()) for c in candidates)
    return number if authentic else None


def verify_url(settings: Settings, number: str) -> str:
    return f"{settings.public_url}/verify/{token_for(settings, number)}"


def download_link(settings: Settings, number: str, now: datetime) -> dict[str, Any]:
    expires = now + timedelta(seconds=CERTIFICATE_LINK_SECONDS)
    stamp = int((expires - datetime(1970, 1, 1)).total_seconds())
    signature = _sign(settings.signing_key, f"download:{number}:{stamp}")
    query = f"expires={stamp}&signature={signature}"
    return {
        "url": f"{settings.public_url}/certificates/{number}.pdf?{query}",
        "filename": f"{number}.pdf",
        "expires_at": iso(expires),
    }


def pdf_path(settings: Settings, number: str) -> Path:
    return settings.storage_dir / "certificates" / f"{number}.pdf"


def applicant_name(service: Service, fields: dict[str, Any]) -> str:
    """The applicant: the service's first person-name field."""
    for field in service.fields:
        if field.type == "name" and fields.get(field.id):
            return str(fields[field.id])
    return ""


def render_pdf(settings: Settings, catalogue: Catalogue, app: Application) -> bytes:
    """The bilingual certificate PDF of an approved application (backends/certificate_pdf.py)."""
    service = catalogue.services[app.service_id]
    assert app.certificate_number is not None and app.issued_at is not None
    return certificate_pdf.render(
        certificate_pdf.Certificate(
            service=service,
            department=catalogue.departments[service.department],
            number=app.certificate_number,
            application_id=app.id,
            fields=app.fields,
            issued_at=app.issued_at,
            applied_at=app.created_at,
            verify_url=verify_url(settings, app.certificate_number),
        )
    )


def write_pdf(ctx: Context, app: Application) -> Path:
    assert app.certificate_number is not None
    path = pdf_path(ctx.settings, app.certificate_number)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(render_pdf(ctx.settings, ctx.catalogue, app))
    tmp.replace(path)
    return path


def issue(session: Session, ctx: Context, app: Application, now: datetime) -> None:
    """Give an approved application its certificate number and write the PDF."""
    app.certificate_number = next_id(session, "CERT", now)
    app.issued_at = now
    write_pdf(ctx, app)
    add_event(
        session,
        "certificate.issued",
        app.id,
        app.citizen_id,
        {"certificate_number": app.certificate_number, "service_id": app.service_id},
        now,
    )
    log.info("certificate %s issued for %s", app.certificate_number, app.id)


def _by_number(session: Session, number: str) -> Application | None:
    return session.execute(
        select(Application).where(Application.certificate_number == number)
    ).scalar_one_or_none()


# --------------------------------------------------------------------------- routes


async def download(request: Request, filename: str) -> HTTPResponse:
    """``GET /certificates/<number>.pdf?expires=&signature=``: the PDF, no token needed."""
    ctx = context(request)
    number = filename[: -len(".pdf")] if filename.endswith(".pdf") else ""
    expires = request.args.get("expires", "")
    signature = request.args.get("signature", "")
    if not (_NUMBER.match(number) and expires.isdigit()):
        raise ApiError(403, "link_invalid", "This download link is not valid.")
    expected = _sign(ctx.settings.signing_key, f"download:{number}:{expires}")
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise ApiError(403, "link_invalid", "This download link is not valid.")
    if int(expires) < (utcnow() - datetime(1970, 1, 1)).total_seconds():
        raise ApiError(403, "link_expired", "This download link has expired; ask for a new one.")

    def load(session: Session) -> Application:
        app = _by_number(session, number)
        if app is None or app.revoked_at is not None:
            raise ApiError(404, "not_found", "No such certificate.")
        # cancels the "certificate ready" reminder (backends/reminders.py)
        add_event(
            session,
            "certificate.downloaded",
            app.id,
            app.citizen_id,
            {"certificate_number": number},
        )
        return app

    app = ctx.db.run(load)
    path = pdf_path(ctx.settings, number)
    if not path.exists():  # storage lost or moved: the record is the source of truth
        write_pdf(ctx, app)
    return raw(
        path.read_bytes(),
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{number}.pdf"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def check(ctx: Context, token: str) -> dict[str, Any]:
    """``{"valid": bool, ...}`` for a verification token."""
    number = number_from_token(ctx.settings, token)
    if number is None:
        return {"valid": False, "reason": "not_authentic"}
    app = ctx.db.run(lambda session: _by_number(session, number))
    if app is None or app.status != "approved":
        return {"valid": False, "reason": "unknown"}
    if app.revoked_at is not None:
        return {"valid": False, "reason": "revoked"}
    service = ctx.catalogue.services[app.service_id]
    assert app.issued_at is not None
    return {
        "valid": True,
        "certificate_number": number,
        "service_id": service.id,
        "service_name": dict(service.name),
        "department": dict(ctx.catalogue.departments[service.department].name),
        "applicant_name": applicant_name(service, app.fields),
        "issued_on": ist_date(app.issued_at).isoformat(),
    }


def date_shown(iso_date: str) -> str:
    """``2026-11-24`` as the certificate prints it: ``24/11/2026``."""
    return certificate_pdf.day(date.fromisoformat(iso_date))


async def verify(request: Request, token: str) -> HTTPResponse:
    """``GET /verify/<token>``: a page for whoever scans the QR code (200 either way)."""
    result = check(context(request), token)
    if request.args.get("format") == "json":
        return json_response(result, headers={"Cache-Control": "no-store"})
    e = html.escape
    if not result["valid"]:
        return page(
            "Not valid · मान्य नहीं",
            '<h1 class="bad">&#10008; Not valid · मान्य नहीं</h1>'
            "<p>This code does not belong to a certificate issued by the Government of "
            "Delhi, or the certificate has been withdrawn.</p>"
            "<p>यह कोड दिल्ली सरकार द्वारा जारी किसी प्रमाण पत्र का नहीं है, या प्रमाण पत्र "
            "वापस ले लिया गया है।</p>",
        )
    rows = [
        (
            "Service · सेवा",
            f"{e(result['service_name']['en'])}<br>{e(result['service_name']['hi'])}",
        ),
        ("Certificate number · प्रमाण पत्र संख्या", e(result["certificate_number"])),
        ("Name of the applicant · आवेदक का नाम", e(result["applicant_name"])),
        # as printed on the certificate (DD/MM/YYYY)
        ("Issue date · जारी करने की तिथि", e(date_shown(result["issued_on"]))),
        (
            "Issued by · जारीकर्ता",
            f"{e(result['department']['en'])}<br>{e(result['department']['hi'])}",
        ),
    ]
    # A service without a person's name field (a licence renewal) has no name row.
    table = "".join(f"<tr><td>{k}</td><td><b>{v}</b></td></tr>" for k, v in rows if v)
    return page(
        "Genuine · असली",
        '<h1 class="ok">&#10004; Genuine · असली</h1>'
        "<p>This certificate was issued by the Government of Delhi.<br>"
        "यह प्रमाण पत्र दिल्ली सरकार ने जारी किया है।</p>"
        f"<table>{table}</table>",
    )
