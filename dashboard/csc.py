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
import csv
import dataclasses
import hashlib
import hmac
import io
import secrets
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse, redirect
from sanic.response import text as text_response
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import media
from dashboard import csc_config, sms
from dashboard.backends_client import path
from dashboard.db import CscCode, CscFiling, CscPayment, Database, utcnow
from dashboard.security import new_token
from dashboard.web import (
    PAGE_ROLES,
    PageError,
    Route,
    audit,
    backends,
    context,
    forbid,
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
from indic_nlu.text import ascii_digits
from service_catalogue import Field, Service
from service_catalogue.india_time import IST, today_in_india
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
        charge=csc_config.load().charge(service.id),
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
    shown["confirmation"] = form(request, "confirmation")
    shown["charge_mode"] = form(request, "charge_mode")
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
    confirmation = "counter" if form(request, "confirmation") == "counter" else "whatsapp"
    charge_mode = form(request, "charge_mode") if form(request, "charge_mode") in MODES else "cash"
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
            "operator": {
                "id": user.username,
                "name": user.name,
                "centre": user.csc_centre or "",
                # a citizen without WhatsApp confirms here (backends: no WhatsApp code)
                **({"confirmation": "counter"} if confirmation == "counter" else {}),
            },
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
    charge = csc_config.load().charge(service.id)
    audit(
        request,
        "csc.file",
        application_id,
        {
            "service_id": service.id,
            "centre": user.csc_centre,
            "documents": sorted(checked.uploads),
            "confirmation": confirmation,
            "charge": charge,
        },
    )
    if charge:
        taken = take_payment(request, application_id, "charge", charge, charge_mode, "")
        if taken is not None:
            await send_receipt(request, application_id, taken)
    if confirmation == "counter":
        language_code = "en" if form(request, "language") == "en" else "hi"
        sent = await send_code(request, application_id, wa_id, service, language_code, first=True)
        return redirect(f"/csc/filings/{application_id}?flash={sent}")
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


# --------------------------------------------------------------------------- counter


MODES = ("cash", "upi")
AWAITING = "awaiting_citizen_confirmation"


def now_utc() -> datetime:
    """This moment (naive UTC); tests replace it to pin the clock."""
    return utcnow()


def receipt_number(application_id: str, kind: str) -> str:
    """One receipt per filing and kind: ``CSC-2026-000123-C`` (charge), ``…-F`` (fee)."""
    return f"CSC-{application_id.removeprefix('APP-')}-{kind[0].upper()}"


def own_filing(request: Request, application_id: str) -> CscFiling:
    """The filing, if the signed-in operator filed it (403, audited, otherwise)."""
    user = require(request, *ROLES)
    row = context(request).db.run(lambda session: session.get(CscFiling, application_id))
    if row is None:
        raise PageError(404, "not_found")
    if row.user_id != user.id:
        forbid(request, application_id, page="csc")
    return row


def take_payment(
    request: Request, application_id: str, kind: str, amount: int, mode: str, reference: str
) -> CscPayment | None:
    """Record money taken at the counter once (None if it was already recorded)."""
    user = require(request, *ROLES)
    number = receipt_number(application_id, kind)

    def record(session: Session) -> CscPayment | None:
        if session.execute(select(CscPayment).where(CscPayment.receipt_number == number)).first():
            return None
        row = CscPayment(
            receipt_number=number,
            application_id=application_id,
            user_id=user.id,
            kind=kind,
            amount=amount,
            mode=mode,
            reference=reference[:64] or None,
            at=now_utc(),
        )
        session.add(row)
        session.flush()
        session.expunge(row)
        return row

    taken = context(request).db.run(record)
    if taken is not None:
        audit(
            request,
            f"csc.{kind}_taken",
            application_id,
            {"receipt_number": number, "amount": amount, "mode": mode},
        )
    return taken


async def send_receipt(request: Request, application_id: str, payment: CscPayment) -> None:
    """The receipt to the citizen's WhatsApp (the backends skip a citizen without it)."""
    charge = payment.amount if payment.kind == "charge" else 0
    fee = payment.amount if payment.kind == "fee" else 0
    result = await backends(request).post(
        path("edistrict", "applications", application_id, "counter"),
        {
            "action": "receipt",
            "receipt_number": payment.receipt_number,
            "mode": payment.mode,
            "charge": charge,
            "fee": fee,
            "total": charge + fee,
        },
    )
    audit(
        request,
        "csc.receipt_whatsapp",
        application_id,
        {
            "receipt_number": payment.receipt_number,
            "sent": bool(result.ok and result.data.get("sent")),
            "error": None if result.ok else result.error,
        },
    )


def code_hash(request: Request, application_id: str, code: str) -> str:
    key = context(request).settings.secret_key.encode()
    return hmac.new(
        key, f"csc-counter:{application_id}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def sms_gateway(request: Request) -> sms.SmsGateway:
    settings = context(request).settings
    return sms.gateway(
        settings.sms_gateway,
        settings.sms_file,
        settings.sms_url,
        settings.sms_token,
        settings.sms_sender,
    )


async def send_code(
    request: Request,
    application_id: str,
    wa_id: str,
    service: Service,
    language_code: str,
    *,
    first: bool,
) -> str:
    """A new code by SMS (the first, or a resend): the outcome's ``messages.yml`` key."""
    config = csc_config.load()
    code = f"{secrets.randbelow(10**6):06d}"
    now = now_utc()

    def store(session: Session) -> str | None:
        row = session.get(CscCode, application_id)
        if row is None:
            if not first:
                return "csc.code_not_waiting"
            session.add(
                CscCode(
                    application_id=application_id,
                    code_hash=code_hash(request, application_id, code),
                    expires_at=now + timedelta(minutes=config.code_valid_minutes),
                    sends=1,
                    attempts=0,
                    state="waiting",
                    updated_at=now,
                )
            )
            return None
        if first or row.state != "waiting":
            return "csc.code_not_waiting"
        if row.sends >= config.code_max_sends:
            return "csc.code_no_more_sends"
        row.code_hash = code_hash(request, application_id, code)
        row.expires_at = now + timedelta(minutes=config.code_valid_minutes)
        row.sends += 1
        row.updated_at = now
        return None

    refused = context(request).db.run(store)
    if refused:
        return refused
    user = require(request, *ROLES)
    text = config.sms[language_code].format(
        code=code,
        application_id=application_id,
        service=service.title(language_code),
        centre=user.csc_centre or "CSC",
        minutes=config.code_valid_minutes,
    )
    sent = await sms_gateway(request).send(f"+{wa_id}", text)
    audit(
        request,
        "csc.code_sent",
        application_id,
        {"gateway": sms_gateway(request).name, "ok": sent.ok, "sms_id": sent.id, "first": first},
    )
    return "csc.code_sent" if sent.ok else "csc.sms_failed"


def code_state(row: CscCode | None, now: datetime) -> dict[str, Any] | None:
    if row is None:
        return None
    config = csc_config.load()
    return {
        "state": row.state,
        "expired": row.state == "waiting" and now >= row.expires_at,
        "expires_at": row.expires_at.replace(tzinfo=timezone.utc).isoformat(),
        "attempts_left": max(config.code_max_attempts - row.attempts, 0),
        "sends_left": max(config.code_max_sends - row.sends, 0),
    }


async def filing(request: Request, application_id: str) -> HTTPResponse:
    """One filing at the counter: confirm with the SMS code, take the fee, the receipt."""
    row = own_filing(request, application_id)
    return await _filing_page(request, row, flash_key=query(request, "flash") or None)


async def _filing_page(
    request: Request, row: CscFiling, *, flash_key: str | None, status: int = 200, **params: Any
) -> HTTPResponse:
    application_id = row.application_id
    result = await backends(request).get(path("edistrict", "applications", application_id))
    application = result.data if result.ok else None
    db = context(request).db
    code = db.run(lambda session: _detached(session, session.get(CscCode, application_id)))
    payments = _payments(db, application_id)
    service = context(request).catalogue.services.get(row.service_id)
    audit(request, "csc.filing_view", application_id)
    status_code = str(application.get("status")) if application else None
    known = flash_key in messages() if flash_key else False
    return render(
        request,
        "csc_filing.html",
        status=status,
        filing=row,
        application=application,
        backend_status=status_code,
        state=t(request, operator_state(status_code)),
        service_title=service.title(language(request)) if service else row.service_id,
        mobile=f"XXXXXX{row.mobile_last4}",
        filed_at=ist(row.created_at.isoformat(), False, language(request)),
        code=code_state(code, now_utc()),
        payments=payments,
        modes=MODES,
        fee_due=bool(
            application and status_code == "payment_pending" and not application.get("paid")
        ),
        flash=(t(request, flash_key, **params) if known and flash_key else None)
        or (None if result.ok else problem(request, result)),
        flash_kind="error" if flash_key and flash_key in ERROR_FLASHES or not result.ok else "ok",
    )


ERROR_FLASHES = frozenset(
    {
        "csc.code_wrong",
        "csc.code_expired",
        "csc.code_locked",
        "csc.code_not_waiting",
        "csc.code_no_more_sends",
        "csc.sms_failed",
        "csc.code_format",
        "csc.fee_not_due",
        "csc.mobile_mismatch",
        "csc.pay_mode_required",
    }
)


def _detached(session: Session, row: Any) -> Any:
    if row is not None:
        session.expunge(row)
    return row


def _payments(db: Database, application_id: str) -> list[CscPayment]:
    """What the counter took for an application (charge, fee), oldest first."""
    return list(
        db.run(
            lambda session: [
                _detached(session, p)
                for p in session.execute(
                    select(CscPayment)
                    .where(CscPayment.application_id == application_id)
                    .order_by(CscPayment.id)
                ).scalars()
            ]
        )
    )


async def enter_code(request: Request, application_id: str) -> HTTPResponse:
    """The operator types the code the citizen reads out from their SMS."""
    row = own_filing(request, application_id)
    typed = ascii_digits(form(request, "code"))
    typed = typed.replace(" ", "")
    config = csc_config.load()
    now = now_utc()

    def check_code(session: Session) -> str:
        stored = session.get(CscCode, application_id)
        if stored is None or stored.state == "locked":
            return "csc.code_not_waiting" if stored is None else "csc.code_locked"
        if stored.state == "confirmed":
            return "confirmed"  # said again: the backends may not have heard it yet
        if not (len(typed) == 6 and typed.isdigit()):
            return "csc.code_format"
        if now >= stored.expires_at:
            return "csc.code_expired"
        stored.updated_at = now
        if hmac.compare_digest(stored.code_hash or "", code_hash(request, application_id, typed)):
            stored.state, stored.code_hash = "confirmed", None
            return "confirmed"
        stored.attempts += 1
        if stored.attempts >= config.code_max_attempts:
            stored.state, stored.code_hash = "locked", None
            return "locked"
        return "csc.code_wrong"

    outcome = context(request).db.run(check_code)
    audit(request, f"csc.code_{outcome.removeprefix('csc.code_')}", application_id)
    if outcome in ("confirmed", "locked"):
        told = await backends(request).post(
            path("edistrict", "applications", application_id, "counter"),
            {"action": "confirm" if outcome == "confirmed" else "lock"},
        )
        if not told.ok and told.status != 409:  # 409: already recorded
            return await _filing_page(request, row, flash_key=None, status=502)
        outcome = "csc.code_confirmed" if outcome == "confirmed" else "csc.code_locked"
    if outcome == "csc.code_wrong":
        code = context(request).db.run(lambda session: session.get(CscCode, application_id))
        left = config.code_max_attempts - (code.attempts if code else 0)
        return await _filing_page(request, row, flash_key=outcome, status=400, attempts_left=left)
    status = 200 if outcome == "csc.code_confirmed" else 400
    return await _filing_page(request, row, flash_key=outcome, status=status)


async def resend_code(request: Request, application_id: str) -> HTTPResponse:
    row = own_filing(request, application_id)
    result = await backends(request).get(path("edistrict", "applications", application_id))
    service = context(request).catalogue.services.get(row.service_id)
    if not result.ok or service is None:
        return await _filing_page(request, row, flash_key=None, status=502)
    if result.data.get("status") != AWAITING:
        return await _filing_page(request, row, flash_key="csc.code_not_waiting", status=409)
    checked = check(MOBILE, form(request, "mobile"), today_in_india())
    wa_id = str(checked.value).lstrip("+") if checked.ok else ""
    if not wa_id or not wa_id.endswith(row.mobile_last4):
        # the number is asked again (the dashboard keeps only its last four digits)
        return await _filing_page(request, row, flash_key="csc.mobile_mismatch", status=400)
    language_code = "en" if result.data.get("language") == "en" else "hi"
    outcome = await send_code(request, application_id, wa_id, service, language_code, first=False)
    return await _filing_page(
        request, row, flash_key=outcome, status=200 if outcome == "csc.code_sent" else 400
    )


async def pay_fee(request: Request, application_id: str) -> HTTPResponse:
    """The service's fee paid at the counter, cash or UPI: recorded, receipt issued."""
    row = own_filing(request, application_id)
    mode = form(request, "mode")
    reference = form(request, "reference")[:64]
    if mode not in MODES or (mode == "upi" and not reference):
        return await _filing_page(request, row, flash_key="csc.pay_mode_required", status=400)
    result = await backends(request).get(path("edistrict", "applications", application_id))
    if not result.ok:
        return await _filing_page(request, row, flash_key=None, status=502)
    fee = int(result.data.get("fee") or 0)
    if result.data.get("status") != "payment_pending" or result.data.get("paid") or fee <= 0:
        return await _filing_page(request, row, flash_key="csc.fee_not_due", status=409)
    number = receipt_number(application_id, "fee")
    paid = await backends(request).post(
        path("edistrict", "applications", application_id, "counter"),
        {"action": "pay", "mode": mode, "receipt_number": number},
    )
    if not paid.ok:
        audit(request, "csc.fee_failed", application_id, {"error": paid.error})
        return await _filing_page(request, row, flash_key=None, status=502)
    taken = take_payment(request, application_id, "fee", fee, mode, reference)
    if taken is not None:
        await send_receipt(request, application_id, taken)
    return await _filing_page(request, row, flash_key="csc.fee_taken", amount=fee, number=number)


async def receipt(request: Request, application_id: str) -> HTTPResponse:
    """The printable receipt, in Hindi and English whatever the operator's language."""
    row = own_filing(request, application_id)
    user = require(request, *ROLES)
    payments = _payments(context(request).db, application_id)
    if not payments:
        raise PageError(404, "csc.no_receipt")
    service = context(request).catalogue.services.get(row.service_id)
    audit(request, "csc.receipt_print", application_id)
    return render(
        request,
        "csc_receipt.html",
        filing=row,
        payments=payments,
        total=sum(p.amount for p in payments),
        service=service,
        operator_name=user.name,
        mobile=f"XXXXXX{row.mobile_last4}",
        at={p.receipt_number: ist(p.at.isoformat(), False, "hi") for p in payments},
        at_en={p.receipt_number: ist(p.at.isoformat(), False, "en") for p in payments},
    )


# --------------------------------------------------------------------------- statement


@dataclasses.dataclass(frozen=True)
class StatementRow:
    at: datetime  # naive UTC
    application_id: str
    service_id: str
    fee: int  # the service's fee
    charge: int  # the assisted-service charge taken
    charge_mode: str
    fee_at_counter: int  # the fee, when it was paid at the counter (0: online or not yet)
    fee_mode: str

    @property
    def collected(self) -> int:
        return self.charge + self.fee_at_counter


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """India's calendar day ``day`` as naive UTC [start, end)."""
    start = datetime.combine(day, time(0), IST).astimezone(timezone.utc).replace(tzinfo=None)
    return start, start + timedelta(days=1)


def statement(
    session: Session, user_id: int, day: date, fees: dict[str, int]
) -> list[StatementRow]:
    """The operator's filings of India's day ``day`` and the money taken for each (a fee
    paid at the counter on a later day counts on the day it was taken, with its filing)."""
    start, end = day_bounds(day)
    filed = list(
        session.execute(
            select(CscFiling)
            .where(
                CscFiling.user_id == user_id,
                CscFiling.created_at >= start,
                CscFiling.created_at < end,
            )
            .order_by(CscFiling.created_at)
        ).scalars()
    )
    taken = list(
        session.execute(
            select(CscPayment).where(
                CscPayment.user_id == user_id, CscPayment.at >= start, CscPayment.at < end
            )
        ).scalars()
    )
    ids = {f.application_id for f in filed} | {p.application_id for p in taken}
    by_id = {f.application_id: f for f in filed}
    for missing in ids - set(by_id):
        other = session.get(CscFiling, missing)
        if other is not None:
            by_id[missing] = other
    rows = []
    for application_id, f in by_id.items():
        mine = [p for p in taken if p.application_id == application_id]
        charge = next((p for p in mine if p.kind == "charge"), None)
        fee = next((p for p in mine if p.kind == "fee"), None)
        rows.append(
            StatementRow(
                at=f.created_at,
                application_id=application_id,
                service_id=f.service_id,
                fee=fees.get(f.service_id, 0),
                charge=charge.amount if charge else 0,
                charge_mode=charge.mode if charge else "",
                fee_at_counter=fee.amount if fee else 0,
                fee_mode=fee.mode if fee else "",
            )
        )
    return sorted(rows, key=lambda r: (r.at, r.application_id))


def totals(rows: list[StatementRow]) -> dict[str, int]:
    sums = {"filings": len(rows), "charges": 0, "fees": 0, "cash": 0, "upi": 0, "total": 0}
    for r in rows:
        sums["charges"] += r.charge
        sums["fees"] += r.fee_at_counter
        sums["total"] += r.collected
        if r.charge_mode in MODES:
            sums[r.charge_mode] += r.charge
        if r.fee_mode in MODES:
            sums[r.fee_mode] += r.fee_at_counter
    return sums


def _statement_day(request: Request) -> date:
    raw = query(request, "date")
    if raw:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise PageError(400, "invalid_fields") from None
    return today_in_india(now_utc())


def _statement_rows(request: Request, day: date) -> list[StatementRow]:
    user = require(request, *ROLES)
    fees = {s.id: int(s.fee) for s in context(request).catalogue.services.values()}
    return context(request).db.run(lambda session: statement(session, user.id, day, fees))


async def statement_page(request: Request) -> HTTPResponse:
    user = require(request, *ROLES)
    day = _statement_day(request)
    rows = _statement_rows(request, day)
    audit(request, "csc.statement", user.username, {"date": day.isoformat(), "rows": len(rows)})
    lang = language(request)
    shown = [
        {
            "row": r,
            "time": ist(r.at.isoformat(), False, lang),
            "service": (
                context(request).catalogue.services[r.service_id].title(lang)
                if r.service_id in context(request).catalogue.services
                else r.service_id
            ),
        }
        for r in rows
    ]
    return render(
        request,
        "csc_statement.html",
        day=day,
        rows=shown,
        totals=totals(rows),
        previous=(day - timedelta(days=1)).isoformat(),
        following=(day + timedelta(days=1)).isoformat(),
    )


CSV_COLUMNS = (
    "time_ist",
    "application_id",
    "service_id",
    "service_fee",
    "csc_charge",
    "charge_mode",
    "fee_paid_at_counter",
    "fee_mode",
    "collected",
)


def statement_csv(rows: list[StatementRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        local = r.at.replace(tzinfo=timezone.utc).astimezone(IST)
        writer.writerow(
            [
                local.strftime("%Y-%m-%d %H:%M"),
                r.application_id,
                r.service_id,
                r.fee,
                r.charge,
                r.charge_mode,
                r.fee_at_counter,
                r.fee_mode,
                r.collected,
            ]
        )
    sums = totals(rows)
    writer.writerow(
        ["total", sums["filings"], "", "", sums["charges"], "", sums["fees"], "", sums["total"]]
    )
    writer.writerow(["cash", "", "", "", "", "", "", "", sums["cash"]])
    writer.writerow(["upi", "", "", "", "", "", "", "", sums["upi"]])
    return out.getvalue()


async def statement_download(request: Request) -> HTTPResponse:
    user = require(request, *ROLES)
    day = _statement_day(request)
    rows = _statement_rows(request, day)
    audit(request, "csc.statement_csv", user.username, {"date": day.isoformat(), "rows": len(rows)})
    return text_response(
        statement_csv(rows),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="csc-statement-{day.isoformat()}.csv"'
        },
    )


ROUTES: list[Route] = [
    ("GET", "/csc", services),
    ("GET", "/csc/new", new_filing),
    ("POST", "/csc/new", submit_filing),
    ("GET", "/csc/filings", filings),
    ("GET", "/csc/filings/<application_id>", filing),
    ("POST", "/csc/filings/<application_id>/code", enter_code),
    ("POST", "/csc/filings/<application_id>/resend", resend_code),
    ("POST", "/csc/filings/<application_id>/pay", pay_fee),
    ("GET", "/csc/filings/<application_id>/receipt", receipt),
    ("GET", "/csc/statement", statement_page),
    ("GET", "/csc/statement.csv", statement_download),
]
