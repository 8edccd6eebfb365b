"""The WhatsApp channel's internal API (docs/internal-apis.md §2), as far as dialogue needs it."""

from __future__ import annotations

from actions.api.base import ApiResult, BaseClient


class ChannelClient(BaseClient):
    """``/webhooks/whatsapp/internal`` on the Rasa server, with the internal token."""

    url_setting = "CHANNEL_URL"
    bearer_setting = "WHATSAPP_INTERNAL_TOKEN"

    def erase(self, wa_id: str) -> ApiResult:
        """Schedules erasure of the conversation (tracker, event feed, inbox texts, media).

        202 ``{"status": "scheduled"}``: carried out after the citizen's current turn.
        """
        return self._request("POST", "/erase", json={"wa_id": wa_id}, retry=True, idempotent=True)
