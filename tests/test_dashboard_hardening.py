"""Dashboard hardening (issue 13, item 10): scrypt at N=2^17 off the event loop with old
hashes upgraded at sign-in, a tamper-evident audit log, /metrics behind a token."""

from __future__ import annotations

import base64
import functools
import hashlib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import delete, select, update

from backends.config import ROOT
from dashboard import audit_chain
from dashboard.config import ConfigError, Settings
from dashboard.db import AuditEntry, Database, User, utcnow
from tests.support.dashboard import PASSWORD, Dashboard, csrf_of, environment_for, running_dashboard

STRONG = "131072"


def _hash(password: str, n: int, p: int = 1) -> str:
    salt = b"0123456789abcdef"
    key = hashlib.scrypt(password.encode(), salt=salt, n=n, r=8, p=p, dklen=32, maxmem=256 * 2**20)
    return f"scrypt${n}$8${p}${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    # the production cost (the rest of the suite hashes at 2^14, tests/conftest.py)
    with running_dashboard(
        tmp_path_factory.mktemp("dashboard-hardening"), DASHBOARD_SCRYPT_N=STRONG
    ) as running:
        running.add_user("meera", "supervisor", ["revenue"], name="Meera Rao")
        running.add_user("slow", "officer", ["revenue"])
        running.add_user("root", "admin")
        yield running


def stored_hash(dash: Dashboard, username: str) -> str:
    db = Database(dash.db_url)
    try:
        return str(
            db.run(
                lambda s: s.execute(select(User.password_hash).where(User.username == username))
            ).scalar_one()
        )
    finally:
        db.dispose()


def set_hash(dash: Dashboard, username: str, value: str) -> None:
    db = Database(dash.db_url)
    try:
        db.run(
            lambda s: s.execute(
                update(User).where(User.username == username).values(password_hash=value)
            )
        )
    finally:
        db.dispose()


# --------------------------------------------------------------------------- scrypt


def test_an_old_hash_still_signs_in_and_is_upgraded_to_n_2_17(dash: Dashboard) -> None:
    set_hash(dash, "meera", _hash(PASSWORD, 2**14))  # stored by an earlier release
    dash.sign_in("meera")
    upgraded = stored_hash(dash, "meera")
    assert upgraded.startswith("scrypt$131072$8$1$"), upgraded[:30]
    dash.sign_in("meera")  # and the new hash works
    assert stored_hash(dash, "meera") == upgraded  # not rehashed again
    wrong = dash.login(requests.Session(), "meera", "not the password at all")
    assert wrong.status_code == 401


def test_other_officers_are_served_while_a_password_is_checked(dash: Dashboard) -> None:
    # a deliberately slow hash (p=4: four times the 2^17 work) makes the check last
    set_hash(dash, "slow", _hash(PASSWORD, 2**17, p=4))
    done: dict[str, float] = {}

    def sign_in() -> None:
        browser = requests.Session()
        page = browser.get(f"{dash.url}/login", timeout=10)
        form = {"csrf_token": csrf_of(page.text), "username": "slow", "password": PASSWORD}
        done["started"] = time.monotonic()
        browser.post(f"{dash.url}/login", data=form, timeout=60)
        done["finished"] = time.monotonic()

    thread = threading.Thread(target=sign_in)
    thread.start()
    while "started" not in done:
        time.sleep(0.01)
    time.sleep(0.3)  # the sign-in is hashing now
    began = time.monotonic()
    health = requests.get(f"{dash.url}/health", timeout=30)
    answered = time.monotonic()
    thread.join(timeout=60)
    assert health.status_code == 200
    assert "finished" in done
    waited, hashing = answered - began, done["finished"] - began
    assert hashing > 1.0  # the slow hash really was being computed meanwhile
    # answered at once, not after the hash (a blocked loop answers when it is done)
    assert waited < hashing / 2, (waited, hashing)


# --------------------------------------------------------------------------- audit log


