"""Payment gateway orders (sandbox modelled on Razorpay/UPI)."""

from __future__ import annotations

from actions.api.base import ApiResult, BaseClient

_ORDER = "/payments/orders/{order_id}"


class PaymentsClient(BaseClient):
    """``/payments`` of docs/backends-api.md. The amount always comes from the server."""

    url_setting = "PAYMENTS_URL"

    def create_order(self, citizen_id: str, application_id: str, idempotency_key: str) -> ApiResult:
        """201 order with ``payment_url``; 409 if already paid, 422 if the fee is 0."""
        return self._request(
            "POST",
            "/payments/orders",
            citizen_id=citizen_id,
            json={"application_id": application_id},
            idempotency_key=idempotency_key,
            retry=True,
        )

    def get_order(self, citizen_id: str, order_id: str) -> ApiResult:
        """Order with ``status`` created/attempted/paid/failed."""
        return self._request(
            "GET", _ORDER, citizen_id=citizen_id, retry=True, path_params={"order_id": order_id}
        )

    def receipt(self, citizen_id: str, order_id: str) -> ApiResult:
        """``receipt_number``, ``amount``, ``paid_at``...; 409 unless paid."""
        return self._request(
            "GET",
            _ORDER + "/receipt",
            citizen_id=citizen_id,
            retry=True,
            path_params={"order_id": order_id},
        )
