"""One fee, paid once (issue 13, item 6): the citizen asks to pay twice, opens the link in
two tabs and presses Pay in both.

It used to give two links (a new order per message), both payable: two paid orders and
two receipts for one fee. Now both messages bring the same link, the second tab says the
fee is already paid and that no money was taken, and one receipt arrives on WhatsApp.
"""

from __future__ import annotations

import re
import time

import requests

from tests.journeys.phone import Citizen, Reply
from tests.test_backends_payments import FEE, pending_application

LINK = re.compile(r"http\S+/pay/order_\w+")


def shown(replies: list[Reply]) -> str:
    return "\n".join(str(r) for r in replies)


def link_in(replies: list[Reply]) -> str:
    found = LINK.search(Citizen.all_text(replies))
    assert found, shown(replies)
    return found.group(0)


def receipts(phone: Citizen) -> list[Reply]:
    return [r for r in phone.inbox() if "RCPT-" in r.text]


def test_paying_twice_gives_one_link_one_payment_and_one_receipt(citizen, system) -> None:
    phone = citizen(name="pay twice, two tabs (hi)")
    phone.says("नमस्ते")
    phone.taps("हाँ")
    # A learner licence filed earlier, waiting for its fee.
    application_id = pending_application(system.backend, phone.wa_id)["application_id"]

    first = link_in(phone.says("फीस भरनी है"))
    second = link_in(phone.says("पेमेंट करना है"))  # the citizen asks again
    assert second == first, "a second request for the same fee gave another payment link"

    # Both tabs are open before either pays; then Pay in each.
    tabs = [requests.get(link, timeout=10) for link in (first, second)]
    assert all(tab.status_code == 200 and f"&#8377; {FEE}" in tab.text for tab in tabs)
    paid = requests.post(first, data={"outcome": "success"}, timeout=10)
    assert "Payment successful" in paid.text
    again = requests.post(second, data={"outcome": "success"}, timeout=10)
    assert "Already paid" in again.text and "भुगतान हो चुका है" in again.text
    assert "no money was taken" in again.text and "कोई पैसा नहीं कटा" in again.text

    receipt = phone.waits_for(lambda r: "RCPT-" in r.text and application_id in r.text)
    assert "भुगतान मिल गया" in receipt.text, receipt.text
    time.sleep(8)  # longer than the outbox takes to send a second receipt, if there were one
    assert len(receipts(phone)) == 1, shown(receipts(phone))
    number = re.search(r"RCPT-\d{4}-\d{6}", receipt.text)
    assert number and number.group(0) in requests.get(first, timeout=10).text

    replies = phone.says("फीस भरनी है")  # and once more, after paying
    assert "कोई फ़ीस बाकी नहीं" in phone.all_text(replies), shown(replies)
    assert LINK.search(phone.all_text(replies)) is None


def test_how_much_is_still_due_is_about_the_citizens_own_fee(citizen, system) -> None:
    """Found trying it as a citizen: "ab kitni fees baaki hai?" after paying got the
    service's price ("the fee is ₹200") and an "Apply now" button."""
    phone = citizen(name="fee still due? before and after paying (hinglish)")
    phone.says("namaste")
    phone.taps("हाँ")
    application_id = pending_application(system.backend, phone.wa_id)["application_id"]
    price = phone.says("learner licence ki fees kitni hai?")  # the service is now in context
    assert "₹200" in phone.all_text(price), shown(price)
    before = phone.says("ab kitni fees baaki hai?")
    assert application_id in phone.all_text(before) and LINK.search(phone.all_text(before))
    assert requests.post(link_in(before), data={"outcome": "success"}, timeout=10).ok
    phone.waits_for(lambda r: "RCPT-" in r.text and application_id in r.text)
    after = phone.says("ab kitni fees baaki hai?")
    said = phone.all_text(after)
    assert "कोई फ़ीस बाकी नहीं" in said, shown(after)
    assert "₹200 है" not in said and not any("आवेदन करें" in b for r in after for b in r.buttons)
