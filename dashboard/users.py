"""User accounts: create, disable, change password; ``python -m dashboard.users``.

    python -m dashboard.users add ravi --name "Ravi Kumar" --role officer --departments revenue
    python -m dashboard.users add csc1 --name "Asha" --role csc_operator --centre "CSC Rohini-7"
    python -m dashboard.users add hari --name "Hari Om" --role helpdesk   # triage, no department
    python -m dashboard.users add asha --name "Asha Rani" --role trainer  # NLU inbox, no department
    python -m dashboard.users passwd ravi
    python -m dashboard.users disable ravi    # the dashboard then releases ravi's handoffs
    python -m dashboard.users list

Passwords are read from the terminal (``getpass``), or from standard input with
``--password-stdin``; never from the command line, where other users could see them.
"""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dashboard.config import db_url
from dashboard.db import ROLES, Database, User, utcnow
from dashboard.db import Session as SignedIn
from dashboard.security import MIN_PASSWORD_LENGTH, hash_password
from service_catalogue import load

#: Usernames double as ``X-Officer-Id`` on the backends: the same characters.
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class UserError(ValueError):
    """The account cannot be created or changed; the message (English, for the CLI and
    the admin's Users page via its code) says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            "password_short", f"The password must have at least {MIN_PASSWORD_LENGTH} characters."
        )


def create_user(
    db: Database,
    username: str,
    name: str,
    role: str,
    password: str,
    departments: Sequence[str] = (),
    csc_centre: str | None = None,
) -> int:
    """A new account; :class:`UserError` if the data is not acceptable."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise UserError(
            "username_invalid",
            "Usernames are 2-64 lowercase letters, digits, '.', '_' or '-'.",
        )
    if role not in ROLES:
        raise UserError("role_invalid", f"The role must be one of {', '.join(ROLES)}.")
    known = load().departments
    unknown = [d for d in departments if d not in known]
    if unknown:
        raise UserError("department_unknown", f"Unknown department(s): {', '.join(unknown)}.")
    if role in ("officer", "supervisor") and not departments:
        raise UserError("departments_required", "Officers and supervisors need a department.")
    if role == "csc_operator" and not (csc_centre or "").strip():
        raise UserError("centre_required", "A CSC operator needs a centre.")
    if not name.strip():
        raise UserError("name_required", "The name is required.")
    check_password(password)
    password_hash = hash_password(password)

    def work(session: Session) -> int:
        if session.execute(select(User.id).where(User.username == username)).first():
            raise UserError("username_taken", f"The username {username!r} is taken.")
        now = utcnow()
        user = User(
            username=username,
            name=name.strip(),
            role=role,
            departments=sorted(set(departments)),
            csc_centre=(csc_centre or "").strip() or None,
            password_hash=password_hash,
            disabled=False,
            created_at=now,
            updated_at=now,
        )
        session.add(user)
        session.flush()
        return int(user.id)

    return db.run(work)


def _change(db: Database, username: str, **values: object) -> int:
    def work(session: Session) -> int:
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            raise UserError("user_unknown", f"There is no user {username!r}.")
        for key, value in values.items():
            setattr(user, key, value)
        user.updated_at = utcnow()
        return int(user.id)

    return db.run(work)


def set_password(db: Database, username: str, password: str) -> int:
    """A new password; every session of the account ends with the old one (whoever knew
    it, or stole a session cookie, is signed out), in the same transaction."""
    check_password(password)
    password_hash = hash_password(password)

    def work(session: Session) -> int:
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            raise UserError("user_unknown", f"There is no user {username!r}.")
        user.password_hash = password_hash
        user.updated_at = utcnow()
        session.execute(delete(SignedIn).where(SignedIn.user_id == user.id))
        return int(user.id)

    return db.run(work)


def set_disabled(db: Database, username: str, disabled: bool = True) -> int:
    """Disable (or enable) an account. A disabled user's sessions stop working at once:
    every request re-reads the account."""
    return _change(db, username, disabled=disabled)


def all_users(db: Database) -> list[User]:
    return db.run(
        lambda session: list(session.execute(select(User).order_by(User.username)).scalars())
    )


# --------------------------------------------------------------------------- CLI


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise UserError("password_mismatch", "The two passwords differ.")
    return first


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard.users")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--departments", default="", help="comma-separated department ids")
    add.add_argument("--centre", default=None, help="CSC centre (csc_operator)")
    add.add_argument("--password-stdin", action="store_true")
    passwd = commands.add_parser("passwd", help="set a new password")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true")
    for name in ("disable", "enable"):
        commands.add_parser(name, help=f"{name} an account").add_argument("username")
    commands.add_parser("list", help="list accounts")
    args = parser.parse_args(argv)

    db = Database(db_url())
    db.create_all()
    try:
        if args.command == "add":
            departments = [d.strip() for d in args.departments.split(",") if d.strip()]
            password = _read_password(args.password_stdin)
            create_user(db, args.username, args.name, args.role, password, departments, args.centre)
        elif args.command == "passwd":
            set_password(db, args.username, _read_password(args.password_stdin))
        elif args.command in ("disable", "enable"):
            set_disabled(db, args.username, args.command == "disable")
        else:
            for user in all_users(db):
                state = "disabled" if user.disabled else "active"
                print(
                    f"{user.username}\t{user.role}\t{','.join(user.departments)}\t"
                    f"{user.csc_centre or ''}\t{state}"
                )
    except UserError as exc:
        print(f"dashboard.users: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    if args.command != "list":
        print(f"{args.command}: {args.username} done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
