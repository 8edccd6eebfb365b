"""Plumbing shared by the backend clients: one session, short timeouts, safe retries.

Every call returns an :class:`ApiResult` and never raises into the action server
(rasa_sdk would answer HTTP 500 and the citizen would hear nothing). Retries happen
only where repeating is harmless: GETs and POSTs that carry an ``Idempotency-Key``;
a 4xx is never retried. Logs carry the method, the path template and the outcome,
never bodies, headers, names, phone numbers or Aadhaar digits.

The clients use blocking ``requests``: from an ``async def run`` call them through
``await asyncio.to_thread(...)`` so that one slow backend does not stall every chat.
"""

from __future__ import annotations

import json as jsonlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter

from actions import config
from service_catalogue.validation import redact_aadhaar

logger = logging.getLogger(__name__)

_Client = TypeVar("_Client", bound="BaseClient")

#: HTTP status -> ``ApiResult.error`` (docs/backends-api.md, "Conventions").
STATUS_ERRORS: dict[int, str] = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    408: "timeout",
    409: "conflict",
    422: "rejected",
    429: "unavailable",
}
#: Statuses worth another attempt (the server or a proxy in front of it failed).
RETRY_STATUSES = frozenset({500, 502, 503, 504})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
IDEMPOTENCY_KEY_MAX = 100
USER_AGENT = "delhi-sewa-actions/1"


@dataclass(frozen=True)
class ApiResult:
    """Outcome of one backend call.

    ``status`` is the HTTP status, or 0 when no answer arrived (network failure) or
    the call was refused locally. ``error`` is one of ``timeout``, ``unavailable``,
    ``not_found``, ``invalid``, ``conflict``, ``unauthorized``, ``forbidden``,
    ``rejected``, ``bad_response`` or, for another 4xx, the server's error code.
    On an HTTP error ``data`` keeps the server's body (``error``, ``message``,
    ``details``): see :attr:`code` and :attr:`details`.
    """

    ok: bool
    status: int
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    message: str | None = None

    @property
    def code(self) -> str | None:
        """The server's own error code (``documents_missing``, ...) if any, else ``error``."""
        server = self.data.get("error")
        return server if isinstance(server, str) and server else self.error

    @property
    def details(self) -> dict[str, Any]:
        """The server's ``details`` object (e.g. ``{"fields": {field_id: error_code}}``)."""
        details = self.data.get("details")
        return details if isinstance(details, dict) else {}


def local_error(message: str, error: str = "invalid") -> ApiResult:
    """A call refused before anything was sent."""
    return ApiResult(ok=False, status=0, error=error, message=message)


