"""The broadcast report in Hindi (issue 14, item 9), in real headless Chromium: the
officer previews the audience (who will receive it, who said STOP, who lives
elsewhere) and the exact message, sends it, and watches a recipient's status and the
read count change on the open page, without reloading it, while the backends'
periodic status sync is an hour away. Screenshots results/screenshots/
broadcast-hi-*.png."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import screenshot
from tests.browser.test_dashboard_browser import Browser, until
from tests.browser.test_hindi_dashboard import english_on
from tests.support.backends import (
    Backend,
    FakeChannel,
    channel_settings,
    fake_channel,
    running_backend,
)
from tests.support.dashboard import PASSWORD, Dashboard, running_dashboard


@pytest.fixture(scope="module")
def channel() -> Iterator[FakeChannel]:
    with fake_channel() as running:
        yield running


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory, channel: FakeChannel) -> Iterator[Backend]:
    directory = tmp_path_factory.mktemp("broadcast-browser-backend")
    settings = {**channel_settings(channel, directory), "STATUS_SYNC_INTERVAL_SECONDS": "3600"}
    with running_backend(directory, **settings) as running:
        yield running


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[Dashboard]:
    with running_dashboard(
        tmp_path_factory.mktemp("broadcast-browser"), backends_url=backend.url
    ) as running:
        running.add_user("meera", "officer", ["djb"], name="Meera Joshi")
        yield running


def prefer(backend: Backend, citizen: str, **values: object) -> None:
    answer = requests.put(
        f"{backend.url}/citizens/{citizen}/preferences",
        json=values,
        headers=backend.citizen(citizen),
        timeout=5,
    )
    assert answer.status_code == 200, answer.text


def test_broadcast_preview_and_live_report_in_hindi(
    dashboard: Dashboard, backend: Backend, channel: FakeChannel, browser: Browser
) -> None:
    base = str(uuid.uuid4().int)[:6]
    reader, stopper, elsewhere = (f"919{base}00{n}1" for n in range(3))
    prefer(backend, reader, departments=["djb"], district="north", language="hi")
    prefer(backend, stopper, departments=["djb"], district="north", broadcasts=False)
    prefer(backend, elsewhere, departments=["djb"], district="south", language="hi")

    driver = browser()
    driver.get(f"{dashboard.url}/login")
    driver.find_element(By.NAME, "username").send_keys("meera")
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    until(driver, lambda d: "/login" not in d.current_url)
    driver.get(f"{dashboard.url}/language/hi?next=/broadcasts")
    until(driver, lambda d: d.find_elements(By.ID, "compose"))

    Select(driver.find_element(By.NAME, "category")).select_by_value("utility")
    Select(driver.find_element(By.NAME, "district")).select_by_value("north")
    driver.find_element(By.NAME, "text_hi").send_keys("सोमवार को पानी की आपूर्ति बंद रहेगी।")
    driver.find_element(By.NAME, "text_en").send_keys("No water supply on Monday.")
    driver.find_element(By.ID, "preview-button").click()
    until(driver, lambda d: d.find_elements(By.ID, "preview"))
    preview = driver.find_element(By.ID, "preview").text
    assert "1 नागरिकों को यह मिलेगा।" in preview
    excluded = {
        li.get_attribute("data-excluded"): li.text
        for li in driver.find_elements(By.CSS_SELECTOR, "#preview-excluded li")
    }
    assert excluded["opted_out"].startswith("1 ") and excluded["other_district"].startswith("1 ")
    assert driver.find_element(By.ID, "preview-hi").text == (
        "दिल्ली जल बोर्ड की सूचना: सोमवार को पानी की आपूर्ति बंद रहेगी।"
    )
    assert english_on(driver) == []
    driver.execute_script("document.getElementById('preview').scrollIntoView()")
    screenshot(driver, "broadcast-hi-preview")

    driver.find_element(By.CSS_SELECTOR, "#send-form button").click()
    until(driver, lambda d: d.switch_to.alert).accept()
    until(driver, lambda d: "created=" in d.current_url)
    found = re.search(r"BRD-\d{4}-\d{6}", driver.current_url)
    assert found
    broadcast_id = found.group(0)
    driver.get(f"{dashboard.url}/broadcasts/{broadcast_id}")

    def cell(key: str) -> str:
        selector = f'#report [data-report="{broadcast_id}"][data-key="{key}"]'
        return str(driver.find_element(By.CSS_SELECTOR, selector).text)

    until(driver, lambda d: cell("sent") == "1" and cell("opted_out") == "1", seconds=30)
    statuses = {
        row.get_attribute("data-status")
        for row in driver.find_elements(By.CSS_SELECTOR, "#recipients tr[data-recipient]")
    }
    assert statuses == {"sent", "opted_out"} or statuses == {"pending", "opted_out"}
    page = str(driver.find_element(By.ID, "recipients").text)
    assert reader not in page and stopper not in page and f"•••••{reader[-4:]}" in page
    assert "सदस्यता छोड़ी (स्टॉप लिखा): नहीं भेजा" in page
    assert english_on(driver) == []

    # WhatsApp says read; the page shows it without a reload (the hourly sync is far off)
    with channel.lock:
        (message_id,) = [
            channel.answers[body["key"]]["message_id"]
            for _, body in channel.received
            if body["to"] == reader and body["purpose"] == "broadcast"
        ]
    marker = driver.execute_script("window.notReloaded = true; return window.notReloaded")
    assert marker is True
    channel.statuses[message_id] = "read"
    until(driver, lambda d: cell("read") == "1" and cell("delivered") == "1", seconds=20)
    assert "पढ़ लिया" in str(driver.find_element(By.ID, "recipients").text)
    assert driver.execute_script("return window.notReloaded") is True
    screenshot(driver, "broadcast-hi-report")
