"""Department staff using the dashboard in real headless Chromium against the whole
system: citizens write through the WhatsApp Cloud API emulator, Rasa answers, the
dashboard reads Rasa's event broker and talks to the channel and the backends.

Each test saves screenshots of the pages it passes through into results/screenshots/.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from scripts.phone_numbers import configured_numbers
from tests.browser.conftest import PASSWORD, System, screenshot

MAIN, TRANSPORT = "100001", "100002"
WAIT = 30.0

Browser = Callable[[], WebDriver]


# --------------------------------------------------------------------------- helpers


def until(driver: WebDriver, condition: Callable[[WebDriver], Any], seconds: float = WAIT) -> Any:
    # Live pages re-render and forms redirect while we poll: an element found a moment
    # ago may be gone, so a stale reference means "look again", not a failure.
    return WebDriverWait(
        driver,
        seconds,
        poll_frequency=0.2,
        # a form's redirect can detach the page being read: look again until the timeout
        ignored_exceptions=[StaleElementReferenceException, WebDriverException],
    ).until(condition)


def sign_in(driver: WebDriver, system: System, username: str, shot: str | None = None) -> None:
    driver.get(f"{system.dashboard.url}/login")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    if shot:
        screenshot(driver, shot)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    until(driver, lambda d: "/login" not in d.current_url)


def present(selector: str) -> Callable[[WebDriver], list[WebElement]]:
    return lambda driver: driver.find_elements(By.CSS_SELECTOR, selector)


def click(driver: WebDriver, selector: str) -> None:
    driver.find_element(By.CSS_SELECTOR, selector).click()


def body(driver: WebDriver) -> str:
    return str(driver.find_element(By.TAG_NAME, "body").text)


def text_of(message: dict[str, Any]) -> str:
    """What the citizen's phone shows of an outbound message."""
    rendered = message.get("rendered") or {}
    if rendered.get("body"):
        return str(rendered["body"])
    payload = message["payload"]
    if payload["type"] == "text":
        return str(payload["text"]["body"])
    if payload["type"] == "interactive":
        return str(payload["interactive"]["body"]["text"])
    return ""


def phone(system: System, wa_id: str, number: str | None, after: int = 0) -> list[dict[str, Any]]:
    """Messages the citizen received from ``number`` (None: any government number) after
    sequence ``after``."""
    numbers = [number] if number else list(configured_numbers())
    return [
        m
        for n in numbers
        for m in system.stack.emulator.conversation(wa_id=wa_id, phone_number_id=n, after=after)
        if m["direction"] == "out"
    ]


def texts(system: System, wa_id: str) -> list[str]:
    return [text_of(m) for m in phone(system, wa_id, None)]


def last_seq(system: System, wa_id: str, number: str) -> int:
    messages = system.stack.emulator.conversation(wa_id=wa_id, phone_number_id=number)
    return max((m["seq"] for m in messages), default=0)


def phone_shows(
    system: System,
    wa_id: str,
    number: str | None,
    wanted: str,
    after: int = 0,
    seconds: float = WAIT,
) -> list[str]:
    deadline = time.monotonic() + seconds
    while True:
        texts = [text_of(m) for m in phone(system, wa_id, number, after)]
        if any(wanted in t for t in texts):
            return texts
        assert time.monotonic() < deadline, f"{wanted!r} never reached the phone: {texts}"
        time.sleep(0.2)


def row(driver: WebDriver, wa_id: str) -> WebElement | None:
    found = driver.find_elements(By.CSS_SELECTOR, f'tr[data-wa-id="{wa_id}"]')
    return found[0] if found else None


def open_from_list(driver: WebDriver, wa_id: str) -> bool:
    """Click the conversation's link (False if the live list redrew it meanwhile)."""
    try:
        driver.find_element(By.CSS_SELECTOR, f'tr[data-wa-id="{wa_id}"] a').click()
    except StaleElementReferenceException:
        return False
    return True


# --------------------------------------------------------------------------- tests


