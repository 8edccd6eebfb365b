"""The dashboard behind a trusted proxy: which address it believes, and the sign-in locks
(per username+address, and per account with back-off, whatever the address), against
the real server (``python -m dashboard``) with ``DASHBOARD_TRUSTED_PROXY=1``.

Time never comes from the wall clock here: "later" is made by moving the stored failures
back in time. tests/test_nginx.py checks the same through a real nginx.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard import users
from dashboard.config import ConfigError, Settings
from dashboard.db import AuditEntry, Database, LoginFailure
from tests.support.dashboard import PASSWORD, Dashboard, csrf_of, running_dashboard

BACKOFF = 60  # seconds, DASHBOARD_LOGIN_BACKOFF_SECONDS in this module


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    with running_dashboard(
        tmp_path_factory.mktemp("dashboard-lockout"),
        DASHBOARD_TRUSTED_PROXY="1",
        DASHBOARD_LOGIN_ACCOUNT_MAX_FAILURES="8",
        DASHBOARD_LOGIN_BACKOFF_SECONDS=str(BACKOFF),
        DASHBOARD_LOGIN_BACKOFF_MAX_MINUTES="4",
    ) as running:
        yield running


def login(dash: Dashboard, username: str, password: str, forwarded: str) -> requests.Response:
    """A sign-in through the proxy, which says the client is ``forwarded``."""
    browser = requests.Session()
    browser.headers["X-Forwarded-For"] = forwarded
    page = browser.get(f"{dash.url}/login", timeout=10)
    return browser.post(
        f"{dash.url}/login",
        data={"csrf_token": csrf_of(page.text), "username": username, "password": password},
        allow_redirects=False,
        timeout=10,
    )


def audit(dash: Dashboard, username: str) -> list[AuditEntry]:
    db = Database(dash.db_url)
    try:
        query = select(AuditEntry).where(AuditEntry.username == username).order_by(AuditEntry.id)
        return db.run(lambda s: list(s.execute(query).scalars()))
    finally:
        db.dispose()


def move_failures_back(dash: Dashboard, username: str, seconds: float) -> None:
    """As if ``seconds`` had passed since every failed sign-in of ``username``."""
    db = Database(dash.db_url)

    def work(session: Session) -> None:
        query = select(LoginFailure).where(LoginFailure.username == username)
        for row in session.execute(query).scalars():
            row.at = row.at - timedelta(seconds=seconds)

    try:
        db.run(work)
    finally:
        db.dispose()


def test_only_the_hop_the_proxy_added_is_the_clients_address(dash: Dashboard) -> None:
    dash.add_user("hop", "officer", ["revenue"])
    # The client sent "203.0.113.9"; a proxy that appends added the address it saw.
    answer = login(dash, "hop", "wrong password", "203.0.113.9, 198.51.100.7")
    assert answer.status_code == 401
    assert [row.ip for row in audit(dash, "hop")] == ["198.51.100.7"]


def test_a_new_address_per_try_meets_the_account_lock(dash: Dashboard) -> None:
    dash.add_user("spray", "officer", ["revenue"])
    # One failure from each of 8 addresses: no pair is ever locked ...
    answers = [
        login(dash, "spray", "wrong password", f"198.51.100.{n}").status_code for n in range(1, 9)
    ]
    assert answers == [401] * 7 + [429]
    # ... but the account is, from anywhere, even with the right password.
    assert login(dash, "spray", PASSWORD, "192.0.2.200").status_code == 429
    actions = [(row.action, row.detail) for row in audit(dash, "spray")]
    assert ("login.locked", {"scope": "account"}) in actions
    assert ("login.refused_locked", {"scope": "account"}) in actions


def test_the_account_lock_backs_off_and_a_sign_in_clears_it(dash: Dashboard) -> None:
    dash.add_user("backoff", "officer", ["revenue"])
    for n in range(8):
        login(dash, "backoff", "wrong password", f"203.0.113.{n + 1}")
    assert login(dash, "backoff", PASSWORD, "192.0.2.1").status_code == 429

    # The first lock lasts BACKOFF seconds after the latest failure.
    move_failures_back(dash, "backoff", BACKOFF + 1)
    # One more wrong guess locks it again, for twice as long.
    assert login(dash, "backoff", "wrong password", "192.0.2.2").status_code == 429
    move_failures_back(dash, "backoff", BACKOFF + 1)
    assert login(dash, "backoff", PASSWORD, "192.0.2.3").status_code == 429
    move_failures_back(dash, "backoff", BACKOFF)
    signed_in = login(dash, "backoff", PASSWORD, "192.0.2.3")
    assert signed_in.status_code == 302, signed_in.text[:300]

    # Signing in cleared the failures: one mistake later is a plain failure, not a lock.
    assert login(dash, "backoff", "wrong password", "192.0.2.3").status_code == 401


def test_the_back_off_is_capped(dash: Dashboard) -> None:
    dash.add_user("capped", "officer", ["revenue"])
    for n in range(8):
        login(dash, "capped", "wrong password", f"198.51.100.{100 + n}")
    for n in range(6):  # 6 past the limit: 60 s * 2**6 would be 64 minutes
        move_failures_back(dash, "capped", 4 * 60 + 1)
        answer = login(dash, "capped", "wrong password", f"198.51.100.{110 + n}")
        assert answer.status_code == 429
    move_failures_back(dash, "capped", 4 * 60 - 5)
    assert login(dash, "capped", PASSWORD, "192.0.2.9").status_code == 429
    move_failures_back(dash, "capped", 6)  # DASHBOARD_LOGIN_BACKOFF_MAX_MINUTES=4
    assert login(dash, "capped", PASSWORD, "192.0.2.9").status_code == 302


def test_url_prefix_setting_is_checked() -> None:
    env = {
        "DASHBOARD_SECRET_KEY": "x" * 20,
        "BACKENDS_OFFICER_TOKEN": "x" * 20,
        "BACKENDS_SERVICE_TOKEN": "x" * 20,
        "WHATSAPP_INTERNAL_TOKEN": "x" * 20,
    }
    assert Settings.from_env(env).url_prefix == ""
    assert Settings.from_env({**env, "DASHBOARD_URL_PREFIX": "/dashboard/"}).url_prefix == (
        "/dashboard"
    )
    for bad in ("dashboard", "//evil.example", "/a?b"):
        with pytest.raises(ConfigError, match="DASHBOARD_URL_PREFIX"):
            Settings.from_env({**env, "DASHBOARD_URL_PREFIX": bad})


def test_a_password_change_ends_every_session_of_the_account(dash: Dashboard) -> None:
    dash.add_user("rotate", "officer", ["revenue"])
    dash.add_user("bystander", "officer", ["revenue"])
    first, second = dash.sign_in("rotate"), dash.sign_in("rotate")
    other = dash.sign_in("bystander")
    for browser in (first, second, other):
        assert browser.get(f"{dash.url}/conversations", timeout=10).url.endswith("/conversations")

    db = Database(dash.db_url)
    try:
        users.set_password(db, "rotate", "a brand new passphrase")  # CLI and admin page alike
    finally:
        db.dispose()

    for browser in (first, second):
        page = browser.get(f"{dash.url}/conversations", timeout=10)
        assert "/login" in page.url, "a session survived the password change"
    assert other.get(f"{dash.url}/conversations", timeout=10).url.endswith("/conversations")
    assert dash.login(requests.Session(), "rotate", PASSWORD).status_code == 401
    dash.sign_in("rotate", "a brand new passphrase")
