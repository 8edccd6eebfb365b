"""Run the emulator in a child process for tests and benchmarks, plus a webhook receiver.

    with webhook_receiver() as receiver, running_emulator(tmp_path, WEBHOOK_URL=receiver.url) as wa:
        wa.citizen_says("नमस्ते")
        [request] = receiver.wait_for(1)

The child gets a free 127.0.0.1 port, a media directory under the given directory, the
test secrets below (``**env`` overrides any variable) and writes its log to
``emulator.log_path``. :class:`WebhookReceiver` stands in for the connector: it records
every webhook's raw bytes and headers and answers with the status codes it is told to.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests

from tests.support.processes import child_process, free_port

ROOT = Path(__file__).resolve().parents[2]
GRAPH_VERSION = "v21.0"
# Credentials of the throw-away test emulator only; never used anywhere else.
TOKEN = "test-whatsapp-token-0123456789"  # noqa: S105
APP_SECRET = "test-whatsapp-app-secret-0123456789"  # noqa: S105
VERIFY_TOKEN = "test-whatsapp-verify-token-0123456789"  # noqa: S105
CITIZEN = "919810000001"
NUMBER_ID = "100001"


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, step: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy; raise TimeoutError if never."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        time.sleep(step)


@dataclasses.dataclass
class Emulator:
    url: str
    token: str
    app_secret: str
    verify_token: str
    log_path: Path
    media_dir: Path

    @property
    def graph_url(self) -> str:
        """What the connector uses as its Graph base url (version included)."""
        return f"{self.url}/{GRAPH_VERSION}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    # Graph API as the connector calls it -----------------------------------------
    def graph(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.request(
            method, f"{self.graph_url}/{path.lstrip('/')}", headers=headers, timeout=10, **kwargs
        )

    def send(self, payload: dict[str, Any], phone_number_id: str = NUMBER_ID) -> requests.Response:
        return self.graph("POST", f"{phone_number_id}/messages", json=payload)

    def send_text(
        self, body: str, to: str = CITIZEN, phone_number_id: str = NUMBER_ID
    ) -> requests.Response:
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "text",
            "text": {"body": body},
        }
        return self.send(payload, phone_number_id)

    # simulator and control --------------------------------------------------------
    def citizen_says(
        self, text: str | None = None, wa_id: str = CITIZEN, to: str = NUMBER_ID, **fields: Any
    ) -> str:
        """A citizen's message (``type`` text unless given); returns its wamid."""
        body: dict[str, Any] = {"from": wa_id, "to": to, "type": "text", **fields}
        if text is not None:
            body["text"] = text
        response = requests.post(f"{self.url}/simulator/send", json=body, timeout=10)
        response.raise_for_status()
        return str(response.json()["message_id"])

    def upload(self, data: bytes, filename: str, mime_type: str) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/simulator/upload",
            files={"file": (filename, data, mime_type)},
            timeout=10,
        )
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def configure(self, **config: Any) -> dict[str, Any]:
        response = requests.post(f"{self.url}/emulator/config", json=config, timeout=10)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def reset(self) -> None:
        requests.post(f"{self.url}/emulator/reset", timeout=10).raise_for_status()

    def stats(self) -> dict[str, Any]:
        answer: dict[str, Any] = requests.get(f"{self.url}/emulator/stats", timeout=10).json()
        return answer

    def conversation(
        self, wa_id: str = CITIZEN, phone_number_id: str = NUMBER_ID, after: int = 0
    ) -> list[dict[str, Any]]:
        response = requests.get(
            f"{self.url}/simulator/conversation",
            params={"wa_id": wa_id, "phone_number_id": phone_number_id, "after": str(after)},
            timeout=10,
        )
        response.raise_for_status()
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages


