"""Exactly once: a citizen's message makes one turn, one set of replies and one payment
order, whatever dies when (issue 13, item 5).

In-process here: a Rasa stand-in that shares one tracker store between two channel
"processes" (two WhatsAppInput on one database), the first cancelled mid-turn as a
SIGKILL would leave it (no finish, no release). tests/test_fault_injection.py kills the
real Rasa with SIGKILL at each step of a turn.
"""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace

import pytest
import responses
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.api import reset_clients
from actions.tracking import ActionPayFee
from connectors.store import ChannelStore
from connectors.whatsapp import MAX_ATTEMPTS, Settings, WhatsAppInput
from tests.test_whatsapp_channel import CITIZEN, NUMBER, SECRET, FakeGraph, envelope, post, text

STAGES = ("after_parse", "after_send", "before_save", "after_save")


class Processor:
    """Rasa's MessageProcessor as far as the channel sees it: logs the message on the
    tracker, sends two replies, saves. ``hang_at`` makes the next turn stop at a stage
    for good (the test then cancels it: the process died there)."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.turns: list[str] = []
        self.hang_at: str | None = None
        self.seconds = 0.0
        self.reached = asyncio.Event()

    async def _stage(self, stage: str) -> None:
        if self.hang_at == stage:
            self.hang_at = None
            self.reached.set()
            await asyncio.Event().wait()  # until cancelled

    async def handle_message(self, message):
        self.turns.append(message.message_id)
        tracker = await self.agent.tracker_store.get_or_create_tracker(message.sender_id)
        tracker.update(UserUttered(message.text, message_id=message.message_id))
        await self._stage("after_parse")
        await asyncio.sleep(self.seconds)
        await message.output_channel.send_response(message.sender_id, {"text": "one"})
        await self._stage("after_send")
        await message.output_channel.send_response(message.sender_id, {"text": "two"})
        await self._stage("before_save")
        await self.agent.tracker_store.save(tracker)
        await self._stage("after_save")

    async def log_message(self, message, should_save_tracker=True):
        raise AssertionError("no handoff in these tests")


class Agent:
    def __init__(self) -> None:
        self.domain = Domain.empty()
        self.lock_store = InMemoryLockStore()
        self.tracker_store = InMemoryTrackerStore(self.domain)
        self.processor = Processor(self)

    def is_ready(self) -> bool:
        return True

    async def handle_message(self, message):  # Rasa's own handler: no wamid check
        async with self.lock_store.lock(message.sender_id):
            await self.processor.handle_message(message)


def process(tmp_path, agent, stuck_after=60.0):
    """One Rasa process's channel on the shared database, wired to the shared agent."""
    settings = Settings(
        app_secret=SECRET,
        verify_token="verify-me",
        access_token="token",
        graph_url="http://graph.test/v21.0",
        db_url=f"sqlite:///{tmp_path / 'wa.db'}",
        media_dir=tmp_path / "media",
        numbers={NUMBER: ""},
        reorder_window_seconds=0.01,
        stuck_after_seconds=stuck_after,
    )
    channel = WhatsAppInput(settings)
    channel.graph = FakeGraph()
    channel.app = SimpleNamespace(ctx=SimpleNamespace(agent=agent))
    return channel


async def idle(*channels):
    for _ in range(500):
        await asyncio.sleep(0.02)
        if all(t.done() for c in channels for t in c._workers.values()):
            return
    raise AssertionError("workers still busy")


def user_turns(agent, wamid):
    tracker = agent.tracker_store.store.get(CITIZEN)
    if tracker is None:
        return 0
    events = agent.tracker_store.deserialise_tracker(CITIZEN, tracker).events
    return sum(isinstance(e, UserUttered) and e.message_id == wamid for e in events)


def sent_texts(*channels):
    return [body["text"]["body"] for c in channels for _, body in c.graph.sent]


