"""Tables, sessions, id allocation and the events log (SQLAlchemy 1.4 ORM).

Only portable constructs are used, so the same code runs on SQLite and PostgreSQL.
Concurrent writers are made safe by the database, not by the process:

- ids come from the ``id_counters`` table (a row update, serialised by the database)
  and land in primary-key columns, so a duplicate can only fail, never be stored;
- rows that move through states carry a version column (``version_id_col``): a
  concurrent change makes the later writer fail with ``StaleDataError`` instead of
  overwriting, and :meth:`Database.run` retries the whole unit of work;
- webhook event ids and idempotency keys are primary keys.

Times are stored as naive UTC datetimes, read from :data:`clock` (tests shift it).
Calendar dates a citizen or officer sees (SLA due dates, the year in an id, "today" for
a date field) are dates in India (IST, UTC+5:30): :func:`ist_date`, :func:`today_ist`.
The schema changes only through migrations (``backends/migrations/``, Alembic, see
``ops/migrate.py``): :meth:`Database.create_all` upgrades a database to the newest
revision; a model change needs a revision (``make test`` runs ``alembic check``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    select,
    text,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, declarative_base, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.pool import QueuePool

from ops import migrate

log = logging.getLogger(__name__)

Base: Any = declarative_base()
T = TypeVar("T")

#: Attempts of a unit of work that lost a race (duplicate key or stale version).
RETRIES = 5


class Clock:
    """The service's idea of now (naive UTC).

    ``offset_file`` (``BACKENDS_CLOCK_OFFSET_FILE``, tests only) holds seconds added to
    the real time, so a test moves a running service hours ahead without sleeping.
    """

    def __init__(self) -> None:
        self.offset_file: Path | None = None
        self._offset = (0.0, -1.0)  # (seconds, when read: time.monotonic())

    def now(self) -> datetime:
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        if self.offset_file is None:
            return now
        seconds, read_at = self._offset
        if time.monotonic() - read_at > 0.05:
            try:
                seconds = float(self.offset_file.read_text() or 0)
            except (OSError, ValueError):
                seconds = 0.0
            self._offset = (seconds, time.monotonic())
        return now + timedelta(seconds=seconds)


clock = Clock()


def utcnow() -> datetime:
    return clock.now().replace(microsecond=0)


#: India Standard Time, UTC+5:30 all year (no daylight saving)
IST = timedelta(hours=5, minutes=30)


def ist_date(moment: datetime) -> date:
    """The date in India at ``moment`` (naive UTC)."""
    return (moment + IST).date()


def today_ist() -> date:
    """Today's date in India, by :data:`clock`."""
    return ist_date(clock.now())


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


class Cursor(Base):
    """A durable reading position, e.g. of the notification outbox in ``events``."""

    __tablename__ = "cursors"
    name = Column(String(40), primary_key=True)
    position = Column(Integer, nullable=False)


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
    #: CSC filing: HMAC of the citizen's confirmation code and the wrong tries so far
    confirmation_hash = Column(String(64), nullable=True)
    confirmation_attempts = Column(Integer, nullable=False, server_default=text("0"), default=0)
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


class PaymentRefund(Base):
    """Money captured that pays for nothing (the fee was already paid, or the application
    was cancelled or erased): to be refunded by an officer, never applied."""

    __tablename__ = "payment_refunds"
    payment_id = Column(String(40), primary_key=True)  # the gateway's payment, once
    order_id = Column(String(40), nullable=False, index=True)
    application_id = Column(String(20), nullable=False, index=True)
    amount = Column(Integer, nullable=False)  # rupees
    reason = Column(String(30), nullable=False)  # already_paid, application_closed
    status = Column(String(20), nullable=False)  # due, refunded
    created_at = Column(DateTime, nullable=False)


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
    """What a citizen agreed to receive: broadcasts and reminders (STOP turns both off),
    status notifications (off after consent is withdrawn), the departments whose
    broadcasts they opted in to, their district and language."""

    __tablename__ = "citizen_preferences"
    citizen_id = Column(String(64), primary_key=True)
    broadcasts = Column(Boolean, nullable=False, default=True)
    reminders = Column(Boolean, nullable=False, default=True)
    status_updates = Column(Boolean, nullable=False, server_default=true(), default=True)
    departments = Column(JSON, nullable=True)
    district = Column(String(40), nullable=True)
    language = Column(String(2), nullable=True)
    updated_at = Column(DateTime, nullable=False)


