"""Live conversations, human handoff and analytics pages of the real dashboard process,
fed by Rasa's real SQL event broker table, against a stand-in for the channel's
internal API (docs/internal-apis.md §2) that records what the dashboard asked."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from rasa.core.brokers.sql import SQLEventBroker
from rasa.shared.core.events import (
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    SlotSet,
    UserUttered,
)
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from sqlalchemy import select

from dashboard.channel_client import ChannelClient
from dashboard.db import AuditEntry, Database
from dashboard.handoffs import release_disabled
from dashboard.users import set_disabled
from tests.support.dashboard import INTERNAL_TOKEN, Dashboard, running_dashboard

REVENUE_CITIZEN, TRANSPORT_CITIZEN = "919810000001", "919810000002"
PENSION_CITIZEN, TRIAGE_CITIZEN = "919810000011", "919810000012"
PENSION = "मुझे किसी अधिकारी से बात करनी है, मेरा पेंशन 3 महीने से नहीं आया"
HOLDER = ("officer_id", "officer_name", "department")


class FakeChannel:
    """Answers the internal API like the channel; ``answers[path]`` overrides (status, body)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any], str]] = []
        self.answers: dict[str, tuple[int, dict[str, Any]]] = {}
        self.handoffs: list[dict[str, Any]] = []
        channel = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                path = self.path.removeprefix("/webhooks/whatsapp/internal")
                channel.calls.append((method, path, body, self.headers["Authorization"]))
                if path in channel.answers:
                    self._answer(*channel.answers[path])
                elif path == "/handoffs":
                    self._answer(200, {"handoffs": channel.handoffs})
                elif path == "/handoff":
                    taken = body["action"] in ("take", "reassign")
                    self._answer(200, {"status": "taken" if taken else "released"})
                    others = [h for h in channel.handoffs if h["wa_id"] != body["wa_id"]]
                    if taken:
                        held = {k: body[k] for k in ("wa_id", *HOLDER)}
                        since = {"since": "2026-12-04T10:00:00Z", "since_epoch": time.time()}
                        channel.handoffs = [*others, {**held, **since}]
                    else:
                        channel.handoffs = others
                else:
                    self._answer(200, {"message_id": "wamid.officer1"})

            def do_GET(self) -> None:  # noqa: N802
                self._handle("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._handle("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/whatsapp/internal"

    def posted(self, path: str) -> list[dict[str, Any]]:
        return [body for method, p, body, _ in self.calls if method == "POST" and p == path]


@contextlib.contextmanager
def fake_channel() -> Iterator[FakeChannel]:
    channel = FakeChannel()
    thread = threading.Thread(target=channel.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield channel
    finally:
        channel.server.shutdown()
        channel.server.server_close()


class Rasa:
    """Publishes to the broker table exactly as Rasa's tracker store does."""

    def __init__(self, path: Path) -> None:
        self.broker = SQLEventBroker(db=str(path))

    def publish(self, sender_id: str, *events: Any) -> None:
        for event in events:
            self.broker.publish({"sender_id": sender_id, **event.as_dict()})

    def citizen(self, sender_id: str, words: str, intent: str, department: str = "") -> None:
        metadata = {"department": department, "phone_number_id": "100001"}
        self.publish(
            sender_id, UserUttered(words, {"name": intent, "confidence": 0.9}, metadata=metadata)
        )


@pytest.fixture(scope="module")
def system(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Dashboard, FakeChannel, Rasa]]:
    directory = tmp_path_factory.mktemp("dashboard")
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
        dash.add_user("tarun", "officer", departments=["transport"], name="Tarun Singh")
        dash.add_user("meena", "officer", departments=["social_welfare"], name="Meena Rao")
        dash.add_user("kiran", "officer", departments=["social_welfare"], name="Kiran Das")
        dash.add_user(
            "sunita", "supervisor", departments=["revenue", "social_welfare"], name="Sunita Jain"
        )
        dash.add_user("vijay", "supervisor", departments=["transport"], name="Vijay Pal")
        dash.add_user("hari", "helpdesk", name="Hari Om")
        dash.add_user("root", "admin", name="Admin")
        rasa.citizen(REVENUE_CITIZEN, "income certificate chahiye", "apply_service")
        rasa.publish(REVENUE_CITIZEN, SlotSet("language", "hi"))
        rasa.publish(REVENUE_CITIZEN, SlotSet("service", "income_certificate"))
        yield dash, channel, rasa


def events(response: requests.Response) -> Iterator[tuple[str, Any]]:
    """Server-sent events of a streamed response, as (event name, JSON data)."""
    name = ""
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            yield name, json.loads(line[6:])


def wait_for_event(stream: Iterator[tuple[str, Any]], predicate: Any, seconds: float = 10) -> Any:
    deadline = time.monotonic() + seconds
    for _, data in stream:
        if predicate(data):
            return data
        assert time.monotonic() < deadline, "the stream never showed it"
    raise AssertionError("the stream ended")


def test_the_list_updates_live_when_a_citizen_writes(system: Any) -> None:
    dash, _, rasa = system
    asha = dash.sign_in("asha")
    page = asha.get(f"{dash.url}/conversations", timeout=10)
    assert page.status_code == 200
    assert "+91•••••0001" in page.text and REVENUE_CITIZEN not in page.text.split("href")[0]

    with asha.get(f"{dash.url}/conversations/stream", stream=True, timeout=20) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        stream = events(response)
        first = wait_for_event(stream, lambda d: True)
        assert [r["wa_id"] for r in first["rows"]] == [REVENUE_CITIZEN]
        assert first["rows"][0]["department_names"] == ["Revenue Department"]

        # a second citizen of Revenue asks for a human; one of Transport is not Asha's
        rasa.citizen("919810000003", "mujhe kisi insaan se baat karni hai", "talk_to_human",
                     department="revenue")  # fmt: skip
        rasa.citizen(TRANSPORT_CITIZEN, "licence renew", "apply_service", department="transport")
        data = wait_for_event(stream, lambda d: len(d["rows"]) == 2)
    newest = data["rows"][0]
    assert newest["wa_id"] == "919810000003" and newest["human_requested"]
    assert newest["waiting_seconds"] is not None
    assert TRANSPORT_CITIZEN not in [r["wa_id"] for r in data["rows"]]


def test_an_officer_of_another_department_is_refused_and_it_is_audited(system: Any) -> None:
    dash, _, _ = system
    tarun = dash.sign_in("tarun")
    refused = tarun.get(f"{dash.url}/conversations/{REVENUE_CITIZEN}", timeout=10)
    assert refused.status_code == 403
    stream = tarun.get(f"{dash.url}/conversations/{REVENUE_CITIZEN}/stream", timeout=10)
    assert stream.status_code == 403
    take = dash.post(tarun, f"/conversations/{REVENUE_CITIZEN}/take", {}, page="/conversations")
    assert take.status_code == 403
    assert tarun.get(f"{dash.url}/conversations/{'9' * 12}", timeout=10).status_code == 404

    db = Database(dash.db_url)
    try:
        rows = db.run(
            lambda s: [
                (e.username, e.action, e.subject)
                for e in s.execute(select(AuditEntry).where(AuditEntry.username == "tarun"))
                .scalars()
                .all()
            ]
        )
    finally:
        db.dispose()
    assert ("tarun", "access_denied", REVENUE_CITIZEN) in rows
    assert not [r for r in rows if r[1] == "conversation.view"]


def test_take_over_reply_and_hand_back_go_to_the_channel(system: Any) -> None:
    dash, channel, rasa = system
    asha = dash.sign_in("asha")
    page_path = f"/conversations/{REVENUE_CITIZEN}"
    page = asha.get(f"{dash.url}{page_path}", timeout=10)
    assert "income certificate chahiye" in page.text and "Take over" in page.text

    taken = dash.post(asha, f"{page_path}/take", {}, page=page_path)
    assert taken.status_code == 200 and "You have taken over this conversation" in taken.text
    [take] = channel.posted("/handoff")
    assert take == {
        "wa_id": REVENUE_CITIZEN,
        "action": "take",
        "officer_id": "asha",
        "officer_name": "Asha Verma",
        "department": "revenue",
    }
    assert {auth for *_, auth in channel.calls} == {f"Bearer {INTERNAL_TOKEN}"}
    assert "Taken over by" in taken.text and "Hand back" in taken.text

    # the channel records the pause and the officer's message; the transcript shows them live
    with asha.get(f"{dash.url}{page_path}/stream", stream=True, timeout=20) as response:
        stream = events(response)
        sent = dash.post(asha, f"{page_path}/reply", {"text": "Namaste, main Asha."},
                         page=page_path)  # fmt: skip
        assert sent.status_code == 200 and "Your reply was sent" in sent.text
        rasa.publish(
            REVENUE_CITIZEN,
            ConversationPaused(),
            BotUttered("Namaste, main Asha.", metadata={"officer_name": "Asha Verma"}),
        )
        data = wait_for_event(stream, lambda d: any(m["kind"] == "officer" for m in d["messages"]))
    [officer] = [m for m in data["messages"] if m["kind"] == "officer"]
    assert officer["officer_name"] == "Asha Verma" and officer["text"] == "Namaste, main Asha."
    assert data["summary"]["handed_over"]
    assert channel.posted("/send") == [
        {
            "wa_id": REVENUE_CITIZEN,
            "text": "Namaste, main Asha.",
            "officer_id": "asha",
            "officer_name": "Asha Verma",
            "department": "revenue",
        }
    ]

    released = dash.post(asha, f"{page_path}/release", {}, page=page_path)
    assert released.status_code == 200 and "back with the assistant" in released.text
    assert channel.posted("/handoff")[-1]["action"] == "release"


def test_channel_refusals_and_outages_are_shown_clearly(system: Any) -> None:
    dash, channel, _ = system
    asha = dash.sign_in("asha")
    page_path = f"/conversations/{REVENUE_CITIZEN}"
    channel.answers["/handoff"] = (
        409,
        {"error": "taken_by_other", "message": "held by officer tarun"},
    )
    try:
        refused = dash.post(asha, f"{page_path}/take", {}, page=page_path)
    finally:
        del channel.answers["/handoff"]
    assert refused.status_code == 409
    assert "Another officer has already taken over this conversation" in refused.text

    channel.answers["/send"] = (503, {"error": "whatsapp_unavailable", "message": "retry later"})
    try:
        failed = dash.post(asha, f"{page_path}/reply", {"text": "hello"}, page=page_path)
    finally:
        del channel.answers["/send"]
    assert failed.status_code == 502 and "retry later" in failed.text
    empty = dash.post(asha, f"{page_path}/reply", {"text": "  "}, page=page_path)
    assert empty.status_code == 400 and "Write a reply" in empty.text


def test_analytics_charts_and_the_training_data_export(system: Any) -> None:
    dash, _, rasa = system
    rasa.citizen(REVENUE_CITIZEN, "mera aadhaar 2345 6789 0124 kho gaya", "nlu_fallback",
                 department="revenue")  # fmt: skip
    asha = dash.sign_in("asha")
    deadline = time.monotonic() + 30  # the feed task reads the event; slow under load
    while True:
        page = asha.get(f"{dash.url}/analytics", timeout=10)
        if "kho gaya" in page.text or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert page.status_code == 200
    assert page.text.count("<svg") == 6
    assert "mera aadhaar XXXX-XXXX-0124 kho gaya" in page.text and "6789" not in page.text
    exported = asha.get(f"{dash.url}/analytics/misunderstood.yml", timeout=10)
    assert exported.headers["Content-Disposition"].startswith("attachment")
    examples = RasaYAMLReader().reads(exported.text).intent_examples
    assert [e.get("text") for e in examples] == ["mera aadhaar XXXX-XXXX-0124 kho gaya"]
    # Transport's officer does not see Revenue's citizens' messages
    tarun = dash.sign_in("tarun")
    assert "kho gaya" not in tarun.get(f"{dash.url}/analytics/misunderstood.yml", timeout=10).text


# --------------------------------------------------------------------------- handoff (issue 14)


def pension_request(rasa: Rasa) -> None:
    """On the main number, a request for an officer actions/handoff.py routed to Social
    Welfare; and one it could not place (the triage queue)."""
    rasa.citizen(PENSION_CITIZEN, PENSION, "talk_to_human")
    rasa.publish(
        PENSION_CITIZEN,
        SlotSet("human_requested", True),
        SlotSet("handoff_department", "social_welfare"),
    )
    rasa.citizen(TRIAGE_CITIZEN, "kisi insaan se baat karao", "talk_to_human")
    rasa.publish(TRIAGE_CITIZEN, SlotSet("human_requested", True))


def shown_to(dash: Dashboard, username: str, wa_id: str, seconds: float = 10) -> bool:
    """Does ``username``'s live list show the conversation (within ``seconds``)?"""
    browser = dash.sign_in(username)
    deadline = time.monotonic() + seconds
    while True:
        if f'data-wa-id="{wa_id}"' in browser.get(f"{dash.url}/conversations", timeout=10).text:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.3)


