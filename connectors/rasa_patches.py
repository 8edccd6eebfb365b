"""Rasa 3.6 internals replaced where Rasa has no hook: how the tracker store fails, how a
turn is saved, and the costs paid on every message (profiled under `make bench-load`).

What Rasa lets us configure is configured instead: the event broker is a class of ours
(``connectors.brokers.SQLEventBroker``, named in the endpoints files), and the channel's
SQLite settings live in ``connectors.store``. What is left has no hook, so it is checked
against the Rasa release it was written for (``RASA_VERSION``): any other version fails
at start-up until each patch below is re-checked against its source.

Failure behaviour
1. No silent fallback of the tracker store. Rasa wraps the configured tracker store in
   ``FailSafeTrackerStore``, which on a database error *returns no tracker* (Rasa then
   starts a new conversation) and *saves to memory* (the turn is lost at the next restart
   and invisible to the other workers). Here its methods call the configured store and,
   on an error, log it and raise: the channel keeps the message in its durable inbox and
   retries it, so the conversation continues once the database is back, or the citizen
   gets the channel's apology after its last attempt.
2. Tracker-store connections: on a database server tested before use
   (``pool_pre_ping``), so a restart costs no turn; on SQLite the channel store's pool
   and WAL settings (``create_engine_kwargs``, ``SQLTrackerStore.__init__``).

Cost per message
3. Custom-action responses. ``RemoteAction._validate_action_result`` re-checks the large
   events schema against the JSON-Schema meta-schema on every call (~20 ms of CPU per
   action), then tries each event against all 23 event schemas; here the validators are
   built once, each event is checked against the schema of its own name (the same
   verdict: the 23 are told apart by the name), and an invalid response raises the same
   ``ValidationError`` with Rasa's message (6 % of a worker's CPU under the realistic mix).
4. A turn's save reads the conversation once. ``TrackerStore.stream_events`` retrieves
   and deserialises the whole tracker a second time, only to find the events the turn
   added; ``SQLTrackerStore.save`` then counts the stored events to find the same ones.
   Here the tracker knows how many of its events were read from or written to the
   table (or the count finds them, for a tracker that was not read by ``retrieve``), and
   the event broker (in one transaction, when it is ours) and the table (one INSERT) get
   them (8 % of a worker's time under the realistic mix).
5. Event types by name. ``Event.resolve_by_type`` walks every subclass of ``Event`` for
   each event it deserialises (7 %); here a table built from the same walk answers, and
   an unknown name walks again (a subclass imported later) before Rasa's own answer.
6. One HTTP session per endpoint. ``EndpointConfig.request`` (every custom-action call)
   opens a new aiohttp session, and so a new connection, per request (7 %); here each
   endpoint keeps one session per event loop, built exactly as Rasa builds it, whose
   idle connections are dropped before the action server's keep-alive (5 s) ends.

7. A conversation's tracker is kept between its turns. ``SQLTrackerStore.retrieve`` reads
   every event of the session and replays them into a new tracker on every message. Here
   the worker keeps the tracker it saved last (up to ``RASA_KEPT_TRACKERS`` conversations,
   default 1000, least recently used first out) and hands it out again only if the
   conversation's rows are exactly as that save left them (their count and newest id: an
   indexed query) and the tracker has not changed since (a turn that failed before its
   save changed it). Another worker's turn, an erasure or a failed turn therefore mean a
   read from the database, as before; so does a new session, which Rasa reads apart from
   the old one. ``tests/test_kept_trackers.py``.
8. Dialogue states are computed once per event: ``connectors.dialogue_states``.
9. The model's graphs run as a plain loop. ``DaskGraphRunner.run`` prunes the graph
   schema, builds a dask graph, formats a debug message holding the whole execution
   context and hands the graph to dask's scheduler, for each NLU parse and each action
   prediction (7 % of a worker's CPU). Here the nodes a set of targets needs are put in
   order once, and each run calls them in that order with the same inputs dask would
   pass (an input replaces a node of its name; a need that is neither is passed as its
   name, as dask does); the nodes' results are the same (``tests/test_graph_runner.py``).

Installed when the WhatsApp channel is imported (``rasa run``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import aiohttp
import rasa
import rasa.shared.utils.common
import sqlalchemy as sa
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core import tracker_store
from rasa.core.actions.action import RemoteAction
from rasa.core.brokers.broker import EventBroker
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import (
    DEFAULT_REQUEST_TIMEOUT,
    ClientResponseError,
    EndpointConfig,
    concat_url,
)

from connectors import dialogue_states
from connectors.brokers import SQLEventBroker
from connectors.store import sqlite_engine_kwargs, use_sqlite_settings

logger = logging.getLogger(__name__)

#: the Rasa release these patches were checked against, line by line
RASA_VERSION = "3.6.21"


@lru_cache(maxsize=1)
def _validators() -> tuple[Any, dict[str, Any], Any]:
    """Rasa's response schema, and its ``events`` items split by event name.

    An event must match exactly one of 23 schemas (``oneOf``), each fixing ``event`` to a
    name of its own, so jsonschema tries all 23 for every event. The one schema with the
    event's name decides the same; the whole schema only words the error.
    """
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    item = schema["properties"]["events"]["items"]
    common = {key: value for key, value in item.items() if key != "oneOf"}
    by_name = {
        branch["properties"]["event"]["const"]: cls({"allOf": [common, branch]})
        for branch in item["oneOf"]
    }
    outer = {**schema["properties"], "events": {"type": "array"}}
    return cls({**schema, "properties": outer}), by_name, cls(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    outer, by_name, whole = _validators()
    try:
        outer.validate(result)
        for event in result.get("events") or []:
            name = event.get("event") if isinstance(event, dict) else None
            validator = by_name.get(name) if isinstance(name, str) else None
            if validator is None or not validator.is_valid(event):
                whole.validate(result)  # raises Rasa's own error
        return True
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error


def _tracker_store_engine_kwargs(url: Any) -> dict[str, Any]:
    if str(url).startswith("sqlite"):
        return sqlite_engine_kwargs()
    # after a database restart every pooled connection is dead: test before use
    return {**_rasa_engine_kwargs(url), "pool_pre_ping": True}


_rasa_engine_kwargs = tracker_store.create_engine_kwargs
_rasa_sql_tracker_store_init = tracker_store.SQLTrackerStore.__init__


def _sql_tracker_store_init(self: tracker_store.SQLTrackerStore, *args: Any, **kwargs: Any) -> None:
    """Rasa's, then the WAL settings on an SQLite file (see 2.)."""
    _rasa_sql_tracker_store_init(self, *args, **kwargs)
    if self.engine.dialect.name == "sqlite":
        use_sqlite_settings(self.engine)
        self.engine.dispose()  # connections opened before the settings


