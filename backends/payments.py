"""Payment gateway sandbox (modelled on Razorpay/UPI) and the merchant side of it.

Merchant side: orders (the amount is always the application's catalogue fee), the
signed webhook, receipts and the reconciler. Gateway side: the hosted checkout page
``/pay/<order_id>`` and its webhook deliveries.

Exactly-once: every webhook event id is stored (a redelivery is acknowledged and
ignored); an order only moves ``created/attempted/failed -> paid`` and never back; the
application leaves ``payment_pending`` in the same transaction, guarded by the rows'
version columns, so concurrent deliveries cannot both apply.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import json
import logging
import secrets
import string
from datetime import datetime, timedelta
from typing import Any

import requests
from sanic import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sqlalchemy import select
from sqlalchemy.orm import Session

from backends import edistrict
from backends.db import (
    Application,
    GatewayPayment,
    Order,
    WebhookEvent,
    add_event,
    iso,
    next_id,
    utcnow,
)
from backends.web import (
    ApiError,
    Caller,
    Context,
    Problems,
    citizen,
    context,
    create_once,
    json_body,
    not_found,
    page,
    wrong_state,
)
from backends.web import authenticate as any_caller

log = logging.getLogger(__name__)

_ALPHABET = string.ascii_letters + string.digits
PAY_OUTCOMES = {"success": "captured", "failure": "failed", "pending": "pending"}
WEBHOOK_ATTEMPTS = 4


def random_id(prefix: str) -> str:
    """Razorpay-like ids: ``order_``/``pay_``/``evt_`` + 14 random letters and digits."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(14))


def _unix(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1)).total_seconds())


def render(ctx: Context, order: Order) -> dict[str, Any]:
    return {
        "order_id": order.id,
        "application_id": order.application_id,
        "amount": order.amount,
        "currency": order.currency,
        "status": order.status,
        "payment_url": f"{ctx.settings.public_url}/pay/{order.id}",
        "receipt_number": order.receipt_number,
        "paid_at": iso(order.paid_at),
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
    }


def visible(session: Session, caller: Caller, order_id: str) -> Order:
    order = session.get(Order, order_id)
    if order is None or not caller.sees(order.citizen_id):
        raise not_found("order", order_id)
    return order


def _set_order_status(session: Session, order: Order, status: str, now: datetime) -> None:
    order.status = status
    order.updated_at = now
    payload: dict[str, Any] = {"status": status, "application_id": order.application_id}
    if status == "paid":
        payload.update(receipt_number=order.receipt_number, amount=order.amount)
    add_event(session, f"order.{status}", order.id, order.citizen_id, payload, now)


def mark_attempted(session: Session, order: Order, now: datetime) -> bool:
    """A payment attempt started (checkout or ``payment.authorized``)."""
    if order.status == "paid":
        return False
    order.attempted_at = now
    if order.status in ("created", "failed"):
        _set_order_status(session, order, "attempted", now)
        return True
    return False


def mark_failed(session: Session, order: Order, now: datetime) -> bool:
    """A failed payment; a paid order never moves back."""
    if order.status in ("created", "attempted"):
        _set_order_status(session, order, "failed", now)
        return True
    return False


def mark_paid(
    session: Session, ctx: Context, order: Order, payment_id: str | None, now: datetime, by: str
) -> bool:
    """Fulfil ``order`` once: receipt number, application paid (and submitted)."""
    if order.status == "paid":
        return False
    order.payment_id = payment_id
    order.paid_at = now
    order.receipt_number = next_id(session, "RCPT", now)
    _set_order_status(session, order, "paid", now)
    app = session.get(Application, order.application_id)
    if app is not None and not app.paid:
        app.paid = True
        app.updated_at = now
        add_event(
            session,
            "application.paid",
            app.id,
            app.citizen_id,
            {"order_id": order.id, "receipt_number": order.receipt_number, "amount": order.amount},
            now,
        )
        if app.status == "payment_pending":
            edistrict.set_status(session, ctx, app, "submitted", "payment", now)
    session.flush()
    log.info("order %s paid (%s), receipt %s", order.id, by, order.receipt_number)
    return True


# --------------------------------------------------------------------------- merchant API