def test_a_request_reaches_its_department_and_the_triage_queue_only(system: Any) -> None:
    dash, _, rasa = system
    pension_request(rasa)
    assert shown_to(dash, "meena", PENSION_CITIZEN)  # Social Welfare's officer
    assert shown_to(dash, "hari", TRIAGE_CITIZEN)  # the helpdesk sees triage
    assert shown_to(dash, "vijay", TRIAGE_CITIZEN)  # and so do supervisors
    # the feed has both by now: what these lists lack, they will not show later
    assert not shown_to(dash, "tarun", PENSION_CITIZEN, 0)  # not every department's
    assert not shown_to(dash, "tarun", TRIAGE_CITIZEN, 0)  # no officer sees triage
    assert not shown_to(dash, "hari", PENSION_CITIZEN, 0)


def test_taking_over_a_main_number_request_never_locks_the_officer_out(system: Any) -> None:
    dash, channel, rasa = system
    pension_request(rasa)
    meena = dash.sign_in("meena")
    page_path = f"/conversations/{PENSION_CITIZEN}"
    assert meena.get(f"{dash.url}{page_path}", timeout=10).status_code == 200

    taken = dash.post(meena, f"{page_path}/take", {}, page=page_path)
    assert taken.status_code == 200, taken.text
    # she speaks for the conversation's department, from the department's handoff
    assert channel.posted("/handoff")[-1] == {
        "wa_id": PENSION_CITIZEN,
        "action": "take",
        "officer_id": "meena",
        "officer_name": "Meena Rao",
        "department": "social_welfare",
    }
    # what the channel records: the pause names her; the request is no longer pending
    holder = {"officer_id": "meena", "officer_name": "Meena Rao", "department": "social_welfare"}
    rasa.publish(PENSION_CITIZEN, ConversationPaused(metadata=holder))
    deadline = time.monotonic() + 10
    while (
        "took the conversation over"
        not in (page := meena.get(f"{dash.url}{page_path}", timeout=10)).text
    ):
        assert page.status_code == 200, page.status_code  # before the fix: 403 here
        assert time.monotonic() < deadline, "the take-over never reached the transcript"
        time.sleep(0.3)

    sent = dash.post(meena, f"{page_path}/reply", {"text": "Pension ki jaanch kar rahi hoon."},
                     page=page_path)  # fmt: skip
    assert sent.status_code == 200 and "Your reply was sent" in sent.text
    released = dash.post(meena, f"{page_path}/release", {}, page=page_path)
    assert released.status_code == 200 and "back with the assistant" in released.text
    rasa.publish(PENSION_CITIZEN, ConversationResumed(metadata={"reason": "released"}))


