"""Run the real service in a child process for tests (ours and the action server's).

    with running_backend(tmp_path) as backend:
        requests.get(f"{backend.url}/health", headers=backend.citizen("919800000001"))

The child gets a free 127.0.0.1 port, a SQLite file (or ``BACKENDS_TEST_DB_URL``) and a
storage directory under the given directory, the test secrets below, and writes its
log to ``backend.log_path``. While it runs, every answer the test process gets from it
is checked against backends/openapi.py (tests/support/backends_contract.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import json
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from ops import tokens
from service_catalogue import load
from tests.support.backends_contract import checking
from tests.support.processes import child_process, free_port, serving

# Credentials of the throw-away test service only; never used anywhere else.
SERVICE_TOKEN = "test-service-token-0123456789"  # noqa: S105
OFFICER_TOKEN = "test-officer-token-0123456789"  # noqa: S105
WEBHOOK_SECRET = "test-webhook-secret-0123456789"  # noqa: S105
SIGNING_KEY = "test-signing-key-0123456789abcdef"
INTERNAL_TOKEN = "test-internal-token-0123456789"  # noqa: S105


@dataclasses.dataclass
class Backend:
    url: str
    db_url: str
    log_path: Path
    storage_dir: Path

    @staticmethod
    def citizen(citizen_id: str, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {SERVICE_TOKEN}", "X-Citizen-Id": citizen_id}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    @staticmethod
    def officer(
        officer_id: str = "officer-7", departments: Iterable[str] | None = None
    ) -> dict[str, str]:
        """Headers of an officer of ``departments`` (default: every department), with a
        credential signed as the dashboard signs it (``ops.tokens``)."""
        if departments is None:
            departments = load().departments
        token = tokens.sign_officer(OFFICER_TOKEN, officer_id, departments)
        return {"Authorization": f"Bearer {token}", "X-Officer-Id": officer_id}

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def environment_for(directory: Path, port: int) -> dict[str, str]:
    return {
        # BACKENDS_TEST_DB_URL runs the same tests on another database (e.g. PostgreSQL).
        "BACKENDS_DB_URL": os.environ.get("BACKENDS_TEST_DB_URL")
        or f"sqlite:///{directory / 'backends.db'}",
        "STORAGE_DIR": str(directory / "storage"),
        "WHATSAPP_MEDIA_DIR": str(directory / "media"),
        "BACKENDS_HOST": "127.0.0.1",
        "BACKENDS_PORT": str(port),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "BACKENDS_SERVICE_TOKEN": SERVICE_TOKEN,
        "BACKENDS_OFFICER_TOKEN": OFFICER_TOKEN,
        "PAYMENT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "CERTIFICATE_SIGNING_KEY": SIGNING_KEY,
    }


@contextlib.contextmanager
def running_backend(directory: Path, **overrides: str) -> Iterator[Backend]:
    """Start ``python -m backends``; stop it on exit. ``overrides`` are env variables."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    settings = {**environment_for(directory, port), **overrides}
    env = {**os.environ, **settings}
    log_path = directory / "backends.log"
    url = f"http://127.0.0.1:{port}"
    with (
        child_process(
            [sys.executable, "-m", "backends"], env, log_path, f"{url}/health", "backends", 30
        ),
        checking(url),
    ):  # every answer the test gets is checked against the OpenAPI document
        yield Backend(
            url=url,
            db_url=settings["BACKENDS_DB_URL"],
            log_path=log_path,
            storage_dir=Path(settings["STORAGE_DIR"]),
        )


