"""``create_app(settings)``: the emulator's sanic application.

Routes (``{v}`` is any Graph version such as ``v21.0``):

Graph API (bearer ``WHATSAPP_TOKEN``)
    POST   /{v}/{phone_number_id}/messages       send, or mark as read
    POST   /{v}/{phone_number_id}/media          upload (multipart)
    GET    /{v}/{media_id}                        media metadata and a 5-minute url
    DELETE /{v}/{media_id}                        delete media
    GET    /{v}/{phone_number_id}                 phone number details
    GET    /{v}/{waba_id}/message_templates       templates from TEMPLATES_FILE
    GET    /{v}/{waba_id}/phone_numbers           the numbers of PHONE_NUMBERS
    GET    /whatsapp_business/attachments/?mid=…  media bytes (the metadata's url)
Simulator (the page, tests and benchmarks)
    GET  /  and /static/…                         the phone simulator page
    GET  /simulator/info                          numbers, WABA, webhook url
    POST /simulator/send                          a citizen's message → webhook
    POST /simulator/upload                        a citizen's file → media id
    GET  /simulator/conversation                  messages both ways with statuses
    GET  /simulator/events                        server-sent events of changes
    GET  /simulator/media/{media_id}              media bytes for the page
Control
    GET|POST /emulator/config, GET /emulator/stats, POST /emulator/reset,
    GET|POST /emulator/verify-webhook, GET /health
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import mimetypes
import random
import re
import time
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from sanic import Request, Sanic
from sanic.response import HTTPResponse, raw
from sanic.response import json as sanic_json

import ops
from ops import tokens
from whatsapp_emulator.config import Settings
from whatsapp_emulator.state import (
    MEDIA_LIMITS,
    MEDIA_TYPES,
    Entry,
    Media,
    Store,
    dumps,
    media_kind,
    new_wamid,
)
from whatsapp_emulator.validation import (
    GraphError,
    Templates,
    check_send,
    invalid,
    unauthorized,
    unknown_object,
)
from whatsapp_emulator.webhooks import Dispatcher, Event

log = logging.getLogger("whatsapp_emulator")
STATIC_DIR = Path(__file__).resolve().parent / "static"
VERSION = r"<version:v[0-9]+\.[0-9]+>"
WINDOW_SECONDS = 24 * 3600
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
)
INBOUND_TYPES = (
    "text",
    "button_reply",
    "list_reply",
    "button",
    "image",
    "document",
    "audio",
    "video",
    "sticker",
    "location",
    "reaction",
    "unsupported",
)


class SimulatorError(Exception):
    """A bad simulator/control request: 400 ``{"error": message}``."""


def json_response(body: Any, status: int = 200) -> HTTPResponse:
    return sanic_json(body, status=status, dumps=dumps)


class Emulator:
    """Everything the handlers share; one per process, at ``app.ctx.emulator``."""

    def __init__(self, settings: Settings, templates: Templates, media_dir: Path) -> None:
        self.settings = settings
        self.templates = templates
        self.store = Store(settings, media_dir)
        self._dispatcher: Dispatcher | None = None

    @property
    def dispatcher(self) -> Dispatcher:
        assert self._dispatcher is not None, "the server has not started"
        return self._dispatcher

    async def start(self) -> None:
        self._dispatcher = Dispatcher(self.settings, self.store)
        await self._dispatcher.start()

    async def stop(self) -> None:
        if self._dispatcher is not None:
            await self._dispatcher.stop()

    # helpers -----------------------------------------------------------------------
    def authorise(self, request: Request) -> None:
        token = tokens.bearer(request.headers.get("authorization"))
        if not tokens.matches(token or request.args.get("access_token", ""), self.settings.token):
            raise unauthorized()

    def media_url(self, media: Media) -> str:
        expires = int(self.store.now() + self.settings.media_url_seconds)
        digest = self.url_hash(media.id, expires)
        return (
            f"{self.settings.public_url}/whatsapp_business/attachments/"
            f"?mid={media.id}&ext={expires}&hash={digest}"
        )

    def url_hash(self, media_id: str, expires: int) -> str:
        message = f"{media_id}:{expires}".encode()
        return hmac.new(self.store.url_key, message, hashlib.sha256).hexdigest()[:32]

    def status_item(self, entry: Entry, status: str, errors: Any = None) -> dict[str, Any]:
        now = int(self.store.now())
        item: dict[str, Any] = {
            "id": entry.id,
            "status": status,
            "timestamp": str(now),
            "recipient_id": entry.wa_id,
        }
        if status in {"sent", "delivered"}:
            category = "service"
            if entry.rendered:
                category = str(entry.rendered.get("category", "utility")).lower()
            day = int(entry.timestamp // WINDOW_SECONDS)
            key = f"{entry.phone_number_id}:{entry.wa_id}:{category}:{day}"
            conversation: dict[str, Any] = {
                "id": hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest(),
                "origin": {"type": category},
            }
            if status == "sent":
                conversation["expiration_timestamp"] = str(entry.timestamp + WINDOW_SECONDS)
            item["conversation"] = conversation
            item["pricing"] = {"billable": True, "pricing_model": "CBP", "category": category}
        if errors:
            item["errors"] = errors
        return item

    def emit_status(self, entry: Entry, status: str, errors: Any = None) -> None:
        if self.store.set_status(entry, status, errors):
            event = Event(
                entry.phone_number_id, "statuses", self.status_item(entry, status, errors)
            )
            self.dispatcher.enqueue(event)

    async def progress(self, entry: Entry, link: str | None) -> None:
        """The life of an accepted outbound message: sent → delivered → read (if on)."""
        delay = self.store.config.status_delay_ms / 1000
        if link is not None:
            error = await self.fetch_link(entry, link)
            if error is not None:
                await asyncio.sleep(delay)
                failure = {
                    "code": 131053,
                    "title": "Media upload error",
                    "message": "Media upload error",
                    "error_data": {"details": error},
                }
                self.emit_status(entry, "failed", [failure])
                return
        for status in ("sent", "delivered", "read"):
            await asyncio.sleep(delay)
            if status == "read" and not self.store.config.read_receipts:
                return
            self.emit_status(entry, status)

    async def fetch_link(self, entry: Entry, link: str) -> str | None:
        """Fetch media sent by ``link`` as WhatsApp does; the error text if it fails."""
        kind = entry.type
        if kind == "interactive":
            kind = str(entry.payload["interactive"]["header"]["type"])
        limit = MEDIA_LIMITS.get(kind, MEDIA_LIMITS["document"])
        timeout = aiohttp.ClientTimeout(total=self.settings.webhook_timeout_seconds)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.get(link) as response:
                    if response.status != 200:
                        return f"fetching {link} answered HTTP {response.status}"
                    data = await response.content.read(limit + 1)
                    mime = response.headers.get("Content-Type", "").split(";")[0].strip()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            return f"fetching {link} failed: {type(exc).__name__}"
        if len(data) > limit:
            return f"the {kind} at {link} is larger than {limit} bytes"
        mime = mime or mimetypes.guess_type(link)[0] or "application/octet-stream"
        name = link.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or None
        media = self.store.add_media(data, mime, name, "business")
        entry.media_id = media.id
        self.store.publish(
            {
                "event": "media",
                "id": entry.id,
                "phone_number_id": entry.phone_number_id,
                "wa_id": entry.wa_id,
                "media_id": media.id,
            }
        )
        return None


def emulator_of(request: Request) -> Emulator:
    emulator: Emulator = request.app.ctx.emulator
    return emulator


def _json_body(request: Request) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


def _digits(value: Any) -> str:
    return re.sub(r"\D", "", str(value or ""))


# Graph API -----------------------------------------------------------------------------
async def post_messages(request: Request, version: str, phone_number_id: str) -> HTTPResponse:
    em = emulator_of(request)
    em.authorise(request)
    if em.settings.phone_number(phone_number_id) is None:
        raise unknown_object(phone_number_id, "post")
    body = _json_body(request)
    if isinstance(body, dict) and "status" in body:
        return mark_read(em, phone_number_id, body)
    store = em.store
    send = check_send(body, lambda media_id: store.get_media(media_id) is not None, em.templates)
    key = (phone_number_id, send.wa_id)
    config = store.config
    if send.type != "template" and not store.window_open(*key):
        raise GraphError(
            131047,
            "Re-engagement message",
            "Message failed to send because more than 24 hours have passed since the "
            "customer last replied to this number.",
        )
    if config.throttle_rate and random.random() < config.throttle_rate:  # noqa: S311
        raise GraphError(
            130429,
            "Rate limit hit",
            "Cloud API message throughput has been reached.",
            http_status=429,
        )
    if config.pair_rate_limit:
        now = store.now()
        times = store.recent_sends.setdefault(key, deque())
        while times and now - times[0] > config.pair_rate_window_seconds:
            times.popleft()
        if len(times) >= config.pair_rate_limit:
            raise GraphError(
                131056,
                "(Business Account, Consumer Account) pair rate limit hit",
                "Message failed to send because there were too many messages sent from this "
                "phone number to the same phone number in a short period of time.",
                http_status=429,
            )
        times.append(now)
    entry = store.add(
        Entry(
            seq=store.next_seq(),
            direction="out",
            id=new_wamid(),
            phone_number_id=phone_number_id,
            wa_id=send.wa_id,
            timestamp=int(store.now()),
            type=send.type,
            payload=body,
            status="accepted",
            media_id=send.media_id,
            rendered=send.rendered,
        )
    )
    store.stats.counters["messages_outbound"] += 1
    store.stats.outbound_per_citizen[send.wa_id] += 1
    started = store.awaiting_reply.pop(key, None)
    if started is not None:
        store.stats.reply_latency_ms.append((time.monotonic() - started) * 1000)
    em.dispatcher.spawn(em.progress(entry, send.link))
    message: dict[str, Any] = {"id": entry.id}
    if send.type == "template":
        message["message_status"] = "accepted"
    return json_response(
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": send.to, "wa_id": send.wa_id}],
            "messages": [message],
        }
    )


def mark_read(em: Emulator, phone_number_id: str, body: dict[str, Any]) -> HTTPResponse:
    if body.get("messaging_product") != "whatsapp":
        raise invalid("messaging_product is required and must be 'whatsapp'")
    if body.get("status") != "read":
        raise invalid("status must be 'read'")
    message_id = body.get("message_id")
    entry = em.store.by_id.get(message_id) if isinstance(message_id, str) else None
    if entry is None or entry.direction != "in" or entry.phone_number_id != phone_number_id:
        raise invalid(f"message_id {message_id!r} is not a message this number received")
    typing = body.get("typing_indicator")
    if typing is not None and typing != {"type": "text"}:
        raise invalid("typing_indicator must be {'type': 'text'}")
    for other in em.store.conversations.get((phone_number_id, entry.wa_id), []):
        if other.direction == "in" and other.seq <= entry.seq:
            em.store.set_status(other, "read")
    if typing is not None:
        em.store.publish(
            {"event": "typing", "phone_number_id": phone_number_id, "wa_id": entry.wa_id}
        )
    return json_response({"success": True})


def _mime_of(request: Request, field: Any) -> str:
    declared = str(request.form.get("type") or "").strip()
    mime = declared if "/" in declared else ""
    mime = mime or (field.type or "").strip()
    if not mime or mime == "application/octet-stream":
        mime = mimetypes.guess_type(field.name or "")[0] or mime or "application/octet-stream"
    return mime


def _size_problem(data: bytes, mime: str) -> str | None:
    kind = media_kind(mime)
    if kind in MEDIA_TYPES and mime.lower() not in MEDIA_TYPES[kind] and kind != "audio":
        return f"{mime} is not a supported {kind} type"
    limit = MEDIA_LIMITS[kind]
    if len(data) > limit:
        return f"{kind} files must be at most {limit} bytes, got {len(data)}"
    if not data:
        return "the file is empty"
    return None


async def upload_media(request: Request, version: str, phone_number_id: str) -> HTTPResponse:
    em = emulator_of(request)
    em.authorise(request)
    if em.settings.phone_number(phone_number_id) is None:
        raise unknown_object(phone_number_id, "post")
    if request.form.get("messaging_product") != "whatsapp":
        raise invalid("messaging_product is required and must be 'whatsapp'")
    field = request.files.get("file") if request.files else None
    if field is None:
        raise invalid("file is required (multipart form field 'file')")
    mime = _mime_of(request, field)
    problem = _size_problem(field.body, mime)
    if problem:
        raise GraphError(131053, "Media upload error", problem)
    media = em.store.add_media(field.body, mime, field.name or None, "business")
    return json_response({"id": media.id})


async def get_object(request: Request, version: str, object_id: str) -> HTTPResponse:
    em = emulator_of(request)
    em.authorise(request)
    number = em.settings.phone_number(object_id)
    if number is not None:
        return json_response(_number_json(number))
    if object_id == em.settings.waba_id:
        return json_response({"id": object_id, "name": "Delhi Sewa (emulated)"})
    media = em.store.get_media(object_id)
    if media is None:
        raise unknown_object(object_id)
    return json_response(
        {
            "messaging_product": "whatsapp",
            "url": em.media_url(media),
            "mime_type": media.mime_type,
            "sha256": media.sha256,
            "file_size": media.file_size,
            "id": media.id,
        }
    )


def _number_json(number: Any) -> dict[str, Any]:
    return {
        "verified_name": number.label,
        "display_phone_number": number.display,
        "id": number.id,
        "quality_rating": "GREEN",
        "code_verification_status": "VERIFIED",
        "platform_type": "CLOUD_API",
        "throughput": {"level": "STANDARD"},
    }


async def delete_object(request: Request, version: str, object_id: str) -> HTTPResponse:
    em = emulator_of(request)
    em.authorise(request)
    if not em.store.delete_media(object_id):
        raise unknown_object(object_id, "delete")
    return json_response({"success": True})


async def list_templates(request: Request, version: str, waba_id: str) -> HTTPResponse:
    em = emulator_of(request)
    em.authorise(request)
    if waba_id != em.settings.waba_id:
        raise unknown_object(waba_id)
    items = em.templates.items
    for key in ("name", "status", "category", "language"):
        wanted = request.args.get(key)
        if wanted:
            items = [t for t in items if str(t.get(key, "")).lower() == wanted.lower()]
    cursors = {"before": "MAZDZD", "after": "MjQZD"} if items else {}
    return json_response({"data": items, "paging": {"cursors": cursors}})


async def list_phone_numbers(request: Request, version: str, waba_id: str) -> HTTPResponse:
    em = emulator_of(request)
    em.authorise(request)
    if waba_id != em.settings.waba_id:
        raise unknown_object(waba_id)
    return json_response({"data": [_number_json(n) for n in em.settings.phone_numbers]})


async def download_media(request: Request) -> HTTPResponse:
    em = emulator_of(request)
    em.authorise(request)
    media_id = request.args.get("mid", "")
    digest = request.args.get("hash", "")
    try:
        expires = int(request.args.get("ext", ""))
    except ValueError:
        expires = 0
    media = em.store.get_media(media_id)
    valid = hmac.compare_digest(digest.encode(), em.url_hash(media_id, expires).encode())
    if media is None or not valid or em.store.now() > expires:
        return json_response({"error": "the media url is unknown or has expired"}, 404)
    return raw(media.path.read_bytes(), content_type=media.mime_type)


# simulator -----------------------------------------------------------------------------
async def health(request: Request) -> HTTPResponse:
    return json_response({"status": "ok"})


async def page(request: Request) -> HTTPResponse:
    html = (STATIC_DIR / "index.html").read_bytes()
    return raw(
        html,
        content_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-cache"},
    )


async def info(request: Request) -> HTTPResponse:
    em = emulator_of(request)
    return json_response(
        {
            "phone_numbers": [n.to_json() for n in em.settings.phone_numbers],
            "waba_id": em.settings.waba_id,
            "webhook_url": em.store.config.webhook_url,
            "templates": len(em.templates.items),
            "now": em.store.now(),
        }
    )


def _number_for(em: Emulator, value: Any) -> str:
    value = str(value or "")
    for number in em.settings.phone_numbers:
        if value in {number.id, number.display} or (
            _digits(value) and _digits(value) == number.display_digits
        ):
            return number.id
    raise SimulatorError(f"'to' must be one of the phone_number_ids {value!r} is not")


def _required(data: dict[str, Any], key: str, max_len: int = 4096) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SimulatorError(f"'{key}' is required for this type")
    if len(value) > max_len:
        raise SimulatorError(f"'{key}' must be at most {max_len} characters")
    return value


def _find_option(
    entries: list[Entry], reply_id: str, kind: str
) -> tuple[Entry, dict[str, Any]] | None:
    """The latest bot message offering the button/row ``reply_id``, and that option."""
    for entry in reversed(entries):
        if entry.direction != "out":
            continue
        interactive = entry.payload.get("interactive") or {}
        action = interactive.get("action") or {}
        if kind == "button_reply" and interactive.get("type") == "button":
            for button in action.get("buttons") or []:
                if (button.get("reply") or {}).get("id") == reply_id:
                    return entry, button["reply"]
        if kind == "list_reply" and interactive.get("type") == "list":
            for section in action.get("sections") or []:
                for row in section.get("rows") or []:
                    if row.get("id") == reply_id:
                        return entry, row
        if kind == "button" and entry.rendered:
            for button in entry.rendered.get("buttons") or []:
                if button.get("payload") == reply_id:
                    return entry, button
    return None


def build_inbound(em: Emulator, data: dict[str, Any], wa_id: str, to: str) -> dict[str, Any]:
    """A citizen's message in the exact Cloud API webhook shape."""
    kind = data.get("type", "text")
    if kind not in INBOUND_TYPES:
        raise SimulatorError(f"'type' must be one of {', '.join(INBOUND_TYPES)}")
    timestamp = data.get("timestamp")
    try:
        ts = int(float(timestamp)) if timestamp is not None else int(em.store.now())
    except (TypeError, ValueError):
        raise SimulatorError("'timestamp' must be unix seconds") from None
    message: dict[str, Any] = {"from": wa_id, "id": new_wamid(), "timestamp": str(ts)}
    number = em.settings.phone_number(to)
    assert number is not None
    context_id = data.get("context_id")
    conversation = em.store.conversations.get((to, wa_id), [])
    if kind in {"button_reply", "list_reply", "button"}:
        reply_id = _required(data, "reply_id", 256)
        found = _find_option(conversation, reply_id, kind)
        title = data.get("reply_title") or (
            (found[1].get("title") or found[1].get("text")) if found else None
        )
        if not isinstance(title, str) or not title:
            raise SimulatorError("'reply_title' is required (no bot message offers this id)")
        if context_id is None and found is not None:
            context_id = found[0].id
        if kind == "button":
            message["type"] = "button"
            message["button"] = {"payload": reply_id, "text": title}
        else:
            reply: dict[str, Any] = {"id": reply_id, "title": title}
            if kind == "list_reply":
                description = data.get("reply_description")
                if description is None and found is not None:
                    description = found[1].get("description")
                if description:
                    reply["description"] = str(description)
            message["type"] = "interactive"
            message["interactive"] = {"type": kind, kind: reply}
    elif kind == "text":
        message["type"] = "text"
        message["text"] = {"body": _required(data, "text", 65536)}
    elif kind in MEDIA_LIMITS:
        media_id = _required(data, "media_id", 64)
        media = em.store.get_media(media_id)
        if media is None:
            raise SimulatorError(f"media {media_id!r} is unknown (upload it first)")
        body: dict[str, Any] = {"id": media.id, "mime_type": media.mime_type}
        body["sha256"] = media.sha256
        caption = data.get("caption")
        if caption and kind in {"image", "video", "document"}:
            body["caption"] = str(caption)
        if kind == "document":
            body["filename"] = str(data.get("filename") or media.filename or "document")
        if kind == "audio":
            body["voice"] = bool(data.get("voice", False))
        if kind == "sticker":
            body["animated"] = False
        message["type"] = kind
        message[kind] = body
    elif kind == "location":
        try:
            latitude, longitude = float(data["latitude"]), float(data["longitude"])
        except (KeyError, TypeError, ValueError):
            raise SimulatorError("'latitude' and 'longitude' must be numbers") from None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise SimulatorError("'latitude'/'longitude' out of range")
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        for key in ("name", "address", "url"):
            if data.get(key):
                location[key] = str(data[key])
        message["type"] = "location"
        message["location"] = location
    elif kind == "reaction":
        message["type"] = "reaction"
        message["reaction"] = {
            "message_id": _required(data, "reply_id", 256),
            "emoji": str(data.get("text") or "👍"),
        }
    else:
        message["type"] = "unsupported"
        message["errors"] = [
            {
                "code": 131051,
                "title": "Message type unknown",
                "message": "Message type unknown",
                "error_data": {"details": "Message type is currently not supported."},
            }
        ]
    if context_id:
        message["context"] = {"from": number.display_digits, "id": str(context_id)}
    return message


