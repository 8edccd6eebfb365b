"""The WhatsApp channel's internal API as the dashboard uses it (docs/internal-apis.md §2).

Human handoff: take / release / reassign a conversation, send an officer's reply, list
who holds which conversation. Bearer ``WHATSAPP_INTERNAL_TOKEN``; the same timeouts and
:class:`~dashboard.backends_client.Result` answers as the backends client, so a page
shows a clear error (``taken_by_other``, ``not_in_handoff``, ``unavailable``, ...) and
never hangs.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from dashboard.backends_client import BackendsClient, Result


@dataclasses.dataclass(frozen=True)
class Officer:
    id: str
    name: str
    department: str

    def as_json(self) -> dict[str, str]:
        return {"officer_id": self.id, "officer_name": self.name, "department": self.department}


class ChannelClient:
    def __init__(self, base_url: str, token: str, timeout: float) -> None:
        # The channel takes one bearer token and no caller headers: the backends
        # client's transport with that token as its only credential.
        self._http = BackendsClient(base_url, token, token, timeout)

    async def close(self) -> None:
        await self._http.close()

    async def _post(self, url_path: str, body: dict[str, Any]) -> Result:
        return await self._http.request("POST", url_path, body=body)

    async def take(self, wa_id: str, officer: Officer) -> Result:
        return await self._post("/handoff", {"wa_id": wa_id, "action": "take", **officer.as_json()})

    async def release(self, wa_id: str, officer: Officer, reason: str | None = None) -> Result:
        """Hand back (the holder); with ``reason`` (``supervisor``, ``account_disabled``)
        end someone else's handoff, as the dashboard allowed ``officer`` to."""
        body: dict[str, Any] = {"wa_id": wa_id, "action": "release", **officer.as_json()}
        if reason is not None:
            body.update(override=True, reason=reason)
        return await self._post("/handoff", body)

    async def reassign(self, wa_id: str, officer: Officer, by: str) -> Result:
        """``officer`` holds the conversation from now (``by``: who decided)."""
        body = {"wa_id": wa_id, "action": "reassign", "by": by, **officer.as_json()}
        return await self._post("/handoff", body)

    async def send(self, wa_id: str, officer: Officer, text: str) -> Result:
        return await self._post("/send", {"wa_id": wa_id, "text": text, **officer.as_json()})

    async def handoffs(self) -> Result:
        """``data["handoffs"]``: ``[{"wa_id", "officer_id", "officer_name", "department",
        "since"}]``."""
        return await self._http.request("GET", "/handoffs")
