"""The whole system in child processes on free local ports, for tests and benchmarks.

    with running_stack(tmp_path) as stack:
        stack.emulator.citizen_says("नमस्ते")

Starts the backends, the action server, the WhatsApp Cloud API emulator and Rasa with
our WhatsApp connector (SQLite everywhere, under ``directory``), with throw-away test
secrets, exactly as `make run` wires them. Optionally a second Rasa on the stock REST
channel, for the load benchmark's comparison.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from backends.testing import SERVICE_TOKEN, Backend, running_backend
from whatsapp_emulator.testing import (
    APP_SECRET,
    TOKEN,
    VERIFY_TOKEN,
    Emulator,
    free_port,
    running_emulator,
)

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "delhi-sewa.tar.gz"


@dataclasses.dataclass
class Stack:
    backend: Backend
    emulator: Emulator
    rasa_url: str
    rasa_pid: int
    actions_url: str
    rest_url: str | None = None
    rest_pid: int | None = None


def _wait(url: str, process: subprocess.Popen, log: Path, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up:\n{log.read_text(errors='replace')[-4000:]}")


@contextlib.contextmanager
def _process(
    command: list[str], env: dict[str, str], log: Path, ready_url: str
) -> Iterator[subprocess.Popen]:
    with open(log, "wb") as out:
        process = subprocess.Popen(  # noqa: S603 - fixed commands of this project
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait(ready_url, process, log)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


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
    directory: Path, with_rest: bool = False, emulator_env: dict[str, str] | None = None
) -> Iterator[Stack]:
    directory.mkdir(parents=True, exist_ok=True)
    rasa_port, actions_port, emulator_port = free_port(), free_port(), free_port()
    base_env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RASA_TELEMETRY_ENABLED": "false",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    }
    with contextlib.ExitStack() as stack:
        backend = stack.enter_context(running_backend(directory / "backends"))
        emulator = stack.enter_context(
            running_emulator(
                directory / "emulator",
                EMULATOR_PORT=str(emulator_port),
                WEBHOOK_URL=f"http://127.0.0.1:{rasa_port}/webhooks/whatsapp/webhook",
                **(emulator_env or {}),
            )
        )
        actions_env = {
            **base_env,
            "EDISTRICT_URL": backend.url,
            "PAYMENTS_URL": backend.url,
            "GRIEVANCE_URL": backend.url,
            "BACKENDS_SERVICE_TOKEN": SERVICE_TOKEN,
        }
        stack.enter_context(
            _process(
                [
                    sys.executable,
                    "-m",
                    "rasa_sdk",
                    "--actions",
                    "actions",
                    "--port",
                    str(actions_port),
                ],
                actions_env,
                directory / "actions.log",
                f"http://127.0.0.1:{actions_port}/health",
            )
        )
        endpoints = directory / "endpoints.yml"
        endpoints.write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
            "  enable_selective_domain: true\n"
            f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {directory / 'tracker.db'}\n"
        )
        rasa_env = {
            **base_env,
            "WHATSAPP_APP_SECRET": APP_SECRET,
            "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
            "WHATSAPP_TOKEN": TOKEN,
            "WHATSAPP_GRAPH_URL": emulator.graph_url,
            "WHATSAPP_DB_URL": f"sqlite:///{directory / 'whatsapp.db'}",
            "WHATSAPP_MEDIA_DIR": str(directory / "media"),
        }
        rasa = stack.enter_context(
            _process(
                _rasa(rasa_port, ROOT / "credentials.yml", endpoints),
                rasa_env,
                directory / "rasa.log",
                f"http://127.0.0.1:{rasa_port}/webhooks/whatsapp/",
            )
        )
        result = Stack(
            backend=backend,
            emulator=emulator,
            rasa_url=f"http://127.0.0.1:{rasa_port}",
            rasa_pid=rasa.pid,
            actions_url=f"http://127.0.0.1:{actions_port}/webhook",
        )
        if with_rest:
            rest_port = free_port()
            rest_credentials = directory / "credentials-rest.yml"
            rest_credentials.write_text("rest:\n")
            rest_endpoints = directory / "endpoints-rest.yml"
            rest_endpoints.write_text(
                f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
                "  enable_selective_domain: true\n"
                f"tracker_store:\n  type: SQL\n  dialect: sqlite\n"
                f"  db: {directory / 'tracker-rest.db'}\n"
            )
            rest = stack.enter_context(
                _process(
                    _rasa(rest_port, rest_credentials, rest_endpoints),
                    base_env,
                    directory / "rasa-rest.log",
                    f"http://127.0.0.1:{rest_port}/webhooks/rest/",
                )
            )
            result.rest_url = f"http://127.0.0.1:{rest_port}"
            result.rest_pid = rest.pid
        yield result