def test_a_supervisor_speaks_for_the_conversations_department_not_her_own(system: Any) -> None:
    dash, channel, rasa = system
    pension_request(rasa)
    channel.handoffs = []
    sunita = dash.sign_in("sunita")  # Revenue first, then Social Welfare
    page_path = f"/conversations/{PENSION_CITIZEN}"
    taken = dash.post(sunita, f"{page_path}/take", {}, page=page_path)
    assert taken.status_code == 200
    assert channel.posted("/handoff")[-1]["department"] == "social_welfare"  # not revenue
    dash.post(sunita, f"{page_path}/release", {}, page=page_path)

    # the helpdesk takes a triage request over as the helpdesk (no department)
    hari = dash.sign_in("hari")
    triage_path = f"/conversations/{TRIAGE_CITIZEN}"
    assert dash.post(hari, f"{triage_path}/take", {}, page=triage_path).status_code == 200
    assert channel.posted("/handoff")[-1]["department"] == ""
    dash.post(hari, f"{triage_path}/release", {}, page=triage_path)


def test_the_conversation_page_shows_titles_a_masked_number_and_ist(system: Any) -> None:
    dash, _, rasa = system
    citizen = "919810000021"
    rasa.citizen(citizen, "income certificate", "apply_service", department="revenue")
    rasa.publish(citizen, SlotSet("language", "en"))
    at = datetime(2026, 12, 4, 10, 0, 5, tzinfo=timezone.utc).timestamp()  # 15:30:05 IST
    rasa.publish(
        citizen,
        BotUttered(
            "Shall I file it?", data={"buttons": [{"title": "Yes, file", "payload": "/affirm"}]}
        ),
        UserUttered("/affirm", {"name": "affirm", "confidence": 1.0}, timestamp=at),
        UserUttered('/csc_confirm{"csc_code": "836362"}', {"name": "csc_confirm"}, timestamp=at),
    )
    asha = dash.sign_in("asha")
    deadline = time.monotonic() + 10
    while (
        "Confirm" not in (page := asha.get(f"{dash.url}/conversations/{citizen}", timeout=10)).text
    ):
        assert time.monotonic() < deadline, page.text[-2000:]
        time.sleep(0.3)
    html = page.text
    assert "Yes, file" in html and "/affirm" not in html
    assert "836362" not in html and "csc_confirm{" not in html
    header = html.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert "+91•••••0021" in header and citizen not in header
    assert "04 Dec 15:30:05 IST" in html and " UTC" not in html


