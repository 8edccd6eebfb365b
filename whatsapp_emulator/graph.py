"""The Graph API blueprint: what the channel calls as it would call Meta's Cloud API.

Bearer ``WHATSAPP_TOKEN``; ``{v}`` is any Graph version such as ``v21.0``.

    POST   /{v}/{phone_number_id}/messages       send, or mark as read
    POST   /{v}/{phone_number_id}/media          upload (multipart)
    GET    /{v}/{media_id}                        media metadata and a 5-minute url
    DELETE /{v}/{media_id}                        delete media
    GET    /{v}/{phone_number_id}                 phone number details
    GET    /{v}/{waba_id}/message_templates       templates from TEMPLATES_FILE
    GET    /{v}/{waba_id}/phone_numbers           the numbers of PHONE_NUMBERS
    GET    /whatsapp_business/attachments/?mid=…  media bytes (the metadata's url)
"""

from __future__ import annotations

import hmac
import random
import time
from collections import deque
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw

from whatsapp_emulator.emulator import (
    Emulator,
    emulator_of,
    json_body,
    json_response,
    mime_of,
    routes_blueprint,
    size_problem,
)
from whatsapp_emulator.state import Entry, new_wamid
from whatsapp_emulator.validation import GraphError, check_send, invalid, unknown_object

VERSION = r"<version:v[0-9]+\.[0-9]+>"


async def post_messages(request: Request, version: str, phone_number_id: str) -> HTTPResponse:
    em = emulator_of(request)
    em.authorise(request)
    if em.settings.phone_number(phone_number_id) is None:
        raise unknown_object(phone_number_id, "post")
    body = json_body(request)
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
    mime = mime_of(request, field)
    problem = size_problem(field.body, mime)
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


def blueprint() -> Blueprint:
    return routes_blueprint(
        "graph",
        [
            ("POST", f"/{VERSION}/<phone_number_id>/messages", post_messages),
            ("POST", f"/{VERSION}/<phone_number_id>/media", upload_media),
            ("GET", f"/{VERSION}/<waba_id>/message_templates", list_templates),
            ("GET", f"/{VERSION}/<waba_id>/phone_numbers", list_phone_numbers),
            ("GET", f"/{VERSION}/<object_id>", get_object),
            ("DELETE", f"/{VERSION}/<object_id>", delete_object),
            ("GET", "/whatsapp_business/attachments", download_media),
        ],
    )