async def simulator_send(request: Request) -> HTTPResponse:
    em = emulator_of(request)
    data = _json_body(request)
    if not isinstance(data, dict):
        raise SimulatorError("the body must be a JSON object")
    wa_id = _digits(data.get("from"))
    if not 7 <= len(wa_id) <= 15:
        raise SimulatorError("'from' must be a phone number (7 to 15 digits)")
    to = _number_for(em, data.get("to") or em.settings.phone_numbers[0].id)
    message = build_inbound(em, data, wa_id, to)
    store = em.store
    name = str(data.get("name") or store.names.get(wa_id) or f"Citizen {wa_id[-4:]}")
    store.names[wa_id] = name
    key = (to, wa_id)
    store.last_inbound[key] = max(store.last_inbound.get(key, 0.0), float(message["timestamp"]))
    entry = store.add(
        Entry(
            seq=store.next_seq(),
            direction="in",
            id=message["id"],
            phone_number_id=to,
            wa_id=wa_id,
            timestamp=int(message["timestamp"]),
            type=message["type"],
            payload=message,
            status="sent",
            media_id=(message.get(message["type"]) or {}).get("id")
            if message["type"] in MEDIA_LIMITS
            else None,
        )
    )
    store.stats.counters["messages_inbound"] += 1
    store.stats.inbound_per_citizen[wa_id] += 1
    store.awaiting_reply.setdefault(key, time.monotonic())
    em.dispatcher.enqueue(
        Event(
            to,
            "messages",
            message,
            contact={"profile": {"name": name}, "wa_id": wa_id},
            on_delivered=lambda: _delivered(store, entry),
        )
    )
    return json_response({"message_id": entry.id, "seq": entry.seq})


