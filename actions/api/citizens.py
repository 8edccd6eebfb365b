"""``/citizens/{id}``: messaging preferences and erasure of the citizen's data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actions.api.base import ApiResult, BaseClient, local_error

_PREFERENCES = "/citizens/{citizen_id}/preferences"
#: Fields of the preferences resource a PUT may change (docs/backends-api.md, "Citizens").
PREFERENCE_FIELDS = frozenset(
    {"broadcasts", "reminders", "status_updates", "departments", "district", "language"}
)


class CitizensClient(BaseClient):
    """Served by the backends beside e-District (the citizen registry)."""

    url_setting = "EDISTRICT_URL"

    def preferences(self, citizen_id: str) -> ApiResult:
        """``broadcasts``, ``reminders``, ``status_updates``, ``departments``, ``district``,
        ``language``."""
        return self._request(
            "GET",
            _PREFERENCES,
            citizen_id=citizen_id,
            retry=True,
            path_params={"citizen_id": citizen_id},
        )

    def update_preferences(self, citizen_id: str, changes: Mapping[str, Any]) -> ApiResult:
        """A partial update; a PUT of a state, so safe to repeat after a failure."""
        unknown = sorted(set(changes) - PREFERENCE_FIELDS)
        if unknown or not changes:
            return local_error(f"not preference fields: {unknown or 'none given'}")
        return self._request(
            "PUT",
            _PREFERENCES,
            citizen_id=citizen_id,
            json=dict(changes),
            retry=True,
            idempotent=True,
            path_params={"citizen_id": citizen_id},
        )

    def set_messages(self, citizen_id: str, wanted: bool, **changes: Any) -> ApiResult:
        """Broadcasts and reminders on (START) or off (STOP), with any other ``changes``."""
        return self.update_preferences(
            citizen_id, {"broadcasts": wanted, "reminders": wanted, **changes}
        )

    def erase(self, citizen_id: str) -> ApiResult:
        """Erases or anonymises the citizen's personal data; keeps what the law requires.

        ``data["erased"]`` and ``data["kept"]`` count what happened. Idempotent by contract.
        """
        return self._request(
            "POST",
            "/citizens/{citizen_id}/erasure",
            citizen_id=citizen_id,
            json={},
            retry=True,
            idempotent=True,
            path_params={"citizen_id": citizen_id},
        )
