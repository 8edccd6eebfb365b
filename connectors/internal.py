"""The channel's internal API (docs/internal-apis.md §2), under /webhooks/whatsapp/internal/.

For the notification outbox (``/notify``, ``/statuses``), the dialogue's erasure
(``/erase``) and the department dashboard (``/handoff``, ``/send``, ``/handoffs``).
Bearer ``WHATSAPP_INTERNAL_TOKEN``; JSON in and out; errors are
``{"error": code, "message": text}`` (503 answers add ``retry_after`` seconds).

:class:`InternalApi` holds the logic (each method returns ``(status, body)`` or raises
:class:`ApiError`); :func:`add_internal_routes` puts it on the connector's blueprint.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from rasa.shared.core.events import BotUttered, ConversationPaused, ConversationResumed
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors import conversation
from connectors.graph import SendResult
from service_catalogue import load as load_catalogue
from service_catalogue.templates import Template, TemplateError

if TYPE_CHECKING:
    from connectors.whatsapp import WhatsAppInput

logger = logging.getLogger(__name__)

PREFIX = "/internal"
PURPOSES = frozenset({"status", "reminder", "broadcast", "handoff", "csc"})
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


class InternalApi:
    def __init__(self, channel: WhatsAppInput) -> None:
        self.channel = channel
        self.store = channel.store

    # --- helpers -----------------------------------------------------------------------

    def _template(self, name: str, parameters: Any) -> Template:
        try:
            return self.channel.templates.check(name, parameters)
        except TemplateError as error:
            raise ApiError(422, error.code, str(error)) from None

    def number_for(self, wa_id: str, department: str, purpose: str) -> str:
        """A broadcast (and an officer's message) from the department's own number; else
        the number the citizen last wrote to, the department's number or the main one."""
        settings = self.channel.settings
        own = settings.department_number(department)
        if purpose == "broadcast":
            if own is None:
                raise ApiError(
                    422, "no_number_for_department", f"no number for department {department!r}"
                )
            return own
        latest = self.store.latest_number(wa_id)
        latest = latest if latest in settings.numbers else None
        if purpose == "handoff":
            return own or latest or settings.main_number
        return latest or own or settings.main_number

    def _agent(self) -> Any:
        agent = self.channel.agent
        if agent is None:
            raise ApiError(503, "rasa_unavailable", "the assistant is starting", retry_after=5)
        return agent

    @staticmethod
    def _department_name(department: str, language: str) -> str:
        found = load_catalogue().departments.get(department)
        return found.title(language) if found is not None else department

    async def _tell(
        self, wa_id: str, department: str, name: str, values: list[str], language: str
    ) -> SendResult:
        number = self.number_for(wa_id, department, "handoff")
        template = self._template(name, values)
        result, _ = await self.channel.send_template(
            number, wa_id, template, language, values, max_retries=1
        )
        if not result.ok:
            logger.warning("internal.handoff.notice_failed template=%s", name)
        return result

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

    # --- officers ----------------------------------------------------------------------

    def _officer(self, body: dict[str, Any]) -> tuple[str, str, str, str]:
        return (
            _wa_id(body),
            _text(body, "officer_id", 100),
            _text(body, "officer_name", 200),
            _text(body, "department", 100, required=False),
        )

    async def handoff(self, body: dict[str, Any]) -> Answer:
        wa_id, officer_id, officer_name, department = self._officer(body)
        action = body.get("action")
        if action not in ("take", "release"):
            raise ApiError(400, "invalid_request", "'action' must be take or release")
        agent = self._agent()
        current = self.store.handoff(wa_id)
        if current is not None and current["officer_id"] != officer_id:
            raise ApiError(
                409,
                "taken_by_other",
                f"{current['officer_name']} ({current['department']}) has this conversation",
                officer_name=current["officer_name"],
            )
        language = await conversation.language(agent, wa_id)
        if action == "take":
            if current is not None:
                return 200, {"status": "taken"}
            taken = self.store.take_handoff(wa_id, officer_id, officer_name, department)
            if taken["officer_id"] != officer_id:  # another officer was a moment faster
                raise ApiError(409, "taken_by_other", f"{taken['officer_name']} has it")
            try:
                await conversation.append(agent, wa_id, [ConversationPaused()])
            except Exception:
                self.store.release_handoff(wa_id, officer_id)
                raise
            department_name = self._department_name(department, language)
            await self._tell(
                wa_id, department, "handoff_started", [officer_name, department_name], language
            )
            logger.info("internal.handoff.taken department=%s", department)
            return 200, {"status": "taken"}
        if current is not None:
            await conversation.append(agent, wa_id, [ConversationResumed()])
            self.store.release_handoff(wa_id, officer_id)
            await self._tell(wa_id, current["department"], "handoff_ended", [], language)
            logger.info("internal.handoff.released department=%s", current["department"])
        return 200, {"status": "released"}

    async def send(self, body: dict[str, Any]) -> Answer:
        wa_id, officer_id, officer_name, department = self._officer(body)
        text = _text(body, "text", TEXT_MAX)
        agent = self._agent()
        current = self.store.handoff(wa_id)
        if current is None or current["officer_id"] != officer_id:
            raise ApiError(409, "not_in_handoff", "take the conversation over first")
        department = current["department"]
        language = await conversation.language(agent, wa_id)
        values = [self._department_name(department, language), text]
        number = self.number_for(wa_id, department, "handoff")
        template = self._template("officer_reply", values)
        result, _ = await self.channel.send_template(
            number, wa_id, template, language, values, max_retries=1
        )
        if not result.ok:
            raise _unavailable(result) if result.retryable else _refused(result)
        metadata = {
            "officer_id": officer_id,
            "officer_name": current["officer_name"],
            "department": department,
            "message_id": result.message_id,
            "phone_number_id": number,
        }
        await conversation.append(agent, wa_id, [BotUttered(text, metadata=metadata)])
        return 200, {"message_id": result.message_id}

    async def handoffs(self) -> Answer:
        return 200, {
            "handoffs": [
                {
                    "wa_id": row["wa_id"],
                    "officer_id": row["officer_id"],
                    "officer_name": row["officer_name"],
                    "department": row["department"],
                    "since": _iso(row["since"]),
                }
                for row in self.store.all_handoffs()
            ]
        }


def add_internal_routes(blueprint: Blueprint, channel: WhatsAppInput) -> None:
    api = InternalApi(channel)

    def authorised(request: Request) -> bool:
        token = channel.settings.internal_token
        header = request.headers.get("Authorization", "")
        given = header[7:].strip() if header.lower().startswith("bearer ") else ""
        return bool(token) and hmac.compare_digest(given.encode(), token.encode())

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