def _delivered(store: Store, entry: Entry) -> None:
    store.set_status(entry, "delivered")


async def simulator_upload(request: Request) -> HTTPResponse:
    em = emulator_of(request)
    field = request.files.get("file") if request.files else None
    if field is None:
        raise SimulatorError("multipart field 'file' is required")
    mime = _mime_of(request, field)
    problem = _size_problem(field.body, mime)
    if problem:
        raise SimulatorError(problem)
    media = em.store.add_media(field.body, mime, field.name or None, "citizen")
    return json_response(
        {
            "media_id": media.id,
            "mime_type": media.mime_type,
            "sha256": media.sha256,
            "file_size": media.file_size,
            "filename": media.filename,
            "type": media_kind(mime),
        }
    )


async def simulator_conversation(request: Request) -> HTTPResponse:
    em = emulator_of(request)
    wa_id = _digits(request.args.get("wa_id", "")) or None
    phone_number_id = request.args.get("phone_number_id") or None
    try:
        after = int(request.args.get("after", "0"))
    except ValueError:
        raise SimulatorError("'after' must be a whole number") from None
    entries = em.store.conversation(wa_id, phone_number_id, after)
    answer: dict[str, Any] = {
        "messages": [e.to_json() for e in entries],
        "last_seq": em.store.entries[-1].seq if em.store.entries else 0,
    }
    if wa_id and phone_number_id:
        answer["window_open"] = em.store.window_open(phone_number_id, wa_id)
        answer["name"] = em.store.names.get(wa_id)
    return json_response(answer)


