"""Browser tests: the whole system (tests/support/stack.py) plus the dashboard, driven through
real headless Debian Chromium with Selenium and /usr/bin/chromedriver.

Run ``python -m scripts.browser`` first (``make test`` does): it installs Debian's
``chromium`` and ``chromium-driver``. Every test here carries the ``browser`` marker
(``pytest -m "not browser"`` leaves them out). Screenshots of the main pages go to
``results/screenshots/``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scripts.browser import CHROMEDRIVER, CHROMIUM
from tests.support.channel import INTERNAL_TOKEN
from tests.support.dashboard import PASSWORD, Dashboard, running_dashboard
from tests.support.stack import Stack, running_stack

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "results" / "screenshots"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives real headless Chromium (Selenium)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@dataclasses.dataclass
class System:
    stack: Stack
    dashboard: Dashboard


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    directory = tmp_path_factory.mktemp("browser-system")
    with running_stack(directory / "stack") as stack:
        assert stack.events_db is not None
        with running_dashboard(
            directory / "dashboard",
            backends_url=stack.backend.url,
            CHANNEL_URL=stack.channel_url,
            WHATSAPP_INTERNAL_TOKEN=INTERNAL_TOKEN,
            EVENTS_DB_URL=f"sqlite:///{stack.events_db}",
            WHATSAPP_MEDIA_DIR=str(directory / "stack" / "media"),
            # the channel's first handoff after start-up can take ~10 s (see the report)
            BACKENDS_TIMEOUT_SECONDS="20",
            # every handoff counts as old: the supervisor's list is tested without waiting
            DASHBOARD_HANDOFF_STALE_MINUTES="0",
        ) as dashboard:
            yield System(stack, dashboard)


def _driver(user_data_dir: str) -> object:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={user_data_dir}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture
def browser() -> Iterator[Callable[[], object]]:
    """A factory of fresh Chromium instances (each its own profile), all quit at the end."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail(f"{CHROMIUM} / {CHROMEDRIVER} missing: run `python -m scripts.browser`")
    with contextlib.ExitStack() as stack:

        def start() -> object:
            profile = stack.enter_context(tempfile.TemporaryDirectory(prefix="chromium-"))
            driver = _driver(profile)
            stack.callback(driver.quit)  # type: ignore[attr-defined]
            return driver

        yield start


def screenshot(driver: object, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))  # type: ignore[attr-defined]
    return path


__all__ = ["PASSWORD", "System", "screenshot"]
