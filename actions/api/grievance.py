"""Grievances (modelled on PGMS/CPGRAMS) and general feedback."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actions.api.base import ApiResult, BaseClient, local_error, redact_strings

_GRIEVANCE = "/grievances/{grievance_id}"


def _rating_ok(rating: object) -> bool:
    return isinstance(rating, int) and not isinstance(rating, bool) and 1 <= rating <= 5


class GrievanceClient(BaseClient):
    """``/grievances`` of docs/backends-api.md."""

    url_setting = "GRIEVANCE_URL"

    def register(
        self,
        citizen_id: str,
        category: str,
        department: str,
        description: str,
        location: Mapping[str, Any] | None,
        attachment: Mapping[str, Any] | None,
        language: str,
        idempotency_key: str,
    ) -> ApiResult:
        """201 grievance (``GRV-...``, ``open``). Aadhaar numbers in the text are masked."""
        body: dict[str, Any] = {
            "category": category,
            "department": department,
            "description": redact_strings(description),
            "language": language,
        }
        if location is not None:
            body["location"] = redact_strings(location)
        if attachment is not None:
            body["attachment"] = dict(attachment)
        return self._request(
            "POST",
            "/grievances",
            citizen_id=citizen_id,
            json=body,
            idempotency_key=idempotency_key,
            retry=True,
        )

    def get(self, citizen_id: str, grievance_id: str) -> ApiResult:
        return self._request(
            "GET",
            _GRIEVANCE,
            citizen_id=citizen_id,
            retry=True,
            path_params={"grievance_id": grievance_id},
        )

    def list(self, citizen_id: str) -> ApiResult:
        """``data["grievances"]``: the citizen's own."""
        return self._request("GET", "/grievances", citizen_id=citizen_id, retry=True)

    def feedback(
        self, citizen_id: str, grievance_id: str, rating: int, comment: str | None = None
    ) -> ApiResult:
        """Rates a resolved grievance (1-5), which closes it; 409 unless resolved."""
        if not _rating_ok(rating):
            return local_error("rating must be a whole number from 1 to 5")
        body: dict[str, Any] = {"rating": rating}
        if comment:
            body["comment"] = redact_strings(comment)
        return self._request(
            "POST",
            _GRIEVANCE + "/feedback",
            citizen_id=citizen_id,
            json=body,
            path_params={"grievance_id": grievance_id},
        )

    def reopen(self, citizen_id: str, grievance_id: str, comment: str | None = None) -> ApiResult:
        """The citizen says a resolved grievance was not resolved: back to the department
        with a new due time (``open`` or ``in_progress``); 409 unless resolved."""
        body: dict[str, Any] = {}
        if comment:
            body["comment"] = redact_strings(comment)
        return self._request(
            "POST",
            _GRIEVANCE + "/reopen",
            citizen_id=citizen_id,
            json=body,
            path_params={"grievance_id": grievance_id},
        )


class FeedbackClient(BaseClient):
    """``POST /feedback`` (served with the grievance system)."""

    url_setting = "GRIEVANCE_URL"

    def send(
        self,
        citizen_id: str,
        rating: int,
        comment: str | None,
        application_id: str | None,
        language: str,
    ) -> ApiResult:
        """201 on success. Not idempotent by contract, so never retried."""
        if not _rating_ok(rating):
            return local_error("rating must be a whole number from 1 to 5")
        body: dict[str, Any] = {"rating": rating, "language": language}
        if comment:
            body["comment"] = redact_strings(comment)
        if application_id:
            body["application_id"] = application_id
        return self._request("POST", "/feedback", citizen_id=citizen_id, json=body)
