"""The action server answers Rasa only (issue 13, item 4): a caller without the
action-server token gets 401 and runs no action; Rasa, configured by endpoints.yml,
sends the token; the production profile refuses to start without one."""

import asyncio
import os
import subprocess
import sys

import pytest
import requests
from rasa.core.utils import AvailableEndpoints

from tests.support.processes import ROOT, child_process, free_port

TOKEN = "action-token-for-this-test-0123456789"  # noqa: S105
CALL = {
    "next_action": "action_reset_application",
    "sender_id": "919800000001",
    "tracker": {"sender_id": "919800000001", "slots": {}, "events": [], "latest_message": {}},
    "domain": {},
    "version": "3.6.21",
}


def server_env(port, **extra):
    env = {**os.environ, "ACTIONS_PORT": str(port), "SANIC_HOST": "127.0.0.1"}
    env.pop("DELHI_SEWA_PROFILE", None)
    return {**env, **extra}


@pytest.fixture(scope="module")
def action_server(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("actions") / "actions.log"
    env = server_env(port, ACTION_SERVER_TOKEN=TOKEN)
    command = [sys.executable, "-m", "ops.actions_server"]
    with child_process(command, env, log, f"http://127.0.0.1:{port}/health", "actions", 120):
        yield f"http://127.0.0.1:{port}"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": TOKEN}],
    ids=["none", "wrong", "not-bearer"],
)
def test_a_call_without_the_token_is_refused(action_server, headers):
    answer = requests.post(f"{action_server}/webhook", json=CALL, headers=headers, timeout=10)
    assert answer.status_code == 401
    assert "events" not in answer.text
    listing = requests.get(f"{action_server}/actions", headers=headers, timeout=10)
    assert listing.status_code == 401


def test_probes_need_no_token(action_server):
    assert requests.get(f"{action_server}/health", timeout=10).ok


def test_rasa_configured_by_endpoints_yml_sends_the_token(action_server, monkeypatch):
    monkeypatch.setenv("ACTION_SERVER_TOKEN", TOKEN)
    endpoint = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml")).action
    endpoint.url = f"{action_server}/webhook"
    answer = asyncio.run(endpoint.request(json=CALL, method="post", timeout=30))
    assert isinstance(answer["events"], list)


def test_production_endpoints_send_the_token(monkeypatch):
    monkeypatch.setenv("ACTION_SERVER_URL", "http://actions:5055/webhook")
    monkeypatch.setenv("ACTION_SERVER_TOKEN", TOKEN)
    for name in ("DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD", "DB_LOGIN_DB", "TRACKER_DB"):
        monkeypatch.setenv(name, "x")
    for name in ("EVENTS_DB", "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "REDIS_DB"):
        monkeypatch.setenv(name, "1")
    endpoint = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.prod.yml")).action
    assert endpoint.headers == {"Authorization": f"Bearer {TOKEN}"}


def test_production_refuses_to_start_without_a_token():
    env = server_env(free_port(), DELHI_SEWA_PROFILE="production")
    env.pop("ACTION_SERVER_TOKEN", None)
    started = subprocess.run(
        [sys.executable, "-m", "ops.actions_server"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert started.returncode != 0
    assert "ACTION_SERVER_TOKEN is not set" in started.stderr
