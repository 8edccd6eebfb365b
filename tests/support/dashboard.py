"""Run the real dashboard in a child process for tests, and sign users in.

    with running_backend(tmp_path / "b") as backend, running_dashboard(
        tmp_path / "d", backends_url=backend.url
    ) as dash:
        dash.add_user("ravi", "officer", departments=["revenue"])
        browser = dash.sign_in("ravi")          # a requests.Session with the cookie
        page = browser.get(f"{dash.url}/applications")

Users are created through :func:`dashboard.users.create_user`, the same code the CLI
runs; every test user's password is :data:`PASSWORD`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import requests

from dashboard.db import Database
from dashboard.users import create_user
from tests.support.backends import OFFICER_TOKEN, SERVICE_TOKEN, free_port
from tests.support.processes import child_process

# Credentials of throw-away test dashboards only; never used anywhere else.
SECRET_KEY = "test-dashboard-secret-0123456789"  # noqa: S105
INTERNAL_TOKEN = "test-internal-token-0123456789"  # noqa: S105
PASSWORD = "correct horse battery"  # noqa: S105
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of a dashboard page (hidden form field)."""
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@dataclasses.dataclass
class Dashboard:
    url: str
    db_url: str
    log_path: Path

    def add_user(
        self,
        username: str,
        role: str,
        departments: Sequence[str] = (),
        centre: str | None = None,
        name: str | None = None,
        password: str = PASSWORD,
    ) -> int:
        db = Database(self.db_url)
        try:
            db.create_all()
            return create_user(
                db, username, name or username.title(), role, password, departments, centre
            )
        finally:
            db.dispose()

    def sign_in(self, username: str, password: str = PASSWORD) -> requests.Session:
        """A browser-like session signed in as ``username`` (raises if refused)."""
        browser = requests.Session()
        response = self.login(browser, username, password)
        assert response.status_code == 200 and "/login" not in response.url, response.text[:500]
        return browser

    def login(self, browser: requests.Session, username: str, password: str) -> requests.Response:
        page = browser.get(f"{self.url}/login", timeout=10)
        return browser.post(
            f"{self.url}/login",
            data={"csrf_token": csrf_of(page.text), "username": username, "password": password},
            timeout=10,
        )

    def post(
        self, browser: requests.Session, path: str, data: dict[str, str], **kwargs: object
    ) -> requests.Response:
        """Submit a form on the page at ``path`` (its CSRF token included)."""
        page_path = str(kwargs.pop("page", path))
        token = csrf_of(browser.get(f"{self.url}{page_path}", timeout=10).text)
        return browser.post(
            f"{self.url}{path}",
            data={"csrf_token": token, **data},
            timeout=20,
            **kwargs,  # type: ignore[arg-type]
        )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def environment_for(directory: Path, port: int, backends_url: str) -> dict[str, str]:
    return {
        "DASHBOARD_DB_URL": f"sqlite:///{directory / 'dashboard.db'}",
        "DASHBOARD_HOST": "127.0.0.1",
        "DASHBOARD_PORT": str(port),
        "DASHBOARD_SECRET_KEY": SECRET_KEY,
        "BACKENDS_URL": backends_url,
        "BACKENDS_OFFICER_TOKEN": OFFICER_TOKEN,
        "BACKENDS_SERVICE_TOKEN": SERVICE_TOKEN,
        "BACKENDS_TIMEOUT_SECONDS": "5",
        "WHATSAPP_INTERNAL_TOKEN": INTERNAL_TOKEN,
        "CHANNEL_URL": f"http://127.0.0.1:{free_port()}/webhooks/whatsapp/internal",
        "EVENTS_DB_URL": f"sqlite:///{directory / 'events.db'}",
        "WHATSAPP_MEDIA_DIR": str(directory / "media"),
    }


@contextlib.contextmanager
def running_dashboard(
    directory: Path, backends_url: str = "http://127.0.0.1:9", **overrides: str
) -> Iterator[Dashboard]:
    """Start ``python -m dashboard``; stop it on exit. ``overrides`` are env variables."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    settings = {**environment_for(directory, port, backends_url), **overrides}
    log_path = directory / "dashboard.log"
    url = f"http://127.0.0.1:{port}"
    with child_process(
        [sys.executable, "-m", "dashboard"],
        {**os.environ, **settings},
        log_path,
        f"{url}/health",
        name="dashboard",
        seconds=60,  # a loaded CI machine starts slowly
    ):
        yield Dashboard(url=url, db_url=settings["DASHBOARD_DB_URL"], log_path=log_path)