def redact_strings(value: Any) -> Any:
    """``value`` with every string passed through :func:`redact_aadhaar` (recursively).

    For text a citizen typed: a full Aadhaar number must never leave the action server.
    """
    if isinstance(value, str):
        return redact_aadhaar(value)
    if isinstance(value, Mapping):
        return {key: redact_strings(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_strings(item) for item in value]
    return value


def _json_default(value: object) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class BaseClient:
    """One backend: base URL, bearer token, timeouts, retries and one ``requests.Session``."""

    #: Name of the ``actions.config`` setting holding the base URL.
    url_setting: ClassVar[str] = ""
    #: Name of the ``actions.config`` setting holding the bearer token.
    bearer_setting: ClassVar[str] = "BACKENDS_SERVICE_TOKEN"

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.3,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = (connect_timeout, read_timeout)
        self.retries = max(0, retries)
        self.backoff = max(0.0, backoff)
        self.session = session if session is not None else self._new_session()
        if not token:
            logger.warning("%s has no bearer token: the backend will refuse calls", self)

    @classmethod
    def from_config(cls: type[_Client]) -> _Client:
        """A client configured from ``actions.config`` (read at call time)."""
        return cls(
            getattr(config, cls.url_setting),
            getattr(config, cls.bearer_setting),
            connect_timeout=config.API_CONNECT_TIMEOUT,
            read_timeout=config.API_READ_TIMEOUT,
            retries=config.API_RETRIES,
            backoff=config.API_RETRY_BACKOFF,
        )

    def __repr__(self) -> str:  # never shows the token
        return f"{type(self).__name__}({self.base_url!r})"

    @staticmethod
    def _new_session() -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(max_retries=0, pool_connections=4, pool_maxsize=16)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers.update({"Accept": "application/json", "User-Agent": USER_AGENT})
        return session

    def close(self) -> None:
        self.session.close()

    # ------------------------------------------------------------------- the one call

    def _request(
        self,
        method: str,
        path: str,
        *,
        citizen_id: str | None = None,
        json: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        retry: bool = False,
        idempotent: bool = False,
        path_params: Mapping[str, str] | None = None,
    ) -> ApiResult:
        """Calls ``method path`` and returns the outcome; never raises.

        ``path`` is a template (``/grievances/{grievance_id}``) filled from
        ``path_params`` (URL-quoted); only the template is logged. ``retry`` asks for
        retries, granted only to a GET, a call with an ``idempotency_key`` or one the
        contract declares ``idempotent`` (a PUT of a state, an erasure).
        """
        method = method.upper()
        try:
            url = self.base_url + self._fill(path, path_params or {})
        except ValueError as exc:
            return local_error(str(exc))
        headers = {}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        if citizen_id is not None:
            if not citizen_id:
                return local_error("citizen id must not be empty")
            headers["X-Citizen-Id"] = citizen_id
        if idempotency_key is not None:
            if not 1 <= len(idempotency_key) <= IDEMPOTENCY_KEY_MAX:
                return local_error("Idempotency-Key must be 1-100 characters")
            headers["Idempotency-Key"] = idempotency_key
        body: bytes | None = None
        if json is not None:
            try:
                body = jsonlib.dumps(json, ensure_ascii=False, default=_json_default).encode()
            except (TypeError, ValueError) as exc:
                return local_error(f"request body is not JSON: {exc}")
            headers["Content-Type"] = "application/json; charset=utf-8"

        repeatable = method in SAFE_METHODS or idempotency_key is not None or idempotent
        attempts = 1 + self.retries if retry and repeatable else 1
        for attempt in range(1, attempts + 1):
            started = time.monotonic()
            result, transient = self._send(method, url, headers, body)
            self._log(method, path, result, attempt, attempts, started)
            if result.ok or not transient or attempt == attempts:
                return result
            time.sleep(self.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _fill(template: str, params: Mapping[str, str]) -> str:
        values = {}
        for name, value in params.items():
            text = str(value)
            if not text:
                raise ValueError(f"{name} must not be empty")
            values[name] = quote(text, safe="")
        try:
            return template.format(**values)
        except (KeyError, IndexError) as exc:
            raise ValueError(f"missing path parameter {exc}") from None

    def _send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[ApiResult, bool]:
        """One attempt: the result and whether another attempt may help."""
        try:
            response = self.session.request(
                method,
                url,
                headers=headers,
                data=body,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout:  # ConnectTimeout is also a ConnectionError: test it first
            return ApiResult(
                False, 0, error="timeout", message="backend did not answer in time"
            ), True
        except requests.ConnectionError:
            return ApiResult(False, 0, error="unavailable", message="backend unreachable"), True
        except requests.exceptions.ChunkedEncodingError:
            return ApiResult(False, 0, error="unavailable", message="answer cut off"), True
        except requests.RequestException as exc:
            message = f"request failed ({type(exc).__name__})"
            return ApiResult(False, 0, error="unavailable", message=message), False
        return self._result(response), response.status_code in RETRY_STATUSES

    @staticmethod
    def _result(response: requests.Response) -> ApiResult:
        status = response.status_code
        body: dict[str, Any] | None
        try:
            parsed = response.json() if response.content else {}
            body = parsed if isinstance(parsed, dict) else None
        except (ValueError, RecursionError):
            body = None
        if 200 <= status < 300:
            if body is None:
                return ApiResult(False, status, error="bad_response", message="not a JSON object")
            return ApiResult(True, status, body)
        data = body or {}
        server_code = data.get("error") if isinstance(data.get("error"), str) else None
        server_message = data.get("message") if isinstance(data.get("message"), str) else None
        if status in STATUS_ERRORS:
            error = STATUS_ERRORS[status]
        elif status >= 500:
            error = "unavailable"
        elif 400 <= status < 500:
            error = server_code or "invalid"
        else:  # 1xx/3xx: redirects are not followed (the token must not travel)
            error = "bad_response"
        return ApiResult(False, status, data, error, server_message or response.reason)

    @staticmethod
    def _log(
        method: str, path: str, result: ApiResult, attempt: int, attempts: int, started: float
    ) -> None:
        elapsed_ms = (time.monotonic() - started) * 1000
        outcome = result.status or result.error
        if result.ok:
            logger.info("backend %s %s -> %s in %.0f ms", method, path, outcome, elapsed_ms)
        else:
            logger.warning(
                "backend %s %s -> %s (%s) in %.0f ms, attempt %d/%d",
                method,
                path,
                outcome,
                result.error,
                elapsed_ms,
                attempt,
                attempts,
            )
