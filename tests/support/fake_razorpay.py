"""A local stand-in for the Razorpay API, for a gateway the tests cannot call.

It speaks the parts backends/gateway.py uses, in Razorpay's shapes: ``POST /v1/orders``
and ``GET /v1/orders/<id>/payments`` behind HTTP Basic (key id, key secret), and the
hosted checkout ``POST /v1/checkout/embedded`` (form fields ``key_id``, ``order_id``,
``amount``, ``callback_url``...). What the citizen would do on the hosted page is a
method: :meth:`FakeRazorpay.checkout` pays (or fails) and answers the fields Razorpay
posts back to ``callback_url``; :meth:`FakeRazorpay.webhooks` are the events it would
sign with the webhook secret (``X-Razorpay-Signature``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import http.server
import json
import secrets
import string
import threading
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import requests

from tests.support.processes import serving

KEY_ID = "rzp_test_stand1n0000001"
KEY_SECRET = "stand-in-key-secret-0123456789"  # noqa: S105


def _id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(14))


def sign(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class FakeRazorpay:
    def __init__(self, webhook_secret: str) -> None:
        self.webhook_secret = webhook_secret
        self.url = ""
        self.orders: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str, Any]] = []  # (method, path, body)
        self.lock = threading.Lock()

    @property
    def api_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def checkout_url(self) -> str:
        return f"{self.url}/v1/checkout/embedded"

    # --- what the citizen does on the hosted checkout ---------------------------------
    def pay(self, order_id: str, status: str = "captured") -> dict[str, Any]:
        """A payment on ``order_id`` (captured or failed), no callback, no webhook."""
        with self.lock:
            order = self.orders[order_id]
            if order["status"] == "paid":
                raise ValueError("order already paid")
            payment = {
                "id": _id("pay_"),
                "entity": "payment",
                "amount": order["amount"],
                "currency": "INR",
                "status": status,
                "order_id": order_id,
                "method": "upi",
                "captured": status == "captured",
                "created_at": int(time.time()),
            }
            self.payments.setdefault(order_id, []).append(payment)
            order["attempts"] += 1
            order["status"] = "attempted"
            if status == "captured":
                order.update(status="paid", amount_paid=order["amount"], amount_due=0)
            return payment

    def checkout(self, fields: dict[str, str]) -> tuple[int, dict[str, str]]:
        """POST the checkout page's form to the hosted checkout and pay: the status and
        the fields Razorpay posts back to ``callback_url``."""
        body = urllib.parse.urlencode(fields).encode()
        answer = requests.post(
            self.checkout_url,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=10,
        )
        return answer.status_code, answer.json()

    def webhooks(self, payment: dict[str, Any]) -> list[tuple[bytes, str]]:
        """``payment.captured`` and ``order.paid`` for ``payment``: (raw body, signature)."""
        order = self.orders[payment["order_id"]]
        events = [
            ("payment.captured", {"payment": {"entity": payment}}),
            ("order.paid", {"payment": {"entity": payment}, "order": {"entity": dict(order)}}),
        ]
        signed = []
        for kind, payload in events:
            body = json.dumps(
                {
                    "entity": "event",
                    "account_id": "acc_standin",
                    "event": kind,
                    "id": _id("evt_"),
                    "contains": list(payload),
                    "payload": payload,
                    "created_at": int(time.time()),
                },
                separators=(",", ":"),
            ).encode()
            signed.append((body, sign(self.webhook_secret, body)))
        return signed

    # --- the API ----------------------------------------------------------------------
    def handle(self, method: str, path: str, auth: str, body: bytes) -> tuple[int, Any]:
        form = dict(urllib.parse.parse_qsl(body.decode())) if path.endswith("/embedded") else {}
        parsed: Any = form or (json.loads(body) if body else None)
        with self.lock:
            self.requests.append((method, path, parsed))
        if method == "POST" and path == "/v1/checkout/embedded":
            return self._hosted(form)
        expected = "Basic " + base64.b64encode(f"{KEY_ID}:{KEY_SECRET}".encode()).decode()
        if not hmac.compare_digest(auth, expected):
            return 401, _error("Authentication failed")
        if method == "POST" and path == "/v1/orders":
            amount = parsed.get("amount") if isinstance(parsed, dict) else None
            if not isinstance(amount, int) or amount < 100:
                return 400, _error("The amount must be at least INR 1.00")
            order = {
                "id": _id("order_"),
                "entity": "order",
                "amount": amount,
                "amount_paid": 0,
                "amount_due": amount,
                "currency": parsed.get("currency", "INR"),
                "receipt": parsed.get("receipt"),
                "offer_id": None,
                "status": "created",
                "attempts": 0,
                "notes": parsed.get("notes") or [],
                "created_at": int(time.time()),
            }
            with self.lock:
                self.orders[order["id"]] = order
            return 200, order
        parts = path.strip("/").split("/")
        if method == "GET" and len(parts) == 4 and parts[:2] == ["v1", "orders"]:
            if parts[2] not in self.orders or parts[3] != "payments":
                return 400, _error("The id provided does not exist")
            with self.lock:
                items = list(self.payments.get(parts[2], []))
            return 200, {"entity": "collection", "count": len(items), "items": items}
        return 404, _error("The requested URL was not found on the server.")

    def _hosted(self, form: dict[str, str]) -> tuple[int, Any]:
        order = self.orders.get(form.get("order_id", ""))
        if form.get("key_id") != KEY_ID or order is None:
            return 400, _error("Invalid key or order")
        if str(order["amount"]) != form.get("amount"):
            return 400, _error("Amount does not match the order")
        try:
            payment = self.pay(order["id"])
        except ValueError:
            return 400, _error("Order is already paid")
        return 200, {
            "callback_url": form.get("callback_url", ""),
            "razorpay_payment_id": payment["id"],
            "razorpay_order_id": order["id"],
            "razorpay_signature": sign(KEY_SECRET, f"{order['id']}|{payment['id']}".encode()),
        }


def _error(description: str) -> dict[str, Any]:
    return {"error": {"code": "BAD_REQUEST_ERROR", "description": description}}


@contextlib.contextmanager
def running_razorpay(webhook_secret: str) -> Iterator[FakeRazorpay]:
    fake = FakeRazorpay(webhook_secret)

    class Handler(http.server.BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            status, answer = fake.handle(
                self.command,
                self.path,
                self.headers.get("Authorization", ""),
                self.rfile.read(length),
            )
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, *args: Any) -> None:
            pass

    with serving(Handler) as url:
        fake.url = url
        yield fake
