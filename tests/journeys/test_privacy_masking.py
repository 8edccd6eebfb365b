"""Aadhaar numbers a citizen's phone sends outside the message text: in the WhatsApp
profile name, a document's file name, a shared location's name and address. None of
them may reach the channel's inbox, Rasa's tracker, the event broker or any log of the
system as anything but ``XXXX-XXXX-1234`` (issue 13, item 9: before, only the text and
captions were masked).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from privacy import to_ascii_digits
from tests.journeys import files

AADHAAR = "234567890124"  # Verhoeff-valid


def digits(text: str) -> str:
    return "".join(c for c in to_ascii_digits(text) if c.isdigit())


def rows(database: Path, query: str, wa_id: str) -> list[str]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return [str(r[0]) for r in db.execute(query, (wa_id,))]


def test_an_aadhaar_number_in_a_file_name_a_location_or_the_profile_name_is_kept_masked(
    citizen, system
) -> None:
    phone = citizen(name="Sunita 2345 6789 0124")
    phone.says("नमस्ते")
    phone.attaches(
        files.multipage_pdf(),
        mime_type="application/pdf",
        filename="Aadhaar 2345 6789 0124.pdf",
    )
    phone.sends(
        type="location",
        latitude=28.6315,
        longitude=77.2167,  # the simulator names the place after the profile name
        address="Gali 4, Laxmi Nagar, aadhaar २३४५.६७८९.०१२४",
    )
    mine = {
        "inbox": rows(
            system.whatsapp_db, "SELECT body FROM whatsapp_inbox WHERE wa_id=?", phone.wa_id
        ),
        "tracker": rows(
            system.tracker_db, "SELECT data FROM events WHERE sender_id=?", phone.wa_id
        ),
        "event broker": rows(
            system.events_db, "SELECT data FROM events WHERE sender_id=?", phone.wa_id
        ),
    }
    assert all(mine.values()), "nothing recorded"
    for where, found in mine.items():
        for row in found:
            assert AADHAAR not in digits(row), f"{where}: {row[:300]}"
    recorded = " ".join(mine["tracker"])
    assert "Aadhaar XXXX-XXXX-0124.pdf" in recorded  # the file name, masked
    assert "Sunita XXXX-XXXX-0124" in recorded  # the profile name (and the place's name)
    assert "Laxmi Nagar, aadhaar XXXX-XXXX-0124" in recorded  # the place's address
    directory = Path(system.whatsapp_db).parent
    for log in directory.rglob("*.log"):  # ours; the emulator stands in for WhatsApp itself
        if "emulator" in log.parts:
            continue
        text = log.read_text(encoding="utf-8", errors="replace")
        assert AADHAAR not in digits(text.replace("\n", " ")), log