async def create_order(request: Request) -> HTTPResponse:
    caller = citizen(request)
    ctx = context(request)
    body = json_body(request)
    problems = Problems()
    application_id = problems.text(body, "application_id", max_len=20)
    problems.check()
    assert application_id is not None

    def create(session: Session) -> str:
        app = edistrict.visible(session, caller, application_id)
        if app.fee <= 0:
            raise ApiError(422, "no_fee", f"Application {app.id} has no fee to pay.")
        if app.paid:
            raise ApiError(409, "already_paid", f"Application {app.id} is already paid.")
        if app.status not in ("draft", "payment_pending"):
            raise wrong_state("Application", app.id, app.status, "paid for")
        now = utcnow()
        # The amount comes from the catalogue fee recorded on the application, never
        # from the request.
        order = Order(
            id=random_id("order_"),
            application_id=app.id,
            citizen_id=app.citizen_id,
            amount=app.fee,
            currency="INR",
            created_at=now,
        )
        session.add(order)
        _set_order_status(session, order, "created", now)
        session.flush()
        return str(order.id)

    return create_once(
        request,
        caller,
        "payments.orders.create",
        body,
        create,
        lambda session, order_id: render(ctx, visible(session, caller, order_id)),
    )


async def get_order(request: Request, order_id: str) -> HTTPResponse:
    caller = any_caller(request)
    ctx = context(request)
    return json_response(
        ctx.db.run(lambda session: render(ctx, visible(session, caller, order_id)))
    )


async def get_receipt(request: Request, order_id: str) -> HTTPResponse:
    caller = any_caller(request)
    ctx = context(request)

    def work(session: Session) -> dict[str, Any]:
        order = visible(session, caller, order_id)
        if order.status != "paid":
            raise wrong_state("Order", order.id, order.status, "given a receipt")
        app = session.get(Application, order.application_id)
        return {
            "receipt_number": order.receipt_number,
            "order_id": order.id,
            "payment_id": order.payment_id,
            "amount": order.amount,
            "currency": order.currency,
            "paid_at": iso(order.paid_at),
            "application_id": order.application_id,
            "service_id": app.service_id if app else None,
        }

    return json_response(ctx.db.run(work))


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def webhook(request: Request) -> HTTPResponse:
    """``POST /payments/webhook``: HMAC-verified over the raw body, applied once."""
    ctx = context(request)
    raw = request.body or b""
    given = request.headers.get("x-razorpay-signature", "").strip().lower()
    expected = signature(ctx.settings.webhook_secret, raw)
    if not given or not hmac.compare_digest(expected.encode(), given.encode()):
        log.warning("payment webhook with a missing or bad signature refused")
        raise ApiError(401, "bad_signature", "X-Razorpay-Signature does not match the body.")
    try:
        event = json.loads(raw)
    except ValueError:
        raise ApiError(400, "invalid_json", "The webhook body is not valid JSON.") from None
    if not (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and 0 < len(event["id"]) <= 100
        and isinstance(event.get("event"), str)
    ):
        raise ApiError(400, "invalid_event", "A webhook event needs string 'id' and 'event'.")
    outcome = ctx.db.run(lambda session: apply_event(session, ctx, event))
    return json_response({"status": outcome, "event_id": event["id"]})


def apply_event(session: Session, ctx: Context, event: dict[str, Any]) -> str:
    if session.get(WebhookEvent, event["id"]) is not None:
        return "duplicate"
    kind = event["event"]
    payload = event.get("payload")
    if not isinstance(payload, dict):
        payload = {}
    payment = _entity(payload, "payment")
    order_entity = _entity(payload, "order")
    order_id = payment.get("order_id") or order_entity.get("id")
    order = session.get(Order, order_id) if isinstance(order_id, str) else None
    now = utcnow()
    amount = payment.get("amount", order_entity.get("amount_paid"))
    if order is None:
        outcome = "unknown_order"
    elif amount is not None and amount != order.amount * 100:
        log.warning("webhook for order %s carries a wrong amount; not applied", order.id)
        outcome = "amount_mismatch"
    elif kind in ("payment.captured", "order.paid"):
        payment_id = payment.get("id") if isinstance(payment.get("id"), str) else None
        outcome = (
            "applied" if mark_paid(session, ctx, order, payment_id, now, kind) else "no_change"
        )
    elif kind == "payment.authorized":
        outcome = "applied" if mark_attempted(session, order, now) else "no_change"
    elif kind == "payment.failed":
        outcome = "applied" if mark_failed(session, order, now) else "no_change"
    else:
        outcome = "ignored"
    session.add(
        WebhookEvent(
            id=event["id"],
            type=kind[:60],
            order_id=order.id if order is not None else None,
            outcome=outcome,
            received_at=now,
        )
    )
    session.flush()
    return outcome


