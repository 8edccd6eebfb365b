"""``python -m ops.actions_server``: the rasa-sdk action server with ops installed.

The same server as ``python -m rasa_sdk --actions actions`` plus JSON masked logs,
``/metrics`` and a bearer token: with ``ACTION_SERVER_TOKEN`` set, every call but
``/health`` (and ``/metrics``, which has its own ``METRICS_TOKEN``) must carry
``Authorization: Bearer $ACTION_SERVER_TOKEN`` (Rasa sends it: ``headers`` of
``action_endpoint`` in endpoints.yml / endpoints.prod.yml), else 401 — so only Rasa can
run an action, and only Rasa names the ``sender_id`` the actions trust. In the
production profile (``DELHI_SEWA_PROFILE=production``) the server refuses to start
without it. Binds to ``SANIC_HOST`` (default 127.0.0.1: the action server is never
reachable from outside; in a cluster set it to the pod address behind a NetworkPolicy)
on ``ACTIONS_PORT`` (default 5055).
"""

from __future__ import annotations

import logging
import os
import sys

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

import ops
from ops import profile, tokens

logger = logging.getLogger(__name__)
TOKEN_VARIABLE = "ACTION_SERVER_TOKEN"  # noqa: S105 - a variable name
#: paths answered without the token (probes; /metrics checks METRICS_TOKEN itself)
OPEN_PATHS = ("/health", "/metrics")


def require_token(app: Sanic, token: str) -> None:
    """Refuse (401) every request but :data:`OPEN_PATHS` without the bearer ``token``
    (compared in constant time)."""

    @app.on_request
    async def authorise(request: Request) -> HTTPResponse | None:
        if request.path.rstrip("/") in OPEN_PATHS:
            return None
        if tokens.matches(tokens.bearer(request.headers.get("authorization")), token):
            return None
        return response.json({"error": "unauthorized"}, status=401)


def build_app() -> Sanic:
    """The server's app; exits with a message in production without a token."""
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token and profile.production():
        sys.exit(
            f"{TOKEN_VARIABLE} is not set: in the production profile the action server "
            "refuses to start without it (give Rasa the same value, see docs/operations.md)."
        )
    app = create_app("actions", cors_origins=None)
    ops.install(app, "actions")
    if token:
        require_token(app, token)
    else:
        logger.warning("actions.token.disabled (%s unset): anyone may call", TOKEN_VARIABLE)
    return app


def main() -> None:
    app = build_app()
    app.run(
        os.environ.get("SANIC_HOST", "127.0.0.1"),
        int(os.environ.get("ACTIONS_PORT", "5055")),
        workers=utils.number_of_sanic_workers(),
        access_log=False,
        motd=False,
    )


if __name__ == "__main__":
    main()