_rasa_stream_new_events = tracker_store.TrackerStore._stream_new_events
_rasa_retrieve = tracker_store.SQLTrackerStore.retrieve
_rasa_init_tracker = tracker_store.SQLTrackerStore.init_tracker


async def _stream_new_events(
    self: tracker_store.TrackerStore,
    event_broker: EventBroker,
    new_events: list[Event],
    sender_id: str,
) -> None:
    """A turn's events go to our SQL event broker in one transaction, not one each."""
    if not isinstance(event_broker, SQLEventBroker):
        await _rasa_stream_new_events(self, event_broker, new_events, sender_id)
        return
    event_broker.publish_many([{"sender_id": sender_id, **e.as_dict()} for e in new_events])


#: conversations whose tracker is kept in memory between turns (see 7.), per worker
KEPT_TRACKERS = int(os.environ.get("RASA_KEPT_TRACKERS", "1000"))


@dataclass
class _Kept:
    tracker: DialogueStateTracker
    length: int  # len(tracker.events) when saved: a turn that failed changed it
    stamp: tuple[int, Any]  # the conversation's row count and newest row id when saved
    domain: Any


_kept: OrderedDict[tuple[int, str], _Kept] = OrderedDict()
_STORED = "_delhi_sewa_stored_events"  # on a tracker: how many of its events are stored


@cache
def _stamp_query(table: Any) -> Any:
    return sa.select(sa.func.count(table.c.id), sa.func.max(table.c.id)).where(
        table.c.sender_id == sa.bindparam("b_sender_id")
    )


def _stamp(store: tracker_store.SQLTrackerStore, session: Any, sender_id: str) -> tuple[int, Any]:
    """The conversation's row count and newest row id: what changes when anybody writes."""
    query = _stamp_query(store.SQLEvent.__table__)
    row = session.execute(query, {"b_sender_id": sender_id}).one()
    return (int(row[0]), row[1])


def _forget(store: tracker_store.SQLTrackerStore, sender_id: str) -> None:
    _kept.pop((id(store), sender_id), None)


async def _retrieve(
    self: tracker_store.SQLTrackerStore, sender_id: str
) -> DialogueStateTracker | None:
    """Rasa's ``SQLTrackerStore.retrieve``, or the tracker this worker saved last (see 7.)."""
    kept = _kept.get((id(self), sender_id))
    if kept is not None:
        if kept.domain is self.domain and len(kept.tracker.events) == kept.length:
            with self.session_scope() as session:
                if _stamp(self, session, sender_id) == kept.stamp:
                    _kept.move_to_end((id(self), sender_id))
                    return kept.tracker
        _forget(self, sender_id)
    tracker = await _rasa_retrieve(self, sender_id)
    if tracker is not None:
        setattr(tracker, _STORED, len(tracker.events))
    return tracker


def _init_tracker(self: tracker_store.SQLTrackerStore, sender_id: str) -> DialogueStateTracker:
    tracker = _rasa_init_tracker(self, sender_id)
    setattr(tracker, _STORED, 0)
    return tracker


