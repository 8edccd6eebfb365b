"""Run the real service in a child process for tests (ours and the action server's).

    with running_backend(tmp_path) as backend:
        requests.get(f"{backend.url}/health", headers=backend.citizen("919800000001"))

The child gets a free 127.0.0.1 port, a SQLite file (or ``BACKENDS_TEST_DB_URL``) and a
storage directory under the given directory, the test secrets below, and writes its
log to ``backend.log_path``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from backends.config import ROOT

# Credentials of the throw-away test service only; never used anywhere else.
SERVICE_TOKEN = "test-service-token-0123456789"  # noqa: S105
OFFICER_TOKEN = "test-officer-token-0123456789"  # noqa: S105
WEBHOOK_SECRET = "test-webhook-secret-0123456789"  # noqa: S105
SIGNING_KEY = "test-signing-key-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    def officer(officer_id: str = "officer-7") -> dict[str, str]:
        return {"Authorization": f"Bearer {OFFICER_TOKEN}", "X-Officer-Id": officer_id}

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def environment_for(directory: Path, port: int) -> dict[str, str]:
    return {
        # BACKENDS_TEST_DB_URL runs the same tests on another database (e.g. PostgreSQL).
        "BACKENDS_DB_URL": os.environ.get("BACKENDS_TEST_DB_URL")
        or f"sqlite:///{directory / 'backends.db'}",
        "STORAGE_DIR": str(directory / "storage"),
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
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "backends"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"backends exited with {process.returncode}:\n{log_path.read_text()}"
                )
            try:
                if requests.get(f"{url}/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"backends did not start:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield Backend(
            url=url,
            db_url=settings["BACKENDS_DB_URL"],
            log_path=log_path,
            storage_dir=Path(settings["STORAGE_DIR"]),
        )
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