@dataclasses.dataclass
class FakeChannel:
    """The channel's internal API (``/notify``, ``/statuses``) as the backends see it.

    Records every accepted ``/notify`` body with its receive time, in the order the
    citizen's phone would show them; idempotent on ``key`` like the real one. ``down``
    answers 503 while true; ``refuse`` maps a template name to a 422 error code;
    ``statuses`` maps message ids to what ``/statuses`` reports; ``slow`` maps a
    template name to seconds WhatsApp takes to accept it; the first try of each message
    whose template is in ``flaky`` answers 503 (WhatsApp busy, try again).
    """

    url: str = ""
    received: list[tuple[float, dict[str, Any]]] = dataclasses.field(default_factory=list)
    attempts: int = 0
    down: bool = False
    refuse: dict[str, str] = dataclasses.field(default_factory=dict)
    statuses: dict[str, str] = dataclasses.field(default_factory=dict)
    answers: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    slow: dict[str, float] = dataclasses.field(default_factory=dict)
    flaky: set[str] = dataclasses.field(default_factory=set)
    tried: set[str] = dataclasses.field(default_factory=set)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def to(self, citizen_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [body for _, body in self.received if body["to"] == citizen_id]

    def handle(
        self, path: str, auth: str, body: dict[str, Any], arrived: float
    ) -> tuple[int, dict[str, Any]]:
        if auth != f"Bearer {INTERNAL_TOKEN}":
            return 401, {"error": "unauthorized"}
        delay = self.slow.get(str(body.get("template")), 0.0)
        if delay:
            time.sleep(delay)  # each request has a thread: others go on meanwhile
        with self.lock:
            if path.endswith("/statuses"):
                return 200, {"statuses": {i: self.statuses.get(i) for i in body["ids"]}}
            if "template" not in body:  # cut off: the sender was stopped mid-request
                return 400, {"error": "invalid_json"}
            self.attempts += 1
            if self.down:
                return 503, {"error": "whatsapp_unavailable", "retry_after": 0}
            if body["template"] in self.refuse:
                return 422, {"error": self.refuse[body["template"]]}
            if body["template"] in self.flaky and body["key"] not in self.tried:
                self.tried.add(body["key"])
                return 503, {"error": "whatsapp_unavailable", "retry_after": 0}
            if body["key"] not in self.answers:
                self.received.append((arrived, body))
                self.answers[body["key"]] = {
                    "message_id": f"wamid.{len(self.answers) + 1}",
                    "mode": "template",
                    "phone_number_id": f"pn-{body['department']}",
                }
            return 200, self.answers[body["key"]]


@contextlib.contextmanager
def fake_channel() -> Iterator[FakeChannel]:
    """A :class:`FakeChannel` served on a free 127.0.0.1 port (``channel.url``)."""
    channel = FakeChannel()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            arrived = time.monotonic()
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            status, answer = channel.handle(
                self.path, self.headers.get("authorization", ""), json.loads(raw or b"{}"), arrived
            )
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    with serving(Handler) as url:
        channel.url = f"{url}/internal"
        yield channel


def set_clock(directory: Path, at: datetime) -> dict[str, str]:
    """Make the clock of a service started with the returned environment (or already
    running with ``BACKENDS_CLOCK_OFFSET_FILE = directory / "clock"``) read ``at``
    (naive UTC) now and run on from there; a running service sees it within 0.05 s."""
    offset = (at - datetime.now(timezone.utc).replace(tzinfo=None)).total_seconds()
    path = directory / "clock"
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(str(offset))
    return {"BACKENDS_CLOCK_OFFSET_FILE": str(path)}


def channel_settings(channel: FakeChannel, directory: Path) -> dict[str, str]:
    """Environment for :func:`running_backend` sending to ``channel`` with fast tasks and
    a clock the test moves by writing seconds to ``directory / "clock"``."""
    return {
        "CHANNEL_URL": channel.url,
        "WHATSAPP_INTERNAL_TOKEN": INTERNAL_TOKEN,
        "OUTBOX_INTERVAL_SECONDS": "0.1",
        "STATUS_SYNC_INTERVAL_SECONDS": "0.3",
        "REMINDER_INTERVAL_SECONDS": "0.2",
        "NOTIFY_RETRY_BASE_SECONDS": "0.2",
        "NOTIFY_RETRY_MAX_SECONDS": "1",
        "BACKENDS_CLOCK_OFFSET_FILE": str(directory / "clock"),
    }


def backend_with_fake_channel(name: str) -> tuple[Any, Any]:
    """Module-scoped ``channel`` and ``backend`` fixtures: a fake channel, and a backend
    sending to it with :func:`channel_settings`. In a test module:
    ``channel, backend = backend_with_fake_channel("erasure")``."""

    @pytest.fixture(scope="module")
    def channel() -> Iterator[FakeChannel]:
        with fake_channel() as running:
            yield running

    @pytest.fixture(scope="module")
    def backend(
        tmp_path_factory: pytest.TempPathFactory, channel: FakeChannel
    ) -> Iterator[Backend]:
        directory = tmp_path_factory.mktemp(name)
        with running_backend(directory, **channel_settings(channel, directory)) as running:
            yield running

    return channel, backend
