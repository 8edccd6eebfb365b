"""A button from an old message (issued more than 7 days before the tap) is not obeyed:
the citizen is told, in their language, that it no longer works and what to do instead,
never met with silence (issue 13, item 10). The tap happens "8 days later" on the
emulator's clock (WhatsApp's timestamp of the tap), never waited for."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.journeys.phone import Citizen, Reply

EIGHT_DAYS = 8 * 24 * 3600


def shown(replies: list[Reply]) -> str:
    return "\n".join(str(r) for r in replies)


@pytest.fixture
def eight_days_later(system: Any) -> Iterator[Callable[[], None]]:
    def move() -> None:
        system.emulator.configure(clock_offset_seconds=EIGHT_DAYS)

    try:
        yield move
    finally:
        system.emulator.configure(clock_offset_seconds=0)


def test_a_button_tapped_8_days_later_is_answered_in_the_citizens_language(
    citizen: Callable[..., Citizen], eight_days_later: Callable[[], None]
) -> None:
    phone = citizen(name="Expired button (hindi)")
    replies = phone.says("kitne din lagega income certificate banne mein?")
    assert any(r.options for r in replies), shown(replies)  # "अभी आवेदन करें"

    eight_days_later()
    replies = phone.taps("अभी आवेदन करें")
    said = phone.all_text(replies)
    assert "पुराने संदेश का है" in said and "7 दिन" in said, shown(replies)
    assert "सवाल 1/7" not in said, shown(replies)  # the old button started nothing

    # typing still works: the citizen is not stuck
    replies = phone.says("mujhe income certificate banwana hai")
    assert replies, "no answer after the expired button"


def test_a_fresh_button_still_works(citizen: Callable[..., Citizen]) -> None:
    phone = citizen(name="Fresh button")
    phone.says("kitne din lagega income certificate banne mein?")
    replies = phone.taps("अभी आवेदन करें")
    assert "पुराने संदेश" not in phone.all_text(replies), shown(replies)