def verify(dash: Dashboard) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dashboard.audit_log", "verify"],
        env={"DASHBOARD_DB_URL": dash.db_url, "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def audit_ids(dash: Dashboard) -> list[int]:
    db = Database(dash.db_url)
    try:
        return db.run(
            lambda s: [
                int(i) for i in s.execute(select(AuditEntry.id).order_by(AuditEntry.id)).scalars()
            ]
        )
    finally:
        db.dispose()


def change_audit(dash: Dashboard, statement: object) -> None:
    db = Database(dash.db_url)
    try:
        db.run(lambda s: s.execute(statement))
    finally:
        db.dispose()


def test_the_audit_log_is_a_hash_chain_and_verify_names_the_first_broken_row(
    dash: Dashboard,
) -> None:
    admin = dash.sign_in("root")
    for path in ("/users", "/audit", "/audit?user=meera"):
        assert admin.get(f"{dash.url}{path}", timeout=10).status_code == 200
    ok = verify(dash)
    assert ok.returncode == 0, ok.stderr
    assert '"ok": true' in ok.stdout
    ids = audit_ids(dash)
    assert len(ids) >= 5

    # someone with database access rewrites who looked at the users page
    target = ids[len(ids) // 2]
    change_audit(dash, update(AuditEntry).where(AuditEntry.id == target).values(username="nobody"))
    broken = verify(dash)
    assert broken.returncode == 1
    assert f"broken at row {target}" in broken.stderr, broken.stderr

    # deleting a row instead: the next one no longer links to its predecessor
    change_audit(dash, delete(AuditEntry).where(AuditEntry.id == target))
    deleted = verify(dash)
    assert deleted.returncode == 1
    following = min(i for i in ids if i > target)
    assert f"broken at row {following}" in deleted.stderr, deleted.stderr


def test_writers_at_the_same_moment_never_fork_the_chain(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'audit.db'}")
    db.create_all()

    def write(n: int) -> None:
        for i in range(20):
            entry = AuditEntry(
                at=utcnow(), username=f"u{n}", action="x.view", subject=str(i), ip="10.0.0.1"
            )
            db.run(functools.partial(audit_chain.append, entry=entry))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    verdict = db.run(audit_chain.verify)
    db.dispose()
    assert verdict.ok and verdict.checked == 80, verdict


# --------------------------------------------------------------------------- /metrics


def test_production_refuses_to_start_without_a_metrics_token(tmp_path: Path) -> None:
    env = environment_for(tmp_path, 8100, "http://127.0.0.1:9")
    with pytest.raises(ConfigError, match="METRICS_TOKEN"):
        Settings.from_env({**env, "DELHI_SEWA_PROFILE": "production"})
    with pytest.raises(ConfigError, match="METRICS_TOKEN"):
        Settings.from_env({**env, "DASHBOARD_SECURE_COOKIES": "1"})
    Settings.from_env(env)  # make run: optional
    Settings.from_env(
        {**env, **PRODUCTION_SMS, "DELHI_SEWA_PROFILE": "production", "METRICS_TOKEN": "m" * 32}
    )


PRODUCTION_SMS = {"SMS_GATEWAY": "http", "SMS_URL": "https://sms.example.gov.in/send"}


@pytest.mark.parametrize("gateway", ["console", "file"])
def test_production_refuses_an_sms_gateway_that_keeps_counter_codes_readable(
    tmp_path: Path, gateway: str
) -> None:
    """console writes each counter code to the log, file to a file: fine for make run, a
    way round the citizen's confirmation in production."""
    env = {
        **environment_for(tmp_path, 8100, "http://127.0.0.1:9"),
        "DELHI_SEWA_PROFILE": "production",
        "METRICS_TOKEN": "m" * 32,
    }
    with pytest.raises(ConfigError, match=f"SMS_GATEWAY={gateway} is for a local run"):
        Settings.from_env({**env, "SMS_GATEWAY": gateway})
    Settings.from_env({**env, **PRODUCTION_SMS})


def test_metrics_answer_only_with_the_token(tmp_path: Path) -> None:
    token = "metrics-token-0123456789abcdef"
    with running_dashboard(tmp_path / "d", METRICS_TOKEN=token) as running:
        assert requests.get(f"{running.url}/metrics", timeout=10).status_code == 401
        wrong = {"Authorization": "Bearer metrics-token-0123456789abcdeX"}
        assert requests.get(f"{running.url}/metrics", headers=wrong, timeout=10).status_code == 401
        right = {"Authorization": f"Bearer {token}"}
        answer = requests.get(f"{running.url}/metrics", headers=right, timeout=10)
        assert answer.status_code == 200 and "http_requests" in answer.text
