"""The CSC counter in Hindi (issue 14, items 6 and 7), in real headless Chromium: an
operator files for a citizen without WhatsApp, takes the ₹50 assisted-service charge,
types the SMS code the citizen reads out, takes the fee in cash, prints the bilingual
receipt and reads the day's statement. Every page is checked for English UI words as
tests/browser/test_hindi_dashboard.py does; screenshots results/screenshots/
csc-counter-hi-*.png.

Backends and dashboard only (the citizen has no WhatsApp; the SMS goes to the ``file``
gateway), so no Rasa is started."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import screenshot
from tests.browser.test_dashboard_browser import Browser, until
from tests.browser.test_hindi_dashboard import english_on
from tests.support.backends import (
    Backend,
    backend_with_fake_channel,
)
from tests.support.dashboard import PASSWORD, Dashboard, running_dashboard

MOBILE = "9810000811"


channel, backend = backend_with_fake_channel("csc-browser-backend")


@pytest.fixture(scope="module")
def sms_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("csc-browser-sms") / "sms.jsonl"


@pytest.fixture(scope="module")
def dashboard(
    tmp_path_factory: pytest.TempPathFactory, backend: Backend, sms_file: Path
) -> Iterator[Dashboard]:
    with running_dashboard(
        tmp_path_factory.mktemp("csc-browser"),
        backends_url=backend.url,
        SMS_GATEWAY="file",
        SMS_FILE=str(sms_file),
    ) as running:
        running.add_user("sunita", "csc_operator", centre="CSC Seelampur", name="Sunita Devi")
        yield running


def text(driver: WebDriver) -> str:
    return str(driver.find_element(By.TAG_NAME, "main").text)


def no_english(driver: WebDriver, page: str) -> None:
    found = english_on(driver)
    assert not found, f"English UI text on the Hindi {page} page: {found}"


def test_csc_counter_flow_in_hindi(
    dashboard: Dashboard, backend: Backend, browser: Browser, sms_file: Path, tmp_path: Path
) -> None:
    document = tmp_path / "scan.pdf"
    document.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    driver = browser()
    driver.get(f"{dashboard.url}/login")
    driver.find_element(By.NAME, "username").send_keys("sunita")
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    until(driver, lambda d: "/login" not in d.current_url)
    driver.get(f"{dashboard.url}/language/hi?next=/csc")
    until(driver, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "hi")

    # the form: the citizen has no WhatsApp; the ₹50 charge taken in cash
    driver.get(f"{dashboard.url}/csc/new?service=learner_licence")
    assert "सहायता शुल्क: ₹50" in text(driver)
    for name, value in {
        "mobile": MOBILE,
        "field_applicant_name": "Kamla Devi",
        "field_father_name": "Hari Ram",
        "field_date_of_birth": "12-03-1990",
        "field_address": "H. No. 7, Gali 2, Seelampur, Delhi",
        "field_aadhaar": "234567890124",
    }.items():
        driver.find_element(By.NAME, name).send_keys(value)
    Select(driver.find_element(By.NAME, "field_gender")).select_by_value("female")
    Select(driver.find_element(By.NAME, "field_vehicle_class")).select_by_value("mcwg")
    Select(driver.find_element(By.NAME, "charge_mode")).select_by_value("cash")
    driver.find_element(By.CSS_SELECTOR, 'input[name="confirmation"][value="counter"]').click()
    for upload in driver.find_elements(By.CSS_SELECTOR, 'input[type="file"]'):
        upload.send_keys(str(document))
    no_english(driver, "form")
    driver.execute_script("document.getElementById('csc-counter').scrollIntoView()")
    screenshot(driver, "csc-counter-hi-form")
    driver.find_element(By.CSS_SELECTOR, "#csc-form button[type=submit]").click()

    # the code screen; the citizen reads out the SMS
    until(driver, lambda d: d.find_elements(By.ID, "code-form"))
    application_id = re.search(r"APP-\d{4}-\d{6}", driver.current_url)
    assert application_id
    assert "एसएमएस से कोड भेजा गया" in text(driver)
    no_english(driver, "code")
    screenshot(driver, "csc-counter-hi-code")
    (sms,) = [json.loads(line) for line in sms_file.read_text(encoding="utf-8").splitlines()]
    assert sms["to"] == f"+91{MOBILE}"
    code = re.search(r"(?<![\d-])(\d{6})(?!\d)", sms["text"])
    assert code
    wrong = "000000" if code.group(1) != "000000" else "111111"
    driver.find_element(By.NAME, "code").send_keys(wrong)
    driver.find_element(By.CSS_SELECTOR, "#code-form button").click()
    until(driver, lambda d: "बचे मौके: 4" in text(d))
    driver.find_element(By.NAME, "code").send_keys(code.group(1))
    driver.find_element(By.CSS_SELECTOR, "#code-form button").click()
    until(driver, lambda d: d.find_elements(By.ID, "fee-form"))
    assert "नागरिक ने काउंटर पर पुष्टि की" in text(driver)
    no_english(driver, "confirmed")
    screenshot(driver, "csc-counter-hi-confirmed")

    # the fee, in cash at the counter
    Select(driver.find_element(By.NAME, "mode")).select_by_value("cash")
    driver.find_element(By.CSS_SELECTOR, "#fee-form button").click()
    until(driver, lambda d: d.switch_to.alert).accept()
    until(driver, lambda d: "₹200 का शुल्क दर्ज हुआ" in text(d))
    screenshot(driver, "csc-counter-hi-paid")

    # the receipt, in Hindi and English, and the day's statement
    driver.find_element(By.ID, "receipt-link").click()
    until(driver, lambda d: d.find_elements(By.ID, "receipt"))
    receipt = text(driver)
    assert "सीएससी सहायता शुल्क" in receipt and "CSC assisted-service charge" in receipt
    assert "₹250" in receipt and MOBILE not in receipt
    no_english(driver, "receipt")
    screenshot(driver, "csc-counter-hi-receipt")
    driver.get(f"{dashboard.url}/csc/statement")
    row = until(
        driver,
        lambda d: d.find_element(
            By.CSS_SELECTOR, f'tr[data-application="{application_id.group(0)}"]'
        ),
    )
    assert "₹50" in row.text and "नकद" in row.text
    assert driver.find_element(By.CSS_SELECTOR, '[data-total="total"]').text == "₹250"
    no_english(driver, "statement")
    screenshot(driver, "csc-counter-hi-statement")
