"""The event broker the assistant configures (``event_broker: type:
connectors.brokers.SQLEventBroker`` in endpoints.yml and endpoints.prod.yml).

Rasa's SQL event broker (table ``events``: id, sender_id, data; the dashboard's feed
reads it, docs/internal-apis.md §3) with three differences:

- a turn's events are written in one transaction (:meth:`publish_many`, used by
  ``connectors.rasa_patches`` when a turn is saved): Rasa commits each event on its own,
  one disk flush per event, 44 % of a worker's time on the production profile;
- connections are tested before use on a database server (``pool_pre_ping``), so a
  PostgreSQL restart costs no turn; on SQLite, a connection pool and the WAL settings of
  the channel's store (``connectors.store``);
- creating the table tolerates replicas that start together and race to create it.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy
import sqlalchemy.orm
from rasa.core.brokers.sql import SQLEventBroker as RasaSQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore

from connectors.store import sqlite_engine_kwargs, use_sqlite_settings


class SQLEventBroker(RasaSQLEventBroker):
    def __init__(
        self,
        dialect: str = "sqlite",
        host: str | None = None,
        port: int | None = None,
        db: str = "events.db",
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        url = SQLTrackerStore.get_db_url(dialect, host, port, db, username, password)
        if str(url).startswith("sqlite"):
            self.engine = sqlalchemy.create_engine(url, **sqlite_engine_kwargs())
            use_sqlite_settings(self.engine)
        else:
            self.engine = sqlalchemy.create_engine(url, pool_pre_ping=True)
        try:
            self.Base.metadata.create_all(self.engine)
        except sqlalchemy.exc.SQLAlchemyError:  # another replica created it meanwhile
            self.Base.metadata.create_all(self.engine)
        self.sessionmaker = sqlalchemy.orm.sessionmaker(bind=self.engine)

    def publish_many(self, bodies: list[dict[str, Any]]) -> None:
        """Publishes a turn's events (each with its ``sender_id``) in one transaction."""
        if not bodies:
            return
        rows = [{"sender_id": body.get("sender_id"), "data": json.dumps(body)} for body in bodies]
        with self.session_scope() as session:  # one INSERT, without the ORM's unit of work
            session.execute(sqlalchemy.insert(self.SQLBrokerEvent.__table__), rows)
            session.commit()
