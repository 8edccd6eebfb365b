"""Demo accounts for ``make run``: created if absent, passwords generated once into
``var/dev-secrets.json`` (outside the repository), never printed.

    python -m dashboard.seed      # prints where the passwords are

Accounts: ``officer.revenue`` (revenue), ``officer.transport`` (transport),
``supervisor`` (revenue, transport), ``csc.operator`` (centre "CSC Demo Centre"),
``trainer`` (the NLU inbox), ``admin``.
"""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path

from sqlalchemy import select

from backends.config import ROOT
from dashboard.config import db_url
from dashboard.db import Database, User
from dashboard.users import create_user

SECRETS_PATH = ROOT / "var" / "dev-secrets.json"
#: username -> (name, role, departments, centre)
DEMO_USERS: dict[str, tuple[str, str, list[str], str | None]] = {
    "officer.revenue": ("Revenue Officer (demo)", "officer", ["revenue"], None),
    "officer.transport": ("Transport Officer (demo)", "officer", ["transport"], None),
    "supervisor": ("Supervisor (demo)", "supervisor", ["revenue", "transport"], None),
    "csc.operator": ("CSC Operator (demo)", "csc_operator", [], "CSC Demo Centre"),
    "trainer": ("NLU Trainer (demo)", "trainer", [], None),
    "admin": ("Administrator (demo)", "admin", [], None),
}


def seed(db: Database, secrets_path: Path = SECRETS_PATH) -> list[str]:
    """Create the demo accounts that do not exist; returns the usernames created."""
    db.create_all()
    stored = json.loads(secrets_path.read_text()) if secrets_path.exists() else {}
    passwords: dict[str, str] = stored.setdefault("DASHBOARD_USERS", {})
    existing = set(db.run(lambda s: list(s.execute(select(User.username)).scalars())))
    created = []
    for username, (name, role, departments, centre) in DEMO_USERS.items():
        if username in existing:
            continue
        password = passwords.get(username) or secrets.token_urlsafe(12)
        create_user(db, username, name, role, password, departments, centre)
        passwords[username] = password
        created.append(username)
    secrets_path.parent.mkdir(parents=True, exist_ok=True)
    secrets_path.write_text(json.dumps(stored, indent=2))
    secrets_path.chmod(0o600)
    return created


def main() -> int:
    db = Database(db_url())
    try:
        created = seed(db)
    finally:
        db.dispose()
    if created:
        print(f"dashboard: demo accounts {', '.join(created)} created")
    print(f"dashboard: demo passwords are in {SECRETS_PATH} under DASHBOARD_USERS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