class Notification(Base):
    """One WhatsApp message to a citizen, from its creation to its read receipt.

    ``dedupe_key`` (unique) is derived from what the message is about, so the same state
    change seen twice makes one row. ``status``: ``pending`` (due at
    ``next_attempt_at``), ``sent``, ``delivered``, ``read``, ``failed`` (``error`` says
    why), ``skipped`` (the citizen turned these off), ``opted_out`` (broadcast to a
    citizen who said STOP), ``cancelled`` (no longer relevant). A sender owns a row
    while ``claim`` is set and ``claimed_until`` is in the future.
    """

    __tablename__ = "notifications"
    id = Column(Integer, primary_key=True, autoincrement=True)
    dedupe_key = Column(String(200), nullable=False, unique=True)
    citizen_id = Column(String(64), nullable=False, index=True)
    purpose = Column(String(12), nullable=False)
    department = Column(String(40), nullable=True)
    template = Column(String(60), nullable=False)
    language = Column(String(2), nullable=False)
    parameters = Column(JSON, nullable=True)
    subject_id = Column(String(40), nullable=True, index=True)
    event_id = Column(Integer, nullable=True)
    broadcast_id = Column(String(20), nullable=True, index=True)
    reminder_id = Column(Integer, nullable=True, index=True)
    status = Column(String(12), nullable=False, index=True)
    error = Column(String(60), nullable=True)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, nullable=False, index=True)
    claim = Column(String(32), nullable=True)
    claimed_until = Column(DateTime, nullable=True)
    message_id = Column(String(200), nullable=True)
    mode = Column(String(10), nullable=True)
    phone_number_id = Column(String(40), nullable=True)
    sent_at = Column(DateTime, nullable=True)
    status_checked_at = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class Reminder(Base):
    """A durable reminder about one application: ``scheduled`` until ``due_at``, then
    sent up to ``max_count`` times ``repeat_hours`` apart; ``done`` or ``cancelled``
    (``reason``) when the citizen acted or it no longer applies."""

    __tablename__ = "reminders"
    id = Column(Integer, primary_key=True, autoincrement=True)
    dedupe_key = Column(String(120), nullable=False, unique=True)
    kind = Column(String(30), nullable=False)
    application_id = Column(String(20), nullable=False, index=True)
    citizen_id = Column(String(64), nullable=False, index=True)
    status = Column(String(12), nullable=False, index=True)
    reason = Column(String(30), nullable=True)
    due_at = Column(DateTime, nullable=False, index=True)
    sent = Column(Integer, nullable=False, default=0)
    max_count = Column(Integer, nullable=False)
    repeat_hours = Column(Float, nullable=False)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)
    version = Column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


class Broadcast(Base):
    """A department's announcement; one ``notifications`` row per recipient."""

    __tablename__ = "broadcasts"
    id = Column(String(20), primary_key=True)
    department = Column(String(40), nullable=False, index=True)
    category = Column(String(12), nullable=False)
    text = Column(JSON, nullable=False)
    district = Column(String(40), nullable=True)
    officer_id = Column(String(64), nullable=False)
    audience = Column(Integer, nullable=False)
    created_at = Column(DateTime, nullable=False)


class Erasure(Base):
    """That a citizen's data was erased (under a pseudonym) and what was kept."""

    __tablename__ = "erasures"
    pseudonym = Column(String(40), primary_key=True)
    counts = Column(JSON, nullable=False)
    requested_by = Column(String(80), nullable=False)
    created_at = Column(DateTime, nullable=False)


class Database:
    """Engine plus :meth:`run`, the one way code touches the database."""

    #: the migration history of this database (``ops.migrate.HISTORIES``)
    history = "backends"

    def __init__(self, url: str) -> None:
        kwargs: dict[str, Any] = {"future": True, "hide_parameters": True}
        wal = False
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30}
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                wal = True
                # Keep connections (SQLAlchemy 1.4 opens a new one per unit of work for
                # SQLite files); each is used by one thread at a time.
                kwargs["poolclass"] = QueuePool
                kwargs["connect_args"]["check_same_thread"] = False
        self.engine = create_engine(url, **kwargs)
        if wal:
            # Write-ahead log: one fsync per commit instead of several, and readers never
            # wait for a writer (the outbox sends dozens of rows a second).
            event.listen(self.engine, "connect", _write_ahead_log)
        self._sessions = sessionmaker(bind=self.engine, future=True, expire_on_commit=False)

    def create_all(self) -> None:
        """Bring the schema to the newest revision of this database's history (creates
        an empty database; stamps one made before migrations), one process at a time."""
        migrate.upgrade(self.history, self.engine)

    def schema_on_start(self) -> None:
        """At a service's start: upgrade (SQLite, ``make run``), or check the schema is
        at head where production upgrades in a separate step (``ops.migrate.on_start``)."""
        migrate.on_start(self.history, self.engine)

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


def _write_ahead_log(connection: Any, record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


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
    """``<prefix>-<year>-<6 digits>``, e.g. ``APP-2026-000123``; the year is India's at
    ``when`` (naive UTC), so 1 January 00:10 IST already counts in the new year."""
    year = ist_date(when).year
    number = next_number(session, f"{prefix}-{year}")
    return f"{prefix}-{year}-{number:06d}"


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