def test_supervisors_see_stale_handoffs_and_release_or_reassign_them(system: Any) -> None:
    dash, channel, _ = system
    old = time.time() - 3600
    channel.handoffs = [
        {"wa_id": PENSION_CITIZEN, "officer_id": "meena", "officer_name": "Meena Rao",
         "department": "social_welfare", "since": "2026-12-04T09:00:00Z", "since_epoch": old},
        {"wa_id": TRANSPORT_CITIZEN, "officer_id": "tarun", "officer_name": "Tarun Singh",
         "department": "transport", "since": "2026-12-04T09:00:00Z", "since_epoch": old},
    ]  # fmt: skip
    sunita = dash.sign_in("sunita")
    listed = sunita.get(f"{dash.url}/conversations", timeout=10)
    assert "1 handoff(s) held 15 minutes or longer" in listed.text  # hers only
    page = sunita.get(f"{dash.url}/handoffs", timeout=10)
    assert page.status_code == 200
    assert f'data-wa-id="{PENSION_CITIZEN}" class="stale"' in page.text
    assert TRANSPORT_CITIZEN not in page.text  # Transport's are not hers
    assert "Kiran Das" in page.text and "Tarun Singh ·" not in page.text  # reassign choices

    # another department's supervisor may not end it
    vijay = dash.sign_in("vijay")
    refused = dash.post(vijay, f"/handoffs/{PENSION_CITIZEN}/release", {}, page="/handoffs")
    assert refused.status_code == 403

    given = dash.post(sunita, f"/handoffs/{PENSION_CITIZEN}/reassign", {"officer": "kiran"},
                      page="/handoffs")  # fmt: skip
    assert given.status_code == 200 and "given to the other officer" in given.text
    assert channel.posted("/handoff")[-1] == {
        "wa_id": PENSION_CITIZEN,
        "action": "reassign",
        "by": "sunita",
        "officer_id": "kiran",
        "officer_name": "Kiran Das",
        "department": "social_welfare",
    }
    wrong = dash.post(sunita, f"/handoffs/{PENSION_CITIZEN}/reassign", {"officer": "tarun"},
                      page="/handoffs")  # fmt: skip
    assert wrong.status_code == 400  # Transport's officer cannot answer for Social Welfare

    released = dash.post(sunita, f"/handoffs/{PENSION_CITIZEN}/release", {}, page="/handoffs")
    assert released.status_code == 200 and "The handoff was ended" in released.text
    release = channel.posted("/handoff")[-1]
    assert (release["action"], release["override"], release["reason"]) == (
        "release",
        True,
        "supervisor",
    )

    # an administrator sees and may end every department's
    root = dash.sign_in("root")
    assert TRANSPORT_CITIZEN in root.get(f"{dash.url}/handoffs", timeout=10).text
    channel.handoffs = []


