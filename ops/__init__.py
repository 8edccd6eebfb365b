"""Operations for every service: JSON masked logs, ``/health`` and ``/metrics``.

    ops.install(app, "backends")            # a sanic app
    ops.install(blueprint, "rasa")          # or a blueprint (the WhatsApp channel's)

``install(target, service, checks=None)``: ``target`` is a ``sanic.Sanic`` or a
``sanic.Blueprint``; ``service`` names the process in logs and metrics; ``checks`` maps
a name to a callable returning True when a dependency (database, ...) is usable —
``/health`` answers 503 naming the failing ones. ``/health`` is added only when the
target has none; ``/metrics`` (Prometheus text) always, behind ``Authorization: Bearer
$METRICS_TOKEN`` when that variable is set.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from ops import tokens
from ops.logs import configure_logging, mask
from ops.metrics import REGISTRY

__all__ = ["install", "configure_logging", "mask", "REGISTRY"]

logger = logging.getLogger(__name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _routes(target: Sanic | Blueprint) -> set[str]:
    if isinstance(target, Blueprint):
        return {str(route.uri).rstrip("/") for route in target._future_routes}
    return {"/" + str(route.path).strip("/") for route in target.router.routes}


def _run_checks(checks: Mapping[str, Callable[[], bool]]) -> list[str]:
    failing = []
    for name, check in checks.items():
        try:
            ok = bool(check())
        except Exception:  # noqa: BLE001 - a check that raises is a failing check
            logger.exception("ops.health.check_failed check=%s", name)
            ok = False
        if not ok:
            failing.append(name)
    return failing


def install(
    target: Sanic | Blueprint,
    service: str,
    checks: Mapping[str, Callable[[], bool]] | None = None,
) -> None:
    configure_logging(service)
    REGISTRY.service = service
    checks = dict(checks or {})

    async def started(request: Request) -> None:
        request.ctx.ops_started = time.monotonic()

    async def answered(request: Request, result: HTTPResponse) -> None:
        began = getattr(request.ctx, "ops_started", None)
        route = getattr(request, "route", None)
        path = f"/{route.path}" if route is not None else "unmatched"
        if began is not None:
            REGISTRY.observe_request(request.method, path, result.status, time.monotonic() - began)

    async def metrics(request: Request) -> HTTPResponse:
        token = os.environ.get("METRICS_TOKEN", "")
        if token and not tokens.matches(tokens.bearer(request.headers.get("Authorization")), token):
            return response.text("unauthorized", status=401)
        return response.text(REGISTRY.render(), content_type=CONTENT_TYPE)

    async def health(_: Request) -> HTTPResponse:
        failing = _run_checks(checks)
        body: dict[str, Any] = {"status": "fail" if failing else "ok", "service": service}
        if failing:
            body["failing"] = failing
        return response.json(body, status=503 if failing else 200)

    async def relog(app: Any, loop: Any) -> None:
        configure_logging(service)  # sanic workers may reconfigure logging on start

    target.middleware(started, "request")
    target.middleware(answered, "response")
    if "/health" not in _routes(target):
        target.add_route(health, "/health", methods=["GET"], name="ops_health")
    target.add_route(metrics, "/metrics", methods=["GET"], name="ops_metrics")
    target.listener(relog, "before_server_start")