def environment_for(directory: Path, port: int) -> dict[str, str]:
    return {
        "EMULATOR_HOST": "127.0.0.1",
        "EMULATOR_PORT": str(port),
        "WHATSAPP_TOKEN": TOKEN,
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "MEDIA_DIR": str(directory / "media"),
        "STATUS_DELAY_MS": "20",
        "WEBHOOK_RETRY_BASE_MS": "50",
        "WEBHOOK_RETRY_CAP_MS": "1000",
        "WEBHOOK_TIMEOUT_SECONDS": "5",
    }


@contextlib.contextmanager
def running_emulator(directory: Path, **env: str) -> Iterator[Emulator]:
    """Start ``python -m whatsapp_emulator``; stop it on exit. ``env`` overrides settings."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    settings = {**environment_for(directory, port), **env}
    log_path = directory / "emulator.log"
    url = f"http://127.0.0.1:{settings['EMULATOR_PORT']}"
    with child_process(
        [sys.executable, "-m", "whatsapp_emulator"],
        {**os.environ, **settings},
        log_path,
        f"{url}/health",
        "the emulator",
        30,
    ):
        yield Emulator(
            url=url,
            token=settings["WHATSAPP_TOKEN"],
            app_secret=settings["WHATSAPP_APP_SECRET"],
            verify_token=settings["WHATSAPP_VERIFY_TOKEN"],
            log_path=log_path,
            media_dir=Path(settings["MEDIA_DIR"]),
        )


# a stand-in for the connector ------------------------------------------------------------
@dataclasses.dataclass
class Received:
    body: bytes
    headers: dict[str, str]
    status: int  # what the receiver answered
    at: float

    def json(self) -> Any:
        return json.loads(self.body)

    def messages(self) -> list[dict[str, Any]]:
        return [
            m
            for entry in self.json()["entry"]
            for change in entry["changes"]
            for m in change["value"].get("messages", [])
        ]

    def statuses(self) -> list[dict[str, Any]]:
        return [
            s
            for entry in self.json()["entry"]
            for change in entry["changes"]
            for s in change["value"].get("statuses", [])
        ]


class WebhookReceiver:
    """A tiny threaded HTTP server that records webhooks like a connector would receive."""

    def __init__(self, verify_token: str = VERIFY_TOKEN) -> None:
        self.verify_token = verify_token
        self.received: list[Received] = []
        self._answers: list[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def do_GET(self) -> None:  # noqa: N802
                query = parse_qs(urlparse(self.path).query)
                token = (query.get("hub.verify_token") or [""])[0]
                challenge = (query.get("hub.challenge") or [""])[0]
                ok = (query.get("hub.mode") or [""])[0] == "subscribe"
                ok = ok and token == receiver.verify_token
                body = challenge.encode() if ok else b"forbidden"
                self.send_response(200 if ok else 403)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    status = receiver._answers.pop(0) if receiver._answers else 200
                    receiver.received.append(
                        Received(body, dict(self.headers.items()), status, time.monotonic())
                    )
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer_next(self, *statuses: int) -> None:
        """Answer the next POSTs with these statuses (then 200 again)."""
        with self._lock:
            self._answers = list(statuses)

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
            self._answers.clear()

    def accepted(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.status == 200]

    def wait_for(
        self, count: int, timeout: float = 5.0, accepted_only: bool = True
    ) -> list[Received]:
        """At least ``count`` webhooks (answered 200 unless told otherwise)."""

        def enough() -> list[Received] | None:
            with self._lock:
                got = [r for r in self.received if r.status == 200 or not accepted_only]
            return got if len(got) >= count else None

        result: list[Received] = wait_until(enough, timeout)
        return result

    def wait_for_statuses(
        self, message_id: str, wanted: set[str], timeout: float = 5.0
    ) -> set[str]:
        def seen() -> set[str] | None:
            got = {
                s["status"] for r in self.accepted() for s in r.statuses() if s["id"] == message_id
            }
            return got if wanted <= got else None

        result: set[str] = wait_until(seen, timeout)
        return result


@contextlib.contextmanager
def webhook_receiver(verify_token: str = VERIFY_TOKEN) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(verify_token)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
