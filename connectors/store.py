"""Durable state of the WhatsApp channel: the inbox, issued button ids, delivery statuses,
notifications sent for other services (by idempotency key), officers' handoffs and
erasure requests.

Every inbound message is written here (unique by its wamid) before the webhook is
acknowledged; a worker then claims it with an atomic UPDATE, so a message delivered
five times, or seen by several Rasa processes, makes exactly one conversation turn.

A claim is a lease: its token is the attempt number the claim wrote, the worker renews
``claimed_at`` while the turn runs (:meth:`ChannelStore.heartbeat`), and only the holder
of the current token can finish or release the message. A message whose worker died
(no heartbeat for ``stuck_after_seconds``) goes back to the queue; one claimed
``max_attempts`` times without finishing (a message that kills its process) is not
given to Rasa again (``exhausted``). Every reply sent for an inbound message is recorded
under ``<wamid>:<n>`` (:meth:`ChannelStore.reply_sent`), so a turn run again after a
crash does not send what the citizen already has.
SQLite by default (``var/whatsapp.db``), any SQLAlchemy URL (PostgreSQL in production).
Tables change only through migrations (``connectors/migrations/``, ``ops/migrate.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import time
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import QueuePool

from ops import migrate

metadata = sa.MetaData()

inbox = sa.Table(
    "whatsapp_inbox",
    metadata,
    sa.Column("message_id", sa.String(128), primary_key=True),
    sa.Column("wa_id", sa.String(32), nullable=False, index=True),
    sa.Column("phone_number_id", sa.String(64), nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # the parsed message, Aadhaar already masked
    # pending -> processing -> done | failed
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("claimed_at", sa.Float),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
)

busy = inbox.alias("busy")

# Replies sent for an inbound message, by "<wamid>:<n>" (the n-th of its turn).
replies = sa.Table(
    "whatsapp_replies",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("message_id", sa.String(128)),  # the wamid the Graph API gave the reply
    sa.Column("sent_at", sa.Float, nullable=False),
)

issued = sa.Table(
    "whatsapp_issued_payloads",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("wa_id", sa.String(32), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

statuses = sa.Table(
    "whatsapp_statuses",
    metadata,
    sa.Column("message_id", sa.String(128), primary_key=True),
    sa.Column("wa_id", sa.String(32), nullable=False),
    sa.Column("phone_number_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("rank", sa.Integer, nullable=False),
    sa.Column("error_code", sa.Integer),
    sa.Column("updated_at", sa.Float, nullable=False),
)

contacts = sa.Table(
    "whatsapp_contacts",
    metadata,
    sa.Column("wa_id", sa.String(32), primary_key=True),
    sa.Column("phone_number_id", sa.String(64), primary_key=True),
    sa.Column("last_inbound_at", sa.BigInteger, nullable=False),
)

notifications = sa.Table(
    "whatsapp_notifications",
    metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    # sending (claimed by a request) -> sent (answer kept: the same key gets it again)
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("claimed_at", sa.Float, nullable=False),
    sa.Column("answer", sa.Text),
)

handoffs = sa.Table(
    "whatsapp_handoffs",
    metadata,
    sa.Column("wa_id", sa.String(32), primary_key=True),
    sa.Column("officer_id", sa.String(100), nullable=False),
    sa.Column("officer_name", sa.String(200), nullable=False),
    sa.Column("department", sa.String(100), nullable=False),
    sa.Column("since", sa.Float, nullable=False),
)

# Keyed by an HMAC of the wa_id: after erasure the number itself is not kept.
erasures = sa.Table(
    "whatsapp_erasures",
    metadata,
    sa.Column("subject", sa.String(64), primary_key=True),
    sa.Column("wa_id", sa.String(32)),  # set while pending, cleared when done
    sa.Column("state", sa.String(16), nullable=False),  # pending | done
    sa.Column("requested_at", sa.Float, nullable=False),
    sa.Column("done_at", sa.Float),
)

ERASED = "erased"


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    if isinstance(connection, sqlite3.Connection):
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def sqlite_engine_kwargs() -> dict[str, Any]:
    """A pool of connections to an SQLite file (SQLAlchemy 1.4 otherwise opens and closes
    one per transaction, and closing the last checkpoints the WAL: ~25 % of a worker's CPU
    under load), shared by the event loop and worker threads."""
    return {
        "poolclass": QueuePool,
        "pool_size": 5,
        "max_overflow": 10,
        "connect_args": {"check_same_thread": False, "timeout": 30},
    }


def use_sqlite_settings(engine: Engine) -> None:
    """WAL journal with ``synchronous=NORMAL`` (SQLite's advice for WAL) on every new
    connection of ``engine``: a commit survives a crash of the process, not a power cut of
    the host; production runs on PostgreSQL, where commits are durable."""
    if engine.dialect.name == "sqlite" and not sa.event.contains(
        engine, "connect", _sqlite_pragmas
    ):
        sa.event.listen(engine, "connect", _sqlite_pragmas)


#: An issued button id works this long; a tap on an older one is answered, not obeyed.
BUTTON_TTL_SECONDS = 7 * 24 * 3600


# Statements of every message, built once. SQLAlchemy builds a statement written inline
# again on every call and computes its cache key, which cost more than running it
# (next_pending: 531 us inline, 111 us prebuilt, on SQLite).
_p = sa.bindparam
_NEXT_PENDING = (
    sa.select(inbox)
    .where(inbox.c.wa_id == _p("b_wa_id"), inbox.c.state == "pending")
    # one turn at a time per citizen across every Rasa process sharing this store:
    # none while another of their messages is in progress
    .where(~sa.exists().where(busy.c.wa_id == _p("b_wa_id"), busy.c.state == "processing"))
    .order_by(inbox.c.timestamp, inbox.c.received_at, inbox.c.message_id)
    .limit(1)
)
_CLAIM = (
    inbox.update()
    .where(
        inbox.c.message_id == _p("b_message_id"),
        inbox.c.state == "pending",
        inbox.c.attempts == _p("b_attempts"),
    )
    .values(state="processing", claimed_at=_p("b_now"), attempts=_p("b_next"))
)
_IN_CLAIM = (inbox.c.state == "processing", inbox.c.attempts == _p("b_token"))
_FINISH = inbox.update().where(inbox.c.message_id == _p("b_message_id")).values(state=_p("b_state"))
_FINISH_CLAIM = _FINISH.where(*_IN_CLAIM)
_HEARTBEAT = (
    inbox.update()
    .where(inbox.c.message_id == _p("b_message_id"), *_IN_CLAIM)
    .values(claimed_at=_p("b_now"))
)
_INBOX_STATE = sa.select(inbox.c.state).where(inbox.c.message_id == _p("b_message_id"))
_LAST_INBOUND = sa.select(contacts.c.last_inbound_at).where(
    contacts.c.wa_id == _p("b_wa_id"), contacts.c.phone_number_id == _p("b_number")
)
_REPLY_SENT = sa.select(replies.c.key).where(replies.c.key == _p("b_key"))
_ISSUED = sa.select(issued.c.payload, issued.c.created_at).where(
    issued.c.id == _p("b_id"), issued.c.wa_id == _p("b_wa_id")
)
_STATUS_OF = sa.select(statuses.c.status).where(statuses.c.message_id == _p("b_message_id"))
# A status or a contact is one statement each (~5 per citizen message): an upsert that
# changes the row only to a later status or a newer message. Written as SQL because
# SQLAlchemy 1.4 compiles its on_conflict constructs on every call (no statement cache);
# the same text runs on SQLite (3.24 and later) and PostgreSQL.
_RECORD_STATUS = sa.text(
    "INSERT INTO whatsapp_statuses"
    " (message_id, wa_id, phone_number_id, status, rank, error_code, updated_at)"
    " VALUES (:message_id, :wa_id, :phone_number_id, :status, :rank, :error_code, :updated_at)"
    " ON CONFLICT (message_id) DO UPDATE SET status = excluded.status, rank = excluded.rank,"
    " error_code = excluded.error_code, updated_at = excluded.updated_at"
    " WHERE whatsapp_statuses.rank < excluded.rank"
)
_TOUCH_CONTACT = sa.text(
    "INSERT INTO whatsapp_contacts (wa_id, phone_number_id, last_inbound_at)"
    " VALUES (:wa_id, :phone_number_id, :last_inbound_at)"
    " ON CONFLICT (wa_id, phone_number_id) DO UPDATE SET last_inbound_at = excluded.last_inbound_at"
    " WHERE whatsapp_contacts.last_inbound_at < excluded.last_inbound_at"
)


class ChannelStore:
    def __init__(self, url: str, subject_key: bytes = b"") -> None:
        self._subject_key = subject_key
        engine_args: dict[str, Any] = {"future": True}
        if url.startswith("sqlite"):
            engine_args.update(sqlite_engine_kwargs())
        else:  # a database restart must cost no request: stale connections are replaced
            engine_args["pool_pre_ping"] = True
        self.engine = sa.create_engine(url, **engine_args)
        use_sqlite_settings(self.engine)
        # the channel history (connectors/migrations/): to head on SQLite, checked at head
        # where production upgrades in a separate step; one process at a time
        migrate.on_start("channel", self.engine)

    # --- inbox -----------------------------------------------------------------------

    def add_inbound(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Stores new messages; returns those not seen before (duplicates are ignored)."""
        added = []
        now = time.time()
        for row in rows:
            try:
                with self.engine.begin() as connection:
                    connection.execute(
                        inbox.insert(),
                        {**row, "received_at": now, "state": "pending", "attempts": 0},
                    )
                added.append(row)
            except IntegrityError:
                continue  # the same wamid again: Meta retried or duplicated the webhook
        return added

    def touch_contact(self, wa_id: str, phone_number_id: str, timestamp: int) -> None:
        """Remembers the citizen's latest message: it opens the 24-hour window."""
        with self.engine.begin() as connection:
            connection.execute(
                _TOUCH_CONTACT,
                {"wa_id": wa_id, "phone_number_id": phone_number_id, "last_inbound_at": timestamp},
            )

    def last_inbound_at(self, wa_id: str, phone_number_id: str) -> int | None:
        with self.engine.connect() as connection:
            value = connection.execute(
                _LAST_INBOUND, {"b_wa_id": wa_id, "b_number": phone_number_id}
            ).scalar()
        return int(value) if value is not None else None

    def pending_citizens(self) -> list[str]:
        with self.engine.connect() as connection:
            return [
                r[0]
                for r in connection.execute(
                    sa.select(inbox.c.wa_id).where(inbox.c.state == "pending").distinct()
                )
            ]

    def next_pending(self, wa_id: str, max_attempts: int | None = None) -> dict[str, Any] | None:
        """The citizen's oldest unprocessed message, claimed for this worker, or None.

        None also while another of the citizen's messages is being processed (by any
        process); that worker takes the next one when it is done. The row's ``attempts``
        is the claim's token. A message already claimed ``max_attempts`` times is still
        claimed, but marked ``exhausted``: it must not reach Rasa again (the worker
        apologises and finishes it ``failed``).
        """
        while True:
            with self.engine.begin() as connection:
                row = connection.execute(_NEXT_PENDING, {"b_wa_id": wa_id}).first()
                if row is None:
                    return None
                claimed = connection.execute(
                    _CLAIM,
                    {
                        "b_message_id": row.message_id,
                        "b_attempts": row.attempts,
                        "b_now": time.time(),
                        "b_next": row.attempts + 1,
                    },
                ).rowcount
            if claimed == 1:
                exhausted = max_attempts is not None and row.attempts >= max_attempts
                return {**row._mapping, "attempts": row.attempts + 1, "exhausted": exhausted}

    def heartbeat(self, message_id: str, token: int) -> bool:
        """Renews the claim while its turn runs; False if the claim was lost."""
        with self.engine.begin() as connection:
            return bool(
                connection.execute(
                    _HEARTBEAT, {"b_message_id": message_id, "b_token": token, "b_now": time.time()}
                ).rowcount
            )

    def finish(self, message_id: str, state: str = "done", token: int | None = None) -> bool:
        """Ends the claim (``done``, ``failed`` or back to ``pending``).

        With ``token``, only if that claim is still the current one: a worker whose
        claim was taken over (it looked dead) changes nothing. True if it changed.
        """
        query = _FINISH if token is None else _FINISH_CLAIM
        values = {"b_message_id": message_id, "b_state": state, "b_token": token}
        with self.engine.begin() as connection:
            return bool(connection.execute(query, values).rowcount)

    def release(self, message_id: str, token: int | None = None) -> bool:
        """Puts a message back for another try (after a failure that may be passing)."""
        return self.finish(message_id, "pending", token)

    def requeue_stuck(self, older_than_seconds: float) -> int:
        """Messages whose worker stopped renewing its claim (its process died) are
        processed again."""
        with self.engine.begin() as connection:
            return int(
                connection.execute(
                    inbox.update()
                    .where(
                        inbox.c.state == "processing",
                        inbox.c.claimed_at < time.time() - older_than_seconds,
                    )
                    .values(state="pending")
                ).rowcount
            )

    # --- replies already sent (a turn run again sends only what is missing) -----------

    def reply_sent(self, key: str) -> bool:
        with self.engine.connect() as connection:
            found = connection.execute(_REPLY_SENT, {"b_key": key}).first()
        return found is not None

    def record_reply(self, key: str, message_id: str | None) -> None:
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    replies.insert(), {"key": key, "message_id": message_id, "sent_at": time.time()}
                )
        except IntegrityError:
            pass  # recorded by an earlier attempt

    def reachable(self) -> bool:
        with self.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return True

    def inbox_state(self, message_id: str) -> str | None:
        with self.engine.connect() as connection:
            value = connection.execute(_INBOX_STATE, {"b_message_id": message_id}).scalar()
        return str(value) if value is not None else None

    # --- button and list ids ---------------------------------------------------------

    def issue(self, wa_id: str, payload: str) -> str:
        """A short opaque id for a button the bot shows this citizen."""
        token = secrets.token_urlsafe(12)
        with self.engine.begin() as connection:
            connection.execute(
                issued.insert(),
                {"id": token, "wa_id": wa_id, "payload": payload, "created_at": time.time()},
            )
        return token

    def payload_for(self, wa_id: str, token: str) -> str | None:
        """The payload behind a tapped button, only if the bot issued it to this citizen."""
        found = self.issued_payload(wa_id, token)
        return found[0] if found else None

    def issued_payload(self, wa_id: str, token: str) -> tuple[str, float] | None:
        """(payload, when it was issued) of a button the bot issued to this citizen."""
        with self.engine.connect() as connection:
            row = connection.execute(_ISSUED, {"b_id": token, "b_wa_id": wa_id}).first()
        return (str(row[0]), float(row[1])) if row else None

    # --- delivery statuses -----------------------------------------------------------

    def record_sent(self, message_id: str, wa_id: str, phone_number_id: str) -> None:
        self.record_status(message_id, wa_id, phone_number_id, "accepted", 0, None)

    def record_status(
        self,
        message_id: str,
        wa_id: str,
        phone_number_id: str,
        status: str,
        rank: int,
        error_code: int | None,
    ) -> bool:
        """Records a status unless a later one is already known; True if it moved."""
        with self.engine.begin() as connection:
            return bool(
                connection.execute(
                    _RECORD_STATUS,
                    {
                        "message_id": message_id,
                        "wa_id": wa_id,
                        "phone_number_id": phone_number_id,
                        "status": status,
                        "rank": rank,
                        "error_code": error_code,
                        "updated_at": time.time(),
                    },
                ).rowcount
            )

    def status_of(self, message_id: str) -> str | None:
        with self.engine.connect() as connection:
            value = connection.execute(_STATUS_OF, {"b_message_id": message_id}).scalar()
        return str(value) if value is not None else None

    def statuses_of(self, message_ids: Iterable[str]) -> dict[str, str]:
        ids = list(message_ids)
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(statuses.c.message_id, statuses.c.status).where(
                    statuses.c.message_id.in_(ids)
                )
            )
            return {str(r.message_id): str(r.status) for r in rows}

    def latest_number(self, wa_id: str) -> str | None:
        """The number the citizen most recently wrote to."""
        with self.engine.connect() as connection:
            value = connection.execute(
                sa.select(contacts.c.phone_number_id)
                .where(contacts.c.wa_id == wa_id)
                .order_by(contacts.c.last_inbound_at.desc())
                .limit(1)
            ).scalar()
        return str(value) if value is not None else None

    # --- notifications (idempotent by key) -------------------------------------------

    def claim_notification(self, key: str, stale_after_seconds: float) -> tuple[bool, Any]:
        """(True, None) if this caller may send; else (False, the first answer or None).

        None means another request is sending it right now. A claim older than
        ``stale_after_seconds`` (its process died mid-send) may be taken over.
        """
        now = time.time()
        with self.engine.begin() as connection:
            try:
                with connection.begin_nested():
                    connection.execute(
                        notifications.insert().values(key=key, state="sending", claimed_at=now)
                    )
                return True, None
            except IntegrityError:
                pass
            row = connection.execute(
                sa.select(notifications).where(notifications.c.key == key)
            ).first()
            if row is None:
                return False, None
            if row.state == "sent":
                return False, json.loads(row.answer)
            taken = connection.execute(
                notifications.update()
                .where(
                    notifications.c.key == key,
                    notifications.c.state == "sending",
                    notifications.c.claimed_at < now - stale_after_seconds,
                )
                .values(claimed_at=now)
            ).rowcount
        return bool(taken), None

    def finish_notification(self, key: str, answer: dict[str, Any]) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                notifications.update()
                .where(notifications.c.key == key)
                .values(state="sent", answer=dumps(answer))
            )

    def drop_notification(self, key: str) -> None:
        """Not sent: the key may be tried again."""
        with self.engine.begin() as connection:
            connection.execute(
                notifications.delete().where(
                    notifications.c.key == key, notifications.c.state == "sending"
                )
            )

    # --- handoffs ----------------------------------------------------------------------

    def handoff(self, wa_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(handoffs).where(handoffs.c.wa_id == wa_id)).first()
        return dict(row._mapping) if row else None

    def take_handoff(
        self, wa_id: str, officer_id: str, officer_name: str, department: str
    ) -> dict[str, Any]:
        """The conversation's handoff after this officer's attempt to take it."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    handoffs.insert().values(
                        wa_id=wa_id,
                        officer_id=officer_id,
                        officer_name=officer_name,
                        department=department,
                        since=time.time(),
                    )
                )
        except IntegrityError:
            pass
        current = self.handoff(wa_id)
        assert current is not None
        return current

    def release_handoff(self, wa_id: str, officer_id: str) -> bool:
        with self.engine.begin() as connection:
            return bool(
                connection.execute(
                    handoffs.delete().where(
                        handoffs.c.wa_id == wa_id, handoffs.c.officer_id == officer_id
                    )
                ).rowcount
            )

    def all_handoffs(self) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(handoffs).order_by(handoffs.c.since))
            return [dict(r._mapping) for r in rows]

    # --- erasure -----------------------------------------------------------------------

    def _subject(self, wa_id: str) -> str:
        return hmac.new(self._subject_key, wa_id.encode(), hashlib.sha256).hexdigest()

    def request_erasure(self, wa_id: str) -> None:
        values = {"wa_id": wa_id, "state": "pending", "requested_at": time.time(), "done_at": None}
        with self.engine.begin() as connection:
            updated = connection.execute(
                erasures.update().where(erasures.c.subject == self._subject(wa_id)).values(**values)
            ).rowcount
            if not updated:
                try:
                    with connection.begin_nested():
                        connection.execute(
                            erasures.insert().values(subject=self._subject(wa_id), **values)
                        )
                except IntegrityError:
                    pass

    def erasure_state(self, wa_id: str) -> str | None:
        with self.engine.connect() as connection:
            value = connection.execute(
                sa.select(erasures.c.state).where(erasures.c.subject == self._subject(wa_id))
            ).scalar()
        return str(value) if value is not None else None

    def pending_erasures(self) -> list[str]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(erasures.c.wa_id).where(erasures.c.state == "pending")
            )
            return [str(r[0]) for r in rows if r[0]]

    def erase(self, wa_id: str) -> None:
        """Removes the citizen's data from the channel's tables and marks the erasure done.

        Inbound messages already processed keep their wamid (a redelivered webhook is
        still recognised) but lose their text and number; messages not yet processed
        (written after the erasure was asked for) are kept and start a new conversation.
        """
        with self.engine.begin() as connection:
            connection.execute(
                inbox.update()
                .where(inbox.c.wa_id == wa_id, inbox.c.state.in_(("done", "failed")))
                .values(wa_id=ERASED, body="{}")
            )
            connection.execute(
                statuses.update().where(statuses.c.wa_id == wa_id).values(wa_id=ERASED)
            )
            connection.execute(issued.delete().where(issued.c.wa_id == wa_id))
            connection.execute(contacts.delete().where(contacts.c.wa_id == wa_id))
            connection.execute(handoffs.delete().where(handoffs.c.wa_id == wa_id))
            connection.execute(
                erasures.update()
                .where(erasures.c.subject == self._subject(wa_id))
                .values(state="done", wa_id=None, done_at=time.time())
            )

    def inbox_body(self, message_id: str) -> str | None:
        with self.engine.connect() as connection:
            value = connection.execute(
                sa.select(inbox.c.body).where(inbox.c.message_id == message_id)
            ).scalar()
        return str(value) if value is not None else None


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
