"""One holder at a time across processes and replicas, for jobs and schema upgrades.

    with database_lock(engine, "job:reminders") as held:
        if held:
            ...  # no other process holds "job:reminders" on this database

PostgreSQL: a session advisory lock (``pg_try_advisory_lock``, or ``pg_advisory_lock``
with ``wait=True``) on a connection kept for the block; the server frees it if the
process dies. SQLite file: ``flock`` on ``<database file>.<name>.lock`` beside it (the
kernel frees it if the process dies). In-memory SQLite: a lock of this process.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

_local: dict[str, threading.Lock] = {}
_local_guard = threading.Lock()


def lock_key(name: str) -> int:
    """The advisory lock's 64-bit key for ``name`` (stable across processes)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def database_lock(engine: sa.engine.Engine, name: str, wait: bool = False) -> Iterator[bool]:
    """Hold lock ``name`` on ``engine``'s database for the block; yields whether it is
    held (always True with ``wait=True``, which blocks until it is free)."""
    if engine.dialect.name == "postgresql":
        with _advisory(engine, name, wait) as held:
            yield held
        return
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if path and path != ":memory:":
        with _file_lock(Path(path), name, wait) as held:
            yield held
        return
    with _local_guard:
        lock = _local.setdefault(f"{engine.url}:{name}", threading.Lock())
    held = lock.acquire(blocking=wait)
    try:
        yield held
    finally:
        if held:
            lock.release()


@contextlib.contextmanager
def _advisory(engine: sa.engine.Engine, name: str, wait: bool) -> Iterator[bool]:
    key = lock_key(name)
    # autocommit: the lock's connection never sits idle in a transaction
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        held = False
        try:
            function = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
            result = connection.execute(sa.text(f"SELECT {function}(:k)"), {"k": key})
            held = wait or bool(result.scalar())
            yield held
        except BaseException:
            # the lock must not outlive this block in a pooled connection: close it
            connection.invalidate()
            raise
        if held:
            try:
                connection.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            except sa.exc.SQLAlchemyError:  # the session is gone, and its lock with it
                connection.invalidate()


@contextlib.contextmanager
def _file_lock(database: Path, name: str, wait: bool) -> Iterator[bool]:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", name)
    path = database.with_name(f"{database.name}.{safe}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            held = True
        except BlockingIOError:
            held = False
        try:
            yield held
        finally:
            if held:
                fcntl.flock(handle, fcntl.LOCK_UN)
