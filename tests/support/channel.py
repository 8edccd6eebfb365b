"""Test helpers for the channel's internal API (docs/internal-apis.md §2).

    client = ChannelClient(stack.channel_url)
    client.notify(key="n-1", to="919810000001", template="application_approved", ...)

``INTERNAL_TOKEN`` is the bearer of the throw-away test stack only.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import requests

INTERNAL_TOKEN = "test-whatsapp-internal-token-0123456789"  # noqa: S105


@dataclasses.dataclass
class ChannelClient:
    url: str  # .../webhooks/whatsapp/internal
    token: str = INTERNAL_TOKEN

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(
            method,
            f"{self.url}/{path.lstrip('/')}",
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )

    def notify(self, **body: Any) -> requests.Response:
        return self.call("POST", "notify", body)

    def statuses(self, ids: list[str]) -> requests.Response:
        return self.call("POST", "statuses", {"ids": ids})

    def erase(self, wa_id: str) -> requests.Response:
        return self.call("POST", "erase", {"wa_id": wa_id})

    def erasure(self, wa_id: str) -> str:
        return str(self.call("GET", f"erase/{wa_id}").json()["status"])

    def handoff(self, wa_id: str, action: str, **officer: Any) -> requests.Response:
        return self.call("POST", "handoff", {"wa_id": wa_id, "action": action, **officer})

    def send(self, wa_id: str, text: str, **officer: Any) -> requests.Response:
        return self.call("POST", "send", {"wa_id": wa_id, "text": text, **officer})

    def handoffs(self) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self.call("GET", "handoffs").json()["handoffs"]
        return answer