def _row(sender_id: str, event: Event) -> dict[str, Any]:
    """The ``events`` row of an event, as Rasa's ``SQLTrackerStore.save`` writes it."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


async def _save(self: tracker_store.SQLTrackerStore, tracker: DialogueStateTracker) -> None:
    """Rasa's ``SQLTrackerStore.save``, finding the turn's new events once (see 4.), and
    keeping the tracker for the conversation's next turn (see 7.)."""
    _forget(self, tracker.sender_id)
    stored = getattr(tracker, _STORED, None)
    with self.session_scope() as session:
        if stored is None:  # not read by ``retrieve``: Rasa's count of the stored events
            events = list(self._additional_events(session, tracker))
        else:
            events = list(itertools.islice(tracker.events, stored, None))
        rows = [_row(tracker.sender_id, event_) for event_ in events]
        if rows:  # one INSERT for the turn, without the ORM's unit of work per event
            session.execute(sa.insert(self.SQLEvent.__table__), rows)
        stamp = _stamp(self, session, tracker.sender_id) if stored is not None else None
        # the broker after the rows are in: a database that is down fails the turn
        # before the broker has it, so the turn's retry does not publish it twice
        if self.event_broker is not None:
            await self._stream_new_events(self.event_broker, events, tracker.sender_id)
        session.commit()
    if stamp is None:  # a tracker not read by ``retrieve`` is not kept
        return
    setattr(tracker, _STORED, len(tracker.events))
    # a new session: Rasa's retrieve returns only its events, so read them next time
    if KEPT_TRACKERS > 0 and not any(isinstance(e, SessionStarted) for e in events):
        _kept[(id(self), tracker.sender_id)] = _Kept(
            tracker, len(tracker.events), stamp, self.domain
        )
        while len(_kept) > KEPT_TRACKERS:
            _kept.popitem(last=False)


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


_rasa_run_graph = DaskGraphRunner.run
_PLANS = "_delhi_sewa_plans"


def _plan(
    runner: DaskGraphRunner, targets: tuple[str, ...]
) -> tuple[list[tuple[str, Any, tuple[str, ...]]], frozenset[str]]:
    """The nodes ``targets`` need, each after the nodes it needs, once per runner."""
    plans = runner.__dict__.setdefault(_PLANS, {})
    if targets not in plans:
        schema = runner._graph_schema.minimal_graph_schema(list(targets))
        order: list[str] = []

        def visit(name: str) -> None:
            if name in schema.nodes and name not in order:
                for need in schema.nodes[name].needs.values():
                    visit(need)
                order.append(name)

        for target in targets:
            visit(target)
        steps = [
            (name, runner._instantiated_nodes[name], tuple(schema.nodes[name].needs.values()))
            for name in order
        ]
        plans[targets] = (steps, frozenset(schema.nodes))
    return plans[targets]


def _run_graph(
    self: DaskGraphRunner,
    inputs: dict[str, Any] | None = None,
    targets: list[str] | None = None,
) -> dict[str, Any]:
    """``DaskGraphRunner.run`` without dask (see 9.)."""
    run_targets = tuple(targets if targets else self._graph_schema.target_names)
    steps, node_names = _plan(self, run_targets)
    values: dict[str, Any] = {}
    for name, value in (inputs or {}).items():
        if isinstance(value, str) and value in node_names:
            raise GraphRunError(
                f"Input value '{value}' clashes with a node name. Make sure "
                f"that none of the input names passed to the `run` method are the "
                f"same as node names in the graph schema."
            )
        values[name] = (name, value)
    try:
        for name, node, needs in steps:
            if name not in values:
                values[name] = node(*[values.get(need, need) for need in needs])
        return dict(values[target] for target in run_targets)
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e


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
            f"connectors.rasa_patches replaces Rasa {RASA_VERSION} internals, and this is "
            f"Rasa {rasa.__version__}: check each patch against the new source, then update "
            "RASA_VERSION (DELHI_SEWA_ALLOW_RASA=1 starts anyway, at your own risk)"
        )
    for name in ("retrieve", "retrieve_full_tracker", "save", "keys"):
        setattr(tracker_store.FailSafeTrackerStore, name, _strict(name))
    RemoteAction._validate_action_result = _validate_action_result
    tracker_store.create_engine_kwargs = _tracker_store_engine_kwargs
    tracker_store.SQLTrackerStore.__init__ = _sql_tracker_store_init
    tracker_store.TrackerStore._stream_new_events = _stream_new_events
    tracker_store.SQLTrackerStore.save = _save
    tracker_store.SQLTrackerStore.retrieve = _retrieve
    tracker_store.SQLTrackerStore.init_tracker = _init_tracker
    dialogue_states.install()
    DaskGraphRunner.run = _run_graph
    Event.resolve_by_type = staticmethod(_resolve_by_type)
    EndpointConfig.request = _request