def test_disabling_an_account_releases_its_handoffs(system: Any) -> None:
    dash, channel, _ = system
    dash.add_user("leaver", "officer", departments=["social_welfare"], name="Leaving Officer")
    channel.handoffs = [
        {"wa_id": PENSION_CITIZEN, "officer_id": "leaver", "officer_name": "Leaving Officer",
         "department": "social_welfare", "since": "2026-12-04T09:00:00Z", "since_epoch": 0},
        {"wa_id": TRANSPORT_CITIZEN, "officer_id": "tarun", "officer_name": "Tarun Singh",
         "department": "transport", "since": "2026-12-04T09:00:00Z", "since_epoch": 0},
    ]  # fmt: skip
    root = dash.sign_in("root")
    done = dash.post(root, "/users/leaver", {"change": "disable"}, page="/users")
    assert done.status_code == 200
    released = [b for b in channel.posted("/handoff") if b.get("reason") == "account_disabled"]
    assert [(b["wa_id"], b["action"], b["override"]) for b in released] == [
        (PENSION_CITIZEN, "release", True)
    ]
    assert [h["officer_id"] for h in channel.handoffs] == ["tarun"]  # others' stay
    channel.handoffs = []


def test_an_account_disabled_from_the_command_line_loses_its_handoffs_at_the_next_sweep(
    system: Any,
) -> None:
    dash, channel, _ = system
    dash.add_user("cli-leaver", "officer", departments=["revenue"], name="CLI Leaver")
    channel.handoffs = [
        {"wa_id": REVENUE_CITIZEN, "officer_id": "cli-leaver", "officer_name": "CLI Leaver",
         "department": "revenue", "since": "2026-12-04T09:00:00Z", "since_epoch": 0},
        {"wa_id": TRANSPORT_CITIZEN, "officer_id": "tarun", "officer_name": "Tarun Singh",
         "department": "transport", "since": "2026-12-04T09:00:00Z", "since_epoch": 0},
    ]  # fmt: skip
    db = Database(dash.db_url)
    client = ChannelClient(channel.url, INTERNAL_TOKEN, 5)

    async def sweep() -> list[str]:
        try:
            return await release_disabled(db, client)
        finally:
            await client.close()

    try:
        set_disabled(db, "cli-leaver")  # what `python -m dashboard.users disable` does
        assert asyncio.run(sweep()) == [REVENUE_CITIZEN]
    finally:
        db.dispose()
    assert [h["officer_id"] for h in channel.handoffs] == ["tarun"]
    channel.handoffs = []
