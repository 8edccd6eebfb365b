"""Payment orders, the signed webhook, receipts and the reconciler (the merchant side),
and the sandbox gateway's hosted test page ``/pay/<order_id>``.

The gateway is chosen by configuration (backends/gateway.py): ``sandbox`` for
``make run`` and tests, ``razorpay`` in production, where ``/pay/`` is not mounted and
the citizen's link opens ``/payments/checkout/<order_id>``, which hands the order to
Razorpay's hosted checkout.

One fee, paid once:

- One open order per application: asking again (a second tap on "Pay", a second tab)
  answers the open order, so every link the citizen holds is the same link. Creating an
  order writes the application row (its version column), so two concurrent requests
  cannot both create one.
- A capture is applied only to an unpaid application still waiting for its fee
  (``draft``/``payment_pending``). Money captured for an application that is already
  paid, cancelled or erased, or a second payment on a paid order, is recorded in
  ``payment_refunds`` (event ``payment.refund_due`` for officers) and never pays twice.
- Every webhook event id is stored (a redelivery is acknowledged and ignored); an order
  only moves ``created/attempted/failed -> paid`` and never back.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import json
import logging
from datetime import datetime, timedelta
from typing import Any

import requests
from sanic import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sqlalchemy import select
from sqlalchemy.orm import Session

from backends import edistrict
from backends import gateway as gateways
from backends.db import (
    Application,
    GatewayPayment,
    Order,
    PaymentRefund,
    WebhookEvent,
    add_event,
    iso,
    next_id,
    utcnow,
)
from backends.erasure import PSEUDONYM_PREFIX
from backends.gateway import hmac_hex, random_id
from backends.web import (
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
    page,
    wrong_state,
)
from backends.web import authenticate as any_caller

log = logging.getLogger(__name__)

PAY_OUTCOMES = {"success": "captured", "failure": "failed", "pending": "pending"}
WEBHOOK_ATTEMPTS = 4
#: an order still waiting for its money; anything else is settled
OPEN = ("created", "attempted", "failed")
#: application states that still wait for their fee
AWAITING_FEE = ("draft", "payment_pending")
#: Razorpay orders created this long ago are no longer polled (its orders expire)
POLL_WINDOW = timedelta(days=2)
#: routes of one gateway only (backends/app.py mounts those of the configured one)
GATEWAY_ROUTES = {
    "/pay/<order_id>": "sandbox",
    "/payments/checkout/<order_id>": "razorpay",
    "/payments/callback": "razorpay",
}


def _unix(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1)).total_seconds())


def render(ctx: Context, order: Order) -> dict[str, Any]:
    return {
        "order_id": order.id,
        "application_id": order.application_id,
        "amount": order.amount,
        "currency": order.currency,
        "status": order.status,
        "payment_url": gateway_of(ctx).payment_url(ctx.settings.public_url, str(order.id)),
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


def gateway_of(ctx: Context) -> gateways.Gateway:
    return gateways.from_settings(ctx.settings)


def _closed(app: Application | None) -> bool:
    """The application cannot take a fee any more: paid, cancelled, decided or erased."""
    return (
        app is None
        or bool(app.paid)
        or app.status not in AWAITING_FEE
        or str(app.citizen_id).startswith(PSEUDONYM_PREFIX)
    )


def open_order(session: Session, application_id: str) -> Order | None:
    return (
        session.execute(
            select(Order)
            .where(Order.application_id == application_id, Order.status.in_(OPEN))
            .order_by(Order.created_at, Order.id)
        )
        .scalars()
        .first()
    )


def refund_due(session: Session, order: Order, payment_id: str, reason: str, now: datetime) -> bool:
    """Record money that pays for nothing, once per gateway payment; officers refund it."""
    if session.get(PaymentRefund, payment_id) is not None:
        return False
    session.add(
        PaymentRefund(
            payment_id=payment_id,
            order_id=order.id,
            application_id=order.application_id,
            amount=order.amount,
            reason=reason,
            status="due",
            created_at=now,
        )
    )
    add_event(
        session,
        "payment.refund_due",
        payment_id,
        order.citizen_id,
        {
            "order_id": order.id,
            "application_id": order.application_id,
            "amount": order.amount,
            "reason": reason,
        },
        now,
    )
    session.flush()
    log.warning("payment %s on order %s needs a refund (%s)", payment_id, order.id, reason)
    return True


def capture(
    session: Session, ctx: Context, order: Order, payment_id: str | None, now: datetime, by: str
) -> str:
    """Apply a captured payment: ``applied``, ``no_change`` (this payment was applied
    before) or ``refund_due`` (it pays for nothing)."""
    if order.status == "paid":
        if payment_id and order.payment_id and payment_id != order.payment_id:
            refund_due(session, order, payment_id, "already_paid", now)
            return "refund_due"
        return "no_change"
    if order.status == "refund_due":
        if payment_id and payment_id != order.payment_id:
            refund_due(session, order, payment_id, "application_closed", now)
            return "refund_due"
        return "no_change"
    app = session.get(Application, order.application_id)
    if _closed(app):
        order.payment_id = payment_id
        _set_order_status(session, order, "refund_due", now)
        reason = "already_paid" if app is not None and app.paid else "application_closed"
        refund_due(session, order, payment_id or f"order:{order.id}", reason, now)
        return "refund_due"
    return "applied" if mark_paid(session, ctx, order, payment_id, now, by) else "no_change"


def mark_paid(
    session: Session, ctx: Context, order: Order, payment_id: str | None, now: datetime, by: str
) -> bool:
    """Fulfil ``order`` once: receipt number, application paid (and submitted). Callers
    go through :func:`capture`, which refuses a paid or closed application."""
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


def _payable(session: Session, caller: Caller, application_id: str) -> Application:
    app = edistrict.visible(session, caller, application_id)
    if app.fee <= 0:
        raise ApiError(422, "no_fee", f"Application {app.id} has no fee to pay.")
    if app.paid:
        raise ApiError(409, "already_paid", f"Application {app.id} is already paid.")
    if app.status not in AWAITING_FEE:
        raise wrong_state("Application", app.id, app.status, "paid for")
    return app


async def create_order(request: Request) -> HTTPResponse:
    """One open order per application: asking again answers the open one (same link)."""
    caller = citizen(request)
    ctx = context(request)
    body = json_body(request)
    problems = Problems()
    application_id = problems.text(body, "application_id", max_len=20)
    problems.check()
    assert application_id is not None

    def new_order_paise(session: Session) -> int | None:
        """The amount of a new gateway order, or None when none is to be made."""
        try:
            app = _payable(session, caller, application_id)
        except ApiError:
            return None  # create_once answers: a replayed request, or this error
        return None if open_order(session, app.id) is not None else int(app.fee) * 100

    paise = ctx.db.run(new_order_paise)
    gateway_order_id = None
    if paise is not None:
        try:  # the gateway's order first, outside any transaction
            gateway_order_id = await asyncio.to_thread(
                gateway_of(ctx).create_order,
                paise,
                application_id,
                {"application_id": application_id},
            )
        except gateways.GatewayError as exc:
            log.warning("payment gateway refused an order: %s", exc)
            raise ApiError(
                503, "gateway_unavailable", "The payment gateway is not answering."
            ) from None

    def create(session: Session) -> str:
        app = _payable(session, caller, application_id)
        order = open_order(session, app.id)
        if order is not None:  # a second tap, or another request won the race
            return str(order.id)
        if gateway_order_id is None:
            raise ApiError(409, "conflict", "The order changed meanwhile; try again.")
        now = utcnow()
        # Writing the application (its version column) serialises concurrent creations.
        app.updated_at = now
        # The amount comes from the catalogue fee recorded on the application, never
        # from the request.
        order = Order(
            id=gateway_order_id,
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


def _refund_view(refund: PaymentRefund) -> dict[str, Any]:
    return {
        "payment_id": refund.payment_id,
        "order_id": refund.order_id,
        "application_id": refund.application_id,
        "amount": refund.amount,
        "reason": refund.reason,
        "status": refund.status,
        "created_at": iso(refund.created_at),
    }


def _department(ctx: Context, session: Session, application_id: str) -> str | None:
    app = session.get(Application, application_id)
    service = ctx.catalogue.services.get(app.service_id) if app is not None else None
    return service.department if service is not None else None


async def list_refunds(request: Request) -> HTTPResponse:
    """``GET /payments/refunds?status=due``: money that paid for nothing, for officers of
    the application's department to refund at the gateway."""
    caller = officer(request)
    ctx = context(request)
    wanted = list_query(request, ("status",))

    def work(session: Session) -> dict[str, Any]:
        query = select(PaymentRefund).order_by(PaymentRefund.created_at)
        if wanted.values["status"]:
            query = query.where(PaymentRefund.status.in_(wanted.values["status"]))
        rows = [
            _refund_view(r)
            for r in session.execute(query).scalars()
            if caller.serves(_department(ctx, session, str(r.application_id)))
        ]
        return {"refunds": rows[wanted.offset : wanted.offset + wanted.limit]}

    return json_response(ctx.db.run(work))


