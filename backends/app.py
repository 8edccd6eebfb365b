"""``create_app(settings)``: the sanic application with every route of the contract."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import traceback
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

from sanic import Request, Sanic
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sqlalchemy import select
from sqlalchemy.orm import Session

import ops
from backends import (
    broadcasts,
    certificates,
    citizens,
    edistrict,
    erasure,
    grievances,
    jobs,
    notifications,
    openapi,
    payments,
    reminders,
)
from backends.config import Settings
from backends.db import Database, Event, clock, iso
from backends.web import ApiError, Context, context, officer
from connectors import media
from service_catalogue import Catalogue, load

log = logging.getLogger("backends")

Handler = Callable[..., Coroutine[Any, Any, HTTPResponse]]
_CITIZEN_PATH = re.compile(r"^(/citizens/)[^/]+")


async def health(request: Request) -> HTTPResponse:
    return json_response({"status": "ok"})


async def openapi_document(request: Request) -> HTTPResponse:
    return json_response(openapi.document(context(request).settings.public_url))


async def list_events(request: Request) -> HTTPResponse:
    officer(request)
    try:
        after = int(request.args.get("after", "0"))
        limit = int(request.args.get("limit", "100"))
    except ValueError:
        raise ApiError(
            400,
            "invalid_fields",
            "'after' and 'limit' must be whole numbers.",
            {"fields": {"after": "invalid", "limit": "invalid"}},
        ) from None
    if not 1 <= limit <= 500:
        raise ApiError(
            400,
            "invalid_fields",
            "'limit' must be 1 to 500.",
            {"fields": {"limit": "out_of_range"}},
        )

    def work(session: Session) -> dict[str, Any]:
        rows = session.execute(
            select(Event).where(Event.id > after).order_by(Event.id).limit(limit)
        ).scalars()
        return {
            "events": [
                {
                    "id": e.id,
                    "type": e.type,
                    "subject_id": e.subject_id,
                    "citizen_id": e.citizen_id,
                    "payload": e.payload,
                    "created_at": iso(e.created_at),
                }
                for e in rows
            ]
        }

    return json_response(context(request).db.run(work))


#: (method, path, handler): every route of the service; openapi.py documents each.
ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/health", health),
    ("GET", "/openapi.json", openapi_document),
    ("GET", "/events", list_events),
    ("POST", "/edistrict/applications", edistrict.create_application),
    ("GET", "/edistrict/applications", edistrict.list_applications),
    ("GET", "/edistrict/applications/<application_id>", edistrict.get_application),
    ("POST", "/edistrict/applications/<application_id>/documents", edistrict.attach_document),
    ("POST", "/edistrict/applications/<application_id>/submit", edistrict.submit_application),
    ("POST", "/edistrict/applications/<application_id>/actions", edistrict.application_action),
    ("POST", "/edistrict/applications/<application_id>/confirm", edistrict.confirm_application),
    ("POST", "/edistrict/applications/<application_id>/decline", edistrict.decline_application),
    ("POST", "/edistrict/applications/<application_id>/counter", edistrict.counter_action),
    ("GET", "/edistrict/applications/<application_id>/certificate", edistrict.certificate_link),
    ("GET", "/certificates/<filename>", certificates.download),
    ("GET", "/verify/<token>", certificates.verify),
    ("POST", "/payments/orders", payments.create_order),
    ("GET", "/payments/orders/<order_id>", payments.get_order),
    ("GET", "/payments/orders/<order_id>/receipt", payments.get_receipt),
    ("POST", "/payments/webhook", payments.webhook),
    ("GET", "/payments/refunds", payments.list_refunds),
    ("POST", "/payments/refunds/<payment_id>", payments.mark_refunded),
    ("GET", "/pay/<order_id>", payments.pay_page),  # sandbox only
    ("POST", "/pay/<order_id>", payments.pay_submit),  # sandbox only
    ("GET", "/payments/checkout/<order_id>", payments.checkout_page),  # razorpay only
    ("POST", "/payments/callback", payments.checkout_callback),  # razorpay only
    ("GET", "/citizens/<citizen_id>/preferences", citizens.get_preferences),
    ("PUT", "/citizens/<citizen_id>/preferences", citizens.put_preferences),
    ("POST", "/citizens/<citizen_id>/erasure", erasure.erase_citizen),
    ("GET", "/notifications", notifications.list_notifications),
    ("GET", "/reminders", reminders.list_reminders),
    ("POST", "/broadcasts", broadcasts.create_broadcast),
    ("POST", "/broadcasts/preview", broadcasts.preview_broadcast),
    ("GET", "/broadcasts", broadcasts.list_broadcasts),
    ("GET", "/broadcasts/<broadcast_id>", broadcasts.get_broadcast),
    ("POST", "/broadcasts/<broadcast_id>/statuses", broadcasts.pull_statuses),
    ("POST", "/grievances", grievances.create_grievance),
    ("GET", "/grievances", grievances.list_grievances),
    ("POST", "/grievances/escalate-due", grievances.escalate_due_route),
    ("GET", "/grievances/<grievance_id>", grievances.get_grievance),
    ("POST", "/grievances/<grievance_id>/actions", grievances.grievance_action),
    ("POST", "/grievances/<grievance_id>/feedback", grievances.grievance_feedback),
    ("POST", "/grievances/<grievance_id>/reopen", grievances.grievance_reopen),
    ("POST", "/feedback", grievances.create_feedback),
]


def create_app(settings: Settings, catalogue: Catalogue | None = None) -> Sanic:
    with warnings.catch_warnings():
        # Not in sanic's app registry, so tests may build several apps in one process
        # (sanic 21.12 warns that the argument goes away in 22.6).
        warnings.simplefilter("ignore", DeprecationWarning)
        app = Sanic("delhi_sewa_backends", register=False, configure_logging=False)
    app.config.REQUEST_MAX_SIZE = 1_000_000
    app.config.FALLBACK_ERROR_FORMAT = "json"
    ctx = Context(settings=settings, db=Database(settings.db_url), catalogue=catalogue or load())
    app.ctx.backends = ctx
    job_names = jobs.in_process(settings)  # refuses unknown names before starting
    clock.offset_file = settings.clock_offset_file

    for method, path, handler in ROUTES:
        if payments.GATEWAY_ROUTES.get(path, settings.payment_gateway) != settings.payment_gateway:
            continue  # another gateway's pages: never mounted (no /pay/ in production)
        name = f"{method.lower()}_{handler.__module__.rsplit('.', 1)[-1]}_{handler.__name__}"
        app.add_route(handler, path, methods=[method], name=name)

    async def api_error(request: Request, exc: ApiError) -> HTTPResponse:
        return exc.response()

    async def sanic_error(request: Request, exc: SanicException) -> HTTPResponse:
        status = getattr(exc, "status_code", 500) or 500
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            status, "bad_request" if status < 500 else "internal_error"
        )
        return ApiError(status, code, str(exc) or code).response()

    async def unexpected(request: Request, exc: Exception) -> HTTPResponse:
        # The traceback's frames only: exception messages may quote personal data.
        frames = "".join(traceback.format_tb(exc.__traceback__))
        log.error(
            "unhandled %s on %s %s\n%s", type(exc).__name__, request.method, request.path, frames
        )
        return ApiError(500, "internal_error", "Something went wrong on our side.").response()

    app.error_handler.add(ApiError, api_error)
    app.error_handler.add(SanicException, sanic_error)
    app.error_handler.add(Exception, unexpected)

    @app.on_request
    async def start_timer(request: Request) -> None:
        request.ctx.started = time.monotonic()

    @app.on_response
    async def access_log(request: Request, response: HTTPResponse) -> None:
        # Method, path (ids only, never personal data: a citizen id is a phone number)
        # and status; no headers, no bodies.
        elapsed = (time.monotonic() - getattr(request.ctx, "started", time.monotonic())) * 1000
        path = _CITIZEN_PATH.sub(r"\1<citizen>", request.path)
        log.info("%s %s %d %.0fms", request.method, path, response.status, elapsed)

    @app.before_server_start
    async def prepare(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        ctx.db.schema_on_start()
        settings.storage_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        media.prepare(settings.media_dir)  # shared with the channel: documents' files

    @app.after_server_start
    async def start_tasks(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        # each job runs once at a time across replicas (backends/jobs.py: a lock of the
        # database per run); BACKENDS_JOBS leaves some to a scheduler (CronJobs)
        for name in job_names:
            ctx.tasks.spawn(jobs.loop(ctx, name))

    @app.before_server_stop
    async def stop_tasks(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        await ctx.tasks.stop()
        ctx.db.dispose()

    ops.install(app, "backends")
    return app