def _entity(payload: dict[str, Any], name: str) -> dict[str, Any]:
    wrapper = payload.get(name)
    entity = wrapper.get("entity") if isinstance(wrapper, dict) else None
    return entity if isinstance(entity, dict) else {}


# --------------------------------------------------------------------------- reconciler


def reconcile_due(session: Session, ctx: Context, now: datetime) -> list[str]:
    """Settle orders attempted more than PAYMENT_PENDING_SECONDS ago (UPI status poll).

    The sandbox bank confirms pending payments at this point; a captured payment whose
    webhook never arrived is applied too.
    """
    cutoff = now - timedelta(seconds=ctx.settings.payment_pending_seconds)
    orders = (
        session.execute(
            select(Order).where(Order.status == "attempted", Order.attempted_at <= cutoff)
        )
        .scalars()
        .all()
    )
    settled: list[str] = []
    for order in orders:
        payments = (
            session.execute(select(GatewayPayment).where(GatewayPayment.order_id == order.id))
            .scalars()
            .all()
        )
        good = None
        for payment in payments:
            if payment.status == "pending":
                payment.status = "captured"
                payment.updated_at = now
            if payment.status == "captured" and good is None:
                good = payment
        if good is not None:
            mark_paid(session, ctx, order, good.id, now, "reconciler")
        elif payments:  # every attempt failed at the bank
            mark_failed(session, order, now)
        else:  # the gateway knows of no attempt: nothing to settle yet
            continue
        settled.append(str(order.id))
    return settled


async def reconciler(ctx: Context) -> None:
    while True:
        await asyncio.sleep(ctx.settings.reconcile_interval_seconds)
        try:
            settled = ctx.db.run(lambda session: reconcile_due(session, ctx, utcnow()))
        except Exception:
            log.exception("payment reconciliation failed; will retry")
            continue
        if settled:
            log.info("reconciler settled %d order(s)", len(settled))


# --------------------------------------------------------------------------- sandbox gateway


def _event(kind: str, order: Order, payment: GatewayPayment, now: datetime) -> dict[str, Any]:
    status = {
        "payment.authorized": "authorized",
        "payment.captured": "captured",
        "payment.failed": "failed",
        "order.paid": "captured",
    }[kind]
    entity: dict[str, Any] = {
        "id": payment.id,
        "entity": "payment",
        "amount": payment.amount_paise,
        "currency": "INR",
        "status": status,
        "order_id": order.id,
        "method": payment.method,
        "created_at": _unix(payment.created_at),
    }
    if status == "failed":
        entity.update(error_code="BAD_REQUEST_ERROR", error_description="Payment declined")
    payload: dict[str, Any] = {"payment": {"entity": entity}}
    if kind == "order.paid":
        payload["order"] = {
            "entity": {
                "id": order.id,
                "entity": "order",
                "amount": order.amount * 100,
                "amount_paid": order.amount * 100,
                "currency": "INR",
                "status": "paid",
            }
        }
    return {
        "entity": "event",
        "account_id": "acc_sandbox",
        "id": random_id("evt_"),
        "event": kind,
        "contains": list(payload),
        "payload": payload,
        "created_at": _unix(now),
    }


async def deliver(ctx: Context, events: list[dict[str, Any]]) -> None:
    """POST signed events to the merchant in order, retrying like the gateway does."""
    for event in events:
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Razorpay-Signature": signature(ctx.settings.webhook_secret, body),
        }
        for attempt in range(WEBHOOK_ATTEMPTS):
            try:
                answer = await asyncio.to_thread(
                    requests.post,
                    ctx.settings.payment_webhook_url,
                    data=body,
                    headers=headers,
                    timeout=5,
                )
                if 200 <= answer.status_code < 300:
                    break
                log.warning("webhook %s answered %d", event["id"], answer.status_code)
            except requests.RequestException as exc:
                log.warning("webhook %s not delivered: %s", event["id"], type(exc).__name__)
            await asyncio.sleep(0.5 * 2**attempt)
        else:
            log.warning("webhook %s given up; the reconciler will settle the order", event["id"])


def _checkout(session: Session, ctx: Context, order_id: str) -> tuple[Order, Application] | None:
    order = session.get(Order, order_id)
    app = session.get(Application, order.application_id) if order is not None else None
    return (order, app) if order is not None and app is not None else None


_UNKNOWN_LINK = (
    "Unknown payment link · अमान्य भुगतान लिंक",
    "<h1>Unknown payment link · अमान्य भुगतान लिंक</h1>"
    "<p>This payment link does not exist. · यह भुगतान लिंक मौजूद नहीं है।</p>",
)


