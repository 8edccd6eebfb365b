"""The business numbers of credentials.yml as the emulator's ``PHONE_NUMBERS`` setting.

`make run` and the test stack give the emulator exactly the numbers the channel is
configured with: the main number and one per department, labelled with the department's
name (``100001:+911140001000:Delhi Sewa,100002:+911140002000:Transport Department,…``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from connectors import phone_numbers
from service_catalogue import load

ROOT = Path(__file__).resolve().parent.parent
CHANNEL = "connectors.whatsapp.WhatsAppInput"


def configured_numbers(credentials: Path = ROOT / "credentials.yml") -> dict[str, str]:
    """phone_number_id -> department id ("" for the main number), as the channel reads
    them (``connectors.phone_numbers.configured``: credentials.yml and
    ``WHATSAPP_PHONE_NUMBERS``)."""
    data = yaml.safe_load(credentials.read_text(encoding="utf-8"))
    return phone_numbers.configured(data.get(CHANNEL) or {})


def emulator_phone_numbers(
    credentials: Path = ROOT / "credentials.yml", numbers: Mapping[str, str] | None = None
) -> str:
    """``numbers`` (default: the channel's, :func:`configured_numbers`) as ``PHONE_NUMBERS``."""
    departments = load().departments
    items = []
    chosen = configured_numbers(credentials) if numbers is None else numbers
    for number_id, department in chosen.items():
        label = departments[department].title("en").replace(",", "") if department else "Delhi Sewa"
        display = f"+9111400{int(number_id) % 100:02d}000"
        items.append(f"{number_id}:{display}:{label}")
    return ",".join(items)
