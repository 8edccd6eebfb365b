"""A Common Service Centre files for a citizen; the citizen confirms on the phone (issue 14,
item 8).

The citizen never wrote to the bot before: the first thing they see is the
``csc_confirmation`` template, in the language the operator filed in. Typing only the
6-digit code confirms while the application waits for them (it used to be read as an
answer with no question), and every reply comes in the language of the filing (it used to
be English, the default of a citizen the bot had never talked to).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import requests

from tests.journeys.phone import Citizen, Reply
from tests.test_backends_edistrict import CHARACTER

POLICE = "100012"  # the character certificate's department writes from its own number
DEVANAGARI = re.compile(r"[\u0900-\u097f]")
LATIN_WORD = re.compile(r"\b[A-Za-z]{3,}\b")


def file_at_csc(system: Any, phone: Citizen, language: str = "hi") -> str:
    """The operator files a character certificate for ``phone`` in ``language``."""
    created = requests.post(
        f"{system.backend.url}/edistrict/applications",
        json={
            "service_id": "character_certificate",
            "fields": CHARACTER,
            "language": language,
            "channel": "csc",
            "operator": {"id": "csc-op-17", "name": "Anil", "centre": "CSC Laxmi Nagar"},
        },
        headers=system.backend.citizen(phone.wa_id),
        timeout=10,
    )
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "awaiting_citizen_confirmation"
    return str(created.json()["application_id"])


def code_in(template: Reply) -> str:
    found = re.search(r"(?<!\d)\d{6}(?!\d)", template.text)
    assert found, template.text
    return found.group(0)


def is_template(reply: Reply) -> bool:
    return reply.kind == "template"


def hindi_only(replies: list[Reply], application_id: str) -> None:
    text = Citizen.all_text(replies).replace(application_id, "")
    assert DEVANAGARI.search(text), text
    assert not LATIN_WORD.search(text), text


def test_typing_only_the_code_confirms_and_the_answer_is_in_hindi(
    system: Any, citizen: Callable[..., Citizen]
) -> None:
    c = citizen(number=POLICE, name="CSC: only the code, in Hindi", minimum=1)
    application_id = file_at_csc(system, c)
    code = code_in(c.waits_for(is_template))

    replies = c.says(code)

    assert application_id in c.all_text(replies)
    assert "पुष्टि कर दी" in c.all_text(replies)
    hindi_only(replies, application_id)
    status = requests.get(
        f"{system.backend.url}/edistrict/applications/{application_id}",
        headers=system.backend.citizen(c.wa_id),
        timeout=10,
    )
    assert status.json()["status"] != "awaiting_citizen_confirmation"


def test_tapping_confirm_on_a_hindi_filing_answers_in_hindi(
    system: Any, citizen: Callable[..., Citizen]
) -> None:
    c = citizen(number=POLICE)
    application_id = file_at_csc(system, c)
    c.waits_for(is_template)

    replies = c.taps("पुष्टि")

    assert "पुष्टि कर दी" in c.all_text(replies)
    hindi_only(replies, application_id)


def test_a_wrong_code_typed_alone_counts_as_a_wrong_code(
    system: Any, citizen: Callable[..., Citizen]
) -> None:
    c = citizen(number=POLICE)
    application_id = file_at_csc(system, c)
    code = code_in(c.waits_for(is_template))
    wrong = "111111" if code != "111111" else "222222"

    replies = c.says(wrong)

    assert "पुष्टि कर दी" not in c.all_text(replies)
    hindi_only(replies, application_id)
    assert re.search(r"\d", c.all_text(replies).replace(application_id, ""))  # attempts left


def test_six_digits_with_nothing_waiting_are_not_taken_for_a_code(
    citizen: Callable[..., Citizen],
) -> None:
    c = citizen()
    replies = c.says("110092")

    assert "confirmation" not in c.all_text(replies).lower()
    assert "पुष्टि" not in c.all_text(replies)
