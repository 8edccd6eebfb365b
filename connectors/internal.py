"""The channel's internal API (docs/internal-apis.md §2), under /webhooks/whatsapp/internal/.

For the notification outbox (``/notify``, ``/statuses``), the dialogue's erasure
(``/erase``) and the department dashboard (``/handoff``, ``/send``, ``/handoffs``,
``/handoffs/expire``; the handoffs themselves are :mod:`connectors.handoffs`).
Bearer ``WHATSAPP_INTERNAL_TOKEN``; JSON in and out; errors are
``{"error": code, "message": text}`` (503 answers add ``retry_after`` seconds).

:class:`InternalApi` holds the logic (each method returns ``(status, body)`` or raises
:class:`ApiError`); it needs only the :class:`Channel` protocol of the channel (its store,
template registry, department numbers, a template send and an erasure), and the
:class:`~connectors.handoffs.HandoffDesk` for officers. :func:`add_internal_routes` builds
both from the real :class:`~connectors.whatsapp.WhatsAppInput` and puts them on the
connector's blueprint.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors import conversation
from connectors.graph import SendResult
from connectors.handoffs import HandoffDesk, HandoffError
from connectors.store import ChannelStore
from ops import tokens
from service_catalogue.templates import Template, TemplateError, Templates

if TYPE_CHECKING:
    from connectors.whatsapp import WhatsAppInput

logger = logging.getLogger(__name__)

PREFIX = "/internal"
PURPOSES = frozenset({"status", "reminder", "broadcast", "handoff", "csc"})
#: Why someone other than the holder may end a handoff (``override``)
OVERRIDE_REASONS = frozenset({"supervisor", "account_disabled"})
KEY_MAX = 100
STATUS_IDS_MAX = 500
TEXT_MAX = 4096
#: a claim of a notification key older than this (its process died mid-send) is taken over
CLAIM_STALE_SECONDS = 120.0
#: Graph refusals that mean the number cannot get WhatsApp messages
RECIPIENT_ERRORS = frozenset({131026, 131030, 131021})
_WA_ID = re.compile(r"^[1-9][0-9]{6,14}$")

Answer = tuple[int, dict[str, Any]]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": code, "message": message, **extra}


def _text(body: dict[str, Any], name: str, max_len: int = 200, required: bool = True) -> str:
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > max_len:
        raise ApiError(400, "invalid_request", f"'{name}' must be a text of 1 to {max_len} chars")
    return value.strip()


def _wa_id(body: dict[str, Any], name: str = "wa_id") -> str:
    value = body.get(name)
    if not isinstance(value, str) or not _WA_ID.match(value):
        raise ApiError(422, "invalid_recipient", f"'{name}' must be a WhatsApp id (digits)")
    return value


def _unavailable(result: SendResult) -> ApiError:
    return ApiError(
        503,
        "whatsapp_unavailable",
        f"WhatsApp did not accept the message (code {result.error_code}); try again later",
        retry_after=result.retry_after,
    )


def _refused(result: SendResult) -> ApiError:
    if result.error_code in RECIPIENT_ERRORS:
        return ApiError(422, "invalid_recipient", "WhatsApp cannot deliver to this number")
    return ApiError(
        422, "whatsapp_refused", f"WhatsApp refused the message (code {result.error_code})"
    )


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds")


class Numbers(Protocol):
    def department_number(self, department: str) -> str | None: ...


class Channel(Protocol):
    """What :class:`InternalApi` needs of the channel (:class:`WhatsAppInput` is one)."""

    @property
    def store(self) -> ChannelStore: ...

    @property
    def settings(self) -> Numbers: ...

    @property
    def templates(self) -> Templates: ...

    async def send_template(
        self,
        number: str,
        wa_id: str,
        template: Template,
        language: str,
        parameters: Any,
        max_retries: int | None = None,
    ) -> tuple[SendResult, str]: ...

    def schedule_erasure(self, wa_id: str) -> None: ...


class InternalApi:
    def __init__(self, channel: Channel, desk: HandoffDesk) -> None:
        self.channel = channel
        self.store = channel.store
        self.desk = desk

    # --- helpers -----------------------------------------------------------------------

    def _template(self, name: str, parameters: Any) -> Template:
        try:
            return self.channel.templates.check(name, parameters)
        except TemplateError as error:
            raise ApiError(422, error.code, str(error)) from None

    def number_for(self, wa_id: str, department: str, purpose: str) -> str:
        """A broadcast from the department's own number; everything else (handoff notices
        and officers' replies included) from the number the citizen last wrote to, so it
        lands in the chat they are in, else the department's number, else the main one."""
        if purpose == "broadcast":
            own = self.channel.settings.department_number(department)
            if own is None:
                raise ApiError(
                    422, "no_number_for_department", f"no number for department {department!r}"
                )
            return own
        return self.desk.number(wa_id, department)

    # --- notifications -----------------------------------------------------------------

    async def notify(self, body: dict[str, Any]) -> Answer:
        key = _text(body, "key", KEY_MAX)
        wa_id = _wa_id(body, "to")
        purpose = _text(body, "purpose", 20)
        if purpose not in PURPOSES:
            raise ApiError(400, "invalid_request", f"'purpose' must be one of {sorted(PURPOSES)}")
        department = _text(body, "department", 100, required=False)
        language = _text(body, "language", 5, required=False) or conversation.DEFAULT_LANGUAGE
        if language not in ("hi", "en"):
            raise ApiError(400, "invalid_request", "'language' must be hi or en")
        name = _text(body, "template", 512)
        parameters = body.get("parameters", [])
        template = self._template(name, parameters)
        number = self.number_for(wa_id, department, purpose)
        claimed, answer = self.store.claim_notification(key, CLAIM_STALE_SECONDS)
        if answer is not None:
            return 200, answer
        if not claimed:
            raise ApiError(503, "in_progress", "this key is being sent now", retry_after=2)
        try:
            result, mode = await self.channel.send_template(
                number, wa_id, template, language, parameters, max_retries=0
            )
        except BaseException:
            self.store.drop_notification(key)
            raise
        if not result.ok:
            self.store.drop_notification(key)
            raise _unavailable(result) if result.retryable else _refused(result)
        answer = {"message_id": result.message_id, "mode": mode, "phone_number_id": number}
        self.store.finish_notification(key, answer)
        logger.info("internal.notify.sent template=%s mode=%s", name, mode)
        return 200, answer

    async def statuses(self, body: dict[str, Any]) -> Answer:
        ids = body.get("ids")
        if (
            not isinstance(ids, list)
            or len(ids) > STATUS_IDS_MAX
            or not all(isinstance(i, str) and 0 < len(i) <= 128 for i in ids)
        ):
            raise ApiError(400, "invalid_request", f"'ids' must be up to {STATUS_IDS_MAX} ids")
        known = self.store.statuses_of(ids)
        # "accepted": WhatsApp took the message but has not reported on it yet
        return 200, {
            "statuses": {i: (None if known.get(i) == "accepted" else known.get(i)) for i in ids}
        }

    # --- erasure -----------------------------------------------------------------------

    async def erase(self, body: dict[str, Any]) -> Answer:
        wa_id = _wa_id(body)
        self.channel.schedule_erasure(wa_id)
        return 202, {"status": "scheduled"}

    async def erasure(self, wa_id: str) -> Answer:
        return 200, {"status": self.store.erasure_state(wa_id) or "none"}

    # --- officers (connectors/handoffs.py) ---------------------------------------------

    def _holder(self, body: dict[str, Any]) -> dict[str, str]:
        return {
            "officer_id": _text(body, "officer_id", 100),
            "officer_name": _text(body, "officer_name", 200),
            "department": _text(body, "department", 100, required=False),
        }

    async def handoff(self, body: dict[str, Any]) -> Answer:
        wa_id = _wa_id(body)
        holder = self._holder(body)
        action = body.get("action")
        if action not in ("take", "release", "reassign"):
            raise ApiError(400, "invalid_request", "'action' must be take, release or reassign")
        override = body.get("override", False)
        reason = body.get("reason") or ("supervisor" if override else "released")
        if not isinstance(override, bool) or reason not in OVERRIDE_REASONS | {"released"}:
            raise ApiError(400, "invalid_request", "'override' is a boolean with a known reason")
        try:
            if action == "take":
                status = await self.desk.take(wa_id, holder)
            elif action == "reassign":
                by = _text(body, "by", 100)
                status = await self.desk.reassign(wa_id, holder, by)
            else:
                status = await self.desk.release(wa_id, holder["officer_id"], override, reason)
        except HandoffError as error:
            raise ApiError(error.status, error.code, str(error), **error.extra) from None
        return 200, {"status": status}

    async def send(self, body: dict[str, Any]) -> Answer:
        wa_id = _wa_id(body)
        holder = self._holder(body)
        text = _text(body, "text", TEXT_MAX)
        try:
            result = await self.desk.send(wa_id, holder["officer_id"], text)
        except HandoffError as error:
            raise ApiError(error.status, error.code, str(error), **error.extra) from None
        if not result.ok:
            raise _unavailable(result) if result.retryable else _refused(result)
        return 200, {"message_id": result.message_id}

    async def handoffs(self) -> Answer:
        return 200, {
            "timeout_seconds": self.desk.timeout,
            "handoffs": [
                {
                    "wa_id": row["wa_id"],
                    "officer_id": row["officer_id"],
                    "officer_name": row["officer_name"],
                    "department": row["department"],
                    "since": _iso(row["since"]),
                    "since_epoch": row["since"],
                }
                for row in self.store.all_handoffs()
            ],
        }

    async def expire(self, body: dict[str, Any]) -> Answer:
        """End the handoffs idle for the timeout as of ``as_of`` (unix seconds; default
        now): what the sweep does every second, on demand and at a chosen time."""
        as_of = body.get("as_of")
        if as_of is not None and (isinstance(as_of, bool) or not isinstance(as_of, int | float)):
            raise ApiError(400, "invalid_request", "'as_of' must be unix seconds")
        try:
            ended = await self.desk.expire(None if as_of is None else float(as_of))
        except HandoffError as error:
            raise ApiError(error.status, error.code, str(error), **error.extra) from None
        return 200, {"expired": ended}