async def mark_refunded(request: Request, payment_id: str) -> HTTPResponse:
    """``POST /payments/refunds/<payment_id>`` ``{"gateway_refund_id": "rfnd_..."}``: the
    officer refunded it at the gateway (recorded once, with who and the gateway's id)."""
    caller = officer(request, named=True)
    ctx = context(request)
    body = json_body(request)
    problems = Problems()
    reference = problems.text(body, "gateway_refund_id", max_len=40)
    problems.check()

    def work(session: Session) -> dict[str, Any]:
        refund = session.get(PaymentRefund, payment_id)
        if refund is None:
            raise not_found("refund", payment_id)
        caller.check_department(
            _department(ctx, session, str(refund.application_id)), "Refund", payment_id
        )
        if refund.status == "due":
            refund.status = "refunded"
            add_event(
                session,
                "payment.refunded",
                refund.payment_id,
                None,
                {
                    "order_id": refund.order_id,
                    "application_id": refund.application_id,
                    "amount": refund.amount,
                    "gateway_refund_id": reference,
                    "by": f"officer:{caller.officer_id}",
                },
            )
        return _refund_view(refund)

    return json_response(ctx.db.run(work))


def signature(secret: str, body: bytes) -> str:
    return hmac_hex(secret, body)


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
        outcome = capture(session, ctx, order, payment_id, now, kind)
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
    """Ask the gateway's status API about orders left open longer than
    PAYMENT_PENDING_SECONDS (a webhook that never came, a pending UPI payment).

    The first captured payment pays the order; any other captured payment of the same
    order is recorded for a refund. The sandbox asks only about orders with an attempt
    (its bank confirms pending payments when asked). Razorpay is asked about every open
    order of the last :data:`POLL_WINDOW`, less and less often: again once the order has
    been quiet as long as it was old when last asked (``updated_at`` marks the last
    look), so an abandoned order costs about a dozen calls in all.
    """
    gateway = gateway_of(ctx)
    pending = timedelta(seconds=ctx.settings.payment_pending_seconds)
    cutoff = now - pending
    if gateway.name == "sandbox":
        query = select(Order).where(Order.status == "attempted", Order.attempted_at <= cutoff)
    else:
        query = select(Order).where(
            Order.status.in_(OPEN),
            Order.updated_at <= cutoff,
            Order.created_at >= now - POLL_WINDOW,
        )
    orders = session.execute(query.order_by(Order.created_at)).scalars().all()
    if gateway.name != "sandbox":
        orders = [
            o for o in orders if now - o.updated_at >= max(pending, o.updated_at - o.created_at)
        ]
    settled: list[str] = []
    for order in orders:
        try:
            payments = gateway.order_payments(session, str(order.id), now)
        except gateways.GatewayError as exc:
            log.warning("status of order %s not known: %s", order.id, exc)
            continue
        if settle(session, ctx, order, payments, now):
            settled.append(str(order.id))
        elif gateway.name != "sandbox":
            order.updated_at = now  # looked at: the next look comes later
    return settled


