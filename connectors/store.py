"""Durable state of the WhatsApp channel: the inbox, issued button ids, delivery statuses.

Every inbound message is written here (unique by its wamid) before the webhook is
acknowledged; a worker then claims it with an atomic UPDATE, so a message delivered
five times, or seen by several Rasa processes, makes exactly one conversation turn.
SQLite by default (``var/whatsapp.db``), any SQLAlchemy URL (PostgreSQL in production).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from connectors.rasa_speedups import sqlite_engine_kwargs

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


class ChannelStore:
    def __init__(self, url: str) -> None:
        engine_args: dict[str, Any] = {"future": True}
        if url.startswith("sqlite"):
            engine_args.update(sqlite_engine_kwargs())
        self.engine = sa.create_engine(url, **engine_args)
        metadata.create_all(self.engine)

    # --- inbox -----------------------------------------------------------------------

    def add_inbound(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Stores new messages; returns those not seen before (duplicates are ignored)."""
        added = []
        now = time.time()
        for row in rows:
            try:
                with self.engine.begin() as connection:
                    connection.execute(
                        inbox.insert().values(**row, received_at=now, state="pending", attempts=0)
                    )
                added.append(row)
            except IntegrityError:
                continue  # the same wamid again: Meta retried or duplicated the webhook
        return added

    def touch_contact(self, wa_id: str, phone_number_id: str, timestamp: int) -> None:
        """Remembers the citizen's latest message: it opens the 24-hour window."""
        with self.engine.begin() as connection:
            updated = connection.execute(
                contacts.update()
                .where(contacts.c.wa_id == wa_id, contacts.c.phone_number_id == phone_number_id)
                .where(contacts.c.last_inbound_at < timestamp)
                .values(last_inbound_at=timestamp)
            ).rowcount
            if not updated:
                exists = connection.execute(
                    sa.select(contacts.c.wa_id).where(
                        contacts.c.wa_id == wa_id, contacts.c.phone_number_id == phone_number_id
                    )
                ).first()
                if exists is None:
                    try:
                        with connection.begin_nested():
                            connection.execute(
                                contacts.insert().values(
                                    wa_id=wa_id,
                                    phone_number_id=phone_number_id,
                                    last_inbound_at=timestamp,
                                )
                            )
                    except IntegrityError:
                        pass

    def last_inbound_at(self, wa_id: str, phone_number_id: str) -> int | None:
        with self.engine.connect() as connection:
            value = connection.execute(
                sa.select(contacts.c.last_inbound_at).where(
                    contacts.c.wa_id == wa_id, contacts.c.phone_number_id == phone_number_id
                )
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

    def next_pending(self, wa_id: str) -> dict[str, Any] | None:
        """The citizen's oldest unprocessed message, claimed for this worker, or None."""
        while True:
            with self.engine.begin() as connection:
                row = connection.execute(
                    sa.select(inbox)
                    .where(inbox.c.wa_id == wa_id, inbox.c.state == "pending")
                    .order_by(inbox.c.timestamp, inbox.c.received_at, inbox.c.message_id)
                    .limit(1)
                ).first()
                if row is None:
                    return None
                claimed = connection.execute(
                    inbox.update()
                    .where(inbox.c.message_id == row.message_id, inbox.c.state == "pending")
                    .values(state="processing", claimed_at=time.time(), attempts=row.attempts + 1)
                ).rowcount
            if claimed == 1:
                return {**row._mapping, "attempts": row.attempts + 1}

    def finish(self, message_id: str, state: str = "done") -> None:
        with self.engine.begin() as connection:
            connection.execute(
                inbox.update().where(inbox.c.message_id == message_id).values(state=state)
            )

    def release(self, message_id: str) -> None:
        """Puts a message back for another try (after a failure that may be passing)."""
        self.finish(message_id, "pending")

    def requeue_stuck(self, older_than_seconds: float) -> int:
        """Messages claimed by a process that died are processed again."""
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

    def inbox_state(self, message_id: str) -> str | None:
        with self.engine.connect() as connection:
            value = connection.execute(
                sa.select(inbox.c.state).where(inbox.c.message_id == message_id)
            ).scalar()
        return str(value) if value is not None else None

    # --- button and list ids ---------------------------------------------------------

    def issue(self, wa_id: str, payload: str) -> str:
        """A short opaque id for a button the bot shows this citizen."""
        token = secrets.token_urlsafe(12)
        with self.engine.begin() as connection:
            connection.execute(
                issued.insert().values(
                    id=token, wa_id=wa_id, payload=payload, created_at=time.time()
                )
            )
        return token

    def payload_for(self, wa_id: str, token: str) -> str | None:
        """The payload behind a tapped button, only if the bot issued it to this citizen."""
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(issued.c.payload).where(issued.c.id == token, issued.c.wa_id == wa_id)
            ).first()
        return str(row[0]) if row else None

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
            moved = connection.execute(
                statuses.update()
                .where(statuses.c.message_id == message_id, statuses.c.rank < rank)
                .values(status=status, rank=rank, error_code=error_code, updated_at=time.time())
            ).rowcount
            if moved:
                return True
            exists = connection.execute(
                sa.select(statuses.c.rank).where(statuses.c.message_id == message_id)
            ).first()
            if exists is not None:
                return False
            try:
                with connection.begin_nested():
                    connection.execute(
                        statuses.insert().values(
                            message_id=message_id,
                            wa_id=wa_id,
                            phone_number_id=phone_number_id,
                            status=status,
                            rank=rank,
                            error_code=error_code,
                            updated_at=time.time(),
                        )
                    )
            except IntegrityError:
                return False
            return True

    def status_of(self, message_id: str) -> str | None:
        with self.engine.connect() as connection:
            value = connection.execute(
                sa.select(statuses.c.status).where(statuses.c.message_id == message_id)
            ).scalar()
        return str(value) if value is not None else None


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
