"""Retention: the channel's data is kept no longer than its purpose needs (the
data-minimisation rule of docs/operations.md, "Retention and data minimisation").

One run (:func:`run_once`) removes, as of ``now`` (what is kept, and why that long):

- text of a processed inbound message (``whatsapp_inbox.body``): 7 days (Meta
  redelivers a webhook for up to 7 days; the conversation itself is the tracker's);
- the inbound row itself (its wamid): 30 days (a very late duplicate is recognised);
- replies sent per inbound message (``whatsapp_replies``): 30 days;
- issued button ids (``whatsapp_issued_payloads``): the payload 7 days
  (``BUTTON_TTL_SECONDS``: an older button is answered "no longer works"), the row 30;
- delivery statuses (``whatsapp_statuses``): 30 days (the backends read them for 7);
- notification answers by key (``whatsapp_notifications``): 30 days;
- the 24-hour window's last message time (``whatsapp_contacts``): 30 days;
- log files in ``LOG_DIR``: ``LOG_RETENTION_DAYS`` (180, CERT-In Directions 2022).

Messages not yet processed, handoffs and erasure records (an HMAC of the number, no
number) are never touched. Run it daily: ``python -m connectors.retention`` (or as a job
of ``python -m backends.jobs``); it prints the counts as JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from connectors.store import (
    BUTTON_TTL_SECONDS,
    ChannelStore,
    contacts,
    inbox,
    issued,
    notifications,
    replies,
    statuses,
)

DAY = 24 * 3600
INBOX_BODY_SECONDS = 7 * DAY
KEEP_SECONDS = 30 * DAY
DEFAULT_LOG_DAYS = 180
_DONE = ("done", "failed")


def run_once(
    store: ChannelStore | None = None,
    *,
    now: float | None = None,
    log_dir: Path | str | None = None,
    log_days: int | None = None,
) -> dict[str, int]:
    """Removes what is past its time; returns how many of each. ``store`` defaults to the
    channel's database (``WHATSAPP_DB_URL``), ``log_dir`` to ``LOG_DIR``, ``log_days``
    to ``LOG_RETENTION_DAYS``; ``now`` (unix seconds) to the clock."""
    store = store or ChannelStore(_db_url())
    now = time.time() if now is None else now
    old, body_old, button_old = (
        now - KEEP_SECONDS,
        now - INBOX_BODY_SECONDS,
        now - BUTTON_TTL_SECONDS,
    )
    counts: dict[str, int] = {}
    with store.engine.begin() as connection:

        def run(name: str, statement: Any) -> None:
            counts[name] = int(connection.execute(statement).rowcount or 0)

        run(
            "inbox_bodies",
            inbox.update()
            .where(inbox.c.state.in_(_DONE), inbox.c.received_at < body_old, inbox.c.body != "{}")
            .values(body="{}"),
        )
        run("inbox_rows", inbox.delete().where(inbox.c.state.in_(_DONE), inbox.c.received_at < old))
        run("replies", replies.delete().where(replies.c.sent_at < old))
        run(
            "buttons_expired",
            issued.update()
            .where(issued.c.created_at < button_old, issued.c.payload != "")
            .values(payload=""),
        )
        run("buttons", issued.delete().where(issued.c.created_at < old))
        run("statuses", statuses.delete().where(statuses.c.updated_at < old))
        run(
            "notifications",
            notifications.delete().where(
                notifications.c.state == "sent", notifications.c.claimed_at < old
            ),
        )
        run("contacts", contacts.delete().where(contacts.c.last_inbound_at < int(old)))
    counts["log_files"] = remove_old_logs(log_dir, log_days, now)
    return counts


def remove_old_logs(log_dir: Path | str | None, days: int | None, now: float) -> int:
    """Rotated log files in ``log_dir`` last written more than ``days`` days before ``now``."""
    folder = Path(log_dir) if log_dir else Path(os.environ.get("LOG_DIR") or "")
    if not str(folder) or str(folder) == "." or not folder.is_dir():
        return 0
    days = days or int(os.environ.get("LOG_RETENTION_DAYS") or DEFAULT_LOG_DAYS)
    removed = 0
    for path in folder.iterdir():
        if ".log" not in path.name or not path.is_file() or path.is_symlink():
            continue
        if path.stat().st_mtime < now - days * DAY:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _db_url() -> str:
    """The channel's database, as connectors/whatsapp.py reads it."""
    root = Path(__file__).resolve().parent.parent
    return os.environ.get("WHATSAPP_DB_URL") or f"sqlite:///{root / 'var' / 'whatsapp.db'}"


def main() -> int:
    print(json.dumps(run_once(), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