def test_officer_watches_takes_over_replies_and_hands_back(
    system: System, browser: Browser
) -> None:
    dashboard, emulator = system.dashboard, system.stack.emulator
    dashboard.add_user("tara", "officer", departments=["transport"], name="Tara Mehta")
    citizen = "919810000701"
    driver = browser()
    sign_in(driver, system, "tara", shot="login")
    driver.get(f"{dashboard.url}/conversations")
    until(driver, lambda d: "live" in d.find_element(By.CSS_SELECTOR, "[data-live-state]").text)
    driver.execute_script("window.notReloaded = true;")
    assert row(driver, citizen) is None

    # the citizen writes to Transport's number: the conversation appears without a reload
    emulator.citizen_says("hello", wa_id=citizen, to=TRANSPORT)
    until(driver, lambda d: row(d, citizen))
    phone_shows(system, citizen, TRANSPORT, "")  # the assistant answered
    assert driver.execute_script("return window.notReloaded === true;")
    listed = until(driver, lambda d: row(d, citizen))
    assert "Transport Department" in listed.text
    assert citizen not in listed.text  # the list shows the number masked
    screenshot(driver, "conversations")

    until(driver, lambda d: open_from_list(d, citizen))
    until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".message.citizen"))
    until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".message.bot"))
    assert "hello" in driver.find_element(By.CSS_SELECTOR, ".message.citizen").text

    # take over: the citizen is told who they are talking to
    seq = last_seq(system, citizen, TRANSPORT)
    click(driver, 'button[data-action="take"]')
    until(driver, lambda d: "You have taken over" in body(d))
    phone_shows(system, citizen, TRANSPORT, "Tara Mehta", after=seq)

    # the officer's reply goes out on WhatsApp and shows in the transcript with her name
    seq = last_seq(system, citizen, TRANSPORT)
    driver.find_element(By.NAME, "text").send_keys("Your licence renewal is being checked.")
    click(driver, 'button[data-action="reply"]')
    until(driver, lambda d: "Your reply was sent" in body(d))
    phone_shows(system, citizen, TRANSPORT, "Your licence renewal is being checked.", after=seq)
    until(
        driver,
        lambda d: any(
            "Tara Mehta" in m.text and "being checked" in m.text
            for m in d.find_elements(By.CSS_SELECTOR, ".message.officer")
        ),
    )

    # while the officer holds the chat the assistant is silent; the transcript is live
    seq = last_seq(system, citizen, TRANSPORT)
    emulator.citizen_says("thank you madam", wa_id=citizen, to=TRANSPORT)
    until(
        driver,
        lambda d: any(
            "thank you madam" in m.text
            for m in d.find_elements(By.CSS_SELECTOR, ".message.citizen")
        ),
    )
    screenshot(driver, "conversation")
    time.sleep(3)
    assert phone(system, citizen, TRANSPORT, after=seq) == []

    # hand back: the citizen is told, and the assistant answers again
    click(driver, 'button[data-action="release"]')
    until(driver, lambda d: "back with the assistant" in body(d))
    phone_shows(system, citizen, TRANSPORT, "assistant will help you again", after=seq)
    seq = last_seq(system, citizen, TRANSPORT)
    emulator.citizen_says("hello", wa_id=citizen, to=TRANSPORT)
    assert phone_shows(system, citizen, TRANSPORT, "", after=seq)


def _submitted_application(system: System, citizen: str) -> str:
    """A character certificate (Police, fee 0) the citizen applied for, documents attached."""
    backend = system.stack.backend
    fields = {
        "applicant_name": "Ravi Kumar",
        "father_name": "Suresh Kumar",
        "date_of_birth": "1990-03-12",
        "address": "House 12, Gali 3, Laxmi Nagar, Delhi",
        "purpose": "job",
    }
    created = requests.post(
        f"{backend.url}/edistrict/applications",
        json={"service_id": "character_certificate", "fields": fields, "language": "en"},
        headers=backend.citizen(citizen),
        timeout=10,
    )
    assert created.status_code == 201, created.text
    app_id = str(created.json()["application_id"])
    for document in ("identity_proof", "address_proof", "photo"):
        attached = requests.post(
            f"{backend.url}/edistrict/applications/{app_id}/documents",
            json={
                "document_id": document,
                "filename": f"{document}.pdf",
                "mime_type": "application/pdf",
                "size": 2048,
                "sha256": hashlib.sha256(document.encode()).hexdigest(),
                "storage_ref": f"media/{document}.pdf",
            },
            headers=backend.citizen(citizen),
            timeout=10,
        )
        assert attached.status_code == 201, attached.text
    submitted = requests.post(
        f"{backend.url}/edistrict/applications/{app_id}/submit",
        json={},
        headers=backend.citizen(citizen),
        timeout=10,
    )
    assert submitted.json()["status"] == "submitted", submitted.text
    return app_id


