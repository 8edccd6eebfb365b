"""Measured fixes for costs Rasa 3.6 pays on every message (profiled under `make bench-load`).

1. Custom-action responses.

``RemoteAction._validate_action_result`` calls ``jsonschema.validate(result, schema)``,
which first re-checks the large events schema against the JSON-Schema meta-schema on
every call: ~20 ms of CPU per action, so every turn with a custom action (all of ours:
the slot-mapping action runs on each message) paid it. Here the validator is built once
and the response is validated exactly as before, raising the same ``ValidationError``
with Rasa's message.

2. SQLite (the embedded default for the tracker store and the channel's inbox): WAL
journal with ``synchronous=NORMAL``, the setting SQLite recommends for WAL, and a
connection pool (SQLAlchemy 1.4 opens and closes a file database's connection for every
transaction, and closing the last connection checkpoints the WAL: ~25% of the process's
CPU under load). A commit is then safe against a crash of the process but not against a
power cut of the host; production runs on PostgreSQL (the production profile), where
commits are durable.

Installed when the WhatsApp channel is imported (``rasa run``).
"""

from __future__ import annotations

import sqlite3
from functools import lru_cache
from typing import Any

from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core import tracker_store
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool


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
    return _rasa_engine_kwargs(url)


_rasa_engine_kwargs = tracker_store.create_engine_kwargs


def install() -> None:
    RemoteAction._validate_action_result = _validate_action_result
    tracker_store.create_engine_kwargs = _tracker_store_engine_kwargs
    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)
