"""Measured fixes for costs Rasa 3.6 pays on every message (profiled under `make bench-load`).

1. Custom-action responses.

``RemoteAction._validate_action_result`` calls ``jsonschema.validate(result, schema)``,
which first re-checks the large events schema against the JSON-Schema meta-schema on
every call: ~20 ms of CPU per action, so every turn with a custom action (all of ours:
the slot-mapping action runs on each message) paid it. Here the validator is built once
and the response is validated exactly as before, raising the same ``ValidationError``
with Rasa's message.

2. Connections. PostgreSQL connections (tracker store, SQL event broker) are tested
before use (``pool_pre_ping``), so a database restart costs no turn, and a turn's events
reach the SQL event broker in one transaction (Rasa commits each event on its own: one
disk flush per event, 44 % of a worker's time on the production profile). SQLite (the
embedded default for the tracker store and the channel's inbox): WAL journal with
``synchronous=NORMAL``, the setting SQLite recommends for WAL, and a connection pool
(SQLAlchemy 1.4 opens and closes a file database's connection for every transaction,
and closing the last connection checkpoints the WAL: ~25% of the process's CPU under
load). A commit is then safe against a crash of the process but not against a power cut
of the host; production runs on PostgreSQL (the production profile), where commits are
durable.

3. No silent fallback of the tracker store. Rasa wraps the configured tracker store in
``FailSafeTrackerStore``, which on a database error *returns no tracker* (Rasa then starts
a new conversation) and *saves to memory* (the turn is lost at the next restart and
invisible to the other workers). Here its methods call the configured store and, on an
error, log it and raise: the channel keeps the message in its durable inbox and retries
it, so the conversation continues once the database is back, or the citizen gets the
channel's apology after its last attempt.

4. A turn's save reads the conversation once. ``TrackerStore.stream_events`` retrieves
and deserialises the whole tracker a second time, only to find the events the turn added;
``SQLTrackerStore.save`` then counts the stored events to find the same ones. Here the
count finds them, the event broker gets them and the table gets them (8 % of a worker's
time under the realistic mix of `make bench-load`).

5. Event types by name. ``Event.resolve_by_type`` walks every subclass of ``Event`` for
each event it deserialises (7 %); here a table built from the same walk answers, and an
unknown name walks again (a subclass imported later) before Rasa's own answer.

6. One HTTP session per endpoint. ``EndpointConfig.request`` (every custom-action call)
opens a new aiohttp session, and so a new connection, per request (7 %); here each
endpoint keeps one session per event loop, built exactly as Rasa builds it, whose idle
connections are dropped before the action server's keep-alive (5 s) ends.

These replace Rasa internals that have no hook, so they are checked against the Rasa
version they were written for (``RASA_VERSION``): any other version fails at start-up
until each patch is re-checked against its source.

Installed when the WhatsApp channel is imported (``rasa run``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

import aiohttp
import rasa
import rasa.shared.utils.common
import sqlalchemy
import sqlalchemy.orm
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core import tracker_store
from rasa.core.actions.action import RemoteAction
from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.sql import SQLEventBroker
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import (
    DEFAULT_REQUEST_TIMEOUT,
    ClientResponseError,
    EndpointConfig,
    concat_url,
)
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

logger = logging.getLogger(__name__)

#: the Rasa release these patches were checked against, line by line
RASA_VERSION = "3.6.21"


@lru_cache(maxsize=1)
def _validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    try:
        _validator().validate(result)
        return True
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    if isinstance(connection, sqlite3.Connection):
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def sqlite_engine_kwargs() -> dict[str, Any]:
    return {
        "poolclass": QueuePool,
        "pool_size": 5,
        "max_overflow": 10,
        "connect_args": {"check_same_thread": False, "timeout": 30},
    }


def _tracker_store_engine_kwargs(url: Any) -> dict[str, Any]:
    if str(url).startswith("sqlite"):
        return sqlite_engine_kwargs()
    # after a database restart every pooled connection is dead: test before use
    return {**_rasa_engine_kwargs(url), "pool_pre_ping": True}


_rasa_engine_kwargs = tracker_store.create_engine_kwargs
_rasa_broker_init = SQLEventBroker.__init__


def _broker_init(self: SQLEventBroker, *args: Any, **kwargs: Any) -> None:
    """Rasa's SQL event broker, with connections tested before use (as above)."""
    try:
        _rasa_broker_init(self, *args, **kwargs)
    except sqlalchemy.exc.SQLAlchemyError:  # replicas starting together create the table
        _rasa_broker_init(self, *args, **kwargs)
    if self.engine.dialect.name != "sqlite":
        url = self.engine.url
        self.engine.dispose()
        self.engine = sqlalchemy.create_engine(url, pool_pre_ping=True)
        self.sessionmaker = sqlalchemy.orm.sessionmaker(bind=self.engine)


_rasa_stream_new_events = tracker_store.TrackerStore._stream_new_events


