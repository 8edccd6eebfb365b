"""``create_app(settings)``: the department dashboard (sanic, server-rendered pages).

Each page module exposes ``ROUTES``: ``(method, path, handler)`` tuples, registered
here in order. Every request first loads the session (``auth.load_session``) and, if it
changes state, has its CSRF token checked (``web.check_csrf``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
import warnings
from urllib.parse import quote

from sanic import Request, Sanic
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse, redirect

import ops
from dashboard import (
    admin,
    analytics,
    audit_log,
    auth,
    broadcasts,
    conversations,
    csc,
    desk,
    grievance_desk,
    handoffs,
    trainer,
)
from dashboard.backends_client import BackendsClient
from dashboard.config import Settings
from dashboard.db import Database
from dashboard.web import (
    PACKAGE,
    Context,
    PageError,
    Route,
    SignInRequired,
    check_csrf,
    error_response,
    make_templates,
    messages,
    prefixed,
    wants_json,
)
from service_catalogue import Catalogue, load

log = logging.getLogger("dashboard")

#: How often expired sessions are deleted (seconds).
SESSION_SWEEP_SECONDS = 600


#: Every page and action of the dashboard, module by module.
ROUTES: list[Route] = [
    *auth.ROUTES,
    *desk.ROUTES,
    *grievance_desk.ROUTES,
    *broadcasts.ROUTES,
    *csc.ROUTES,
    *audit_log.ROUTES,
    *admin.ROUTES,
    *conversations.ROUTES,
    *handoffs.ROUTES,
    *analytics.ROUTES,
    *trainer.ROUTES,
]

_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
    # Everything is served by the dashboard itself: no CDN, no inline scripts.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'self'; frame-src 'self'; "
        "frame-ancestors 'self'; form-action 'self'; base-uri 'none'"
    ),
}


async def _sweep_sessions(ctx: Context) -> None:
    while True:
        try:
            auth.expire_sessions(ctx)
        except Exception:
            log.exception("expiring sessions failed; will retry")
        await asyncio.sleep(SESSION_SWEEP_SECONDS)


def create_app(settings: Settings, catalogue: Catalogue | None = None) -> Sanic:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        app = Sanic("delhi_sewa_dashboard", register=False, configure_logging=False)
    app.config.REQUEST_MAX_SIZE = 25 * 1024 * 1024  # CSC uploads: PDFs and photos
    app.config.FALLBACK_ERROR_FORMAT = "html"
    ctx = Context(
        settings=settings,
        db=Database(settings.db_url),
        catalogue=catalogue or load(),
        templates=make_templates(),
        backends=BackendsClient(
            settings.backends_url,
            settings.backends_officer_token,
            settings.backends_service_token,
            settings.backends_timeout_seconds,
        ),
    )
    app.ctx.dashboard = ctx

    for method, path, handler in ROUTES:
        name = f"{method.lower()}_{handler.__module__.rsplit('.', 1)[-1]}_{handler.__name__}"
        app.add_route(handler, path, methods=[method], name=name)
    app.static("/static", str(PACKAGE / "static"), name="static")
    messages()  # a broken messages.yml stops the start, not a page later

    async def page_error(request: Request, exc: PageError) -> HTTPResponse:
        return error_response(request, exc)

    async def sign_in(request: Request, exc: SignInRequired) -> HTTPResponse:
        if wants_json(request) or request.method != "GET":
            return error_response(request, PageError(401, "signed_out"))
        target = request.path + (f"?{request.query_string}" if request.query_string else "")
        return redirect("/login?next=" + quote(target, safe=""))

    async def sanic_error(request: Request, exc: SanicException) -> HTTPResponse:
        status = getattr(exc, "status_code", 500) or 500
        code = {404: "not_found", 405: "not_allowed", 413: "too_large"}.get(status, "error")
        return error_response(request, PageError(status, code))

    async def unexpected(request: Request, exc: Exception) -> HTTPResponse:
        # Frames only: exception messages may quote personal data.
        frames = "".join(traceback.format_tb(exc.__traceback__))
        log.error(
            "unhandled %s on %s %s\n%s", type(exc).__name__, request.method, request.path, frames
        )
        return error_response(request, PageError(500, "error"))

    app.error_handler.add(PageError, page_error)
    app.error_handler.add(SignInRequired, sign_in)
    app.error_handler.add(SanicException, sanic_error)
    app.error_handler.add(Exception, unexpected)

    @app.on_request
    async def session_and_csrf(request: Request) -> None:
        if request.path.startswith("/static/") or request.path in ("/health", "/metrics"):
            request.ctx.user = None
            return
        auth.load_session(request)
        check_csrf(request)

    @app.on_response
    async def headers(request: Request, response: HTTPResponse) -> None:
        # Handlers redirect to root-absolute paths; behind a proxy that mounts the
        # dashboard under DASHBOARD_URL_PREFIX, the browser must go there instead.
        if "location" in response.headers:
            response.headers["location"] = prefixed(
                settings.url_prefix, response.headers["location"]
            )
        for key, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        if not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        log.info("%s %s %d", request.method, request.path, response.status)

    @app.before_server_start
    async def prepare(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        ctx.db.schema_on_start()

    @app.after_server_start
    async def start_tasks(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        ctx.tasks.spawn(_sweep_sessions(ctx))
        ctx.tasks.spawn(handoffs.sweep_disabled(ctx))

    @app.before_server_stop
    async def stop_tasks(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        await ctx.tasks.stop()
        with contextlib.suppress(Exception):
            await ctx.backends.close()
        ctx.db.dispose()

    # /health (with a database check), /metrics and JSON logs with personal data masked.
    ops.install(app, "dashboard", checks={"database": ctx.db.ping})
    return app
