"""The retention job (issue 13, item 8): inbound message texts, issued buttons, delivery
statuses and the rest of the channel's transport data go when their time is up, logs
after 180 days; nothing waiting to be processed is touched. The clock is injected."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from connectors.retention import run_once
from connectors.store import ChannelStore

DAY = 24 * 3600
CITIZEN = "919812300010"


def message(wamid: str, text: str) -> dict[str, object]:
    body = json.dumps({"kind": "text", "text": text})
    return {
        "message_id": wamid,
        "wa_id": CITIZEN,
        "phone_number_id": "100001",
        "timestamp": int(time.time()),
        "body": body,
    }


def test_retention_removes_old_transport_data_and_keeps_what_is_still_needed(
    tmp_path: Path,
) -> None:
    store = ChannelStore(f"sqlite:///{tmp_path / 'whatsapp.db'}", subject_key=b"k")
    store.add_inbound(
        [message("wamid.done", "mera naam Kamla Devi hai"), message("wamid.wait", "aur ek baat")]
    )
    claimed = store.next_pending(CITIZEN)
    assert claimed is not None and claimed["message_id"] == "wamid.done"
    store.finish("wamid.done", "done", claimed["attempts"])
    button = store.issue(CITIZEN, '/csc_confirm{"csc_code": "123456"}')
    store.record_sent("wamid.reply", CITIZEN, "100001")
    store.record_reply("wamid.done:1", "wamid.reply")
    store.touch_contact(CITIZEN, "100001", int(time.time()))
    logs = tmp_path / "logs"
    logs.mkdir()
    for name, age in (("rasa.log", 0), ("rasa.log.2026-05-01", 181), ("rasa.log.2026-06-10", 170)):
        path = logs / name
        path.write_text("{}\n")
        os.utime(path, (time.time() - age * DAY, time.time() - age * DAY))
    now = time.time()

    nothing = run_once(store, now=now + DAY, log_dir=logs, log_days=180)
    assert set(nothing.values()) == {0} | {nothing["log_files"]}
    assert nothing["log_files"] == 1  # the file from 181 days ago
    assert sorted(p.name for p in logs.iterdir()) == ["rasa.log", "rasa.log.2026-06-10"]
    assert "Kamla" in str(store.inbox_body("wamid.done"))

    week = run_once(store, now=now + 8 * DAY, log_dir=logs, log_days=180)
    assert week["inbox_bodies"] == 1 and week["buttons_expired"] == 1
    assert json.loads(str(store.inbox_body("wamid.done"))) == {}  # the text is gone
    assert store.inbox_state("wamid.done") == "done"  # the wamid still known (duplicates)
    assert store.payload_for(CITIZEN, button) == ""  # the code in the button is gone
    assert store.status_of("wamid.reply") == "accepted"
    assert "aur ek baat" in str(store.inbox_body("wamid.wait"))  # not processed yet: kept

    month = run_once(store, now=now + 31 * DAY, log_dir=logs, log_days=180)
    assert month["inbox_rows"] == 1 and month["buttons"] == 1 and month["statuses"] == 1
    assert month["replies"] == 1 and month["contacts"] == 1
    assert store.inbox_state("wamid.done") is None
    assert store.issued_payload(CITIZEN, button) is None
    assert store.status_of("wamid.reply") is None
    assert not store.reply_sent("wamid.done:1")
    assert store.last_inbound_at(CITIZEN, "100001") is None
    assert store.inbox_state("wamid.wait") == "pending"  # never touched while waiting
    assert "aur ek baat" in str(store.inbox_body("wamid.wait"))

    again = run_once(store, now=now + 31 * DAY, log_dir=logs, log_days=180)
    assert set(again.values()) == {0}
