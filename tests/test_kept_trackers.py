"""A worker keeps the tracker it saved for the conversation's next turn
(connectors/rasa_patches.py, 7.): every retrieve must still return what Rasa's own
retrieve reads from the database, whoever wrote there since, and whatever failed."""

import time

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from connectors import rasa_patches

DOMAIN = Domain.load("domain.yml")
CITIZEN = "919800000042"


@pytest.fixture
def stores(tmp_path):
    """Two workers' tracker stores on one database."""
    rasa_patches.install()
    rasa_patches._kept.clear()
    db = str(tmp_path / "tracker.db")
    return (
        SQLTrackerStore(DOMAIN, dialect="sqlite", db=db),
        SQLTrackerStore(DOMAIN, dialect="sqlite", db=db),
    )


async def from_database(store, sender_id=CITIZEN):
    """What Rasa's retrieve reads, with nothing kept."""
    return await rasa_patches._rasa_retrieve(store, sender_id)


def as_dicts(tracker):
    return [e.as_dict() for e in tracker.events] if tracker is not None else None


async def a_turn(store, text, sender_id=CITIZEN):
    tracker = await store.get_or_create_tracker(sender_id)
    tracker.update(UserUttered(text, {"name": "greet", "confidence": 1.0}))
    tracker.update(ActionExecuted("utter_greet"))
    tracker.update(BotUttered(f"you said {text}"))
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    return tracker


async def test_the_next_turn_gets_the_saved_tracker_without_reading_its_events(stores):
    worker, _ = stores
    saved = await a_turn(worker, "namaste")
    again = await worker.retrieve(CITIZEN)
    assert again is saved  # kept, not rebuilt from the database
    assert as_dicts(again) == as_dicts(await from_database(worker))
    # and the next save stores exactly the new events, once
    await a_turn(worker, "dobara")
    assert as_dicts(await from_database(worker)) == as_dicts(await worker.retrieve(CITIZEN))
    assert [e.text for e in (await from_database(worker)).events if isinstance(e, UserUttered)] == [
        "namaste",
        "dobara",
    ]


async def test_a_turn_saved_by_another_worker_is_read_from_the_database(stores):
    worker, other = stores
    await a_turn(worker, "first")
    await other.retrieve(CITIZEN)
    await a_turn(other, "second, on the other worker")
    tracker = await worker.retrieve(CITIZEN)
    assert tracker.latest_message.text == "second, on the other worker"
    assert as_dicts(tracker) == as_dicts(await from_database(worker))


async def test_a_turn_that_failed_before_its_save_leaves_nothing_behind(stores):
    worker, _ = stores
    tracker = await a_turn(worker, "first")
    # the next turn changes the kept tracker, then fails (the action server died, say)
    tracker.update(UserUttered("lost turn", {"name": "greet", "confidence": 1.0}))
    tracker.update(SlotSet("language", "en"))
    again = await worker.retrieve(CITIZEN)
    assert again.latest_message.text == "first"
    assert again.get_slot("language") != "en"
    assert as_dicts(again) == as_dicts(await from_database(worker))


async def test_an_erased_conversation_is_not_answered_from_memory(stores):
    worker, _ = stores
    await a_turn(worker, "mera aadhaar 2345 6789 0123 hai")
    with worker.session_scope() as session:  # what connectors.conversation.erase does
        session.query(worker.SQLEvent).filter(worker.SQLEvent.sender_id == CITIZEN).delete()
        session.commit()
    assert await worker.retrieve(CITIZEN) is None


async def test_a_new_session_is_read_as_rasa_reads_it(stores):
    worker, _ = stores
    tracker = await a_turn(worker, "kal wali baat")
    time.sleep(0.01)  # Rasa finds the session by the SessionStarted event's timestamp
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    await worker.save(tracker)
    again = await worker.retrieve(CITIZEN)
    expected = await from_database(worker)
    assert as_dicts(again) == as_dicts(expected)
    assert not any(isinstance(e, UserUttered) for e in again.events)  # the old session's


async def test_a_failed_save_keeps_nothing(stores, monkeypatch):
    worker, _ = stores
    tracker = await a_turn(worker, "first")
    tracker.update(UserUttered("not stored", {"name": "greet", "confidence": 1.0}))

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(worker, "session_scope", broken)
    with pytest.raises(sa.exc.OperationalError):
        await worker.save(tracker)
    monkeypatch.undo()
    again = await worker.retrieve(CITIZEN)
    assert again.latest_message.text == "first"
