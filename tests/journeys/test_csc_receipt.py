"""The CSC's receipt reaches the citizen's phone (issue 14, item 6).

A citizen who has WhatsApp and had an application filed for them at a Common Service
Centre gets the centre's receipt for the ₹50 assisted-service charge on the phone, in
the language of the filing, as the registered ``csc_receipt`` template (the dashboard
asks the backends to send it, as ``POST /edistrict/applications/{id}/counter`` here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from tests.journeys.phone import Citizen
from tests.journeys.test_csc import POLICE, file_at_csc, is_template


def test_the_csc_receipt_arrives_on_the_phone_in_hindi(
    system: Any, citizen: Callable[..., Citizen]
) -> None:
    c = citizen(number=POLICE, name="CSC: the ₹50 receipt on WhatsApp", minimum=0)
    application_id = file_at_csc(system, c)
    c.waits_for(is_template)  # the confirmation code comes first
    number = f"CSC-{application_id.removeprefix('APP-')}-C"
    asked = requests.post(
        f"{system.backend.url}/edistrict/applications/{application_id}/counter",
        json={
            "action": "receipt",
            "receipt_number": number,
            "mode": "cash",
            "charge": 50,
            "fee": 0,
            "total": 50,
        },
        headers=system.backend.officer("csc-op-17"),
        timeout=10,
    )
    assert asked.status_code == 200 and asked.json()["sent"] is True, asked.text

    receipt = c.waits_for(lambda r: r.kind == "template" and number in r.text)
    assert "सहायता शुल्क ₹50" in receipt.text and "CSC Laxmi Nagar" in receipt.text
    assert application_id in receipt.text and "कुल ₹50 (नकद)" in receipt.text
    # only the operator who filed it may ask
    other = requests.post(
        f"{system.backend.url}/edistrict/applications/{application_id}/counter",
        json={"action": "receipt", "receipt_number": "X"},
        headers=system.backend.officer("csc-op-99"),
        timeout=10,
    )
    assert other.status_code == 404
