"""What the channel does to a citizen's Rasa conversation from outside a turn.

Every change happens under Rasa's own lock for that conversation (the agent's lock store,
in-process for `make run`, Redis in production), so it is ordered with the citizen's
turns: it waits for a turn in progress to finish, and the next turn sees it.

- :func:`handle` runs a citizen's message as Rasa's own ``Agent.handle_message`` does,
  but, for a message that was claimed before (its process died mid-turn), first looks
  for its wamid in the tracker: a turn that was saved is never run twice.
- :func:`append` adds events (``ConversationPaused`` when an officer takes over,
  ``ConversationResumed`` on hand-back, ``BotUttered`` for an officer's reply) and
  saves; the tracker store appends them and publishes them to the event broker. Every
  string of every event is masked first (``privacy.mask_tree``): an officer who types
  a citizen's Aadhaar number does not put it in the tracker or the event broker.
- :func:`log_only` records and parses a citizen's message without running anything,
  for a conversation an officer has taken over (see :func:`log_only`).
- :func:`erase` deletes the conversation from the tracker store and the SQL event broker.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.events import Event, UserUttered

from privacy import mask_tree

logger = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "hi"


def _chain(store: TrackerStore) -> list[Any]:
    """The tracker store and the stores it wraps (Rasa wraps the configured one twice)."""
    stores: list[Any] = [store]
    while getattr(stores[-1], "_tracker_store", None) is not None:
        stores.append(stores[-1]._tracker_store)
    return stores


async def language(agent: Any, wa_id: str) -> str:
    """The citizen's language (slot ``language``), Hindi if not known yet."""
    tracker = await agent.tracker_store.retrieve(wa_id)
    value = tracker.get_slot("language") if tracker is not None else None
    return value if value in ("hi", "en") else DEFAULT_LANGUAGE


def masked(event: Event) -> Event:
    """``event`` with every Aadhaar number in its text, data and metadata masked."""
    as_dict = event.as_dict()
    clean = mask_tree(as_dict)
    return event if clean == as_dict else Event.from_parameters(clean)


async def append(agent: Any, wa_id: str, events: Iterable[Event]) -> None:
    async with agent.lock_store.lock(wa_id):
        tracker = await agent.tracker_store.get_or_create_tracker(wa_id)
        for event in events:
            tracker.update(masked(event), agent.domain)
        await agent.tracker_store.save(tracker)


async def holds(agent: Any, wa_id: str, message_id: str | None) -> bool:
    """Whether the citizen's tracker already has the message ``message_id``."""
    if not message_id:
        return False
    tracker = await agent.tracker_store.retrieve(wa_id)
    events = tracker.events if tracker is not None else []
    return any(isinstance(e, UserUttered) and e.message_id == message_id for e in events)


async def handle(agent: Any, message: UserMessage, retried: bool, record_only: bool) -> bool:
    """Runs the citizen's message (``record_only``: records it, see :func:`log_only`).

    ``retried``: the message was claimed before, by a process that may have saved its
    turn before it died; then a message the tracker already holds is not run again.
    The check and the turn happen under the conversation's lock, so two processes that
    both claimed it (one thought dead) cannot both run it. Returns False if skipped.
    Raises if the assistant is not ready (Rasa would drop the message silently).
    """
    if not agent.is_ready():
        raise RuntimeError("the assistant is not ready")
    async with agent.lock_store.lock(message.sender_id):
        if retried and await holds(agent, message.sender_id, message.message_id):
            logger.info("conversation.turn.already_saved")
            return False
        if record_only:
            await agent.processor.log_message(message, should_save_tracker=True)
        else:
            await agent.processor.handle_message(message)
    return True


async def log_only(agent: Any, message: UserMessage) -> None:
    """Records and parses the message (``UserUttered``) and runs nothing.

    Rasa's own handling of a paused conversation predicts no action, but it still runs
    ``action_extract_slots``, which would fill the active form's requested slot with
    what the citizen wrote to the officer (a "yes" meant for the officer would confirm
    an application); this does not.
    """
    await handle(agent, message, retried=False, record_only=True)


def media_references(events: Iterable[Event]) -> list[str]:
    """Stored uploads (``metadata.attachment.storage_ref``) of the citizen's messages."""
    refs = []
    for event in events:
        if isinstance(event, UserUttered):
            attachment = (event.metadata or {}).get("attachment") or {}
            if isinstance(attachment, dict) and attachment.get("storage_ref"):
                refs.append(str(attachment["storage_ref"]))
    return refs


async def erase(agent: Any, wa_id: str) -> list[str]:
    """Deletes the conversation (tracker store rows, event broker rows).

    Returns the references of the files the citizen uploaded, for the caller to delete.
    Raises ``NotImplementedError`` for a tracker store it cannot erase from.
    """
    async with agent.lock_store.lock(wa_id):
        tracker = await agent.tracker_store.retrieve_full_tracker(wa_id)
        refs = media_references(tracker.events) if tracker is not None else []
        stores = _chain(agent.tracker_store)
        inner = stores[-1]
        if isinstance(inner, SQLTrackerStore):
            with inner.session_scope() as session:
                session.query(inner.SQLEvent).filter(inner.SQLEvent.sender_id == wa_id).delete()
                session.commit()
        elif isinstance(inner, InMemoryTrackerStore):
            inner.store.pop(wa_id, None)
        else:
            raise NotImplementedError(f"erasure from {type(inner).__name__}")
        broker = next((s.event_broker for s in stores if s.event_broker is not None), None)
        if isinstance(broker, SQLEventBroker):
            with broker.session_scope() as session:
                table = broker.SQLBrokerEvent
                session.query(table).filter(table.sender_id == wa_id).delete()
                session.commit()
        elif broker is not None:
            logger.warning("erasure: event broker %s is not erased", type(broker).__name__)
    return refs
