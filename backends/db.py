"""Tables, sessions, id allocation and the events log (SQLAlchemy 1.4 ORM).

Only portable constructs are used, so the same code runs on SQLite and PostgreSQL.
Concurrent writers are made safe by the database, not by the process:

- ids come from the ``id_counters`` table (a row update, serialised by the database)
  and land in primary-key columns, so a duplicate can only fail, never be stored;
- rows that move through states carry a version column (``version_id_col``): a
  concurrent change makes the later writer fail with ``StaleDataError`` instead of
  overwriting, and :meth:`Database.run` retries the whole unit of work;
- webhook event ids and idempotency keys are primary keys.

Times are stored as naive UTC datetimes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, declarative_base, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

log = logging.getLogger(__name__)

Base: Any = declarative_base()
T = TypeVar("T")

#: Attempts of a unit of work that lost a race (duplicate key or stale version).
RETRIES = 5


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def iso(value: datetime | date | None) -> str | None:
    """ISO 8601; datetimes in UTC with a ``Z``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


class Counter(Base):
    __tablename__ = "id_counters"
    name = Column(String(40), primary_key=True)
    value = Column(Integer, nullable=False)


class Event(Base):
    """Append-only log of state changes; the notification outbox reads it."""

    __tablename__ = "events"
    id = Column(Integer, primary_key=True, autoincrement=True)
    type = Column(String(60), nullable=False)
    subject_id = Column(String(40), nullable=False, index=True)
    citizen_id = Column(String(64), nullable=True)
    payload = Column(JSON, nullable=False)
    created_at = Column(DateTime, nullable=False)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    owner = Column(String(80), primary_key=True)
    scope = Column(String(120), primary_key=True)
    key = Column(String(100), primary_key=True)
    request_hash = Column(String(64), nullable=False)
    resource_id = Column(String(60), nullable=False)
    created_at = Column(DateTime, nullable=False)


class Application(Base):
    __tablename__ = "applications"
    id = Column(String(20), primary_key=True)
    citizen_id = Column(String(64), nullable=False, index=True)
    service_id = Column(String(64), nullable=False)
    status = Column(String(30), nullable=False)
    fee = Column(Integer, nullable=False)
    paid = Column(Boolean, nullable=False, default=False)
    fields = Column(JSON, nullable=False)
    language = Column(String(2), nullable=False)
    channel = Column(String(10), nullable=False)
    operator = Column(JSON, nullable=True)
    status_reason = Column(Text, nullable=True)
    sla_due = Column(Date, nullable=True)
    certificate_number = Column(String(20), unique=True, nullable=True)
    issued_at = Column(DateTime, nullable=True)
    revoked_at = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)
    version = Column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


class Document(Base):
    __tablename__ = "application_documents"
    __table_args__ = (UniqueConstraint("application_id", "document_id"),)
    id = Column(Integer, primary_key=True, autoincrement=True)
    application_id = Column(String(20), ForeignKey("applications.id"), nullable=False, index=True)
    document_id = Column(String(64), nullable=False)
    filename = Column(String(255), nullable=False)
    mime_type = Column(String(100), nullable=False)
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)
    storage_ref = Column(String(500), nullable=False)
    created_at = Column(DateTime, nullable=False)


class Order(Base):
    __tablename__ = "payment_orders"
    id = Column(String(40), primary_key=True)
    application_id = Column(String(20), ForeignKey("applications.id"), nullable=False, index=True)
    citizen_id = Column(String(64), nullable=False, index=True)
    amount = Column(Integer, nullable=False)
    currency = Column(String(3), nullable=False)
    status = Column(String(20), nullable=False)
    payment_id = Column(String(40), nullable=True)
    receipt_number = Column(String(20), unique=True, nullable=True)
    attempted_at = Column(DateTime, nullable=True)
    paid_at = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)
    version = Column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


class GatewayPayment(Base):
    """The sandbox gateway's own record of a payment attempt (its side of the wire)."""

    __tablename__ = "gateway_payments"
    id = Column(String(40), primary_key=True)
    order_id = Column(String(40), ForeignKey("payment_orders.id"), nullable=False, index=True)
    status = Column(String(20), nullable=False)
    amount_paise = Column(Integer, nullable=False)
    method = Column(String(20), nullable=False)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)
    version = Column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