def settle(
    session: Session,
    ctx: Context,
    order: Order,
    payments: list[gateways.Payment],
    now: datetime,
) -> bool:
    """Apply what the status API says about ``order``; True when something changed."""
    paise = order.amount * 100
    captured = [p for p in payments if p.status == gateways.CAPTURED and p.amount_paise == paise]
    changed = False
    for payment in captured:
        changed |= capture(session, ctx, order, payment.id, now, "reconciler") != "no_change"
    if not captured and payments and all(p.status == "failed" for p in payments):
        changed = mark_failed(session, order, now)
    return changed


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
_CLOSED = (
    "Nothing to pay · कुछ भुगतान बाकी नहीं",
    "<h1>Nothing to pay · कुछ भुगतान बाकी नहीं</h1>"
    "<p>This application no longer takes a fee (cancelled or closed). No money was taken. · "
    "यह आवेदन अब फ़ीस नहीं लेता (रद्द या बंद)। कोई पैसा नहीं कटा।</p>",
)


def _paid_page(order: Order) -> HTTPResponse:
    """What a second payment of the same fee meets: paid once, nothing taken again."""
    if order.receipt_number:
        number = html.escape(order.receipt_number)
        receipt = f"<p>Receipt · रसीद: <b>{number}</b></p>"
    else:
        receipt = "<p>Your receipt reaches you on WhatsApp. · रसीद व्हाट्सऐप पर मिलेगी।</p>"
    return page(
        "Already paid · भुगतान हो चुका है",
        '<h1 class="ok">Already paid · भुगतान हो चुका है</h1>'
        "<p>This fee is paid; no money was taken this time. · यह फ़ीस भरी जा चुकी है; इस बार "
        "कोई पैसा नहीं कटा।</p>" + receipt,
    )


