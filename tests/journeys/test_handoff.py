"""Talking to an officer, as the citizen and the officer meet it: the citizen writes on
the phone, the request reaches the right department's dashboard, the officer answers
from the dashboard and the answer arrives in the same chat; a handoff nobody answers
gives the citizen the assistant back, and so does typing "सहायक".

The system runs as `make run` wires it (tests/journeys/conftest.py) plus the department
dashboard reading the same event feed and calling the same channel. The timeout is
triggered "as of" a moment past it (``POST /handoffs/expire``), never waited for.
Timings go to results/handoff-timings.md.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.journeys.phone import Citizen
from tests.support.channel import INTERNAL_TOKEN
from tests.support.dashboard import Dashboard, csrf_of, running_dashboard

ROOT = Path(__file__).resolve().parents[2]
MAIN, SOCIAL_WELFARE = "100001", "100006"
PENSION = "मुझे किसी अधिकारी से बात करनी है, मेरा पेंशन 3 महीने से नहीं आया"
WAIT = 30.0
TIMINGS: dict[str, list[float]] = {}


@pytest.fixture(scope="module")
def dashboard(system: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    directory = tmp_path_factory.mktemp("handoff-dashboard")
    with running_dashboard(
        directory,
        backends_url=system.backend.url,
        CHANNEL_URL=system.channel_url,
        WHATSAPP_INTERNAL_TOKEN=INTERNAL_TOKEN,
        EVENTS_DB_URL=f"sqlite:///{system.events_db}",
        WHATSAPP_MEDIA_DIR=str(system.media_dir),
        BACKENDS_TIMEOUT_SECONDS="20",
    ) as running:
        running.add_user("meena", "officer", departments=["social_welfare"], name="Meena Rao")
        running.add_user("tarun", "officer", departments=["transport"], name="Tarun Singh")
        running.add_user("hari", "helpdesk", name="Hari Om")
        yield running
    _write_timings()


def _write_timings() -> None:
    if not TIMINGS:
        return
    lines = ["# Handoff timings (journeys, seconds)", "", "| step | n | median | max |"]
    lines.append("|---|---|---|---|")
    for step, values in TIMINGS.items():
        lines.append(
            f"| {step} | {len(values)} | {statistics.median(values):.2f} | {max(values):.2f} |"
        )
    out = ROOT / "results" / "handoff-timings.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def timed(step: str, started: float) -> float:
    """Record (and show with ``-s``) how long ``step`` took since ``started``."""
    took = time.monotonic() - started
    TIMINGS.setdefault(step, []).append(took)
    print(f"\n{step}: {took:.2f} s")
    return took


def until(condition: Callable[[], Any], what: str, seconds: float = WAIT) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {seconds:.0f} s"
        time.sleep(0.1)


class Officer:
    """An officer at the dashboard: a signed-in browser session submitting its forms."""

    def __init__(self, dashboard: Dashboard, username: str) -> None:
        self.dashboard = dashboard
        self.session = dashboard.sign_in(username)

    def page(self, path: str) -> requests.Response:
        return self.session.get(f"{self.dashboard.url}{path}", timeout=20)

    def lists(self, wa_id: str) -> bool:
        return f'data-wa-id="{wa_id}"' in self.page("/conversations").text

    def submit(self, wa_id: str, action: str, **fields: str) -> requests.Response:
        path = f"/conversations/{wa_id}"
        token = csrf_of(self.page(path).text)
        answer = self.session.post(
            f"{self.dashboard.url}{path}/{action}",
            data={"csrf_token": token, **fields},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text[-1500:]
        return answer


def consented(citizen: Callable[..., Citizen]) -> Citizen:
    """A citizen on the main number who greeted in Hindi and accepted the privacy notice."""
    phone = citizen()
    welcome = phone.says("नमस्ते")
    phone.taps(welcome[-1].buttons[0])
    return phone


def test_a_pension_complaint_reaches_social_welfare_and_the_answer_comes_in_the_same_chat(
    citizen: Callable[..., Citizen], dashboard: Dashboard
) -> None:
    phone = consented(citizen)
    meena, tarun = Officer(dashboard, "meena"), Officer(dashboard, "tarun")

    started = time.monotonic()
    answered = phone.says(PENSION)
    assert "अधिकारी" in phone.all_text(answered)  # told an officer will join, in Hindi
    until(lambda: meena.lists(phone.wa_id), "the request in Social Welfare's list")
    timed("request visible to the officer", started)
    assert not tarun.lists(phone.wa_id)  # not every department's officers

    phone_before = len(phone.inbox())
    meena.submit(phone.wa_id, "take")
    notice = phone.waits_for("समाज कल्याण विभाग के अधिकारी Meena Rao")
    assert notice.phone_number_id == MAIN  # the chat the citizen is in
    assert "*सहायक*" in notice.text  # and how to get the assistant back
    assert phone.inbox(SOCIAL_WELFARE) == []  # no second chat opened on the phone

    # reload, reply: the officer keeps the conversation (before: 403 after taking over)
    assert meena.page(f"/conversations/{phone.wa_id}").status_code == 200
    started = time.monotonic()
    meena.submit(phone.wa_id, "reply", text="नमस्ते, मैं आपकी पेंशन की जाँच कर रही हूँ।")
    reply = phone.waits_for("मैं आपकी पेंशन की जाँच कर रही हूँ")
    timed("reply delivered to the phone", started)
    assert reply.phone_number_id == MAIN and reply.text.startswith("समाज कल्याण विभाग")

    # the citizen answers the officer, not the assistant; the officer sees it live
    started = time.monotonic()
    assert phone.says("धन्यवाद, मेरा पेंशन नंबर SW-2291 है") == []
    until(
        lambda: "SW-2291" in meena.page(f"/conversations/{phone.wa_id}").text,
        "the citizen's answer in the transcript",
    )
    timed("answer visible to the officer", started)

    meena.submit(phone.wa_id, "release")
    phone.waits_for("अधिकारी ने बातचीत समाप्त कर दी है")
    assert len(phone.inbox()) > phone_before
    assert phone.says("मेरे आवेदन की स्थिति क्या है")  # the assistant answers again


def test_a_handoff_nobody_answers_gives_the_citizen_the_assistant_back(
    citizen: Callable[..., Citizen], dashboard: Dashboard, system: Any
) -> None:
    phone = consented(citizen)
    hari = Officer(dashboard, "hari")
    phone.says("मुझे किसी अधिकारी से बात करनी है")  # nothing says which department
    until(lambda: hari.lists(phone.wa_id), "the request in the helpdesk's triage queue")
    hari.submit(phone.wa_id, "take")
    phone.waits_for("दिल्ली सेवा हेल्पडेस्क के Hari Om")
    assert phone.says("हेलो? कोई है?") == []  # to the officer, who never answers

    listed = system.channel.call("GET", "handoffs").json()
    [held] = [h for h in listed["handoffs"] if h["wa_id"] == phone.wa_id]
    past = held["since_epoch"] + listed["timeout_seconds"] + 1
    expired = system.channel.call("POST", "handoffs/expire", {"as_of": past}).json()
    assert phone.wa_id in expired["expired"]
    back = phone.waits_for("अब दिल्ली सेवा सहायक फिर से आपकी मदद करेगा")
    assert back.phone_number_id == MAIN
    assert phone.says("मेरे आवेदन की स्थिति क्या है")  # the assistant answers again


def test_typing_sahayak_takes_the_citizen_back_to_the_assistant(
    citizen: Callable[..., Citizen], dashboard: Dashboard
) -> None:
    phone = consented(citizen)
    meena = Officer(dashboard, "meena")
    phone.says(PENSION)
    until(lambda: meena.lists(phone.wa_id), "the request in Social Welfare's list")
    meena.submit(phone.wa_id, "take")
    phone.waits_for("Meena Rao")

    started = time.monotonic()
    assert phone.says("सहायक") == []
    phone.waits_for("आप फिर से दिल्ली सेवा सहायक से बात कर रहे हैं")
    timed("way back to the assistant", started)
    assert "नागरिक ने सहायक को वापस माँगा" not in meena.page("/conversations").text
    until(
        lambda: (
            "The citizen asked for the assistant back"
            in meena.page(f"/conversations/{phone.wa_id}").text
        ),
        "the way back in the officer's transcript",
    )
    assert phone.says("मेरे आवेदन की स्थिति क्या है")  # the assistant answers again
