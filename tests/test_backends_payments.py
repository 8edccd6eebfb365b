"""backends: payment orders, the sandbox checkout, signed webhooks (exactly once) and
the reconciler, over real HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from service_catalogue import load
from tests.support.backends import WEBHOOK_SECRET, Backend, running_backend
from tests.support.pdf import pdf_text

LEARNER = {  # learner_licence: fee 200, issues a licence
    "applicant_name": "Ravi Kumar",
    "father_name": "Suresh Kumar",
    "date_of_birth": "1990-03-12",
    "gender": "male",
    "vehicle_class": "mcwg",
    "address": "House 12, Gali 3, Laxmi Nagar, Delhi",
    "aadhaar": "XXXX-XXXX-1234",
}
LEARNER_DOCS = ("address_proof", "age_proof", "photo", "signature")
FEE = load().services["learner_licence"].fee


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory):
    with running_backend(
        tmp_path_factory.mktemp("payments"),
        PAYMENT_PENDING_SECONDS="1",
        RECONCILE_INTERVAL_SECONDS="0.2",
    ) as running:
        yield running


def new_citizen() -> str:
    return "9197" + str(uuid.uuid4().int)[:8]


def wait_for(probe: Callable[[], Any], seconds: float = 10) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def pending_application(backend: Backend, citizen: str) -> dict[str, Any]:
    created = requests.post(
        f"{backend.url}/edistrict/applications",
        json={"service_id": "learner_licence", "fields": LEARNER, "language": "hi"},
        headers=backend.citizen(citizen),
        timeout=10,
    )
    assert created.status_code == 201, created.text
    app_id = created.json()["application_id"]
    for doc in LEARNER_DOCS:
        attached = requests.post(
            f"{backend.url}/edistrict/applications/{app_id}/documents",
            json={
                "document_id": doc,
                "filename": f"{doc}.jpg",
                "mime_type": "image/jpeg",
                "size": 1000,
                "sha256": hashlib.sha256(doc.encode()).hexdigest(),
                "storage_ref": f"uploads/{doc}",
            },
            headers=backend.citizen(citizen),
            timeout=10,
        )
        assert attached.status_code == 201
    submitted = requests.post(
        f"{backend.url}/edistrict/applications/{app_id}/submit",
        json={},
        headers=backend.citizen(citizen),
        timeout=10,
    ).json()
    assert submitted["status"] == "payment_pending"
    return dict(submitted)


def new_order(backend: Backend, citizen: str, app_id: str, **extra: Any) -> requests.Response:
    return requests.post(
        f"{backend.url}/payments/orders",
        json={"application_id": app_id, **extra},
        headers=backend.citizen(citizen, key=f"order-{app_id}-{len(extra)}"),
        timeout=10,
    )


def application(backend: Backend, citizen: str, app_id: str) -> dict[str, Any]:
    return dict(
        requests.get(
            f"{backend.url}/edistrict/applications/{app_id}", headers=backend.citizen(citizen)
        ).json()
    )


def order_status(backend: Backend, citizen: str, order_id: str) -> dict[str, Any]:
    return dict(
        requests.get(
            f"{backend.url}/payments/orders/{order_id}", headers=backend.citizen(citizen)
        ).json()
    )


def event(kind: str, order: dict[str, Any], amount: int | None = None) -> dict[str, Any]:
    paise = (order["amount"] if amount is None else amount) * 100
    payment = {
        "id": "pay_test" + order["order_id"][-8:],
        "entity": "payment",
        "amount": paise,
        "currency": "INR",
        "status": {"payment.authorized": "authorized", "payment.failed": "failed"}.get(
            kind, "captured"
        ),
        "order_id": order["order_id"],
        "method": "upi",
    }
    payload: dict[str, Any] = {"payment": {"entity": payment}}
    if kind == "order.paid":
        payload["order"] = {"entity": {"id": order["order_id"], "amount_paid": paise}}
    return {
        "entity": "event",
        "id": "evt_" + uuid.uuid4().hex[:14],
        "event": kind,
        "created_at": int(time.time()),
        "payload": payload,
    }


def deliver(
    backend: Backend, evt: dict[str, Any], secret: str = WEBHOOK_SECRET
) -> requests.Response:
    body = json.dumps(evt).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return requests.post(
        f"{backend.url}/payments/webhook",
        data=body,
        headers={"Content-Type": "application/json", "X-Razorpay-Signature": signature},
        timeout=10,
    )


def events_about(backend: Backend, subject_id: str) -> list[dict[str, Any]]:
    answer = requests.get(f"{backend.url}/events?after=0&limit=500", headers=backend.officer())
    return [e for e in answer.json()["events"] if e["subject_id"] == subject_id]


def test_full_lifecycle_with_sandbox_payment(backend: Backend) -> None:
    citizen = new_citizen()
    app = pending_application(backend, citizen)
    app_id = app["application_id"]
    assert (app["fee"], app["paid"], app["sla_due"]) == (FEE, False, None)

    created = new_order(backend, citizen, app_id)
    assert created.status_code == 201
    order = created.json()
    assert order["amount"] == FEE
    assert (order["currency"], order["status"], order["application_id"]) == (
        "INR",
        "created",
        app_id,
    )
    assert re.fullmatch(r"order_[A-Za-z0-9]{14}", order["order_id"])
    assert order["payment_url"] == f"{backend.url}/pay/{order['order_id']}"
    not_yet = requests.get(
        f"{backend.url}/payments/orders/{order['order_id']}/receipt",
        headers=backend.citizen(citizen),
    )
    assert not_yet.status_code == 409

    checkout = requests.get(order["payment_url"], timeout=5)  # what the citizen opens
    assert checkout.status_code == 200
    assert f"&#8377; {FEE}" in checkout.text and "Learner" in checkout.text
    assert 'value="success"' in checkout.text and 'value="pending"' in checkout.text
    paid_page = requests.post(order["payment_url"], data={"outcome": "success"}, timeout=5)
    assert paid_page.status_code == 200
    assert "Payment successful" in paid_page.text

    # The gateway's signed webhooks reach the service's own /payments/webhook.
    settled = wait_for(
        lambda: order_status(backend, citizen, order["order_id"])["status"] == "paid"
    )
    assert settled
    receipt = requests.get(
        f"{backend.url}/payments/orders/{order['order_id']}/receipt",
        headers=backend.citizen(citizen),
    ).json()
    assert re.fullmatch(r"RCPT-\d{4}-\d{6}", receipt["receipt_number"])
    assert (receipt["amount"], receipt["application_id"]) == (FEE, app_id)
    assert receipt["service_id"] == "learner_licence"
    app = application(backend, citizen, app_id)
    assert (app["status"], app["paid"]) == ("submitted", True)
    assert [h["status"] for h in app["history"]] == ["draft", "payment_pending", "submitted"]
    assert app["sla_due"] is not None
    again = requests.get(order["payment_url"], timeout=5)
    assert "Already paid" in again.text and receipt["receipt_number"] in again.text

    for action in ("verify", "approve"):
        answer = requests.post(
            f"{backend.url}/edistrict/applications/{app_id}/actions",
            json={"action": action},
            headers=backend.officer(),
            timeout=10,
        )
        assert answer.status_code == 200
    link = requests.get(
        f"{backend.url}/edistrict/applications/{app_id}/certificate",
        headers=backend.citizen(citizen),
    ).json()
    pdf = requests.get(link["url"], timeout=10)
    assert pdf.content.startswith(b"%PDF")
    printed = re.search(r"/verify/([A-Za-z0-9_.-]+)", pdf_text(pdf.content))
    assert printed is not None, "the certificate does not print its verification link"
    token = printed.group(1)
    verified = requests.get(f"{backend.url}/verify/{token}?format=json", timeout=5).json()
    assert verified["valid"] is True
    assert verified["service_id"] == "learner_licence"
    assert "Genuine" in requests.get(f"{backend.url}/verify/{token}", timeout=5).text


def test_order_amount_is_the_catalogue_fee(backend: Backend) -> None:
    citizen = new_citizen()
    app_id = pending_application(backend, citizen)["application_id"]
    cheap = new_order(backend, citizen, app_id, amount=1, currency="USD")
    assert cheap.status_code == 201
    assert (cheap.json()["amount"], cheap.json()["currency"]) == (FEE, "INR")
    repeated = new_order(backend, citizen, app_id, amount=1, currency="USD")
    assert repeated.status_code == 200
    assert repeated.json()["order_id"] == cheap.json()["order_id"]
    # A webhook claiming a smaller payment does not pay the order.
    assert deliver(backend, event("payment.captured", cheap.json(), amount=1)).json()["status"] == (
        "amount_mismatch"
    )
    assert order_status(backend, citizen, cheap.json()["order_id"])["status"] == "created"
    # Another citizen cannot pay for (or see) this application.
    assert new_order(backend, new_citizen(), app_id).status_code == 404


def test_free_or_paid_applications_get_no_order(backend: Backend) -> None:
    citizen = new_citizen()
    free = requests.post(
        f"{backend.url}/edistrict/applications",
        json={
            "service_id": "character_certificate",
            "fields": {
                "applicant_name": "Ravi Kumar",
                "father_name": "Suresh Kumar",
                "date_of_birth": "1990-03-12",
                "address": "House 12, Gali 3, Laxmi Nagar, Delhi",
                "purpose": "job",
            },
        },
        headers=backend.citizen(citizen),
    ).json()
    no_fee = new_order(backend, citizen, free["application_id"])
    assert no_fee.status_code == 422
    assert no_fee.json()["error"] == "no_fee"

    app_id = pending_application(backend, citizen)["application_id"]
    order = new_order(backend, citizen, app_id).json()
    assert deliver(backend, event("order.paid", order)).json()["status"] == "applied"
    paid = new_order(backend, citizen, app_id, note="again")
    assert paid.status_code == 409
    assert paid.json()["error"] == "already_paid"


def test_forged_webhooks_are_refused_and_pay_nothing(backend: Backend) -> None:
    citizen = new_citizen()
    app_id = pending_application(backend, citizen)["application_id"]
    order = new_order(backend, citizen, app_id).json()
    evt = event("order.paid", order)

    forged = deliver(backend, evt, secret="not-the-webhook-secret")
    assert forged.status_code == 401
    assert forged.json()["error"] == "bad_signature"
    unsigned = requests.post(f"{backend.url}/payments/webhook", json=evt, timeout=5)
    assert unsigned.status_code == 401
    body = json.dumps(evt).encode()
    signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    altered = requests.post(
        f"{backend.url}/payments/webhook",
        data=body.replace(b'"order.paid"', b'"order.paid" '),
        headers={"X-Razorpay-Signature": signature},
        timeout=5,
    )
    assert altered.status_code == 401

    assert order_status(backend, citizen, order["order_id"])["status"] == "created"
    app = application(backend, citizen, app_id)
    assert (app["status"], app["paid"]) == ("payment_pending", False)
    assert [e["type"] for e in events_about(backend, order["order_id"])] == ["order.created"]
    # The genuine event, signed with the secret, is still accepted afterwards.
    assert deliver(backend, evt).json()["status"] == "applied"


def test_duplicate_and_out_of_order_webhooks_apply_once(backend: Backend) -> None:
    citizen = new_citizen()
    app_id = pending_application(backend, citizen)["application_id"]
    order = new_order(backend, citizen, app_id).json()
    captured, authorized = event("payment.captured", order), event("payment.authorized", order)
    order_paid, failed = event("order.paid", order), event("payment.failed", order)

    outcomes = []
    for evt in (captured, authorized, order_paid, failed):  # captured first, failed last
        outcomes.append([deliver(backend, evt).json()["status"] for _ in range(3)])
    assert outcomes == [
        ["applied", "duplicate", "duplicate"],
        ["no_change", "duplicate", "duplicate"],
        ["no_change", "duplicate", "duplicate"],
        ["no_change", "duplicate", "duplicate"],
    ]
    status = order_status(backend, citizen, order["order_id"])
    assert status["status"] == "paid"
    receipt = requests.get(
        f"{backend.url}/payments/orders/{order['order_id']}/receipt",
        headers=backend.citizen(citizen),
    ).json()
    assert receipt["receipt_number"] == status["receipt_number"]
    app = application(backend, citizen, app_id)
    assert (app["status"], app["paid"]) == ("submitted", True)
    assert [h["status"] for h in app["history"]] == ["draft", "payment_pending", "submitted"]

    order_events = [e["type"] for e in events_about(backend, order["order_id"])]
    assert order_events == ["order.created", "order.paid"]
    app_events = [e["type"] for e in events_about(backend, app_id)]
    assert app_events.count("application.paid") == 1
    assert app_events.count("application.status_changed") == 3


def test_failed_payment_can_be_retried(backend: Backend) -> None:
    citizen = new_citizen()
    app_id = pending_application(backend, citizen)["application_id"]
    order = new_order(backend, citizen, app_id).json()
    failed = requests.post(order["payment_url"], data={"outcome": "failure"}, timeout=5)
    assert "Payment failed" in failed.text
    assert wait_for(lambda: order_status(backend, citizen, order["order_id"])["status"] == "failed")
    assert application(backend, citizen, app_id)["status"] == "payment_pending"

    requests.post(order["payment_url"], data={"outcome": "success"}, timeout=5)
    assert wait_for(lambda: order_status(backend, citizen, order["order_id"])["status"] == "paid")
    assert application(backend, citizen, app_id)["status"] == "submitted"
    types = [e["type"] for e in events_about(backend, order["order_id"])]
    assert types == [
        "order.created",
        "order.attempted",
        "order.failed",
        "order.attempted",
        "order.paid",
    ]


def test_pending_payment_is_settled_by_the_reconciler(backend: Backend) -> None:
    citizen = new_citizen()
    app_id = pending_application(backend, citizen)["application_id"]
    order = new_order(backend, citizen, app_id).json()
    pending = requests.post(order["payment_url"], data={"outcome": "pending"}, timeout=5)
    assert "Payment pending" in pending.text
    assert order_status(backend, citizen, order["order_id"])["status"] == "attempted"
    assert application(backend, citizen, app_id)["status"] == "payment_pending"
    # PAYMENT_PENDING_SECONDS=1 here: the reconciler settles it shortly after.
    assert wait_for(lambda: order_status(backend, citizen, order["order_id"])["status"] == "paid")
    app = application(backend, citizen, app_id)
    assert (app["status"], app["paid"]) == ("submitted", True)
    assert app["history"][-1]["by"] == "payment"


def test_sandbox_page_checks_its_input(backend: Backend) -> None:
    assert requests.get(f"{backend.url}/pay/order_doesnotexist00", timeout=5).status_code == 404
    citizen = new_citizen()
    order = new_order(backend, citizen, pending_application(backend, citizen)["application_id"])
    url = order.json()["payment_url"]
    assert requests.post(url, data={"outcome": "steal"}, timeout=5).status_code == 400
    assert requests.post(url, data={}, timeout=5).status_code == 400
    assert order_status(backend, citizen, order.json()["order_id"])["status"] == "created"
    other = requests.get(
        f"{backend.url}/payments/orders/{order.json()['order_id']}",
        headers=backend.citizen(new_citizen()),
    )
    assert other.status_code == 404


# --------------------------------------------------------------------------- one fee, paid once


def order_events(backend: Backend, app_id: str, kind: str) -> list[dict[str, Any]]:
    answer = requests.get(f"{backend.url}/events?after=0&limit=500", headers=backend.officer())
    return [
        e
        for e in answer.json()["events"]
        if e["type"] == kind and e["payload"].get("application_id") == app_id
    ]


def test_tapping_pay_twice_gives_one_link_and_pays_the_fee_once(backend: Backend) -> None:
    """Issue 13, item 6: two taps (two tabs) made two orders, and paying both links
    gave two paid orders and two receipts for one fee."""
    citizen = new_citizen()
    app_id = pending_application(backend, citizen)["application_id"]
    first = new_order(backend, citizen, app_id).json()
    second = requests.post(  # the second tap: a new message, so a new idempotency key
        f"{backend.url}/payments/orders",
        json={"application_id": app_id},
        headers=backend.citizen(citizen, key=f"second-tap-{app_id}"),
        timeout=10,
    ).json()
    assert second["order_id"] == first["order_id"]
    assert second["payment_url"] == first["payment_url"]

    # Two tabs of the link, both loaded before either pays; both press Pay at once.
    paid = requests.post(first["payment_url"], data={"outcome": "success"}, timeout=5)
    again = requests.post(second["payment_url"], data={"outcome": "success"}, timeout=5)
    assert "Payment successful" in paid.text
    assert "Already paid" in again.text and "no money was taken" in again.text
    assert wait_for(lambda: application(backend, citizen, app_id)["paid"])
    time.sleep(1)  # every webhook delivered
    assert len(order_events(backend, app_id, "order.paid")) == 1
    assert [e["type"] for e in events_about(backend, app_id)].count("application.paid") == 1
    assert order_events(backend, app_id, "payment.refund_due") == []
    assert new_order(backend, citizen, app_id, note="third tap").json()["error"] == "already_paid"


def test_concurrent_order_requests_make_one_order(backend: Backend) -> None:
    from concurrent.futures import ThreadPoolExecutor

    citizen = new_citizen()
    app_id = pending_application(backend, citizen)["application_id"]

    def tap(n: int) -> str:
        answer = requests.post(
            f"{backend.url}/payments/orders",
            json={"application_id": app_id},
            headers=backend.citizen(citizen, key=f"tap-{n}-{app_id}"),
            timeout=30,
        )
        assert answer.status_code in (200, 201), answer.text
        return str(answer.json()["order_id"])

    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(tap, range(8)))
    assert len(ids) == 1
    assert len(order_events(backend, app_id, "order.created")) == 1


def legacy_second_order(backend: Backend, order: dict[str, Any]) -> dict[str, Any]:
    """A second live order for the same application, as the service made them before
    issue 13 (or a pending order a gateway still captures)."""
    import sqlalchemy as sa

    engine = sa.create_engine(backend.db_url)
    twin = "order_legacy" + uuid.uuid4().hex[:8]
    with engine.begin() as connection:
        row = (
            connection.execute(
                sa.text("SELECT * FROM payment_orders WHERE id = :id"), {"id": order["order_id"]}
            )
            .mappings()
            .one()
        )
        connection.execute(
            sa.text(
                "INSERT INTO payment_orders (id, application_id, citizen_id, amount, currency,"
                " status, created_at, updated_at, version) VALUES (:id, :application_id,"
                " :citizen_id, :amount, :currency, 'created', :created_at, :updated_at, 1)"
            ),
            {**dict(row), "id": twin},
        )
    engine.dispose()
    return {**order, "order_id": twin}


def test_a_capture_on_a_paid_application_is_recorded_for_a_refund(backend: Backend) -> None:
    citizen = new_citizen()
    app_id = pending_application(backend, citizen)["application_id"]
    order = new_order(backend, citizen, app_id).json()
    twin = legacy_second_order(backend, order)

    assert deliver(backend, event("payment.captured", order)).json()["status"] == "applied"
    assert deliver(backend, event("payment.captured", twin)).json()["status"] == "refund_due"
    assert deliver(backend, event("order.paid", twin)).json()["status"] == "no_change"

    assert len(order_events(backend, app_id, "order.paid")) == 1  # one receipt
    assert [e["type"] for e in events_about(backend, app_id)].count("application.paid") == 1
    assert order_status(backend, citizen, twin["order_id"])["status"] == "refund_due"
    [refund] = order_events(backend, app_id, "payment.refund_due")
    assert refund["payload"] == {
        "order_id": twin["order_id"],
        "application_id": app_id,
        "amount": FEE,
        "reason": "already_paid",
    }
    # A second payment on the paid order itself (a gateway that took it anyway) too.
    other = event("payment.captured", order)
    other["payload"]["payment"]["entity"]["id"] = "pay_another000001"
    assert deliver(backend, other).json()["status"] == "refund_due"
    assert len(order_events(backend, app_id, "payment.refund_due")) == 2
    assert len(order_events(backend, app_id, "order.paid")) == 1

    # Transport's officers see both on their refund list; another department's do not.
    def due(departments: list[str]) -> list[str]:
        answer = requests.get(
            f"{backend.url}/payments/refunds?status=due",
            headers=backend.officer(departments=departments),
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return [r["payment_id"] for r in answer.json()["refunds"] if r["application_id"] == app_id]

    twin_payment = "pay_test" + twin["order_id"][-8:]
    assert sorted(due(["transport"])) == sorted([twin_payment, "pay_another000001"])
    assert due(["revenue"]) == []
    wrong = requests.post(
        f"{backend.url}/payments/refunds/{twin_payment}",
        json={"gateway_refund_id": "rfnd_0000000001"},
        headers=backend.officer(departments=["revenue"]),
        timeout=10,
    )
    assert wrong.status_code == 403
    done = requests.post(
        f"{backend.url}/payments/refunds/{twin_payment}",
        json={"gateway_refund_id": "rfnd_0000000001"},
        headers=backend.officer("officer-3", departments=["transport"]),
        timeout=10,
    )
    assert done.status_code == 200 and done.json()["status"] == "refunded", done.text
    assert due(["transport"]) == ["pay_another000001"]


def test_a_capture_on_an_erased_application_pays_nothing(backend: Backend) -> None:
    citizen = new_citizen()
    app_id = pending_application(backend, citizen)["application_id"]
    order = new_order(backend, citizen, app_id).json()
    erased = requests.post(
        f"{backend.url}/citizens/{citizen}/erasure",
        json={},
        headers=backend.citizen(citizen),
        timeout=10,
    )
    assert erased.status_code == 200, erased.text
    page = requests.get(order["payment_url"], timeout=5)
    assert page.status_code == 409 and "Nothing to pay" in page.text

    assert deliver(backend, event("payment.captured", order)).json()["status"] == "refund_due"
    app = requests.get(
        f"{backend.url}/edistrict/applications/{app_id}", headers=backend.officer(), timeout=5
    ).json()
    assert (app["status"], app["paid"]) == ("cancelled", False)
    assert order_events(backend, app_id, "order.paid") == []
    [refund] = order_events(backend, app_id, "payment.refund_due")
    assert refund["payload"]["reason"] == "application_closed"


def test_two_pending_payments_captured_later_pay_once(backend: Backend) -> None:
    """Two tabs both left pending at the bank: the reconciler captures both later; one
    pays the fee, the other is recorded for a refund."""
    citizen = new_citizen()
    app_id = pending_application(backend, citizen)["application_id"]
    order = new_order(backend, citizen, app_id).json()
    for _ in range(2):
        pending = requests.post(order["payment_url"], data={"outcome": "pending"}, timeout=5)
        assert "Payment pending" in pending.text
    assert wait_for(lambda: order_events(backend, app_id, "payment.refund_due"))
    assert order_status(backend, citizen, order["order_id"])["status"] == "paid"
    assert len(order_events(backend, app_id, "order.paid")) == 1
    assert [e["type"] for e in events_about(backend, app_id)].count("application.paid") == 1
