"""The audit page (supervisors and administrators): who did what, to which record,
when (UTC) and from where, filtered by user, action, subject and dates.

Supervisors see the entries of the users who share one of their departments (and
their own); administrators see every entry. Reading the audit log is itself audited.

The log is a hash chain (``dashboard/audit_chain.py``). Check it with

    python -m dashboard.audit_log verify     # DASHBOARD_DB_URL names the database

which prints one JSON line (rows checked, head hash) and exits 0, or names the first
broken row and exits 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta

from sanic import Request
from sanic.response import HTTPResponse
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dashboard import audit_chain
from dashboard.config import db_url
from dashboard.db import AuditEntry, Database, User
from dashboard.web import PAGE_ROLES, CurrentUser, Route, audit, context, query, render, require

ROLES = PAGE_ROLES["audit"]
PAGE_SIZE = 100


@dataclasses.dataclass(frozen=True)
class Filters:
    username: str
    action: str
    subject: str
    since: str  # YYYY-MM-DD
    until: str
    page: int


def _day(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return None


def visible_usernames(session: Session, user: CurrentUser) -> list[str] | None:
    """Whose entries ``user`` may read: None = everyone (administrators)."""
    if user.role == "admin":
        return None
    mine = set(user.departments)
    return [
        u.username
        for u in session.execute(select(User)).scalars()
        if u.id == user.id or mine.intersection(u.departments or [])
    ]


async def page(request: Request) -> HTTPResponse:
    user = require(request, *ROLES)
    number = query(request, "page", "1")
    filters = Filters(
        username=query(request, "user")[:64],
        action=query(request, "action")[:60],
        subject=query(request, "subject")[:100],
        since=query(request, "since")[:10],
        until=query(request, "until")[:10],
        page=max(1, int(number)) if number.isdigit() else 1,
    )

    def work(session: Session) -> tuple[list[AuditEntry], int]:
        conditions = []
        allowed = visible_usernames(session, user)
        if allowed is not None:
            # Failed sign-ins name a username that may not exist: shown by that name.
            conditions.append(AuditEntry.username.in_(allowed))
        if filters.username:
            conditions.append(AuditEntry.username == filters.username.lower())
        if filters.action:
            conditions.append(
                or_(
                    AuditEntry.action == filters.action,
                    AuditEntry.action.startswith(filters.action + "."),
                )
            )
        if filters.subject:
            conditions.append(AuditEntry.subject == filters.subject)
        since, until = _day(filters.since), _day(filters.until)
        if since:
            conditions.append(AuditEntry.at >= since)
        if until:
            conditions.append(AuditEntry.at < until + timedelta(days=1))
        total = session.execute(select(func.count(AuditEntry.id)).where(*conditions)).scalar_one()
        rows = session.execute(
            select(AuditEntry)
            .where(*conditions)
            .order_by(AuditEntry.id.desc())
            .offset((filters.page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).scalars()
        return list(rows), int(total)

    entries, total = context(request).db.run(work)
    audit(request, "audit.view", None, {k: v for k, v in dataclasses.asdict(filters).items() if v})
    return render(
        request, "audit.html", entries=entries, total=total, filters=filters, page_size=PAGE_SIZE
    )


ROUTES: list[Route] = [("GET", "/audit", page)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard.audit_log")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("verify", help="check the audit log's hash chain")
    parser.parse_args(argv)
    db = Database(db_url())
    try:
        verdict = db.run(audit_chain.verify)
    finally:
        db.dispose()
    print(json.dumps(audit_chain.describe(verdict)))
    if not verdict.ok:
        print(
            f"audit log broken at row {verdict.broken_id}: {verdict.reason}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