async def _stream_new_events(
    self: tracker_store.TrackerStore,
    event_broker: EventBroker,
    new_events: list[Event],
    sender_id: str,
) -> None:
    """A turn's events go to the SQL event broker in one transaction, not one each."""
    if not isinstance(event_broker, SQLEventBroker) or not new_events:
        await _rasa_stream_new_events(self, event_broker, new_events, sender_id)
        return
    with event_broker.session_scope() as session:
        for event in new_events:
            body = {"sender_id": sender_id}
            body.update(event.as_dict())
            session.add(event_broker.SQLBrokerEvent(sender_id=sender_id, data=json.dumps(body)))
        session.commit()


async def _save(self: tracker_store.SQLTrackerStore, tracker: DialogueStateTracker) -> None:
    """Rasa's ``SQLTrackerStore.save``, finding the turn's new events once (see 4.)."""
    with self.session_scope() as session:
        events = list(self._additional_events(session, tracker))
    if self.event_broker is not None:
        await self._stream_new_events(self.event_broker, events, tracker.sender_id)
    with self.session_scope() as session:
        for event_ in events:
            data = event_.as_dict()
            intent = data.get("parse_data", {}).get("intent", {}).get("name")
            session.add(
                self.SQLEvent(
                    sender_id=tracker.sender_id,
                    type_name=event_.type_name,
                    timestamp=data.get("timestamp"),
                    intent_name=intent,
                    action_name=data.get("name"),
                    data=json.dumps(data),
                )
            )
        session.commit()


_event_types: dict[str, type[Event]] = {}
_rasa_resolve_by_type = Event.resolve_by_type


def _resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """``Event.resolve_by_type`` from a table: the first subclass of a name, as Rasa's."""
    found = _event_types.get(type_name)
    if found is None:
        for cls in rasa.shared.utils.common.all_subclasses(Event):
            _event_types.setdefault(cls.type_name, cls)
        found = _event_types.get(type_name)
    return found if found is not None else _rasa_resolve_by_type(type_name, default)


_sessions: dict[tuple[int, int], aiohttp.ClientSession] = {}


def _session_for(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    """This endpoint's session on the running loop, configured as ``EndpointConfig.session``."""
    key = (id(endpoint), id(asyncio.get_running_loop()))
    session = _sessions.get(key)
    if session is None or session.closed:
        auth = None
        if endpoint.basic_auth:
            auth = aiohttp.BasicAuth(
                endpoint.basic_auth["username"], endpoint.basic_auth["password"]
            )
        session = aiohttp.ClientSession(
            headers=endpoint.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=3),
        )
        _sessions[key] = session
    return session


async def close_sessions() -> None:
    """Closes the sessions kept on the running loop (at shutdown, in tests)."""
    loop = id(asyncio.get_running_loop())
    for key in [k for k in _sessions if k[1] == loop]:
        await _sessions.pop(key).close()


_rasa_request = EndpointConfig.request


async def _request(
    self: EndpointConfig,
    method: str = "post",
    subpath: str | None = None,
    content_type: str | None = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Any:
    """Rasa's ``EndpointConfig.request`` on the endpoint's kept session (see 6.)."""
    if self.cafile:  # a custom CA: Rasa's own path, a session per request
        return await _rasa_request(self, method, subpath, content_type, compress, **kwargs)
    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if "headers" in kwargs:
        headers.update(kwargs.pop("headers"))
    if self.headers:
        headers.update(self.headers)
    url = concat_url(self.url, subpath)
    params = self.combine_parameters(kwargs)
    async with _session_for(self).request(
        method, url, headers=headers, params=params, compress=compress, **kwargs
    ) as response:
        if response.status >= 400:
            raise ClientResponseError(
                response.status, response.reason, await response.content.read()
            )
        try:
            return await response.json()
        except aiohttp.ContentTypeError:
            return None


def _strict(name: str) -> Callable[..., Awaitable[Any]]:
    async def call(self: tracker_store.FailSafeTrackerStore, *args: Any) -> Any:
        try:
            return await getattr(self._tracker_store, name)(*args)
        except Exception:
            logger.exception(
                "tracker_store.unavailable operation=%s store=%s: not falling back to memory",
                name,
                type(self._tracker_store).__name__,
            )
            raise

    call.__name__ = name
    return call


def install() -> None:
    if rasa.__version__ != RASA_VERSION and not os.environ.get("DELHI_SEWA_ALLOW_RASA"):
        raise RuntimeError(
            f"connectors.rasa_speedups replaces Rasa {RASA_VERSION} internals, and this is "
            f"Rasa {rasa.__version__}: check each patch against the new source, then update "
            "RASA_VERSION (DELHI_SEWA_ALLOW_RASA=1 starts anyway, at your own risk)"
        )
    for name in ("retrieve", "retrieve_full_tracker", "save", "keys"):
        setattr(tracker_store.FailSafeTrackerStore, name, _strict(name))
    RemoteAction._validate_action_result = _validate_action_result
    tracker_store.create_engine_kwargs = _tracker_store_engine_kwargs
    SQLEventBroker.__init__ = _broker_init
    tracker_store.TrackerStore._stream_new_events = _stream_new_events
    tracker_store.SQLTrackerStore.save = _save
    Event.resolve_by_type = staticmethod(_resolve_by_type)
    EndpointConfig.request = _request
    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)
