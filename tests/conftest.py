"""Shared fixtures: the trained model, a running action server and an agent; the ones
several modules apply (tests/support/fixtures.py)."""

import os
import sys
from pathlib import Path

import pytest

from tests.support.processes import child_process, free_port

pytest_plugins = ["tests.support.fixtures"]

ROOT = Path(__file__).resolve().parent.parent
# DELHI_SEWA_MODEL: another trained model (e.g. one trained into a scratch folder)
MODEL = Path(os.environ.get("DELHI_SEWA_MODEL") or ROOT / "models" / "delhi-sewa.tar.gz")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Test accounts hash with the old scrypt cost (2^14, 0.05 s instead of 0.5 s for each of
# the suite's hundred accounts and sign-ins); tests/test_dashboard_hardening.py runs 2^17.
os.environ.setdefault("DASHBOARD_SCRYPT_N", "16384")


@pytest.fixture(scope="session")
def backend(tmp_path_factory):
    """The real backends service (e-District, payments, grievances) on SQLite."""
    from tests.support.backends import running_backend

    with running_backend(tmp_path_factory.mktemp("backends")) as running:
        yield running


@pytest.fixture(scope="session")
def action_server_url(backend, tmp_path_factory):
    from tests.support.backends import SERVICE_TOKEN

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
    log = tmp_path_factory.mktemp("actions") / "actions.log"
    command = [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]
    health = f"http://127.0.0.1:{port}/health"
    with child_process(command, env, log, health, "the action server", 60):
        yield f"http://127.0.0.1:{port}/webhook"


@pytest.fixture(scope="session")
def agent(action_server_url):
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    return Agent.load(str(MODEL), action_endpoint=EndpointConfig(url=action_server_url))
