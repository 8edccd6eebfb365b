"""Dashboard sign-in, sessions, CSRF, roles and accounts, against the real server
(``python -m dashboard``) with its own database."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from sanic.response import html
from sqlalchemy import select, update

from backends.config import ROOT
from dashboard import auth, users
from dashboard.db import AuditEntry, Database, Session, User, utcnow
from dashboard.security import hash_password, verify_password
from dashboard.seed import DEMO_USERS, seed
from dashboard.web import messages
from tests.support.dashboard import PASSWORD, Dashboard, csrf_of, running_dashboard


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    with running_dashboard(tmp_path_factory.mktemp("dashboard-auth")) as running:
        running.add_user("asha", "officer", ["revenue"], name="Asha Verma")
        running.add_user("tarun", "officer", ["transport"])
        running.add_user("csc.anil", "csc_operator", centre="CSC Laxmi Nagar")
        running.add_user("root", "admin")
        yield running


def audit_rows(dash: Dashboard, **where: Any) -> list[AuditEntry]:
    db = Database(dash.db_url)
    try:
        query = select(AuditEntry).order_by(AuditEntry.id)
        for key, value in where.items():
            query = query.where(getattr(AuditEntry, key) == value)
        return db.run(lambda s: list(s.execute(query).scalars()))
    finally:
        db.dispose()


def change_sessions(dash: Dashboard, **values: Any) -> None:
    db = Database(dash.db_url)
    try:
        db.run(lambda s: s.execute(update(Session).values(**values)))
    finally:
        db.dispose()


# --------------------------------------------------------------------------- passwords


def test_password_hashes_are_salted_scrypt_and_verify() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first.startswith("scrypt$16384$8$1$") and "correct horse" not in first  # tests: N=2^14
    assert first != second  # a salt per hash
    assert verify_password("correct horse battery", first)
    assert not verify_password("correct horse batterY", first)
    assert not verify_password("anything", "plain-text-password")


def test_every_message_the_code_shows_exists_in_english_and_hindi() -> None:
    known = messages()
    used: set[str] = set()
    for source in (ROOT / "dashboard").glob("*.py"):
        text = source.read_text(encoding="utf-8")
        used |= set(re.findall(r'\bt\(request, "([a-z_.]+)"', text))
        used |= set(re.findall(r'PageError\(\d+, "([a-z_.]+)"', text))
        used |= set(re.findall(r'UserError\(\s*"([a-z_]+)"', text))
    assert used, "no message codes found: the scan is broken"
    assert sorted(used - set(known)) == []
    for code, texts in known.items():
        assert texts["en"].strip() and texts["hi"].strip(), code
        assert re.search("[\u0900-\u097f]", texts["hi"]), f"{code}: Hindi text is not Hindi"


# --------------------------------------------------------------------------- sign-in


def test_sign_in_lands_on_the_desk_and_wrong_passwords_are_refused(dash: Dashboard) -> None:
    browser = dash.sign_in("asha")
    page = browser.get(f"{dash.url}/", timeout=10)
    assert page.url.endswith("/applications") and "Asha Verma" in page.text
    cookie = next(c for c in browser.cookies if c.name == "dashboard_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    for username, password in (("asha", "wrong password!"), ("nobody", PASSWORD)):
        refused = dash.login(requests.Session(), username, password)
        assert refused.status_code == 401
        assert "Wrong username or password" in refused.text
    failed = audit_rows(dash, action="login.failed")
    assert {r.username for r in failed} >= {"asha", "nobody"}
    assert all(r.ip == "127.0.0.1" for r in failed)
    assert audit_rows(dash, action="login.succeeded", username="asha")


def test_five_failures_lock_the_username_from_that_address(dash: Dashboard) -> None:
    dash.add_user("lockme", "officer", ["revenue"])
    answers = [
        dash.login(requests.Session(), "lockme", "not the password").status_code for _ in range(5)
    ]
    assert answers == [401, 401, 401, 401, 429]
    right = dash.login(requests.Session(), "lockme", PASSWORD)
    assert right.status_code == 429 and "locked" in right.text
    assert audit_rows(dash, action="login.locked", username="lockme")
    assert audit_rows(dash, action="login.refused_locked", username="lockme")
    dash.sign_in("asha")  # other accounts are not affected


def test_state_changes_without_the_csrf_token_are_refused(dash: Dashboard) -> None:
    browser = dash.sign_in("root")
    other = dash.sign_in("asha")
    foreign_token = csrf_of(other.get(f"{dash.url}/applications", timeout=10).text)
    form = {"username": "mallory", "name": "M", "role": "admin", "password": "x" * 16}
    for extra in ({}, {"csrf_token": "forged"}, {"csrf_token": foreign_token}):
        refused = browser.post(f"{dash.url}/users", data={**form, **extra}, timeout=10)
        assert refused.status_code == 403 and "expired" in refused.text
    assert "mallory" not in browser.get(f"{dash.url}/users", timeout=10).text
    # The sign-in form needs its token too.
    no_token = requests.post(f"{dash.url}/login", data={"username": "asha", "password": PASSWORD})
    assert no_token.status_code == 403
    # The token works as the X-CSRF-Token header as well.
    token = csrf_of(browser.get(f"{dash.url}/users", timeout=10).text)
    made = browser.post(
        f"{dash.url}/users",
        data={**form, "username": "newadmin", "password": "a-long-password"},
        headers={"X-CSRF-Token": token},
        timeout=10,
    )
    assert made.status_code == 200 and "newadmin" in made.text


def test_sessions_end_when_idle_too_long_after_the_maximum_and_on_sign_out(
    dash: Dashboard,
) -> None:
    browser = dash.sign_in("tarun")
    assert browser.get(f"{dash.url}/applications", timeout=10).url.endswith("/applications")
    change_sessions(dash, last_seen_at=utcnow() - timedelta(minutes=31))
    expired = browser.get(f"{dash.url}/applications?status=all", timeout=10)
    assert "/login?next=" in expired.url and "Sign in" in expired.text

    browser = dash.sign_in("tarun")
    change_sessions(dash, created_at=utcnow() - timedelta(hours=11))
    assert "/login" in browser.get(f"{dash.url}/applications", timeout=10).url

    browser = dash.sign_in("tarun")
    stolen = dict(browser.cookies)
    token = csrf_of(browser.get(f"{dash.url}/applications", timeout=10).text)
    assert browser.post(f"{dash.url}/logout", data={"csrf_token": token}, timeout=10).ok
    replay = requests.get(f"{dash.url}/applications", cookies=stolen, timeout=10)
    assert "/login" in replay.url


def test_signed_in_after_the_page_that_asked_for_it(dash: Dashboard) -> None:
    browser = requests.Session()
    login_page = browser.get(f"{dash.url}/grievances?status=all", timeout=10)
    assert "/login?next=" in login_page.url
    answer = browser.post(
        login_page.url,
        data={
            "csrf_token": csrf_of(login_page.text),
            "username": "asha",
            "password": PASSWORD,
            "next": "/grievances?status=all",
        },
        timeout=10,
    )
    assert answer.url.endswith("/grievances?status=all")
    evil = dash.sign_in("asha")
    page = evil.get(f"{dash.url}/login", timeout=10)  # signed in: sent on
    assert page.url.endswith("/applications")


def test_disabled_accounts_lose_access_at_once(dash: Dashboard) -> None:
    dash.add_user("leaving", "officer", ["revenue"])
    browser = dash.sign_in("leaving")
    admin = dash.sign_in("root")
    token = csrf_of(admin.get(f"{dash.url}/users", timeout=10).text)
    admin.post(f"{dash.url}/users/leaving", data={"csrf_token": token, "change": "disable"})
    assert "/login" in browser.get(f"{dash.url}/applications", timeout=10).url
    assert dash.login(requests.Session(), "leaving", PASSWORD).status_code == 401
    assert audit_rows(dash, action="user.disable", subject="leaving")


# --------------------------------------------------------------------------- roles


def test_each_role_reaches_only_its_pages_and_refusals_are_audited(dash: Dashboard) -> None:
    csc = dash.sign_in("csc.anil")
    officer = dash.sign_in("asha")
    admin = dash.sign_in("root")
    expectations = {
        csc: {"/csc": 200, "/applications": 403, "/grievances": 403, "/users": 403, "/audit": 403},
        officer: {"/applications": 200, "/broadcasts": 200, "/csc": 403, "/users": 403},
        admin: {"/users": 200, "/audit": 200, "/applications": 403, "/csc": 403},
    }
    for browser, pages in expectations.items():
        for page, status in pages.items():
            assert browser.get(f"{dash.url}{page}", timeout=10).status_code == status, page
    menu = csc.get(f"{dash.url}/csc", timeout=10).text
    assert 'href="/csc"' in menu and 'href="/applications"' not in menu
    denied = audit_rows(dash, action="access_denied", username="csc.anil")
    assert {r.subject for r in denied} >= {"/applications", "/grievances", "/users", "/audit"}
    # An officer cannot open another department's queue either.
    other = officer.get(f"{dash.url}/applications?department=transport", timeout=10)
    assert other.status_code == 403
    assert audit_rows(dash, action="access_denied", subject="department:transport")


def test_the_audit_page_filters_and_names_who_did_what(dash: Dashboard) -> None:
    admin = dash.sign_in("root")
    page = admin.get(
        f"{dash.url}/audit", params={"user": "csc.anil", "action": "access_denied"}, timeout=10
    )
    assert page.status_code == 200
    rows = re.findall(r"<tr>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>", page.text)
    assert rows and all(who == "csc.anil" and what == "access_denied" for _, who, what in rows)
    assert audit_rows(dash, action="audit.view", username="root")


# --------------------------------------------------------------------------- accounts


def test_users_cli_and_dev_seed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db_url = f"sqlite:///{tmp_path / 'dash.db'}"
    monkeypatch.setenv("DASHBOARD_DB_URL", db_url)
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-very-long-password\nshort\n"))
    add = ["add", "meena", "--name", "Meena", "--role", "supervisor"]
    assert users.main([*add, "--departments", "revenue,djb", "--password-stdin"]) == 0
    assert users.main(["passwd", "meena", "--password-stdin"]) == 1
    assert "12 characters" in capsys.readouterr().err
    assert users.main(["list"]) == 0
    assert "meena\tsupervisor\tdjb,revenue\t\tactive" in capsys.readouterr().out

    db = Database(db_url)
    try:
        stored = db.run(
            lambda s: s.execute(select(User).where(User.username == "meena")).scalar_one()
        )
        assert verify_password("a-very-long-password", stored.password_hash)
        secrets_file = tmp_path / "dev-secrets.json"
        assert sorted(seed(db, secrets_file)) == sorted(DEMO_USERS)
        assert seed(db, secrets_file) == []  # idempotent
        passwords = json.loads(secrets_file.read_text())["DASHBOARD_USERS"]
        accounts = {
            u.username: u for u in db.run(lambda s: list(s.execute(select(User)).scalars()))
        }
        for username, password in passwords.items():
            assert password not in accounts[username].password_hash
            assert verify_password(password, accounts[username].password_hash)
        assert oct(secrets_file.stat().st_mode & 0o777) == "0o600"
    finally:
        db.dispose()


@pytest.mark.parametrize("secure", [False, True])
def test_cookies_are_http_only_strict_and_secure_when_configured(secure: bool) -> None:
    settings = SimpleNamespace(secure_cookies=secure)
    request = SimpleNamespace(
        app=SimpleNamespace(ctx=SimpleNamespace(dashboard=SimpleNamespace(settings=settings)))
    )
    response = html("")
    auth._cookie(response, request, "dashboard_session", "abc", 60)  # type: ignore[arg-type]
    header = str(response.cookies["dashboard_session"]).lower()
    assert "httponly" in header and "samesite=strict" in header
    assert ("secure" in header.replace("samesite", "")) is secure


def test_messages_follow_the_chosen_language_and_never_redirect_off_site(dash: Dashboard) -> None:
    browser = requests.Session()
    switched = browser.get(f"{dash.url}/language/hi?next=/login", timeout=10)
    assert switched.url.endswith("/login") and "English" in switched.text
    refused = dash.login(browser, "asha", "wrong password!")
    assert "उपयोगकर्ता नाम या पासवर्ड गलत है" in refused.text
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        away = browser.get(
            f"{dash.url}/language/en", params={"next": target}, allow_redirects=False, timeout=10
        )
        assert away.headers["location"] == "/"
