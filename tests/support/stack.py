"""The whole system in child processes on free local ports, for tests and benchmarks.

    with running_stack(tmp_path) as stack:
        stack.emulator.citizen_says("नमस्ते")

Starts the backends, the action server, the WhatsApp Cloud API emulator and Rasa with
our WhatsApp connector (SQLite everywhere, under ``directory``), with throw-away test
secrets, exactly as `make run` wires them. Optionally a second Rasa on the stock REST
channel, for the load benchmark's comparison. ``stack.channel`` calls the channel's
internal API (docs/internal-apis.md §2); Rasa publishes every event to an SQL event
broker (``stack.events_db``), the emulator has the main number and one per department.

The production profile: ``production`` is the environment of ``endpoints.prod.yml``
(``tests.support.services.production_env``: PostgreSQL, Redis lock store, SQL event broker);
Rasa then runs on that endpoints file, the channel and the backends on PostgreSQL, the
action server as ``python -m ops.actions_server``. With ``rasa_instances`` > 1, several
Rasa processes share it behind a round-robin proxy (``tests/support/round_robin.py``), which
is where the emulator delivers its webhooks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from scripts.phone_numbers import emulator_phone_numbers
from tests.support.backends import SERVICE_TOKEN, Backend, running_backend
from tests.support.channel import INTERNAL_TOKEN, ChannelClient
from tests.support.emulator import (
    APP_SECRET,
    TOKEN,
    VERIFY_TOKEN,
    Emulator,
    free_port,
    running_emulator,
)
from tests.support.processes import child_process, wait_ready
from tests.support.round_robin import RoundRobin, round_robin

ROOT = Path(__file__).resolve().parents[2]
# the throw-away action-server token of the test stack (Rasa sends it, the server checks)
ACTION_SERVER_TOKEN = "test-action-server-token-0123456789"  # noqa: S105
# DELHI_SEWA_MODEL: another trained model (e.g. one trained into a scratch folder)
MODEL = Path(os.environ.get("DELHI_SEWA_MODEL") or ROOT / "models" / "delhi-sewa.tar.gz")


@dataclasses.dataclass
class Stack:
    backend: Backend
    emulator: Emulator
    rasa_url: str
    rasa_pid: int
    actions_url: str
    rest_url: str | None = None
    rest_pid: int | None = None
    #: the channel's internal API (.../webhooks/whatsapp/internal)
    channel_url: str = ""
    events_db: Path | None = None
    tracker_db: Path | None = None
    whatsapp_db: Path | None = None
    media_dir: Path | None = None
    rasa_urls: list[str] = dataclasses.field(default_factory=list)
    rasa_pids: list[int] = dataclasses.field(default_factory=list)
    proxy: RoundRobin | None = None

    @property
    def channel(self) -> ChannelClient:
        return ChannelClient(self.channel_url, INTERNAL_TOKEN)


def _rasa(port: int, credentials: Path, endpoints: Path) -> list[str]:
    return [
        str(Path(sys.executable).parent / "rasa"),
        "run",
        "--model",
        str(MODEL),
        "--port",
        str(port),
        "--credentials",
        str(credentials),
        "--endpoints",
        str(endpoints),
    ]


@contextlib.contextmanager
def running_stack(
    directory: Path,
    with_rest: bool = False,
    emulator_env: dict[str, str] | None = None,
    production: Mapping[str, str] | None = None,
    rasa_instances: int = 1,
) -> Iterator[Stack]:
    directory.mkdir(parents=True, exist_ok=True)
    actions_port, emulator_port = free_port(), free_port()
    rasa_ports = [free_port() for _ in range(rasa_instances)]
    rasa_port = rasa_ports[0]
    webhook = "/webhooks/whatsapp/webhook"
    base_env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RASA_TELEMETRY_ENABLED": "false",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    }
    with contextlib.ExitStack() as stack:
        proxy = None
        webhook_url = f"http://127.0.0.1:{rasa_port}{webhook}"
        if rasa_instances > 1:
            proxy = stack.enter_context(
                round_robin([f"http://127.0.0.1:{port}" for port in rasa_ports])
            )
            webhook_url = f"{proxy.url}{webhook}"
        channel_url = webhook_url.replace(webhook, "/webhooks/whatsapp/internal")
        wiring = {"CHANNEL_URL": channel_url, "WHATSAPP_INTERNAL_TOKEN": INTERNAL_TOKEN}
        backend_env = {"BACKENDS_DB_URL": production["BACKENDS_DB_URL"]} if production else {}
        backend_env.update(wiring)
        backend_env["WHATSAPP_MEDIA_DIR"] = str(directory / "media")  # shared, as in deploy/
        backend = stack.enter_context(running_backend(directory / "backends", **backend_env))
        emulator = stack.enter_context(
            running_emulator(
                directory / "emulator",
                EMULATOR_PORT=str(emulator_port),
                WEBHOOK_URL=webhook_url,
                **{"PHONE_NUMBERS": emulator_phone_numbers(), **(emulator_env or {})},
            )
        )
        actions_env = {
            **base_env,
            "EDISTRICT_URL": backend.url,
            "PAYMENTS_URL": backend.url,
            "GRIEVANCE_URL": backend.url,
            "BACKENDS_SERVICE_TOKEN": SERVICE_TOKEN,
            **wiring,
            "SANIC_HOST": "127.0.0.1",
            "ACTIONS_PORT": str(actions_port),
            "ACTION_SERVER_TOKEN": ACTION_SERVER_TOKEN,
        }
        # the rasa-sdk server behind the action-server token, as `make run` starts it
        actions_command = [sys.executable, "-m", "ops.actions_server"]
        stack.enter_context(
            child_process(
                actions_command,
                actions_env,
                directory / "actions.log",
                f"http://127.0.0.1:{actions_port}/health",
            )
        )
        endpoints = directory / "endpoints.yml"
        endpoints.write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
            "  enable_selective_domain: true\n"
            f"  headers:\n    Authorization: Bearer {ACTION_SERVER_TOKEN}\n"
            f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {directory / 'tracker.db'}\n"
            "event_broker:\n  type: connectors.brokers.SQLEventBroker\n"
            f"  dialect: sqlite\n  db: {directory / 'events.db'}\n"
        )
        rasa_env = {
            **base_env,
            "WHATSAPP_APP_SECRET": APP_SECRET,
            "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
            "WHATSAPP_TOKEN": TOKEN,
            "WHATSAPP_GRAPH_URL": emulator.graph_url,
            "WHATSAPP_DB_URL": f"sqlite:///{directory / 'whatsapp.db'}",
            "WHATSAPP_MEDIA_DIR": str(directory / "media"),
            "WHATSAPP_INTERNAL_TOKEN": INTERNAL_TOKEN,
            "ACTION_SERVER_TOKEN": ACTION_SERVER_TOKEN,
        }
        if production:
            endpoints = ROOT / "endpoints.prod.yml"
            rasa_env.update(production)
            rasa_env["ACTION_SERVER_TOKEN"] = ACTION_SERVER_TOKEN
            rasa_env["ACTION_SERVER_URL"] = f"http://127.0.0.1:{actions_port}/webhook"
        rasa_pids = []
        ready: list[tuple[str, subprocess.Popen, Path]] = []
        for i, port in enumerate(rasa_ports):  # started together, then waited for
            log = directory / ("rasa.log" if i == 0 else f"rasa-{i + 1}.log")
            rasa = stack.enter_context(
                child_process(_rasa(port, ROOT / "credentials.yml", endpoints), rasa_env, log, None)
            )
            rasa_pids.append(rasa.pid)
            waiting = (f"http://127.0.0.1:{port}/webhooks/whatsapp/", rasa, log)
            ready.append(waiting)
        for url, process, log in ready:
            wait_ready(url, process, log)
        result = Stack(
            backend=backend,
            emulator=emulator,
            rasa_url=f"http://127.0.0.1:{rasa_port}",
            rasa_pid=rasa_pids[0],
            actions_url=f"http://127.0.0.1:{actions_port}/webhook",
            channel_url=channel_url,
            events_db=None if production else directory / "events.db",
            tracker_db=None if production else directory / "tracker.db",
            whatsapp_db=None if production else directory / "whatsapp.db",
            media_dir=directory / "media",
            rasa_urls=[f"http://127.0.0.1:{port}" for port in rasa_ports],
            rasa_pids=rasa_pids,
            proxy=proxy,
        )
        if with_rest:
            rest_port = free_port()
            rest_credentials = directory / "credentials-rest.yml"
            rest_credentials.write_text("rest:\n")
            rest_endpoints = directory / "endpoints-rest.yml"
            rest_endpoints.write_text(
                f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
                "  enable_selective_domain: true\n"
                f"  headers:\n    Authorization: Bearer {ACTION_SERVER_TOKEN}\n"
                f"tracker_store:\n  type: SQL\n  dialect: sqlite\n"
                f"  db: {directory / 'tracker-rest.db'}\n"
            )
            rest = stack.enter_context(
                child_process(
                    _rasa(rest_port, rest_credentials, rest_endpoints),
                    base_env,
                    directory / "rasa-rest.log",
                    f"http://127.0.0.1:{rest_port}/webhooks/rest/",
                )
            )
            result.rest_url = f"http://127.0.0.1:{rest_port}"
            result.rest_pid = rest.pid
        yield result