def _event_matches(event: dict[str, Any], wa_id: str | None, number: str | None) -> bool:
    """Events about another conversation are not sent; events about none (reset) are."""
    about = event.get("entry") or event
    if wa_id and about.get("wa_id") not in (None, wa_id):
        return False
    return not (number and about.get("phone_number_id") not in (None, number))


async def simulator_events(request: Request) -> None:
    """Server-sent events: ``message``, ``status``, ``media``, ``typing``, ``reset``."""
    em = emulator_of(request)
    wa_id = _digits(request.args.get("wa_id", "")) or None
    number = request.args.get("phone_number_id") or None
    queue = em.store.subscribe()
    try:
        response = await request.respond(
            content_type="text/event-stream; charset=utf-8",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        await response.send("retry: 1000\n: connected\n\n")
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), 15)
            except asyncio.TimeoutError:
                await response.send(": keep-alive\n\n")
                continue
            if _event_matches(event, wa_id, number):
                await response.send(f"id: {event['eid']}\ndata: {dumps(event)}\n\n")
    finally:
        em.store.unsubscribe(queue)


async def simulator_media(request: Request, media_id: str) -> HTTPResponse:
    em = emulator_of(request)
    media = em.store.media.get(media_id)
    if media is None:
        return json_response({"error": "unknown media"}, 404)
    disposition = "attachment" if request.args.get("download") else "inline"
    name = media.filename or f"{media.id}{mimetypes.guess_extension(media.mime_type) or ''}"
    return raw(
        media.path.read_bytes(),
        content_type=media.mime_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff",
        },
    )


