"""A live conversation stream stops when what it shows stops being the officer's
(issue 13, item 10): the conversation is handed to another department, or the officer
is disabled while the page is open. Real dashboard process, Rasa's real broker table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from rasa.shared.core.events import SlotSet

from dashboard.db import Database
from dashboard.users import set_disabled
from tests.support.dashboard import Dashboard, running_dashboard
from tests.test_dashboard_conversations import Rasa, events, fake_channel

CITIZEN, OTHER = "919810000031", "919810000032"


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Dashboard, Rasa]]:
    directory = tmp_path_factory.mktemp("stream-visibility")
    rasa = Rasa(directory / "events.db")
    with (
        fake_channel() as channel,
        running_dashboard(
            directory,
            CHANNEL_URL=channel.url,
            EVENTS_DB_URL=f"sqlite:///{directory / 'events.db'}",
        ) as dash,
    ):
        dash.add_user("asha", "officer", departments=["revenue"], name="Asha Verma")
        dash.add_user("ravi", "officer", departments=["revenue"], name="Ravi Kumar")
        for citizen in (CITIZEN, OTHER):
            rasa.citizen(citizen, "income certificate chahiye", "apply_service")
            rasa.publish(citizen, SlotSet("service", "income_certificate"))
        yield dash, rasa


def names_until_end(response: requests.Response, seconds: float = 20) -> list[str]:
    """Event names the stream sends until it ends (or ``seconds`` of events pass)."""
    import time

    deadline = time.monotonic() + seconds
    seen = []
    for name, _ in events(response):
        seen.append(name)
        if name == "gone" or time.monotonic() > deadline:
            break
    return seen


def test_the_transcript_stream_stops_when_the_conversation_goes_to_another_department(
    system: Any,
) -> None:
    dash, rasa = system
    asha = dash.sign_in("asha")
    path = f"{dash.url}/conversations/{CITIZEN}"
    assert asha.get(path, timeout=10).status_code == 200
    with asha.get(f"{path}/stream", stream=True, timeout=30) as response:
        stream = events(response)
        name, first = next(stream)
        assert name == "conversation" and first["messages"]
        # the citizen now wants a driving licence: the conversation is Transport's
        rasa.publish(CITIZEN, SlotSet("service", "driving_licence"))
        seen = names_until_end(response)
    assert seen[-1] == "gone", seen  # nothing more of it reaches Asha's screen
    assert asha.get(path, timeout=10).status_code == 403  # and the page reloads into this


def test_streams_stop_when_the_officer_is_disabled(system: Any) -> None:
    dash, _ = system
    ravi = dash.sign_in("ravi")
    with ravi.get(f"{dash.url}/conversations/stream", stream=True, timeout=30) as response:
        stream = events(response)
        name, first = next(stream)
        assert name == "conversations" and OTHER in [r["wa_id"] for r in first["rows"]]
        db = Database(dash.db_url)
        try:
            set_disabled(db, "ravi")
        finally:
            db.dispose()
        seen = names_until_end(response)
    assert seen[-1] == "gone", seen