@pytest.mark.parametrize("stage", STAGES)
async def test_a_process_that_dies_mid_turn_leaves_one_turn_and_one_set_of_replies(tmp_path, stage):
    agent = Agent()
    first, second = process(tmp_path, agent), process(tmp_path, agent)
    agent.processor.hang_at = stage
    await post(first, envelope([text("fee bharna hai", mid="wamid.k1")]), agent.handle_message)
    await asyncio.wait_for(agent.processor.reached.wait(), 10)
    for task in first._workers.values():  # the process dies: nothing after this point runs
        task.cancel()
    await asyncio.sleep(0.05)
    assert first.store.inbox_state("wamid.k1") == "processing"
    # another process finds the claim stale and takes the message over
    assert second.store.requeue_stuck(-1) == 1
    second.schedule(CITIZEN, agent.handle_message)
    await idle(second)
    assert second.store.inbox_state("wamid.k1") == "done"
    assert sent_texts(first, second) == ["one", "two"], "a reply lost or sent twice"
    assert user_turns(agent, "wamid.k1") == 1, "the turn is missing or saved twice"
    ran_again = stage != "after_save"  # a saved turn is recognised by its wamid
    assert agent.processor.turns == ["wamid.k1"] * (2 if ran_again else 1)


async def test_a_long_turn_is_not_handed_to_a_second_process(tmp_path):
    """The worker renews its claim: a turn longer than stuck_after runs once (before:
    the other process's sweep re-queued it and ran it a second time at once)."""
    agent = Agent()
    agent.processor.seconds = 1.5
    first = process(tmp_path, agent, stuck_after=0.4)
    second = process(tmp_path, agent, stuck_after=0.4)
    await post(first, envelope([text("status?", mid="wamid.long")]), agent.handle_message)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:  # the other process sweeps, as _sweep does
        second.store.requeue_stuck(second.settings.stuck_after_seconds)
        for wa_id in second.store.pending_citizens():
            second.schedule(wa_id, agent.handle_message)
        await asyncio.sleep(0.1)
    await idle(first, second)
    assert agent.processor.turns == ["wamid.long"]
    assert sent_texts(first, second) == ["one", "two"]
    assert first.store.inbox_state("wamid.long") == "done"


def test_only_the_current_claim_can_finish_a_message(tmp_path):
    store = ChannelStore(f"sqlite:///{tmp_path / 'wa.db'}")
    now = int(time.time())
    row = {"message_id": "wamid.c1", "wa_id": CITIZEN, "phone_number_id": NUMBER}
    store.add_inbound([{**row, "timestamp": now, "body": "{}"}])
    old = store.next_pending(CITIZEN)
    assert old is not None and old["attempts"] == 1
    assert store.heartbeat("wamid.c1", old["attempts"])
    store.requeue_stuck(-1)  # its process looked dead
    new = store.next_pending(CITIZEN)
    assert new is not None and new["attempts"] == 2
    assert not store.heartbeat("wamid.c1", old["attempts"])
    assert not store.finish("wamid.c1", "done", old["attempts"])  # the late worker
    assert store.inbox_state("wamid.c1") == "processing"
    assert store.finish("wamid.c1", "done", new["attempts"])
    assert store.inbox_state("wamid.c1") == "done"


async def test_a_message_that_kills_its_process_ends_failed_with_one_apology(tmp_path):
    """Claimed MAX_ATTEMPTS times and never finished (out of memory each time): it is
    not given to Rasa again; the citizen gets the apology once, even if the process
    dies again right after sending it."""
    agent = Agent()
    channel = process(tmp_path, agent)
    now = int(time.time())
    body = json.dumps({"kind": "text", "text": "poison", "timestamp": now})
    row = {"message_id": "wamid.p1", "wa_id": CITIZEN, "phone_number_id": NUMBER}
    channel.store.add_inbound([{**row, "timestamp": now, "body": body}])
    channel.store.touch_contact(CITIZEN, NUMBER, now)
    for _ in range(MAX_ATTEMPTS):  # each claim's process died mid-turn
        assert channel.store.next_pending(CITIZEN) is not None
        channel.store.requeue_stuck(-1)
    finished = channel.store.finish
    channel.store.finish = lambda *a, **k: False  # dies after the apology, before finishing
    channel.schedule(CITIZEN, agent.handle_message)
    await idle(channel)
    channel.store.finish = finished
    channel.store.requeue_stuck(-1)
    channel.schedule(CITIZEN, agent.handle_message)
    await idle(channel)
    assert agent.processor.turns == []
    assert channel.store.inbox_state("wamid.p1") == "failed"
    apologies = [t for t in sent_texts(channel) if "Sorry" in t]
    assert len(apologies) == 1