class WebhookEvent(Base):
    """Every accepted webhook event id, so a redelivery is recognised and ignored."""

    __tablename__ = "webhook_events"
    id = Column(String(100), primary_key=True)
    type = Column(String(60), nullable=False)
    order_id = Column(String(40), nullable=True)
    outcome = Column(String(20), nullable=False)
    received_at = Column(DateTime, nullable=False)


class Grievance(Base):
    __tablename__ = "grievances"
    id = Column(String(20), primary_key=True)
    citizen_id = Column(String(64), nullable=False, index=True)
    category = Column(String(40), nullable=False)
    department = Column(String(40), nullable=False)
    description = Column(Text, nullable=False)
    location = Column(JSON, nullable=True)
    attachment = Column(JSON, nullable=True)
    language = Column(String(2), nullable=False)
    status = Column(String(20), nullable=False)
    escalation_level = Column(Integer, nullable=False, default=0)
    due_at = Column(DateTime, nullable=False, index=True)
    assigned_to = Column(String(64), nullable=True)
    rating = Column(Integer, nullable=True)
    feedback_comment = Column(Text, nullable=True)
    resolved_at = Column(DateTime, nullable=True)
    closed_at = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)
    version = Column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


class Feedback(Base):
    __tablename__ = "feedback"
    id = Column(Integer, primary_key=True, autoincrement=True)
    citizen_id = Column(String(64), nullable=False)
    rating = Column(Integer, nullable=False)
    comment = Column(Text, nullable=True)
    application_id = Column(String(20), nullable=True)
    language = Column(String(2), nullable=False)
    created_at = Column(DateTime, nullable=False)


class Preference(Base):
    """What a citizen agreed to receive: broadcasts and reminders (STOP turns both off).

    Status notifications about the citizen's own applications are not governed here:
    they continue after STOP (see docs/backends-api.md, "Citizens").
    """

    __tablename__ = "citizen_preferences"
    citizen_id = Column(String(64), primary_key=True)
    broadcasts = Column(Boolean, nullable=False, default=True)
    reminders = Column(Boolean, nullable=False, default=True)
    updated_at = Column(DateTime, nullable=False)


class Database:
    """Engine plus :meth:`run`, the one way code touches the database."""

    def __init__(self, url: str) -> None:
        kwargs: dict[str, Any] = {"future": True, "hide_parameters": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30}
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(url, **kwargs)
        self._sessions = sessionmaker(bind=self.engine, future=True, expire_on_commit=False)

    def create_all(self) -> None:
        Base.metadata.create_all(self.engine)

    def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one transaction; retried when it lost a race to another writer.

        Exceptions raised by ``work`` roll the transaction back and propagate.
        """
        for attempt in range(RETRIES):
            try:
                with self._sessions() as session, session.begin():
                    return work(session)
            except (IntegrityError, StaleDataError) as exc:
                if attempt == RETRIES - 1:
                    raise
                log.info("retrying a unit of work after %s", type(exc).__name__)
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()


def next_number(session: Session, name: str) -> int:
    """Next value of counter ``name`` (1, 2, ...) inside the caller's transaction."""
    result = session.execute(
        update(Counter).where(Counter.name == name).values(value=Counter.value + 1)
    )
    if result.rowcount == 0:
        # First use: a concurrent first insert fails on the primary key and is retried.
        session.add(Counter(name=name, value=1))
        session.flush()
        return 1
    return int(session.execute(select(Counter.value).where(Counter.name == name)).scalar_one())


def next_id(session: Session, prefix: str, when: datetime) -> str:
    """``<prefix>-<year>-<6 digits>``, e.g. ``APP-2026-000123``."""
    number = next_number(session, f"{prefix}-{when.year}")
    return f"{prefix}-{when.year}-{number:06d}"


def add_event(
    session: Session,
    type_: str,
    subject_id: str,
    citizen_id: str | None,
    payload: dict[str, Any],
    at: datetime | None = None,
) -> None:
    session.add(
        Event(
            type=type_,
            subject_id=subject_id,
            citizen_id=citizen_id,
            payload=payload,
            created_at=at or utcnow(),
        )
    )


def events_of(session: Session, subject_id: str) -> list[Event]:
    return list(
        session.execute(select(Event).where(Event.subject_id == subject_id).order_by(Event.id))
        .scalars()
        .all()
    )
