"""The simulator blueprint: the phone page, and what tests and benchmarks drive it with.

GET  /  and /static/…                         the phone simulator page
GET  /simulator/info                          numbers, WABA, webhook url
POST /simulator/send                          a citizen's message → webhook
POST /simulator/upload                        a citizen's file → media id
GET  /simulator/conversation                  messages both ways with statuses
GET  /simulator/events                        server-sent events of changes
GET  /simulator/media/{media_id}              media bytes for the page
"""

from __future__ import annotations

import asyncio
import mimetypes
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw

from whatsapp_emulator.emulator import (
    Emulator,
    SimulatorError,
    digits,
    emulator_of,
    json_body,
    json_response,
    mime_of,
    routes_blueprint,
    size_problem,
)
from whatsapp_emulator.state import MEDIA_LIMITS, Entry, Store, dumps, media_kind, new_wamid
from whatsapp_emulator.webhooks import Event

STATIC_DIR = Path(__file__).resolve().parent / "static"
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
            digits(value) and digits(value) == number.display_digits
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
    data = json_body(request)
    if not isinstance(data, dict):
        raise SimulatorError("the body must be a JSON object")
    wa_id = digits(data.get("from"))
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
    mime = mime_of(request, field)
    problem = size_problem(field.body, mime)
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
    wa_id = digits(request.args.get("wa_id", "")) or None
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
    wa_id = digits(request.args.get("wa_id", "")) or None
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


def blueprint() -> Blueprint:
    bp = routes_blueprint(
        "simulator",
        [
            ("GET", "/", page),
            ("GET", "/simulator/info", info),
            ("POST", "/simulator/send", simulator_send),
            ("POST", "/simulator/upload", simulator_upload),
            ("GET", "/simulator/conversation", simulator_conversation),
            ("GET", "/simulator/events", simulator_events),
            ("GET", "/simulator/media/<media_id>", simulator_media),
        ],
    )
    bp.static("/static", str(STATIC_DIR), name="static")
    return bp