def _settled_page(order: Order, app: Application) -> HTTPResponse | None:
    """The answer for an order that takes no payment any more, or None."""
    if order.status == "paid" or app.paid:
        return _paid_page(order)
    if order.status not in OPEN or _closed(app):
        return page(*_CLOSED, status=409)
    return None


def _link_order(ctx: Context, order_id: str) -> HTTPResponse | tuple[Order, Application, str, str]:
    """The order a payment link opens, its application and the service's names (en, hi);
    or the page to show instead (an unknown link, a fee already paid, a closed order)."""
    found = ctx.db.run(lambda session: _checkout(session, ctx, order_id))
    if found is None:
        return page(*_UNKNOWN_LINK, status=404)
    order, app = found
    settled = _settled_page(order, app)
    if settled is not None:
        return settled
    service = ctx.catalogue.services.get(app.service_id)
    names = [service.title(lang) if service else app.service_id for lang in ("en", "hi")]
    return order, app, names[0], names[1]


async def pay_page(request: Request, order_id: str) -> HTTPResponse:
    """``GET /pay/<order_id>``: the sandbox's hosted checkout (the link is the credential)."""
    payable = _link_order(context(request), order_id)
    if isinstance(payable, HTTPResponse):
        return payable
    order, app, name_en, name_hi = payable
    name_en, name_hi = html.escape(name_en), html.escape(name_hi)
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
    """``POST /pay/<order_id>`` (form ``outcome``): record the attempt, then notify.

    Like a real gateway, the sandbox takes no payment on an order it already captured
    (a second tab of the same link), even before the merchant has applied the webhook.
    """
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
        captured = session.execute(
            select(GatewayPayment.id).where(
                GatewayPayment.order_id == order.id, GatewayPayment.status == "captured"
            )
        ).first()
        if order.status == "paid" or app.paid or captured is not None:
            return "paid", order, []
        if order.status not in OPEN or _closed(app):
            return "closed", order, []
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
    if result == "closed":
        return page(*_CLOSED, status=409)
    if events:
        ctx.tasks.spawn(deliver(ctx, events))
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


