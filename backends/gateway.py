"""Payment gateways behind one interface, chosen by ``PAYMENT_GATEWAY``.

- ``sandbox`` (``make run`` and tests only): orders live in our own database; the
  citizen's link opens our hosted test page ``/pay/<order_id>`` where anyone with the
  link chooses the outcome; its "bank" confirms pending payments when asked. The
  production profile refuses to start with it (backends/config.py) and does not mount
  ``/pay/``.
- ``razorpay``: the Razorpay API (``RAZORPAY_API_URL``, HTTP Basic ``RAZORPAY_KEY_ID`` /
  ``RAZORPAY_KEY_SECRET``): ``POST /orders`` creates the order (amount in paise), the
  citizen pays on Razorpay's hosted checkout (our ``/payments/checkout/<order_id>`` page
  posts the order to ``RAZORPAY_CHECKOUT_URL``), Razorpay signs its webhooks with the
  webhook secret (``X-Razorpay-Signature``, hex HMAC-SHA256 of the raw body) and
  ``GET /orders/<id>/payments`` is the status API the reconciler polls. The checkout's
  return (``razorpay_signature``) is HMAC-SHA256 of ``<order_id>|<payment_id>`` keyed
  with the key secret.

Only ``Razorpay`` speaks HTTP; tests run it against a local stand-in speaking the same
API (tests/test_payment_gateway.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import string
from datetime import datetime
from typing import Any, Protocol

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from backends.config import Settings
from backends.db import GatewayPayment

_ALPHABET = string.ascii_letters + string.digits
#: the statuses of a gateway payment that moved money
CAPTURED = "captured"


class GatewayError(RuntimeError):
    """The gateway could not be reached or answered something unusable."""


def random_id(prefix: str) -> str:
    """Razorpay-like ids: ``order_``/``pay_``/``evt_`` + 14 random letters and digits."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(14))


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclasses.dataclass(frozen=True)
class Payment:
    """One payment attempt on an order, as the gateway's status API reports it."""

    id: str
    status: str  # created, authorized, captured, failed, refunded, pending (sandbox)
    amount_paise: int


class Gateway(Protocol):
    name: str

    def create_order(self, amount_paise: int, receipt: str, notes: dict[str, str]) -> str:
        """The gateway's id of a new order."""

    def payment_url(self, public_url: str, order_id: str) -> str:
        """The link the citizen opens to pay."""

    def order_payments(
        self, session: Session | None, order_id: str, now: datetime
    ) -> list[Payment]:
        """Every payment attempt of ``order_id`` (the status API the reconciler polls)."""


class Sandbox:
    name = "sandbox"

    def create_order(self, amount_paise: int, receipt: str, notes: dict[str, str]) -> str:
        return random_id("order_")

    def payment_url(self, public_url: str, order_id: str) -> str:
        return f"{public_url}/pay/{order_id}"

    def order_payments(
        self, session: Session | None, order_id: str, now: datetime
    ) -> list[Payment]:
        """The sandbox bank confirms a pending payment as soon as it is asked."""
        assert session is not None, "the sandbox keeps its payments in our database"
        rows = session.execute(
            select(GatewayPayment)
            .where(GatewayPayment.order_id == order_id)
            .order_by(GatewayPayment.created_at, GatewayPayment.id)
        ).scalars()
        answer = []
        for row in rows:
            if row.status == "pending":
                row.status = CAPTURED
                row.updated_at = now
            answer.append(Payment(str(row.id), str(row.status), int(row.amount_paise)))
        return answer


class Razorpay:
    name = "razorpay"

    def __init__(
        self, api_url: str, key_id: str, key_secret: str, checkout_url: str, timeout: float = 10
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.key_id = key_id
        self.key_secret = key_secret
        self.checkout_url = checkout_url
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            answer = requests.request(
                method,
                f"{self.api_url}{path}",
                json=body,
                auth=(self.key_id, self.key_secret),
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise GatewayError(f"{method} {path}: {type(exc).__name__}") from None
        if not 200 <= answer.status_code < 300:
            raise GatewayError(f"{method} {path} answered {answer.status_code}")
        try:
            return answer.json()
        except ValueError:
            raise GatewayError(f"{method} {path} answered no JSON") from None

    def create_order(self, amount_paise: int, receipt: str, notes: dict[str, str]) -> str:
        order = self._call(
            "POST",
            "/orders",
            {"amount": amount_paise, "currency": "INR", "receipt": receipt, "notes": notes},
        )
        if not (
            isinstance(order, dict)
            and isinstance(order.get("id"), str)
            and order["id"].startswith("order_")
            and len(order["id"]) <= 40
            and order.get("amount") == amount_paise
        ):
            raise GatewayError("POST /orders answered an unusable order")
        return str(order["id"])

    def payment_url(self, public_url: str, order_id: str) -> str:
        return f"{public_url}/payments/checkout/{order_id}"

    def order_payments(
        self, session: Session | None, order_id: str, now: datetime
    ) -> list[Payment]:
        answer = self._call("GET", f"/orders/{order_id}/payments")
        items = answer.get("items") if isinstance(answer, dict) else None
        if not isinstance(items, list):
            raise GatewayError("GET /orders/<id>/payments answered no items")
        return [
            Payment(str(item["id"]), str(item.get("status")), int(item.get("amount") or 0))
            for item in items
            if isinstance(item, dict) and isinstance(item.get("id"), str)
        ]

    def checkout_signature_valid(self, order_id: str, payment_id: str, signature: str) -> bool:
        expected = hmac_hex(self.key_secret, f"{order_id}|{payment_id}".encode())
        return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())


def from_settings(settings: Settings) -> Gateway:
    if settings.payment_gateway == "razorpay":
        return Razorpay(
            settings.razorpay_api_url,
            settings.razorpay_key_id,
            settings.razorpay_key_secret,
            settings.razorpay_checkout_url,
        )
    return Sandbox()