# control -------------------------------------------------------------------------------
async def get_config(request: Request) -> HTTPResponse:
    return json_response(emulator_of(request).store.config.to_json())


async def post_config(request: Request) -> HTTPResponse:
    em = emulator_of(request)
    problems = em.store.config.update(_json_body(request))
    if problems:
        return json_response({"errors": problems}, 400)
    em.store.publish({"event": "config", "config": em.store.config.to_json()})
    return json_response(em.store.config.to_json())


async def stats(request: Request) -> HTTPResponse:
    em = emulator_of(request)
    return json_response({**em.store.stats.to_json(), "queued_events": em.dispatcher.queue.qsize()})


async def reset(request: Request) -> HTTPResponse:
    em = emulator_of(request)
    em.dispatcher.reset()
    em.store.clear()
    em.store.publish({"event": "reset"})
    return json_response({"ok": True})


async def verify_webhook(request: Request) -> HTTPResponse:
    em = emulator_of(request)
    data = _json_body(request) if request.method == "POST" else None
    data = data if isinstance(data, dict) else {}
    token = str(data.get("verify_token") or request.args.get("verify_token") or "")
    url = str(data.get("url") or request.args.get("url") or em.store.config.webhook_url)
    result = await em.dispatcher.verify(token or em.settings.verify_token, url)
    return json_response(result)


