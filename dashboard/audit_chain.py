"""The audit log as a hash chain: each row carries the hash of the row before it.

``hash = sha256(prev_hash | at | user_id | username | action | subject | detail | ip)``
over a canonical JSON of the row, and ``prev_hash`` is the previous row's ``hash``
(:data:`GENESIS` for the first chained row). Changing, deleting or inserting a row
anywhere breaks the chain at that row: :func:`verify` names the first broken one
(``python -m dashboard.audit_log verify``). Rows written before the chain existed
(``hash`` empty) are reported as unchained, not broken.

Appending is serialised, so two requests never chain onto the same row: a
transaction-scoped advisory lock on PostgreSQL, the write lock on SQLite (taken by a
no-op write before the last row is read); ``prev_hash`` is also unique.
Deleting the newest rows leaves a valid shorter chain: keep the head hash that
``verify`` prints somewhere else (the nightly backup's log) to notice that too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from dashboard.db import AuditEntry

GENESIS = "0" * 64
#: pg_advisory_xact_lock key of the audit chain (any fixed number no other lock uses)
LOCK_KEY = 0x5E3A_0A0D


def row_hash(prev_hash: str, entry: AuditEntry) -> str:
    fields = {
        "prev": prev_hash,
        "at": entry.at.isoformat(timespec="microseconds") if entry.at else None,
        "user_id": entry.user_id,
        "username": entry.username,
        "action": entry.action,
        "subject": entry.subject,
        "detail": entry.detail,
        "ip": entry.ip,
    }
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _lock(session: Session) -> None:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    elif dialect == "sqlite":  # a write statement takes SQLite's write lock for the transaction
        session.execute(update(AuditEntry).where(AuditEntry.id == -1).values(ip=""))


def append(session: Session, entry: AuditEntry) -> None:
    """Adds ``entry`` at the end of the chain (in the caller's transaction)."""
    _lock(session)
    last = session.execute(
        select(AuditEntry.hash).where(AuditEntry.hash.is_not(None)).order_by(AuditEntry.id.desc())
    ).first()
    # the JSON column gives back lists for tuples: hash what will be read back
    entry.detail = json.loads(json.dumps(entry.detail)) if entry.detail is not None else None
    entry.prev_hash = last[0] if last else GENESIS
    entry.hash = row_hash(entry.prev_hash, entry)
    session.add(entry)
    session.flush()


@dataclasses.dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int  # chained rows found intact
    unchained: int  # rows from before the chain
    head: str | None  # hash of the newest row
    broken_id: int | None = None
    reason: str = ""


def verify_rows(rows: Iterable[AuditEntry]) -> Verdict:
    """Walks the rows in id order; the first row whose hash or link is wrong is named."""
    previous: str | None = None
    checked = unchained = 0
    for entry in rows:
        if entry.hash is None and previous is None:
            unchained += 1
            continue
        expected_prev = GENESIS if previous is None else previous
        if entry.hash is None:
            return Verdict(False, checked, unchained, previous, entry.id, "row has no hash")
        if entry.prev_hash != expected_prev:
            return Verdict(
                False, checked, unchained, previous, entry.id, "previous row missing or changed"
            )
        if row_hash(str(entry.prev_hash), entry) != entry.hash:
            return Verdict(False, checked, unchained, previous, entry.id, "row changed")
        previous = str(entry.hash)
        checked += 1
    return Verdict(True, checked, unchained, previous)


def verify(session: Session, batch: int = 1000) -> Verdict:
    def rows() -> Iterable[AuditEntry]:
        after = 0
        while True:
            page = list(
                session.execute(
                    select(AuditEntry)
                    .where(AuditEntry.id > after)
                    .order_by(AuditEntry.id)
                    .limit(batch)
                ).scalars()
            )
            if not page:
                return
            yield from page
            after = int(page[-1].id)
            session.expunge_all()

    return verify_rows(rows())


def describe(verdict: Verdict) -> dict[str, Any]:
    return dataclasses.asdict(verdict)