# --------------------------------------------------------------------------- Razorpay


async def checkout_page(request: Request, order_id: str) -> HTTPResponse:
    """``GET /payments/checkout/<order_id>``: the citizen's link; one tap hands the order
    to Razorpay's hosted checkout (a form POST: no script, so no CSP exception)."""
    ctx = context(request)
    gateway = gateway_of(ctx)
    assert isinstance(gateway, gateways.Razorpay)
    payable = _link_order(ctx, order_id)
    if isinstance(payable, HTTPResponse):
        return payable
    order, app, name_en, _ = payable
    public = ctx.settings.public_url
    fields = {
        "key_id": gateway.key_id,
        "order_id": order.id,
        "amount": str(order.amount * 100),
        "currency": "INR",
        "name": "Delhi Sewa",
        "description": f"{name_en} · {app.id}",
        "callback_url": f"{public}/payments/callback",
        "cancel_url": f"{public}/payments/checkout/{order.id}",
    }
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in fields.items()
    )
    response = page(
        "Pay · भुगतान करें",
        "<h1>Pay the fee · फ़ीस भरें</h1><table>"
        f"<tr><td>Service · सेवा</td><td><b>{html.escape(name_en)}</b></td></tr>"
        f"<tr><td>Application · आवेदन</td><td>{html.escape(app.id)}</td></tr>"
        f"<tr><td>Amount · राशि</td><td><b>&#8377; {order.amount}</b></td></tr></table>"
        f'<form method="post" action="{html.escape(gateway.checkout_url)}">{hidden}'
        "<button>Pay with Razorpay · Razorpay से भुगतान करें</button></form>",
    )
    origin = "/".join(gateway.checkout_url.split("/", 3)[:3])
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"form-action {origin}; frame-ancestors 'none'"
    )
    return response


async def checkout_callback(request: Request) -> HTTPResponse:
    """``POST /payments/callback``: Razorpay sends the citizen back here. A valid
    ``razorpay_signature`` only says the gateway took a payment: the status API is asked
    and decides (the webhook and the reconciler would apply it too)."""
    ctx = context(request)
    gateway = gateway_of(ctx)
    assert isinstance(gateway, gateways.Razorpay)
    form = request.form or {}
    order_id = str(form.get("razorpay_order_id") or "")
    payment_id = str(form.get("razorpay_payment_id") or "")
    given = str(form.get("razorpay_signature") or "")
    order = ctx.db.run(lambda session: session.get(Order, order_id)) if order_id else None
    if order is None or not payment_id or not given:
        return page(
            "Payment not completed · भुगतान पूरा नहीं हुआ",
            '<h1 class="bad">Payment not completed · भुगतान पूरा नहीं हुआ</h1>'
            "<p>Try again from the same link. · इसी लिंक से फिर कोशिश करें।</p>",
        )
    if not gateway.checkout_signature_valid(str(order.id), payment_id, given):
        log.warning("checkout return for order %s with a bad signature refused", order_id)
        raise ApiError(401, "bad_signature", "razorpay_signature does not match.")
    try:
        payments = await asyncio.to_thread(gateway.order_payments, None, order_id, utcnow())
    except gateways.GatewayError as exc:
        log.warning("status of order %s not known: %s", order_id, exc)
        payments = []

    def apply(session: Session) -> Order:
        current = session.get(Order, order_id)
        assert current is not None
        settle(session, ctx, current, payments, utcnow())
        return current

    settled = ctx.db.run(apply)
    if settled.status == "paid" and settled.payment_id != payment_id:
        return _paid_page(settled)
    return page(
        "Payment received · भुगतान मिल गया",
        '<h1 class="ok">Payment received · भुगतान मिल गया</h1>'
        "<p>Your receipt reaches you on WhatsApp. · रसीद व्हाट्सऐप पर मिलेगी।</p>",
    )