def _paid_page(order: Order) -> HTTPResponse:
    number = html.escape(order.receipt_number or "")
    return page(
        "Already paid · भुगतान हो चुका है",
        f'<h1 class="ok">Already paid · भुगतान हो चुका है</h1><p>Receipt · रसीद: <b>{number}</b></p>',
    )


async def pay_page(request: Request, order_id: str) -> HTTPResponse:
    """``GET /pay/<order_id>``: the hosted checkout (the link itself is the credential)."""
    ctx = context(request)
    found = ctx.db.run(lambda session: _checkout(session, ctx, order_id))
    if found is None:
        return page(*_UNKNOWN_LINK, status=404)
    order, app = found
    if order.status == "paid":
        return _paid_page(order)
    service = ctx.catalogue.services.get(app.service_id)
    name_en = html.escape(service.title("en") if service else app.service_id)
    name_hi = html.escape(service.title("hi") if service else app.service_id)
    action = html.escape(f"/pay/{order.id}")
    return page(
        "Pay · भुगतान करें",
        "<h1>Delhi Sewa sandbox payment · सैंडबॉक्स भुगतान</h1>"
        "<p>This is a test gateway: no money moves. · यह परीक्षण गेटवे है: कोई पैसा नहीं कटता।</p>"
        "<table>"
        f"<tr><td>Service · सेवा</td><td><b>{name_en}</b><br>{name_hi}</td></tr>"
        f"<tr><td>Application · आवेदन</td><td>{html.escape(app.id)}</td></tr>"
        f"<tr><td>Amount · राशि</td><td><b>&#8377; {order.amount}</b></td></tr>"
        f"<tr><td>Order · ऑर्डर</td><td>{html.escape(order.id)}</td></tr>"
        "</table>"
        f'<form method="post" action="{action}">'
        '<button name="outcome" value="success">Pay · भुगतान करें</button>'
        '<button name="outcome" value="failure">Fail · विफल</button>'
        '<button name="outcome" value="pending">Pending · लंबित</button>'
        "</form>",
    )


async def pay_submit(request: Request, order_id: str) -> HTTPResponse:
    """``POST /pay/<order_id>`` (form ``outcome``): record the attempt, then notify."""
    ctx = context(request)
    outcome = request.form.get("outcome") if request.form else None
    if outcome not in PAY_OUTCOMES:
        return page(
            "Bad request",
            "<h1>Choose Pay, Fail or Pending · भुगतान, विफल या लंबित चुनें</h1>",
            status=400,
        )

    def work(session: Session) -> tuple[str, Order | None, list[dict[str, Any]]]:
        found = _checkout(session, ctx, order_id)
        if found is None:
            return "unknown", None, []
        order, app = found
        if order.status == "paid" or app.paid:
            return "paid", order, []
        now = utcnow()
        payment = GatewayPayment(
            id=random_id("pay_"),
            order_id=order.id,
            status=PAY_OUTCOMES[outcome],
            amount_paise=order.amount * 100,
            method="upi",
            created_at=now,
            updated_at=now,
        )
        session.add(payment)
        mark_attempted(session, order, now)
        session.flush()
        kinds = {
            "success": ["payment.authorized", "payment.captured", "order.paid"],
            "failure": ["payment.failed"],
            "pending": [],
        }[outcome]
        return outcome, order, [_event(kind, order, payment, now) for kind in kinds]

    result, order, events = ctx.db.run(work)
    if result == "unknown" or order is None:
        return page(*_UNKNOWN_LINK, status=404)
    if result == "paid":
        return _paid_page(order)
    if events:
        ctx.spawn(deliver(ctx, events))
    texts = {
        "success": (
            "ok",
            "Payment successful · भुगतान सफल",
            "You can return to WhatsApp. · आप व्हाट्सऐप पर लौट सकते हैं।",
        ),
        "failure": (
            "bad",
            "Payment failed · भुगतान विफल",
            "No money was taken. Try again from the same link. · कोई पैसा नहीं कटा। इसी "
            "लिंक से फिर कोशिश करें।",
        ),
        "pending": (
            "",
            "Payment pending · भुगतान लंबित",
            "Your bank has not confirmed yet; we will update your application "
            "automatically. · बैंक की पुष्टि बाकी है; आवेदन अपने आप अपडेट होगा।",
        ),
    }
    css, title, text = texts[result]
    return page(title, f'<h1 class="{css}">{title}</h1><p>{text}</p>')
