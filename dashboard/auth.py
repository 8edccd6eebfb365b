"""Sign-in, sessions and sign-out.

Sessions live in the database (``dashboard_sessions``; the cookie holds a random id,
the table its SHA-256): they end after ``DASHBOARD_SESSION_IDLE_MINUTES`` without a
request or ``DASHBOARD_SESSION_MAX_HOURS`` after sign-in, on sign-out, and when the
account is disabled. The cookie is HttpOnly, SameSite=Strict and, with
``DASHBOARD_SECURE_COOKIES=1``, Secure.

Rate limiting, two locks (both audited; a locked sign-in is refused even with the right
password and is not counted again):

- per username and address: ``DASHBOARD_LOGIN_MAX_FAILURES`` failed sign-ins for one
  username from one address within ``DASHBOARD_LOGIN_WINDOW_MINUTES`` lock that pair
  until the oldest failure leaves the window. Other addresses still sign in, so one
  person mistyping (or guessing) does not lock the officer out for everyone.
- per account, whatever the address: from ``DASHBOARD_LOGIN_ACCOUNT_MAX_FAILURES``
  failures within :data:`ACCOUNT_WINDOW` on, the account is locked for
  ``DASHBOARD_LOGIN_BACKOFF_SECONDS`` after the latest failure, doubled with every
  further failure up to ``DASHBOARD_LOGIN_BACKOFF_MAX_MINUTES``. Guessing from ever new
  addresses (or forged ``X-Forwarded-For`` values) therefore gains nothing.

A successful sign-in clears the username's failures. The address is
:func:`dashboard.web.client_ip`: behind nginx, the hop nginx itself set.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sanic import Request
from sanic.response import HTTPResponse, redirect
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session as DbSession

from dashboard.config import Settings
from dashboard.db import LoginFailure, Session, User, utcnow
from dashboard.security import (
    DUMMY_HASH,
    hash_password_async,
    needs_rehash,
    new_token,
    token_hash,
    verify_password_async,
)
from dashboard.web import (
    LANGUAGE_COOKIE,
    LANGUAGES,
    LOGIN_COOKIE,
    PAGE_ROLES,
    SESSION_COOKIE,
    CurrentUser,
    Route,
    audit,
    audit_as,
    client_ip,
    context,
    current_user,
    form,
    query,
    render,
    require,
)

#: A session's last-seen time is written at most this often (seconds).
TOUCH_EVERY = 30

#: Failed sign-ins are kept, and count towards the per-account lock, this long.
ACCOUNT_WINDOW = timedelta(hours=24)


def _cookie(response: HTTPResponse, request: Request, name: str, value: str, max_age: int) -> None:
    response.cookies[name] = value
    cookie = response.cookies[name]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    # Only the dashboard's own paths: behind nginx, not /pay/, /verify/ or the webhook.
    cookie["path"] = getattr(context(request).settings, "url_prefix", "") or "/"
    cookie["max-age"] = max_age
    if context(request).settings.secure_cookies:
        cookie["secure"] = True


def _forget(response: HTTPResponse, request: Request, name: str) -> None:
    """Delete cookie ``name`` in the browser (same path as :func:`_cookie` set it)."""
    _cookie(response, request, name, "", 0)


def load_session(request: Request, token: str | None = None) -> None:
    """Middleware: ``request.ctx.user`` from the session cookie (None if none is valid)."""
    request.ctx.user = None
    request.ctx.login_cookie = request.cookies.get(LOGIN_COOKIE, "")
    token = token or request.cookies.get(SESSION_COOKIE)
    if not token:
        return
    settings = context(request).settings
    id_hash = token_hash(token)

    def work(session: DbSession) -> CurrentUser | None:
        row = session.get(Session, id_hash)
        if row is None:
            return None
        now = utcnow()
        user = session.get(User, row.user_id)
        expired = now - row.last_seen_at > timedelta(
            seconds=settings.session_idle_seconds
        ) or now - row.created_at > timedelta(seconds=settings.session_max_seconds)
        if expired or user is None or user.disabled:
            session.delete(row)
            return None
        if (now - row.last_seen_at).total_seconds() >= TOUCH_EVERY:
            row.last_seen_at = now
        return CurrentUser(
            id=user.id,
            username=user.username,
            name=user.name,
            role=user.role,
            departments=tuple(user.departments or ()),
            csc_centre=user.csc_centre,
            csrf_token=row.csrf_token,
            session_hash=id_hash,
        )

    request.ctx.user = context(request).db.run(work)


def home_of(user: CurrentUser) -> str:
    """Where a user lands after signing in."""
    for page, target in (
        ("applications", "/applications"),
        ("conversations", "/conversations"),
        ("csc", "/csc"),
        ("trainer", "/trainer"),
        ("users", "/users"),
        ("audit", "/audit"),
    ):
        if user.role in PAGE_ROLES[page]:
            return target
    return "/"


def _safe_next(target: str) -> str | None:
    """Only local paths (no scheme, no host, no ``//``) are followed after sign-in."""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        if not parts.scheme and "\\" not in target:
            return target
    return None


async def login_page(request: Request) -> HTTPResponse:
    if current_user(request) is not None:
        return redirect(home_of(require(request)))
    login_cookie = request.ctx.login_cookie or new_token()
    request.ctx.login_cookie = login_cookie
    response = render(request, "login.html", error=None, next=query(request, "next"), username="")
    _cookie(response, request, LOGIN_COOKIE, login_cookie, 3600)
    return response


def _failures_since(session: DbSession, username: str, ip: str, since: datetime) -> int:
    return int(
        session.execute(
            select(func.count(LoginFailure.id)).where(
                LoginFailure.username == username,
                LoginFailure.ip == ip,
                LoginFailure.at > since,
            )
        ).scalar_one()
    )


def account_locked_until(
    session: DbSession, settings: Settings, username: str, now: datetime
) -> datetime | None:
    """When the per-account back-off for ``username`` ends (None: not locked)."""
    count, latest = session.execute(
        select(func.count(LoginFailure.id), func.max(LoginFailure.at)).where(
            LoginFailure.username == username, LoginFailure.at > now - ACCOUNT_WINDOW
        )
    ).one()
    over = int(count) - int(settings.login_account_max_failures)
    if latest is None or over < 0:
        return None
    delay = min(
        float(settings.login_backoff_seconds) * 2 ** min(over, 40),
        float(settings.login_backoff_max_seconds),
    )
    until = latest + timedelta(seconds=delay)
    return until if until > now else None


async def login_submit(request: Request) -> HTTPResponse:
    ctx = context(request)
    settings = ctx.settings
    username = form(request, "username").lower()[:64]
    password = form(request, "password")
    target = _safe_next(form(request, "next"))
    ip = client_ip(request)
    now = utcnow()
    since = now - timedelta(seconds=settings.login_window_seconds)

    def refuse(code: str, status: int) -> HTTPResponse:
        return render(
            request, "login.html", status=status, error=code, next=target or "", username=username
        )

    locked = ctx.db.run(lambda s: _failures_since(s, username, ip, since))
    if locked >= settings.login_max_failures:
        audit_as(request, username, "login.refused_locked", username, None)
        return refuse("login_locked", 429)
    until = ctx.db.run(lambda s: account_locked_until(s, settings, username, now))
    if until is not None:
        audit_as(request, username, "login.refused_locked", username, {"scope": "account"})
        return refuse("login_locked", 429)

    def find(session: DbSession) -> tuple[int, str, bool] | None:
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        return None if user is None else (int(user.id), str(user.password_hash), user.disabled)

    found = ctx.db.run(find) if username else None
    # The same work whether or not the user exists: timing tells nothing. scrypt runs in
    # a worker thread: the other officers' pages and streams are not held up meanwhile.
    valid = await verify_password_async(password, found[1] if found else DUMMY_HASH)
    if not (found and valid and not found[2]):

        def record(session: DbSession) -> tuple[int, bool]:
            session.add(LoginFailure(username=username, ip=ip, at=now))
            session.execute(
                delete(LoginFailure).where(LoginFailure.at < min(since, now - ACCOUNT_WINDOW))
            )
            session.flush()
            pair = _failures_since(session, username, ip, since)
            return pair, account_locked_until(session, settings, username, now) is not None

        failures, account_locked = ctx.db.run(record)
        reason = "disabled" if found and valid else "bad_credentials"
        audit_as(request, username, "login.failed", username, {"reason": reason})
        if failures >= settings.login_max_failures:
            audit_as(request, username, "login.locked", username, {"failures": failures})
            return refuse("login_locked", 429)
        if account_locked:
            audit_as(request, username, "login.locked", username, {"scope": "account"})
            return refuse("login_locked", 429)
        return refuse("login_failed", 401)

    user_id = found[0]
    token = new_token()
    # A hash made with older (weaker) parameters is replaced now that the password is known.
    upgraded = await hash_password_async(password) if needs_rehash(found[1]) else None

    def start(session: DbSession) -> None:
        session.add(
            Session(
                id_hash=token_hash(token),
                user_id=user_id,
                csrf_token=new_token(),
                created_at=now,
                last_seen_at=now,
                ip=ip,
            )
        )
        session.execute(delete(LoginFailure).where(LoginFailure.username == username))
        if upgraded is not None:
            session.execute(
                update(User)
                .where(User.id == user_id, User.password_hash == found[1])
                .values(password_hash=upgraded)
            )

    ctx.db.run(start)
    load_session(request, token)
    audit(request, "login.succeeded", username)
    response = redirect(target or home_of(require(request)))
    _cookie(response, request, SESSION_COOKIE, token, int(settings.session_max_seconds))
    _forget(response, request, LOGIN_COOKIE)
    return response


async def logout(request: Request) -> HTTPResponse:
    user = current_user(request)
    if user is not None:
        audit(request, "logout", user.username)
        context(request).db.run(
            lambda session: session.execute(
                delete(Session).where(Session.id_hash == user.session_hash)
            )
        )
    response = redirect("/login")
    _forget(response, request, SESSION_COOKIE)
    return response


async def set_language(request: Request, code: str) -> HTTPResponse:
    """Messages in English or Hindi (a cookie); back to the page the user was on."""
    back = _safe_next(query(request, "next")) or "/"
    response = redirect(back)
    if code in LANGUAGES:
        _cookie(response, request, LANGUAGE_COOKIE, code, 365 * 24 * 3600)
    return response


async def home(request: Request) -> HTTPResponse:
    return redirect(home_of(require(request)))


def expire_sessions(ctx: Any) -> int:
    """Delete sessions past either limit (run periodically); returns how many."""
    settings = ctx.settings
    now = utcnow()

    def work(session: DbSession) -> int:
        result = session.execute(
            delete(Session).where(
                (Session.last_seen_at < now - timedelta(seconds=settings.session_idle_seconds))
                | (Session.created_at < now - timedelta(seconds=settings.session_max_seconds))
            )
        )
        return int(result.rowcount or 0)

    return int(ctx.db.run(work))


ROUTES: list[Route] = [
    ("GET", "/", home),
    ("GET", "/login", login_page),
    ("POST", "/login", login_submit),
    ("POST", "/logout", logout),
    ("GET", "/language/<code>", set_language),
]
