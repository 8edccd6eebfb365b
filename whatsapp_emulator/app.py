"""``create_app(settings)``: the emulator's sanic application, put together.

One blueprint per concern, each with its routes listed in its module's docstring:

* :mod:`whatsapp_emulator.graph` — the Graph API the channel calls (bearer ``WHATSAPP_TOKEN``);
* :mod:`whatsapp_emulator.simulator` — the phone page and what tests and benchmarks drive;
* :mod:`whatsapp_emulator.control` — ``/emulator/…`` knobs and counters, ``/health``.

The state they share is the :class:`~whatsapp_emulator.emulator.Emulator` at
``app.ctx.emulator``; errors of every blueprint are answered here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse

import ops
from whatsapp_emulator import control, graph, simulator
from whatsapp_emulator.config import Settings
from whatsapp_emulator.emulator import Emulator, SimulatorError, json_response
from whatsapp_emulator.validation import GraphError, Templates


def create_app(settings: Settings, templates: Templates, media_dir: Path) -> Sanic:
    app = Sanic("whatsapp_emulator", configure_logging=False)
    app.config.REQUEST_MAX_SIZE = 110 * 2**20
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = 1.0
    app.config.FALLBACK_ERROR_FORMAT = "json"
    emulator = Emulator(settings, templates, media_dir)
    app.ctx.emulator = emulator
    app.blueprint(Blueprint.group(graph.blueprint(), simulator.blueprint(), control.blueprint()))

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
