"""The emulator's state and the helpers its blueprints share.

:class:`Emulator` is the service object (one per process, at ``app.ctx.emulator``): the
settings, templates, store and webhook dispatcher, and what a sent message lives through.
The routes are in :mod:`whatsapp_emulator.graph`, :mod:`whatsapp_emulator.simulator` and
:mod:`whatsapp_emulator.control`; :func:`whatsapp_emulator.app.create_app` puts them together.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import mimetypes
import re
from pathlib import Path
from typing import Any

import aiohttp
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as sanic_json

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
)
from whatsapp_emulator.validation import Templates, unauthorized
from whatsapp_emulator.webhooks import Dispatcher, Event

WINDOW_SECONDS = 24 * 3600


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


def routes_blueprint(name: str, routes: list[tuple[str, str, Any]]) -> Blueprint:
    """A blueprint of ``(method, uri, handler)`` routes, each named ``<handler>_<method>``."""
    bp = Blueprint(name)
    for method, uri, handler in routes:
        bp.add_route(handler, uri, methods=[method], name=f"{handler.__name__}_{method.lower()}")
    return bp


def emulator_of(request: Request) -> Emulator:
    emulator: Emulator = request.app.ctx.emulator
    return emulator


def json_body(request: Request) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


def digits(value: Any) -> str:
    return re.sub(r"\D", "", str(value or ""))


def mime_of(request: Request, field: Any) -> str:
    declared = str(request.form.get("type") or "").strip()
    mime = declared if "/" in declared else ""
    mime = mime or (field.type or "").strip()
    if not mime or mime == "application/octet-stream":
        mime = mimetypes.guess_type(field.name or "")[0] or mime or "application/octet-stream"
    return mime


def size_problem(data: bytes, mime: str) -> str | None:
    kind = media_kind(mime)
    if kind in MEDIA_TYPES and mime.lower() not in MEDIA_TYPES[kind] and kind != "audio":
        return f"{mime} is not a supported {kind} type"
    limit = MEDIA_LIMITS[kind]
    if len(data) > limit:
        return f"{kind} files must be at most {limit} bytes, got {len(data)}"
    if not data:
        return "the file is empty"
    return None
