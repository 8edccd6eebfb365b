"""Rasa patched for production (connectors/rasa_speedups): a failing tracker database is
not hidden by FailSafeTrackerStore, and the SQL event broker gets a turn in one commit."""

import json

import pytest
import sqlalchemy as sa
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.exc import OperationalError

from connectors import rasa_speedups


class DatabaseDown(InMemoryTrackerStore):
    async def retrieve(self, sender_id):
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    async def retrieve_full_tracker(self, sender_id):
        return await self.retrieve(sender_id)

    async def save(self, tracker):
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))


@pytest.fixture
def store():
    rasa_speedups.install()
    return FailSafeTrackerStore(DatabaseDown(Domain.empty()))


async def test_a_failing_retrieve_raises_instead_of_starting_a_new_conversation(store, caplog):
    with pytest.raises(OperationalError):
        await store.retrieve("919800000001")
    with pytest.raises(OperationalError):
        await store.retrieve_full_tracker("919800000001")
    assert "tracker_store.unavailable operation=retrieve" in caplog.text


async def test_a_failing_save_raises_instead_of_keeping_the_turn_in_memory(store):
    tracker = DialogueStateTracker.from_events("919800000001", [UserUttered("hello")])
    with pytest.raises(OperationalError):
        await store.save(tracker)
    # nothing went to a hidden in-memory store that would answer the next retrieve
    assert store._fallback_tracker_store is None


async def test_a_working_store_is_used_as_before():
    rasa_speedups.install()
    store = FailSafeTrackerStore(InMemoryTrackerStore(Domain.empty()))
    await store.save(DialogueStateTracker.from_events("c1", [UserUttered("hello")]))
    tracker = await store.retrieve("c1")
    assert tracker is not None and tracker.latest_message.text == "hello"


async def test_a_turns_events_reach_the_sql_event_broker_in_one_transaction(tmp_path):
    rasa_speedups.install()
    broker = SQLEventBroker(db=str(tmp_path / "events.db"))
    commits = []
    sa.event.listen(broker.engine, "commit", lambda connection: commits.append(1))
    store = InMemoryTrackerStore(Domain.empty(), event_broker=broker)
    tracker = DialogueStateTracker.from_events(
        "919800000001", [UserUttered("hello"), ActionExecuted("action_listen"), BotUttered("hi")]
    )
    await store.save(tracker)
    with broker.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT sender_id, data FROM events ORDER BY id")).all()
    assert [json.loads(row.data)["event"] for row in rows] == ["user", "action", "bot"]
    assert {row.sender_id for row in rows} == {"919800000001"}
    assert len(commits) == 1