def test_officer_approves_and_the_citizen_is_notified_other_departments_refused(
    system: System, browser: Browser
) -> None:
    dashboard = system.dashboard
    dashboard.add_user("pooja", "officer", departments=["police"], name="Pooja Rana")
    dashboard.add_user("tarun", "officer", departments=["transport"], name="Tarun Singh")
    citizen = "919810000702"
    app_id = _submitted_application(system, citizen)

    driver = browser()
    sign_in(driver, system, "pooja")
    driver.get(f"{dashboard.url}/applications")
    until(driver, lambda d: app_id in body(d))
    screenshot(driver, "application-desk")
    driver.get(f"{dashboard.url}/applications/{app_id}")
    screenshot(driver, "application")
    for action in ("verify", "approve"):
        button = f'button[name="do"][value="{action}"]'
        until(driver, present(button))
        click(driver, button)
    until(driver, lambda d: "approved" in body(d).lower())

    # the notification outbox tells the citizen on WhatsApp (from whichever number)
    decided = ("has been approved", "certificate is ready")
    deadline = time.monotonic() + 60
    while not any(app_id in t and any(d in t for d in decided) for t in texts(system, citizen)):
        assert time.monotonic() < deadline, texts(system, citizen)
        time.sleep(0.3)

    # an officer of another department is refused, in the browser too
    other = browser()
    sign_in(other, system, "tarun")
    other.get(f"{dashboard.url}/applications/{app_id}")
    assert app_id not in other.title
    assert "not allowed" in body(other)
    refused = dashboard.sign_in("tarun").get(f"{dashboard.url}/applications/{app_id}", timeout=10)
    assert refused.status_code == 403


def test_grievance_desk_and_analytics_pages(system: System, browser: Browser) -> None:
    dashboard = system.dashboard
    dashboard.add_user("gopal", "supervisor", departments=["transport"], name="Gopal Das")
    system.stack.emulator.citizen_says("hello", wa_id="919810000703", to=TRANSPORT)
    driver = browser()
    sign_in(driver, system, "gopal")
    driver.get(f"{dashboard.url}/grievances")
    until(driver, lambda d: d.find_elements(By.TAG_NAME, "h1"))
    screenshot(driver, "grievance-desk")

    def counted(d: WebDriver) -> bool:
        d.get(f"{dashboard.url}/analytics")
        return int(d.find_element(By.CSS_SELECTOR, '[data-total="conversations"]').text) >= 1

    until(driver, counted)
    assert len(driver.find_elements(By.CSS_SELECTOR, "svg.chart")) == 6
    departments = driver.find_elements(By.CSS_SELECTOR, "table.per-department tr[data-department]")
    assert any("Transport Department" in r.text for r in departments)
    screenshot(driver, "analytics")


def tap(system: System, wa_id: str, title: str) -> None:
    """The citizen taps the button titled ``title`` of the latest message offering it."""
    for message in sorted(phone(system, wa_id, None), key=lambda m: -m["seq"]):
        number = message["phone_number_id"]
        rendered = (message.get("rendered") or {}).get("buttons") or []
        for button in rendered:
            if button.get("text") == title or button.get("title") == title:
                system.stack.emulator.citizen_says(
                    wa_id=wa_id, to=number, type="button", reply_id=button["payload"]
                )
                return
        interactive = message["payload"].get("interactive") or {}
        for button in (interactive.get("action") or {}).get("buttons") or []:
            if button["reply"]["title"] == title:
                system.stack.emulator.citizen_says(
                    wa_id=wa_id, to=number, type="button_reply", reply_id=button["reply"]["id"]
                )
                return
    raise AssertionError(f"no message offers a {title!r} button")


def test_csc_operator_files_an_application_the_citizen_confirms(
    system: System, browser: Browser, tmp_path: Path
) -> None:
    dashboard = system.dashboard
    dashboard.add_user("kavita", "csc_operator", centre="CSC Laxmi Nagar", name="Kavita Jain")
    mobile = "9810000704"
    citizen = "91" + mobile
    document = tmp_path / "scan.pdf"
    document.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

    driver = browser()
    sign_in(driver, system, "kavita")
    driver.get(f"{dashboard.url}/csc/new?service=character_certificate")
    form = {
        "mobile": mobile,
        "field_applicant_name": "Ravi Kumar",
        "field_father_name": "Suresh Kumar",
        "field_date_of_birth": "12-03-1990",
        "field_address": "House 12, Gali 3, Laxmi Nagar, Delhi",
    }
    for name, value in form.items():
        driver.find_element(By.NAME, name).send_keys(value)
    Select(driver.find_element(By.NAME, "field_purpose")).select_by_value("job")
    Select(driver.find_element(By.NAME, "language")).select_by_value("en")
    for upload in driver.find_elements(By.CSS_SELECTOR, 'input[type="file"]'):
        upload.send_keys(str(document))
    screenshot(driver, "csc-form")
    driver.find_element(By.CSS_SELECTOR, "#csc-form button[type=submit]").click()
    until(driver, lambda d: "/csc/filings" in d.current_url)
    assert "Awaiting the citizen's confirmation" in body(driver)

    # the citizen gets the code on WhatsApp and confirms with the button
    phone_shows(system, citizen, None, "Common Service Centre", seconds=60)
    tap(system, citizen, "Confirm")

    def confirmed(d: WebDriver) -> bool:
        d.get(f"{dashboard.url}/csc/filings")
        return "Confirmed by the citizen" in body(d)

    until(driver, confirmed, seconds=60)
    screenshot(driver, "csc-filings")
