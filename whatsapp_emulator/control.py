"""The control blueprint: the emulator's own knobs, counters and health.

GET|POST /emulator/config, GET /emulator/stats, POST /emulator/reset,
GET|POST /emulator/verify-webhook, GET /health
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from whatsapp_emulator.emulator import emulator_of, json_body, json_response, routes_blueprint


async def health(request: Request) -> HTTPResponse:
    return json_response({"status": "ok"})


async def get_config(request: Request) -> HTTPResponse:
    return json_response(emulator_of(request).store.config.to_json())


async def post_config(request: Request) -> HTTPResponse:
    em = emulator_of(request)
    problems = em.store.config.update(json_body(request))
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
    data = json_body(request) if request.method == "POST" else None
    data = data if isinstance(data, dict) else {}
    token = str(data.get("verify_token") or request.args.get("verify_token") or "")
    url = str(data.get("url") or request.args.get("url") or em.store.config.webhook_url)
    result = await em.dispatcher.verify(token or em.settings.verify_token, url)
    return json_response(result)


def blueprint() -> Blueprint:
    return routes_blueprint(
        "control",
        [
            ("GET", "/health", health),
            ("GET", "/emulator/config", get_config),
            ("POST", "/emulator/config", post_config),
            ("GET", "/emulator/stats", stats),
            ("POST", "/emulator/reset", reset),
            ("GET", "/emulator/verify-webhook", verify_webhook),
            ("POST", "/emulator/verify-webhook", verify_webhook),
        ],
    )
