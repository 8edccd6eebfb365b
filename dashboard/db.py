"""The dashboard's own tables: users, sessions, sign-in failures, audit log, CSC filings
(their counter payments and confirmation codes), the trainers' NLU annotations.

Same engine and unit-of-work helper as the backends (:class:`backends.db.Database`),
with a separate metadata and migration history (``dashboard/migrations/``) so each
service creates only its own tables. Times are naive UTC datetimes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import declarative_base

from backends.db import Database as _Database
from backends.db import utcnow

__all__ = [
    "AuditEntry",
    "Base",
    "CscCode",
    "CscFiling",
    "CscPayment",
    "Database",
    "LoginFailure",
    "NluAnnotation",
    "Session",
    "User",
    "utcnow",
]

Base: Any = declarative_base()

#: helpdesk: answers the conversations no department owns yet (the triage queue);
#: trainer: annotates the messages the assistant misunderstood (NLU inbox)
ROLES = ("officer", "supervisor", "helpdesk", "csc_operator", "trainer", "admin")


class User(Base):
    __tablename__ = "dashboard_users"
    id = Column(Integer, primary_key=True, autoincrement=True)
    username = Column(String(64), nullable=False, unique=True)
    name = Column(String(200), nullable=False)
    role = Column(String(20), nullable=False)
    departments = Column(JSON, nullable=False)  # list of catalogue department ids
    csc_centre = Column(String(200), nullable=True)
    password_hash = Column(String(300), nullable=False)
    disabled = Column(Boolean, nullable=False, default=False)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class Session(Base):
    """A signed-in browser. The cookie holds ``id``; only its SHA-256 is stored here."""

    __tablename__ = "dashboard_sessions"
    id_hash = Column(String(64), primary_key=True)
    user_id = Column(Integer, nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False)
    last_seen_at = Column(DateTime, nullable=False)
    ip = Column(String(64), nullable=False)


class LoginFailure(Base):
    __tablename__ = "dashboard_login_failures"
    id = Column(Integer, primary_key=True, autoincrement=True)
    username = Column(String(64), nullable=False)
    ip = Column(String(64), nullable=False)
    at = Column(DateTime, nullable=False)
    __table_args__ = (Index("ix_login_failures_who", "username", "ip", "at"),)


class AuditEntry(Base):
    __tablename__ = "dashboard_audit"
    id = Column(Integer, primary_key=True, autoincrement=True)
    at = Column(DateTime, nullable=False, index=True)
    user_id = Column(Integer, nullable=True, index=True)  # None: not signed in
    username = Column(String(64), nullable=True)
    action = Column(String(60), nullable=False, index=True)
    subject = Column(String(100), nullable=True, index=True)
    detail = Column(JSON, nullable=True)
    ip = Column(String(64), nullable=False)
    # hash chain (dashboard/audit_chain.py): the previous row's hash, and this row's
    prev_hash = Column(String(64), nullable=True)
    hash = Column(String(64), nullable=True)
    # two rows never chain onto the same one (dashboard/audit_chain.py)
    __table_args__ = (Index("ux_dashboard_audit_prev_hash", "prev_hash", unique=True),)


class CscFiling(Base):
    """An application a CSC operator filed for a citizen (for "My filings")."""

    __tablename__ = "dashboard_csc_filings"
    application_id = Column(String(20), primary_key=True)
    user_id = Column(Integer, nullable=False, index=True)
    centre = Column(String(200), nullable=False)
    service_id = Column(String(64), nullable=False)
    mobile_last4 = Column(String(4), nullable=False)
    created_at = Column(DateTime, nullable=False)
    note = Column(Text, nullable=True)


class CscPayment(Base):
    """Money a CSC operator took at the counter for a filing, with its receipt number:
    ``kind`` ``charge`` (the assisted-service charge, ``dashboard/csc.yml``) or ``fee``
    (the service's fee, paid at the counter instead of online); ``mode`` cash or upi."""

    __tablename__ = "dashboard_csc_payments"
    id = Column(Integer, primary_key=True, autoincrement=True)
    receipt_number = Column(String(30), nullable=False, unique=True)
    application_id = Column(String(20), nullable=False, index=True)
    user_id = Column(Integer, nullable=False, index=True)
    kind = Column(String(10), nullable=False)
    amount = Column(Integer, nullable=False)  # rupees
    mode = Column(String(10), nullable=False)
    reference = Column(String(64), nullable=True)  # UPI transaction reference
    at = Column(DateTime, nullable=False, index=True)


class CscCode(Base):
    """The counter confirmation of a citizen without WhatsApp: a one-time code sent by
    SMS, which the citizen reads out to the operator. Only its HMAC is stored."""

    __tablename__ = "dashboard_csc_codes"
    application_id = Column(String(20), primary_key=True)
    code_hash = Column(String(64), nullable=True)  # None once used or locked
    expires_at = Column(DateTime, nullable=False)
    sends = Column(Integer, nullable=False, default=1)
    attempts = Column(Integer, nullable=False, default=0)  # wrong codes, all sends together
    state = Column(String(12), nullable=False)  # waiting | confirmed | locked
    updated_at = Column(DateTime, nullable=False)


class NluAnnotation(Base):
    """A trainer's verdict on a citizen's sentence (the NLU inbox, dashboard/trainer.py).

    ``text`` is masked (Aadhaar and phone numbers); ``entities`` are the annotations to
    export (entity, value, start, end in ``text``). ``event_id`` is the row of Rasa's
    event table the sentence came from: when that row is gone (the citizen had their
    data erased) the annotation is deleted too.
    """

    __tablename__ = "dashboard_nlu_annotations"
    id = Column(Integer, primary_key=True, autoincrement=True)
    key = Column(String(64), nullable=False, unique=True)  # SHA-256 of the normalized text
    event_id = Column(Integer, nullable=False, index=True)
    text = Column(Text, nullable=False)
    language = Column(String(10), nullable=False, index=True)
    predicted_intent = Column(String(64), nullable=False)
    predicted_confidence = Column(Float, nullable=False)
    reasons = Column(JSON, nullable=False)
    verdict = Column(String(12), nullable=False)  # confirmed | corrected | discarded
    intent = Column(String(64), nullable=True)  # None when discarded
    entities = Column(JSON, nullable=False)
    annotated_by = Column(String(64), nullable=False)
    annotated_at = Column(DateTime, nullable=False, index=True)


class Database(_Database):
    #: its own migration history (``dashboard/migrations/``, ``ops/migrate.py``)
    history = "dashboard"

    def ping(self) -> bool:
        """Whether the database answers (``/health``)."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