# application ---------------------------------------------------------------------------
def create_app(settings: Settings, templates: Templates, media_dir: Path) -> Sanic:
    app = Sanic("whatsapp_emulator", configure_logging=False)
    app.config.REQUEST_MAX_SIZE = 110 * 2**20
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = 1.0
    app.config.FALLBACK_ERROR_FORMAT = "json"
    emulator = Emulator(settings, templates, media_dir)
    app.ctx.emulator = emulator

    routes: list[tuple[str, str, Any]] = [
        ("POST", f"/{VERSION}/<phone_number_id>/messages", post_messages),
        ("POST", f"/{VERSION}/<phone_number_id>/media", upload_media),
        ("GET", f"/{VERSION}/<waba_id>/message_templates", list_templates),
        ("GET", f"/{VERSION}/<waba_id>/phone_numbers", list_phone_numbers),
        ("GET", f"/{VERSION}/<object_id>", get_object),
        ("DELETE", f"/{VERSION}/<object_id>", delete_object),
        ("GET", "/whatsapp_business/attachments", download_media),
        ("GET", "/health", health),
        ("GET", "/", page),
        ("GET", "/simulator/info", info),
        ("POST", "/simulator/send", simulator_send),
        ("POST", "/simulator/upload", simulator_upload),
        ("GET", "/simulator/conversation", simulator_conversation),
        ("GET", "/simulator/events", simulator_events),
        ("GET", "/simulator/media/<media_id>", simulator_media),
        ("GET", "/emulator/config", get_config),
        ("POST", "/emulator/config", post_config),
        ("GET", "/emulator/stats", stats),
        ("POST", "/emulator/reset", reset),
        ("GET", "/emulator/verify-webhook", verify_webhook),
        ("POST", "/emulator/verify-webhook", verify_webhook),
    ]
    for method, uri, handler in routes:
        app.add_route(handler, uri, methods=[method], name=f"{handler.__name__}_{method.lower()}")
    app.static("/static", str(STATIC_DIR), name="static")

    @app.exception(GraphError)
    async def graph_error(request: Request, error: GraphError) -> HTTPResponse:
        emulator.store.stats.graph_errors[str(error.code)] += 1
        return json_response(error.to_json(), error.http_status)

    @app.exception(SimulatorError)
    async def simulator_error(request: Request, error: SimulatorError) -> HTTPResponse:
        return json_response({"error": str(error)}, 400)

    async def start(app: Sanic, loop: Any) -> None:
        await emulator.start()

    async def stop(app: Sanic, loop: Any) -> None:
        await emulator.stop()

    app.register_listener(start, "before_server_start")
    app.register_listener(stop, "before_server_stop")
    ops.install(app, "whatsapp_emulator")
    return app
