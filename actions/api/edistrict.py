"""e-District applications: create, attach documents, submit, track, download."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actions.api.base import ApiResult, BaseClient, redact_strings

_APPLICATIONS = "/edistrict/applications"
_APPLICATION = "/edistrict/applications/{application_id}"


class EDistrictClient(BaseClient):
    """``/edistrict`` of docs/backends-api.md, acting for one citizen per call."""

    url_setting = "EDISTRICT_URL"

    def create_application(
        self,
        citizen_id: str,
        service_id: str,
        fields: Mapping[str, Any],
        language: str,
        idempotency_key: str,
        channel: str = "whatsapp",
    ) -> ApiResult:
        """201 (or 200 on a replayed key) with the new ``draft`` application."""
        body = {
            "service_id": service_id,
            "fields": redact_strings(fields),
            "language": language,
            "channel": channel,
        }
        return self._request(
            "POST",
            _APPLICATIONS,
            citizen_id=citizen_id,
            json=body,
            idempotency_key=idempotency_key,
            retry=True,
        )

    def attach_document(
        self, citizen_id: str, application_id: str, document: Mapping[str, Any]
    ) -> ApiResult:
        """``document``: document_id, filename, mime_type, size, sha256, storage_ref.

        Not idempotent by contract, so never retried.
        """
        return self._request(
            "POST",
            _APPLICATION + "/documents",
            citizen_id=citizen_id,
            json=dict(document),
            path_params={"application_id": application_id},
        )

    def submit(self, citizen_id: str, application_id: str, idempotency_key: str) -> ApiResult:
        """200 application (``payment_pending`` or ``submitted``); 422 ``documents_missing``."""
        return self._request(
            "POST",
            _APPLICATION + "/submit",
            citizen_id=citizen_id,
            json={},
            idempotency_key=idempotency_key,
            retry=True,
            path_params={"application_id": application_id},
        )

    def get_application(self, citizen_id: str, application_id: str) -> ApiResult:
        return self._request(
            "GET",
            _APPLICATION,
            citizen_id=citizen_id,
            retry=True,
            path_params={"application_id": application_id},
        )

    def list_applications(self, citizen_id: str) -> ApiResult:
        """``data["applications"]``: the citizen's own, newest first."""
        return self._request("GET", _APPLICATIONS, citizen_id=citizen_id, retry=True)

    def certificate_link(self, citizen_id: str, application_id: str) -> ApiResult:
        """``url``, ``filename``, ``expires_at`` (15 minutes); 409 unless approved."""
        return self._request(
            "GET",
            _APPLICATION + "/certificate",
            citizen_id=citizen_id,
            retry=True,
            path_params={"application_id": application_id},
        )

    def confirm(self, citizen_id: str, application_id: str, code: str) -> ApiResult:
        """The citizen confirms an application a CSC operator filed for them.

        200 application; 422 ``wrong_code`` (``details.attempts_left``); 409 once locked
        or no longer awaiting confirmation. Never retried: each try counts as an attempt.
        """
        return self._request(
            "POST",
            _APPLICATION + "/confirm",
            citizen_id=citizen_id,
            json={"code": code},
            path_params={"application_id": application_id},
        )

    def decline(self, citizen_id: str, application_id: str) -> ApiResult:
        """The citizen did not ask for this CSC application: it is cancelled."""
        return self._request(
            "POST",
            _APPLICATION + "/decline",
            citizen_id=citizen_id,
            json={},
            retry=True,
            idempotent=True,
            path_params={"application_id": application_id},
        )
