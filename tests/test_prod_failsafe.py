"""Rasa patched for production (connectors/rasa_patches): a failing tracker database is
not hidden by FailSafeTrackerStore, and the SQL event broker gets a turn in one commit."""

import json

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.exc import OperationalError

from connectors import rasa_patches
from connectors.brokers import SQLEventBroker


class DatabaseDown(InMemoryTrackerStore):
    async def retrieve(self, sender_id):
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    async def retrieve_full_tracker(self, sender_id):
        return await self.retrieve(sender_id)

    async def save(self, tracker):
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))


@pytest.fixture
def store():
    rasa_patches.install()
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
    rasa_patches.install()
    store = FailSafeTrackerStore(InMemoryTrackerStore(Domain.empty()))
    await store.save(DialogueStateTracker.from_events("c1", [UserUttered("hello")]))
    tracker = await store.retrieve("c1")
    assert tracker is not None and tracker.latest_message.text == "hello"


async def test_a_turns_events_reach_the_sql_event_broker_in_one_transaction(tmp_path):
    rasa_patches.install()
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


# --- one read per save, event types from a table, one HTTP session per endpoint ---------


async def test_a_save_reads_the_conversation_once_and_publishes_each_new_event_once(tmp_path):
    from rasa.core.tracker_store import SQLTrackerStore

    rasa_patches.install()
    broker = SQLEventBroker(db=str(tmp_path / "events.db"))
    store = SQLTrackerStore(Domain.empty(), db=str(tmp_path / "tracker.db"), event_broker=broker)
    retrieved = []
    original = store.retrieve

    async def counting_retrieve(sender_id):
        retrieved.append(sender_id)
        return await original(sender_id)

    store.retrieve = counting_retrieve
    tracker = DialogueStateTracker.from_events("c1", [UserUttered("hello"), BotUttered("hi")])
    await store.save(tracker)
    tracker.update(UserUttered("again"))
    await store.save(tracker)

    assert retrieved == []  # Rasa retrieved the whole tracker again in each save
    with broker.engine.connect() as connection:
        published = [
            json.loads(row[0]) for row in connection.execute(sa.text("SELECT data FROM events"))
        ]
    assert [e["event"] for e in published] == ["user", "bot", "user"]
    assert [e.get("text") for e in published] == ["hello", "hi", "again"]
    stored = await original("c1")
    assert [e.as_dict().get("text") for e in stored.events] == ["hello", "hi", "again"]


def test_event_types_resolve_as_rasa_resolves_them():
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event

    rasa_patches.install()
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        assert Event.resolve_by_type(cls.type_name) is rasa_patches._rasa_resolve_by_type(
            cls.type_name
        )
    assert Event.resolve_by_type("no_such_event", default=UserUttered) is UserUttered
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")


async def test_custom_action_calls_reuse_one_connection():
    from aiohttp import web
    from rasa.utils.endpoints import EndpointConfig

    rasa_patches.install()
    connections: set[tuple[str, int]] = set()

    async def webhook(request: web.Request) -> web.Response:
        connections.add(request.transport.get_extra_info("peername"))
        token = request.query.get("token")
        return web.json_response({"events": [], "responses": [], "token": token})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", token="s3cret")
        answers = [await endpoint.request(json={"next_action": "x"}) for _ in range(5)]
    finally:
        await rasa_patches.close_sessions()
        await runner.cleanup()
    assert answers[0] == {"events": [], "responses": [], "token": "s3cret"}
    assert len(connections) == 1  # Rasa opened a session, and a connection, per call


def test_the_patches_refuse_a_rasa_they_were_not_checked_against(monkeypatch):
    import rasa

    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    monkeypatch.delenv("DELHI_SEWA_ALLOW_RASA", raising=False)
    with pytest.raises(
        RuntimeError, match="replaces Rasa 3.6.21 internals, and this is Rasa 3.7.0"
    ):
        rasa_patches.install()


@pytest.mark.parametrize("endpoints", ["endpoints.yml", "endpoints.prod.yml"])
async def test_rasa_loads_our_event_broker_from_the_endpoints_file(
    endpoints, tmp_path, monkeypatch
):
    """Rasa's loader logs a warning and runs with no broker when a type cannot be imported;
    the dashboard's feed would then be silently empty."""
    import re
    from pathlib import Path

    from rasa.core.brokers.broker import EventBroker
    from rasa.utils.endpoints import read_endpoint_config

    for name in re.findall(r"\$\{(\w+)\}", Path(endpoints).read_text()):
        monkeypatch.setenv(name, "1")
    config = read_endpoint_config(endpoints, "event_broker")
    assert config is not None and config.type == "connectors.brokers.SQLEventBroker"
    config.kwargs = {"dialect": "sqlite", "db": str(tmp_path / "events.db")}
    config.url = None
    broker = await EventBroker.create(config)
    assert isinstance(broker, SQLEventBroker)
