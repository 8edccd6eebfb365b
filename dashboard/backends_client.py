"""A small async client for the backends' officer API (docs/backends-api.md).

Every call has a timeout and returns a :class:`Result` instead of raising: a page
shows what went wrong (``web.problem(result)``) and keeps working. Logs carry the
method, path and outcome only, never bodies.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import aiohttp

from ops import tokens

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Result:
    """``status`` 0: no answer (timeout or connection refused). ``error``: the backend's
    code (``wrong_state``, ``invalid_fields``, ...) or ``unavailable``/``timeout``/
    ``bad_response`` (keys of ``messages.yml``); ``message``: the backend's own sentence."""

    ok: bool
    status: int
    data: dict[str, Any]
    error: str | None = None
    message: str | None = None

    @property
    def fields(self) -> dict[str, str]:
        """Field id -> error code of a 400 ``invalid_fields``."""
        details = self.data.get("details")
        fields = details.get("fields") if isinstance(details, dict) else None
        return {str(k): str(v) for k, v in fields.items()} if isinstance(fields, dict) else {}


def refused_department(result: Result) -> str | None:
    """The department of a record the backends refused (403 ``wrong_department``)."""
    details = result.data.get("details")
    department = details.get("department") if isinstance(details, dict) else None
    return str(department) if department else None


def path(*parts: str) -> str:
    """``/a/b/c`` with every part URL-quoted (ids come from URLs and forms)."""
    return "/" + "/".join(quote(p, safe="") for p in parts)


class BackendsClient:
    """``officer_token``: the key the officer credentials are signed with
    (``BACKENDS_OFFICER_TOKEN``, shared with the backends): each call as an officer
    carries a short-lived credential naming the officer and their departments
    (``ops.tokens``), so the backends act only in those departments. A call naming
    neither an officer nor a citizen sends ``officer_token`` itself (the channel's
    internal API, whose client shares this class)."""

    def __init__(
        self, base_url: str, officer_token: str, service_token: str, timeout: float
    ) -> None:
        self.base_url = base_url
        self._officer_token = officer_token
        self._service_token = service_token
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def request(
        self,
        method: str,
        url_path: str,
        *,
        officer_id: str | None = None,
        departments: Iterable[str] = (),
        citizen_id: str | None = None,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Result:
        """One call as an officer (``officer_id`` of ``departments``) or for a citizen
        (``citizen_id``)."""
        if citizen_id is not None:
            headers = {"Authorization": f"Bearer {self._service_token}", "X-Citizen-Id": citizen_id}
        elif officer_id:
            credential = tokens.sign_officer(self._officer_token, officer_id, departments)
            headers = {"Authorization": f"Bearer {credential}", "X-Officer-Id": officer_id}
        else:
            headers = {"Authorization": f"Bearer {self._officer_token}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            async with self._http().request(
                method, self.base_url + url_path, json=body, params=params, headers=headers
            ) as response:
                try:
                    data = await response.json(content_type=None)
                except ValueError:
                    data = None
                status = response.status
        except asyncio.TimeoutError:
            log.warning("backends %s %s: timeout", method, url_path)
            return Result(False, 0, {}, "timeout")
        except aiohttp.ClientError as exc:
            log.warning("backends %s %s: %s", method, url_path, type(exc).__name__)
            return Result(False, 0, {}, "unavailable")
        if not isinstance(data, dict):
            log.warning("backends %s %s: %d, not a JSON object", method, url_path, status)
            return Result(False, status, {}, "bad_response")
        if 200 <= status < 300:
            return Result(True, status, data)
        log.info("backends %s %s: %d %s", method, url_path, status, data.get("error"))
        return Result(
            False,
            status,
            data,
            str(data.get("error") or "error"),
            str(data["message"]) if data.get("message") else None,
        )
