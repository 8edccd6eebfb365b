"""Shared fixtures: the trained model, a running action server and an agent."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "delhi-sewa.tar.gz"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up in {seconds} s")


@pytest.fixture(scope="session")
def backend(tmp_path_factory):
    """The real backends service (e-District, payments, grievances) on SQLite."""
    from backends.testing import running_backend

    with running_backend(tmp_path_factory.mktemp("backends")) as running:
        yield running


@pytest.fixture(scope="session")
def action_server_url(backend):
    from backends.testing import SERVICE_TOKEN

    port = free_port()
    env = {
        **os.environ,
        "EDISTRICT_URL": backend.url,
        "PAYMENTS_URL": backend.url,
        "GRIEVANCE_URL": backend.url,
        "BACKENDS_SERVICE_TOKEN": SERVICE_TOKEN,
        # nothing listens there: erasing the chat fails, as when the channel is down
        "CHANNEL_URL": f"http://127.0.0.1:{free_port()}/internal",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", process)
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="session")
def agent(action_server_url):
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    return Agent.load(str(MODEL), action_endpoint=EndpointConfig(url=action_server_url))
