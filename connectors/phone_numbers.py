"""The channel's business numbers: phone_number_id -> department id ("" = the main
number, which offers every service).

Local profile (`make run`, tests): ``phone_numbers`` of credentials.yml (the emulator's
ids 100001–100012), each entry of ``WHATSAPP_PHONE_NUMBERS`` added or overriding.

Production profile (``DELHI_SEWA_PROFILE=production``): only ``WHATSAPP_PHONE_NUMBERS``
(``"id:department,id:department"``, e.g. ``"1234567890:,1234567891:transport"``)
— credentials.yml's list is the emulator's and is ignored. At start-up
:func:`check_production` refuses (a RasaException: Rasa prints it and exits) unless
there is a main number, every department is in the catalogue, no id is the emulator's,
and the Graph API answers ``GET /<phone_number_id>`` with that number for the access
token — so replies, broadcasts and handoff notices never go out from a number WhatsApp
would refuse.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import requests
from rasa.shared.exceptions import RasaException

from ops import profile
from service_catalogue import load

VARIABLE = "WHATSAPP_PHONE_NUMBERS"
#: the emulator's ids (credentials.yml, whatsapp_emulator): never in production
EMULATOR_ID = re.compile(r"^1000\d\d$")
GRAPH_TIMEOUT = 10.0


class PhoneNumberError(RasaException):
    """The configured numbers cannot be used in production."""


def parse(text: str) -> dict[str, str]:
    """``"id:department,id:department"`` -> {id: department}; blank items are skipped."""
    numbers: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        number_id, colon, department = item.partition(":")
        if not colon or not number_id.strip():
            raise PhoneNumberError(
                f"{VARIABLE}: {item.strip()!r} is not 'phone_number_id:department' "
                "(the main number has an empty department, e.g. '1234567890:')"
            )
        numbers[number_id.strip()] = department.strip()
    return numbers


def configured(
    credentials: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The numbers of this profile (see the module's documentation)."""
    environ = os.environ if environ is None else environ
    from_env = parse(environ.get(VARIABLE, ""))
    if profile.production():
        return from_env
    numbers = {str(k): str(v or "") for k, v in (credentials.get("phone_numbers") or {}).items()}
    return {**numbers, **from_env}


def problems(numbers: Mapping[str, str], graph_url: str, access_token: str) -> list[str]:
    """Why ``numbers`` cannot be used in production (empty: they can)."""
    if not numbers:
        return [
            f"{VARIABLE} is empty: set the real numbers, e.g. '1234567890:,1234567891:transport'"
        ]
    found = []
    if "" not in numbers.values():
        found.append("there is no main number (an id with an empty department, e.g. '1234567890:')")
    departments = load().departments
    for number_id, department in numbers.items():
        if EMULATOR_ID.match(number_id):
            found.append(f"{number_id} is one of the emulator's numbers, not a real one")
            continue
        if department and department not in departments:
            found.append(f"{number_id}: {department!r} is not a department of the catalogue")
        found += _graph_problems(number_id, graph_url, access_token)
    return found


def _graph_problems(number_id: str, graph_url: str, access_token: str) -> list[str]:
    """Ask the Graph API for the number as Meta documents it: ``GET /<phone_number_id>``
    answers ``{"id", "display_phone_number", "verified_name", ...}`` for a number the
    access token may send from."""
    url = f"{graph_url.rstrip('/')}/{number_id}"
    try:
        answer = requests.get(
            url,
            params={"fields": "id,display_phone_number,verified_name"},
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=GRAPH_TIMEOUT,
        )
    except requests.RequestException as exc:
        return [f"{number_id}: the Graph API could not be asked ({type(exc).__name__})"]
    try:
        data = answer.json()
    except ValueError:
        data = {}
    if answer.status_code != 200 or not isinstance(data, dict):
        error = data.get("error") if isinstance(data, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        return [
            f"{number_id}: the Graph API answered {answer.status_code} ({message or 'no detail'})"
        ]
    if str(data.get("id")) != number_id or not data.get("display_phone_number"):
        return [f"{number_id}: the Graph API does not describe it as a phone number"]
    return []


def check_production(numbers: Mapping[str, str], graph_url: str, access_token: str) -> None:
    """Raise :class:`PhoneNumberError` naming every problem, in the production profile."""
    if not profile.production():
        return
    found = problems(numbers, graph_url, access_token)
    if found:
        raise PhoneNumberError(
            "The WhatsApp channel refuses to start in the production profile: "
            + "; ".join(found)
            + f". Set {VARIABLE}='id:department,...' to the business account's numbers."
        )
