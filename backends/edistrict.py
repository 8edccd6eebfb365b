"""e-District: applications for catalogue services, their documents and officer actions.

States: ``draft → payment_pending (fee > 0) → submitted → verified → approved``;
``rejected`` (final) and ``resubmission_requested`` from ``submitted``/``verified``;
``draft``/``resubmission_requested`` go straight to ``submitted`` when nothing is due.

Filed at a Common Service Centre (``channel: csc``): ``awaiting_citizen_confirmation``
until the citizen sends back the 6-digit code WhatsApp brought them (then on as a
submission: ``payment_pending``/``submitted``, or ``draft`` while documents are
missing); ``cancelled`` when they decline, ``confirmation_locked`` after
:data:`MAX_CODE_ATTEMPTS` wrong codes. Only an HMAC of the code is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from datetime import date, datetime, timedelta
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from backends import certificates, csc_codes, notifications
from backends.db import (
    Application,
    Document,
    add_event,
    events_of,
    iso,
    ist_date,
    next_id,
    today_ist,
    utcnow,
)
from backends.web import (
    LANGUAGES,
    ApiError,
    Caller,
    Context,
    Problems,
    citizen,
    context,
    create_once,
    json_body,
    list_query,
    not_found,
    officer,
    wrong_state,
)
from backends.web import authenticate as any_caller
from connectors import media
from service_catalogue import Service, load
from service_catalogue.validation import check

log = logging.getLogger(__name__)

CHANNELS = ("whatsapp", "csc")
MIME_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/webp")
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
MASKED_AADHAAR = re.compile(r"XXXX-XXXX-[0-9]{4}")

#: action -> (states it is allowed from, state it leads to)
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "verify": (("submitted",), "verified"),
    "approve": (("verified",), "approved"),
    "reject": (("submitted", "verified"), "rejected"),
    "request_resubmission": (("submitted", "verified"), "resubmission_requested"),
}
NEEDS_REASON = ("reject", "request_resubmission")
AWAITING = "awaiting_citizen_confirmation"
#: states in which documents may be attached
OPEN_FOR_DOCUMENTS = ("draft", "resubmission_requested", AWAITING)
MAX_CODE_ATTEMPTS = 5
_CODE = re.compile(r"^[0-9]{6}$")


# --------------------------------------------------------------------------- model helpers


def render(session: Session, app: Application) -> dict[str, Any]:
    documents = session.execute(
        select(Document).where(Document.application_id == app.id).order_by(Document.id)
    ).scalars()
    history = [
        {
            "status": e.payload["status"],
            "at": iso(e.created_at),
            "by": e.payload.get("by"),
            "reason": e.payload.get("reason"),
        }
        for e in events_of(session, app.id)
        if e.type == "application.status_changed"
    ]
    return {
        "application_id": app.id,
        "service_id": app.service_id,
        "status": app.status,
        "status_reason": app.status_reason,
        "fee": app.fee,
        "paid": app.paid,
        "fields": app.fields,
        "documents": [
            {
                "document_id": d.document_id,
                "filename": d.filename,
                "mime_type": d.mime_type,
                "size": d.size,
                "sha256": d.sha256,
                "storage_ref": d.storage_ref,
                "uploaded_at": iso(d.created_at),
            }
            for d in documents
        ],
        "history": history,
        "sla_due": iso(app.sla_due),
        "certificate_number": app.certificate_number,
        "language": app.language,
        "channel": app.channel,
        "operator": app.operator,
        "created_at": iso(app.created_at),
        "updated_at": iso(app.updated_at),
    }


def department_of(app: Application) -> str | None:
    service = load().services.get(app.service_id)
    return service.department if service else None


def visible(
    session: Session, caller: Caller, application_id: str, *, acting: bool = False
) -> Application:
    """The application if the caller may see it; 404 otherwise (also for others' ids).
    Officers: 403 outside their departments, except that the CSC operator who filed it
    may read it (not act on it)."""
    app = session.get(Application, application_id)
    if app is None or not caller.sees(app.citizen_id):
        raise not_found("application", application_id)
    filed_by = (app.operator or {}).get("id") if app.channel == "csc" else None
    if acting or filed_by is None or filed_by != caller.officer_id:
        caller.check_department(department_of(app), "Application", application_id)
    return app


def set_status(
    session: Session,
    ctx: Context,
    app: Application,
    status: str,
    by: str,
    now: datetime,
    reason: str | None = None,
) -> None:
    """Move ``app`` to ``status`` and log the change (the caller checked it is allowed)."""
    previous = app.status
    app.status = status
    app.status_reason = reason
    app.updated_at = now
    if status == "submitted" and app.sla_due is None:
        service = ctx.catalogue.services.get(app.service_id)
        days = service.sla_days if service else 30
        app.sla_due = ist_date(now + timedelta(days=days))  # the date in India
    add_event(
        session,
        "application.status_changed",
        app.id,
        app.citizen_id,
        {
            "status": status,
            "previous": previous,
            "by": by,
            "reason": reason,
            "service_id": app.service_id,
        },
        now,
    )
    log.info("application %s: %s -> %s (by %s)", app.id, previous, status, by.split(":")[0])


# --------------------------------------------------------------------------- field checks


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def check_fields(service: Service, raw: Any, problems: Problems) -> dict[str, Any]:
    """The form's values, normalised; errors go to ``problems`` keyed by field id."""
    if not isinstance(raw, dict):
        problems.add("fields", "required", "'fields' must be an object of field id -> value.")
        return {}
    today = today_ist()  # "today" for the citizen, by the service's clock
    values: dict[str, Any] = {}
    for key in raw:
        if service.field(str(key)) is None:
            problems.add(
                str(key),
                "unknown_field",
                f"Field '{key}' is not part of the {service.id} form.",
            )
    for field in service.fields:
        value = raw.get(field.id)
        if value is None or (isinstance(value, str) and not value.strip()):
            if not field.optional:
                problems.add(field.id, "required", f"Field '{field.id}' is required.")
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            problems.add(field.id, "invalid_type", f"Field '{field.id}' must be text or a number.")
            continue
        text = str(value).strip()
        if field.type == "aadhaar" and MASKED_AADHAAR.fullmatch(text):
            # Forms send the mask; check() validates what a citizen typed, i.e. full
            # numbers, which never reach this point (web.json_body refuses them).
            values[field.id] = text
            continue
        checked = check(field, text, today)
        if not checked.ok:
            hint = " Send it as XXXX-XXXX-1234." if field.type == "aadhaar" else ""
            problems.add(
                field.id,
                str(checked.error),
                f"Field '{field.id}' ({field.type}) is not valid: {checked.error}.{hint}",
            )
            continue
        values[field.id] = _plain(checked.value)
    return values


def _operator(
    body: dict[str, Any], channel: str | None, problems: Problems
) -> dict[str, Any] | None:
    operator = body.get("operator")
    if operator is None:
        if channel == "csc":
            problems.add("operator", "required", "'operator' is required for the csc channel.")
        return None
    if (
        not isinstance(operator, dict)
        or len(operator) > 10
        or not all(
            isinstance(v, (str, int)) and not isinstance(v, bool) and len(str(v)) <= 200
            for v in operator.values()
        )
    ):
        problems.add(
            "operator",
            "invalid_type",
            "'operator' must be an object of at most 10 short text or number values.",
        )
        return None
    return operator


def _missing_documents(session: Session, ctx: Context, app: Application) -> list[str]:
    service = ctx.catalogue.services[app.service_id]
    attached = set(
        session.execute(
            select(Document.document_id).where(Document.application_id == app.id)
        ).scalars()
    )
    return [d.id for d in service.documents if d.required and d.id not in attached]


def _code_hash(ctx: Context, application_id: str, code: str) -> str:
    key = ctx.settings.signing_key.encode()
    return hmac.new(key, f"csc:{application_id}:{code}".encode(), hashlib.sha256).hexdigest()


def at_counter(app: Application) -> bool:
    """Whether the citizen confirms at the CSC counter (no WhatsApp), not on WhatsApp."""
    return app.channel == "csc" and (app.operator or {}).get("confirmation") == "counter"


def _ask_confirmation(
    session: Session, ctx: Context, app: Application, service: Service, now: datetime
) -> None:
    """A CSC filing waits for the citizen: a code goes to their WhatsApp; for a citizen
    without WhatsApp (operator ``confirmation: counter``) the dashboard texts its own
    code and reports the outcome (:func:`counter_action`)."""
    if at_counter(app):
        app.confirmation_hash = None
        app.confirmation_attempts = 0
        set_status(session, ctx, app, AWAITING, "csc", now)
        return
    # the notification holds a reference, never the code (backends/csc_codes.py)
    code, reference = csc_codes.new_code(ctx.settings.signing_key, app.id)
    app.confirmation_hash = _code_hash(ctx, app.id, code)
    app.confirmation_attempts = 0
    set_status(session, ctx, app, AWAITING, "csc", now)
    language = notifications.language_of(session, app.citizen_id, app.language)
    centre = (app.operator or {}).get("centre") or (app.operator or {}).get("name") or "CSC"
    notifications.enqueue(
        session,
        key=f"csc:{app.id}",
        citizen_id=app.citizen_id,
        purpose="csc",
        template="csc_confirmation",
        parameters={"service": service.title(language), "centre": str(centre), "code": reference},
        language=language,
        department=service.department,
        subject_id=app.id,
        now=now,
    )


# --------------------------------------------------------------------------- routes


async def create_application(request: Request) -> HTTPResponse:
    caller = citizen(request)
    ctx = context(request)
    body = json_body(request)
    service_id = body.get("service_id")
    service = ctx.catalogue.services.get(service_id) if isinstance(service_id, str) else None
    if service is None:
        raise ApiError(
            400,
            "unknown_service",
            f"Unknown service_id {service_id!r}: use an id from the service catalogue.",
            {"fields": {"service_id": "unknown_service"}},
        )
    problems = Problems()
    language = problems.choice(body, "language", LANGUAGES, "hi")
    channel = problems.choice(body, "channel", CHANNELS, "whatsapp")
    operator = _operator(body, channel, problems)
    values = check_fields(service, body.get("fields"), problems)
    problems.check()
    assert caller.citizen_id is not None and language and channel

    def create(session: Session) -> str:
        now = utcnow()
        app = Application(
            id=next_id(session, "APP", now),
            citizen_id=caller.citizen_id,
            service_id=service.id,
            fee=service.fee,
            paid=False,
            fields=values,
            language=language,
            channel=channel,
            operator=operator,
            created_at=now,
            updated_at=now,
        )
        session.add(app)
        if channel == "csc":
            _ask_confirmation(session, ctx, app, service, now)
        else:
            set_status(session, ctx, app, "draft", "citizen", now)
        session.flush()
        return str(app.id)

    return create_once(
        request,
        caller,
        "applications.create",
        body,
        create,
        lambda session, app_id: render(session, visible(session, caller, app_id)),
    )


async def list_applications(request: Request) -> HTTPResponse:
    caller = any_caller(request)

    wanted = list_query(request, ("service_id", "status"))

    def work(session: Session) -> dict[str, Any]:
        query = select(Application)
        if caller.role == "citizen":
            query = query.where(Application.citizen_id == caller.citizen_id)
        else:  # an officer lists their departments' applications only
            services = [s.id for s in load().services.values() if caller.serves(s.department)]
            query = query.where(Application.service_id.in_(services))
        if wanted.values["service_id"]:
            query = query.where(Application.service_id.in_(wanted.values["service_id"]))
        if wanted.values["status"]:
            query = query.where(Application.status.in_(wanted.values["status"]))
        if wanted.due_before is not None:
            query = query.where(Application.sla_due <= wanted.due_before.date())
        total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        query = query.order_by(Application.created_at.desc(), Application.id.desc())
        apps = session.execute(query.offset(wanted.offset).limit(wanted.limit)).scalars().all()
        return {"applications": [render(session, a) for a in apps], "total": total}

    return json_response(context(request).db.run(work))


async def get_application(request: Request, application_id: str) -> HTTPResponse:
    caller = any_caller(request)
    return json_response(
        context(request).db.run(
            lambda session: render(session, visible(session, caller, application_id))
        )
    )


async def attach_document(request: Request, application_id: str) -> HTTPResponse:
    caller = citizen(request)
    ctx = context(request)
    body = json_body(request)
    problems = Problems()
    document_id = problems.text(body, "document_id", max_len=64)
    filename = problems.text(body, "filename", max_len=255)
    if filename and (re.search(r"[/\\\x00-\x1f]", filename)):
        problems.add("filename", "invalid", "'filename' must be a plain file name without a path.")
    mime_type = problems.choice(body, "mime_type", MIME_TYPES, None)
    size = problems.integer(body, "size", 1, MAX_DOCUMENT_BYTES)
    sha256 = problems.text(body, "sha256", max_len=64)
    if sha256 and not _SHA256.match(sha256):
        problems.add("sha256", "invalid", "'sha256' must be 64 hexadecimal characters.")
    storage_ref = problems.text(body, "storage_ref", max_len=500)
    problems.check()
    holder = f"document-{application_id}-{document_id}"
    replaced: list[str] = []

    def work(session: Session) -> dict[str, Any]:
        replaced.clear()
        app = visible(session, caller, application_id)
        service = ctx.catalogue.services[app.service_id]
        if document_id not in {d.id for d in service.documents}:
            raise ApiError(
                400,
                "invalid_fields",
                f"Document '{document_id}' is not asked for by {service.id}; expected one of "
                + ", ".join(d.id for d in service.documents),
                {"fields": {"document_id": "unknown_document"}},
            )
        if app.status not in OPEN_FOR_DOCUMENTS:
            raise wrong_state("Application", app.id, app.status, "given documents")
        now = utcnow()
        # A document attached again replaces the earlier file; the new file is held
        # before the commit, the earlier one let go after it (connectors/media.py).
        earlier = session.execute(
            select(Document.storage_ref).where(
                Document.application_id == app.id, Document.document_id == document_id
            )
        ).scalar()
        if earlier is not None and earlier != storage_ref:
            replaced.append(str(earlier))
        media.add_reference(ctx.settings.media_dir, str(storage_ref), holder)
        session.execute(
            delete(Document).where(
                Document.application_id == app.id, Document.document_id == document_id
            )
        )
        document = Document(
            application_id=app.id,
            document_id=document_id,
            filename=filename,
            mime_type=mime_type,
            size=size,
            sha256=str(sha256).lower(),
            storage_ref=storage_ref,
            created_at=now,
        )
        session.add(document)
        app.updated_at = now
        session.flush()
        return {
            "document": {
                "document_id": document.document_id,
                "filename": document.filename,
                "mime_type": document.mime_type,
                "size": document.size,
                "sha256": document.sha256,
                "storage_ref": document.storage_ref,
                "uploaded_at": iso(now),
            },
            "application_id": app.id,
        }

    answer = ctx.db.run(work)
    for ref in replaced:
        media.drop_reference(ctx.settings.media_dir, ref, holder)
    return json_response(answer, status=201)


async def submit_application(request: Request, application_id: str) -> HTTPResponse:
    caller = citizen(request)
    ctx = context(request)
    body = json_body(request)

    def submit(session: Session) -> str:
        app = visible(session, caller, application_id)
        if app.status not in ("draft", "resubmission_requested"):
            raise wrong_state("Application", app.id, app.status, "submitted")
        missing = _missing_documents(session, ctx, app)
        if missing:
            raise ApiError(
                422,
                "documents_missing",
                "Attach the required documents first: " + ", ".join(missing) + ".",
                {"missing": missing},
            )
        now = utcnow()
        due = app.fee > 0 and not app.paid
        set_status(session, ctx, app, "payment_pending" if due else "submitted", "citizen", now)
        session.flush()
        return str(app.id)

    return create_once(
        request,
        caller,
        f"applications.submit:{application_id}",
        body,
        submit,
        lambda session, app_id: render(session, visible(session, caller, app_id)),
        status=200,
    )


async def application_action(request: Request, application_id: str) -> HTTPResponse:
    caller = officer(request, named=True)
    ctx = context(request)
    body = json_body(request)
    problems = Problems()
    action = problems.choice(body, "action", tuple(ACTIONS), None)
    reason = problems.text(body, "reason", required=action in NEEDS_REASON, max_len=1000)
    problems.check()
    assert action is not None
    allowed_from, target = ACTIONS[action]

    def work(session: Session) -> dict[str, Any]:
        app = visible(session, caller, application_id, acting=True)
        if app.status not in allowed_from:
            raise wrong_state("Application", app.id, app.status, f"given action {action!r}")
        now = utcnow()
        set_status(session, ctx, app, target, f"officer:{caller.officer_id}", now, reason)
        service = ctx.catalogue.services.get(app.service_id)
        if target == "approved" and service is not None and service.issues_document:
            certificates.issue(session, ctx, app, now)
        session.flush()
        return render(session, app)

    return json_response(ctx.db.run(work))


async def certificate_link(request: Request, application_id: str) -> HTTPResponse:
    caller = any_caller(request)
    ctx = context(request)

    def work(session: Session) -> dict[str, Any]:
        app = visible(session, caller, application_id)
        if app.status != "approved":
            raise wrong_state("Application", app.id, app.status, "downloaded as a certificate")
        if app.certificate_number is None:
            raise ApiError(
                409,
                "no_certificate",
                f"Service {app.service_id} does not issue a certificate document.",
            )
        return certificates.download_link(ctx.settings, app.certificate_number, utcnow())

    return json_response(ctx.db.run(work))


async def confirm_application(request: Request, application_id: str) -> HTTPResponse:
    """``{"code"}``: the citizen confirms an application a CSC operator filed for them."""
    return await _decide(request, application_id, decline=False)


async def decline_application(request: Request, application_id: str) -> HTTPResponse:
    """The citizen did not ask for this CSC application: it is cancelled."""
    return await _decide(request, application_id, decline=True)


COUNTER_ACTIONS = ("confirm", "lock", "pay", "receipt")
PAY_MODES = ("cash", "upi")
PAY_MODE_WORDS = {"cash": {"hi": "नकद", "en": "cash"}, "upi": {"hi": "यूपीआई", "en": "UPI"}}


async def counter_action(request: Request, application_id: str) -> HTTPResponse:
    """What happened at the CSC counter, reported by the operator who filed the application
    (officer token, ``X-Officer-Id`` = the operator):

    - ``{"action": "confirm"}`` / ``{"action": "lock"}``: the citizen without WhatsApp
      read out the right code the dashboard texted them / too many wrong codes;
    - ``{"action": "pay", "mode": "cash"|"upi", "receipt_number"}``: the fee was paid at
      the counter (then submitted, as after an online payment);
    - ``{"action": "receipt", "receipt_number", "charge", "fee", "total", "mode"}``: the
      CSC's receipt goes to the citizen's WhatsApp (not for a citizen without it:
      ``{"sent": false}``).
    """
    caller = officer(request, named=True)
    ctx = context(request)
    body = json_body(request)
    problems = Problems()
    action = problems.choice(body, "action", COUNTER_ACTIONS, None)
    mode = problems.choice(body, "mode", PAY_MODES, "cash")
    problems.check()
    receipt = str(body.get("receipt_number") or "")[:30]

    def work(session: Session) -> dict[str, Any]:
        app = session.get(Application, application_id)
        filed_by = (app.operator or {}).get("id") if app is not None else None
        if app is None or app.channel != "csc" or filed_by != caller.officer_id:
            raise not_found("application", application_id)
        now = utcnow()
        answer: dict[str, Any] = {}
        if action in ("confirm", "lock"):
            if not at_counter(app) or app.status != AWAITING:
                raise wrong_state("Application", app.id, app.status, "confirmed at the counter")
            if action == "lock":
                set_status(session, ctx, app, "confirmation_locked", "csc", now)
            elif _missing_documents(session, ctx, app):
                set_status(session, ctx, app, "draft", "citizen_at_counter", now)
            else:
                target = "payment_pending" if app.fee > 0 and not app.paid else "submitted"
                set_status(session, ctx, app, target, "citizen_at_counter", now)
        elif action == "pay":
            if app.paid or app.status != "payment_pending":
                raise wrong_state("Application", app.id, app.status, "paid at the counter")
            app.paid = True
            app.updated_at = now
            add_event(
                session,
                "application.paid",
                app.id,
                app.citizen_id,
                {"receipt_number": receipt, "amount": app.fee, "mode": mode, "by": "csc"},
                now,
            )
            set_status(session, ctx, app, "submitted", "payment", now)
        else:
            answer["sent"] = not at_counter(app)
            if answer["sent"]:
                service = ctx.catalogue.services[app.service_id]
                language = notifications.language_of(session, app.citizen_id, app.language)
                centre = (app.operator or {}).get("centre") or "CSC"
                amounts = {k: str(int(body.get(k) or 0)) for k in ("charge", "fee", "total")}
                notifications.enqueue(
                    session,
                    key=f"csc-receipt:{app.id}:{receipt}",
                    citizen_id=app.citizen_id,
                    purpose="csc",
                    template="csc_receipt",
                    parameters={
                        "receipt_number": receipt,
                        "application_id": app.id,
                        "service": service.title(language),
                        "centre": str(centre),
                        **amounts,
                        "mode": PAY_MODE_WORDS[str(mode)][language],
                    },
                    language=language,
                    department=service.department,
                    subject_id=app.id,
                    now=now,
                )
        session.flush()
        return {**render(session, app), **answer}

    return json_response(ctx.db.run(work))


async def _decide(request: Request, application_id: str, *, decline: bool) -> HTTPResponse:
    caller = citizen(request)
    ctx = context(request)
    body = json_body(request)
    code = body.get("code")
    if not decline and not (isinstance(code, str) and _CODE.match(code.strip())):
        raise ApiError(
            400,
            "invalid_fields",
            "'code' must be the 6-digit code sent on WhatsApp.",
            {"fields": {"code": "invalid"}},
        )

    def work(session: Session) -> tuple[dict[str, Any], int | None]:
        app = visible(session, caller, application_id)
        if app.status != AWAITING:
            action = "declined" if decline else "confirmed"
            raise wrong_state("Application", app.id, app.status, action)
        now = utcnow()
        if decline:
            app.confirmation_hash = None
            set_status(session, ctx, app, "cancelled", "citizen", now, "declined by the citizen")
            return render(session, app), None
        expected = app.confirmation_hash or ""
        if not hmac.compare_digest(expected, _code_hash(ctx, app.id, str(code).strip())):
            app.confirmation_attempts = (app.confirmation_attempts or 0) + 1
            left = MAX_CODE_ATTEMPTS - app.confirmation_attempts
            if left <= 0:
                app.confirmation_hash = None
                set_status(session, ctx, app, "confirmation_locked", "system", now)
            session.flush()
            return render(session, app), max(left, 0)
        app.confirmation_hash = None
        if _missing_documents(session, ctx, app):
            target = "draft"
        else:
            target = "payment_pending" if app.fee > 0 and not app.paid else "submitted"
        set_status(session, ctx, app, target, "citizen", now)
        session.flush()
        return render(session, app), None

    answer, attempts_left = ctx.db.run(work)
    if attempts_left is not None:  # the wrong try is counted (committed) first
        raise ApiError(
            422,
            "wrong_code" if attempts_left else "confirmation_locked",
            "The code is not the one sent on WhatsApp."
            + ("" if attempts_left else " Too many wrong codes: the application is locked."),
            {"attempts_left": attempts_left, "status": answer["status"]},
        )
    return json_response(answer)