def add_internal_routes(blueprint: Blueprint, channel: WhatsAppInput) -> None:
    api = InternalApi(channel, HandoffDesk(channel))

    def authorised(request: Request) -> bool:
        given = tokens.bearer(request.headers.get("Authorization"))
        return tokens.matches(given, channel.settings.internal_token)

    def route(
        uri: str, method: str, call: Callable[[Request, dict[str, Any]], Awaitable[Answer]]
    ) -> None:
        async def handler(request: Request, **path: str) -> HTTPResponse:
            if not authorised(request):
                return response.json(
                    {"error": "unauthorized", "message": "bearer token required"}, status=401
                )
            channel.app = request.app
            body: Any = {}
            if method == "POST":
                try:
                    body = request.json
                except Exception:  # noqa: BLE001 - sanic raises its own on bad JSON
                    body = None
                if not isinstance(body, dict):
                    return response.json(
                        {"error": "invalid_request", "message": "a JSON object is required"},
                        status=400,
                    )
            try:
                status, answer = await call(request, {**body, **path})
            except ApiError as error:
                return response.json(error.body, status=error.status)
            except Exception:  # noqa: BLE001 - a clear answer, never a hang-up
                logger.exception("internal.%s.failed", uri.strip("/").split("/")[0])
                return response.json(
                    {"error": "internal_error", "message": "try again later", "retry_after": 10},
                    status=503,
                )
            return response.json(answer, status=status, ensure_ascii=False)

        handler.__name__ = f"internal_{method.lower()}_{uri.strip('/').split('/')[0]}"
        blueprint.add_route(handler, PREFIX + uri, methods=[method], name=handler.__name__)

    route("/notify", "POST", lambda _, body: api.notify(body))
    route("/statuses", "POST", lambda _, body: api.statuses(body))
    route("/erase", "POST", lambda _, body: api.erase(body))
    route("/erase/<wa_id>", "GET", lambda _, body: api.erasure(str(body["wa_id"])))
    route("/handoff", "POST", lambda _, body: api.handoff(body))
    route("/send", "POST", lambda _, body: api.send(body))
    route("/handoffs", "GET", lambda _, body: api.handoffs())
    route("/handoffs/expire", "POST", lambda _, body: api.expire(body))

    @blueprint.listener("after_server_start")
    async def start_handoff_sweep(app: Any, *_: Any) -> None:
        channel.app = channel.app or app
        api.desk.start()

    @blueprint.listener("before_server_stop")
    async def stop_handoff_sweep(*_: Any) -> None:
        await api.desk.stop()