async def test_a_failed_attempt_does_not_resend_the_replies_already_sent(tmp_path, monkeypatch):
    """Rasa failed after sending (e.g. the tracker database went away at save): the
    retry sends nothing twice."""
    channel = process(tmp_path, Agent())
    channel.app = None  # the plain Rasa handler below
    calls = []

    async def rasa(message):
        calls.append(message.message_id)
        await message.output_channel.send_response(message.sender_id, {"text": "one"})
        await message.output_channel.send_response(message.sender_id, {"text": "two"})
        if len(calls) == 1:
            raise RuntimeError("tracker store unavailable")

    real_sleep = asyncio.sleep
    monkeypatch.setattr("connectors.whatsapp.asyncio.sleep", lambda s: real_sleep(min(s, 0.05)))
    await post(channel, envelope([text("hello", mid="wamid.r1")]), rasa)
    await idle(channel)
    assert calls == ["wamid.r1", "wamid.r1"]
    assert sent_texts(channel) == ["one", "two"]
    assert channel.store.inbox_state("wamid.r1") == "done"


# --- the payment order: its idempotency key comes from the message ------------------------

BASE = "http://127.0.0.1:8000"


def pay_tracker(wamid: str | None) -> Tracker:
    events = [{"event": "user", "text": "fee bharna hai", "message_id": wamid, "metadata": {}}]
    latest = {"text": "fee bharna hai", "intent": {"name": "pay_fee"}, "entities": []}
    return Tracker(CITIZEN, {}, latest, events, False, None, {}, "action_listen")


@responses.activate
async def test_the_same_message_asks_for_the_same_payment_order():
    reset_clients()
    application = {
        "application_id": "APP-2026-000001",
        "status": "payment_pending",
        "paid": False,
        "fee": 100,
    }
    responses.get(f"{BASE}/edistrict/applications", json={"applications": [application]})
    order = {"order_id": "order_1", "amount": 100, "payment_url": "http://pay/1"}
    responses.post(f"{BASE}/payments/orders", json=order, status=201)
    for wamid in ("wamid.pay1", "wamid.pay1", "wamid.pay2"):
        await ActionPayFee().run(CollectingDispatcher(), pay_tracker(wamid), {})
    keys = [
        c.request.headers["Idempotency-Key"] for c in responses.calls if c.request.method == "POST"
    ]
    reset_clients()
    assert len(keys) == 3
    assert keys[0] == keys[1], "the same turn run again must not create a second order"
    assert keys[2] != keys[0], "another message is another request"


async def test_a_reply_whatsapp_accepted_while_the_database_restarts_is_not_sent_again(
    tmp_path, monkeypatch
):
    """The database goes away right after WhatsApp accepted a reply (a PostgreSQL
    restart): recording it is retried, so the turn's retry does not send it again."""
    from sqlalchemy.exc import OperationalError

    channel = process(tmp_path, Agent())
    channel.app = None
    record = channel.store.record_reply
    failures = {"left": 2}

    def flaky_record(key, message_id):
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("INSERT", {}, Exception("server closed the connection"))
        record(key, message_id)

    monkeypatch.setattr(channel.store, "record_reply", flaky_record)
    real_sleep = asyncio.sleep
    monkeypatch.setattr("connectors.whatsapp.asyncio.sleep", lambda s: real_sleep(min(s, 0.05)))
    calls = []

    async def rasa(message):
        calls.append(message.message_id)
        await message.output_channel.send_response(message.sender_id, {"text": "one"})
        await message.output_channel.send_response(message.sender_id, {"text": "two"})

    await post(channel, envelope([text("hello", mid="wamid.db1")]), rasa)
    await idle(channel)
    assert calls == ["wamid.db1"]
    assert sent_texts(channel) == ["one", "two"]
    assert channel.store.reply_sent("wamid.db1:0") and channel.store.reply_sent("wamid.db1:1")
