"""Production sends from the real numbers only (issue 13, item 2).

credentials.yml lists the emulator's numbers (100001–100012) for `make run`. In the
production profile (``DELHI_SEWA_PROFILE=production``) the numbers come from
``WHATSAPP_PHONE_NUMBERS`` alone, and Rasa refuses to start unless the Graph API knows
every one of them — so no reply, broadcast or handoff notice goes out from a number
WhatsApp refuses."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from connectors import phone_numbers
from connectors.whatsapp import Settings
from scripts.phone_numbers import emulator_phone_numbers
from tests.support.emulator import APP_SECRET, TOKEN, VERIFY_TOKEN, running_emulator
from tests.support.processes import ROOT
from tests.support.services import private_postgres, private_redis, production_env
from tests.support.stack import running_stack

pytestmark = pytest.mark.stack

MAIN, TRANSPORT = "209876540001", "209876540002"
REAL = {MAIN: "", TRANSPORT: "transport"}
REAL_SETTING = f"{MAIN}:,{TRANSPORT}:transport"
CITIZEN = "919812300077"


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    """The emulator as Meta's Graph API, knowing the real numbers only."""
    directory = tmp_path_factory.mktemp("graph")
    with running_emulator(directory, PHONE_NUMBERS=emulator_phone_numbers(numbers=REAL)) as em:
        yield em


def start_rasa(tmp_path: Path, graph_url: str, **env: str) -> subprocess.CompletedProcess:
    """``rasa run`` in the production profile: it builds the channel (and checks its
    numbers) before loading the model, so a refusal comes within seconds."""
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("tracker_store:\n  type: InMemoryTrackerStore\n")
    environment = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RASA_TELEMETRY_ENABLED": "false",
        "DELHI_SEWA_PROFILE": "production",
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "WHATSAPP_TOKEN": TOKEN,
        "WHATSAPP_GRAPH_URL": graph_url,
        "WHATSAPP_DB_URL": f"sqlite:///{tmp_path / 'whatsapp.db'}",
        "WHATSAPP_MEDIA_DIR": str(tmp_path / "media"),
        **env,
    }
    if "WHATSAPP_PHONE_NUMBERS" not in env:
        environment.pop("WHATSAPP_PHONE_NUMBERS", None)
    command = [str(Path(sys.executable).parent / "rasa"), "run", "--port", "1"]
    command += ["--credentials", str(ROOT / "credentials.yml"), "--endpoints", str(endpoints)]
    command += ["--model", str(tmp_path / "no-model-needed.tar.gz")]
    return subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
    )


def test_production_refuses_to_start_with_the_emulator_list(tmp_path, graph):
    """The whole start-up, once: Rasa exits naming the problem."""
    started = start_rasa(tmp_path, graph.graph_url)
    output = started.stdout + started.stderr
    assert started.returncode != 0, output[-2000:]
    assert "refuses to start in the production profile" in output, output[-2000:]
    assert "WHATSAPP_PHONE_NUMBERS is empty" in output, output[-2000:]


@pytest.mark.parametrize(
    ("numbers", "reason"),
    [
        ("100001:,100002:transport", "100001 is one of the emulator's numbers"),
        (f"{MAIN}:,209876549999:transport", "209876549999: the Graph API answered 400"),
        (f"{MAIN}:,{TRANSPORT}:railways", "'railways' is not a department"),
    ],
    ids=["emulator-ids", "unknown-to-graph", "unknown-department"],
)
def test_production_refuses_numbers_that_are_not_real(monkeypatch, graph, numbers, reason):
    """The same check the start-up runs (above), without starting Rasa each time."""
    monkeypatch.setenv("DELHI_SEWA_PROFILE", "production")
    with pytest.raises(phone_numbers.PhoneNumberError) as refused:
        phone_numbers.check_production(phone_numbers.parse(numbers), graph.graph_url, TOKEN)
    assert "refuses to start in the production profile" in str(refused.value)
    assert reason in str(refused.value)


@pytest.fixture(scope="module")
def prod(tmp_path_factory):
    directory = tmp_path_factory.mktemp("prod-numbers")
    with private_postgres() as postgres, private_redis(directory / "redis") as redis_url:
        env = production_env(
            postgres,
            redis_url,
            DELHI_SEWA_PROFILE="production",
            WHATSAPP_PHONE_NUMBERS=REAL_SETTING,
        )
        emulator_env = {"PHONE_NUMBERS": emulator_phone_numbers(numbers=REAL)}
        with running_stack(directory, production=env, emulator_env=emulator_env) as stack:
            yield stack


def replies(stack, number):
    messages = stack.emulator.conversation(wa_id=CITIZEN, phone_number_id=number)
    return [m for m in messages if m["direction"] == "out"]


def test_with_real_numbers_it_starts_and_answers_from_them(prod):
    for number in (MAIN, TRANSPORT):
        prod.emulator.citizen_says("hello", wa_id=CITIZEN, to=number)
        deadline = time.monotonic() + 120
        while not replies(prod, number) and time.monotonic() < deadline:
            time.sleep(0.25)
        assert replies(prod, number), f"no reply from {number}"
    for emulator_id in ("100001", "100002"):
        assert not replies(prod, emulator_id)


def channel_settings(monkeypatch, profile: str | None) -> Settings:
    for name, value in (("WHATSAPP_APP_SECRET", APP_SECRET), ("WHATSAPP_TOKEN", TOKEN)):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN)
    if profile is not None:
        monkeypatch.setenv("WHATSAPP_PHONE_NUMBERS", REAL_SETTING)
    if profile is None:
        monkeypatch.delenv("DELHI_SEWA_PROFILE", raising=False)
    else:
        monkeypatch.setenv("DELHI_SEWA_PROFILE", profile)
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    return Settings.from_credentials(credentials["connectors.whatsapp.WhatsAppInput"])


def test_in_production_broadcasts_and_notices_go_out_from_the_real_numbers(monkeypatch):
    settings = channel_settings(monkeypatch, "production")
    assert settings.numbers == REAL
    assert settings.main_number == MAIN
    assert settings.department_number("transport") == TRANSPORT
    assert settings.department_number("revenue") is None  # the main number then


def test_make_run_keeps_the_emulator_numbers(monkeypatch):
    monkeypatch.delenv("WHATSAPP_PHONE_NUMBERS", raising=False)
    settings = channel_settings(monkeypatch, None)
    assert settings.department_number("revenue") == "100003"
