"""``/citizens/{id}/preferences``: STOP / START for broadcasts and reminders."""

from __future__ import annotations

from actions.api.base import ApiResult, BaseClient


class CitizensClient(BaseClient):
    """Served by the backends beside e-District (the citizen registry)."""

    url_setting = "EDISTRICT_URL"

    def preferences(self, citizen_id: str) -> ApiResult:
        return self._request(
            "GET",
            "/citizens/{citizen_id}/preferences",
            citizen_id=citizen_id,
            retry=True,
            path_params={"citizen_id": citizen_id},
        )

    def set_messages(self, citizen_id: str, wanted: bool) -> ApiResult:
        """Broadcasts and reminders on (START) or off (STOP). PUT: safe to repeat."""
        return self._request(
            "PUT",
            "/citizens/{citizen_id}/preferences",
            citizen_id=citizen_id,
            json={"broadcasts": wanted, "reminders": wanted},
            path_params={"citizen_id": citizen_id},
        )
