"""The broadcast report (issue 14, item 9): citizens who said STOP are counted and shown
as opted out; an audience and message preview before sending; each recipient's status
with the number masked; delivered and read counts that follow WhatsApp's statuses while
the page is open, not only after the backends' periodic status sync (set to an hour
here, so only the page's own pull can move them)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support.backends import (
    Backend,
    FakeChannel,
    channel_settings,
    fake_channel,
    running_backend,
)
from tests.support.dashboard import Dashboard, csrf_of, running_dashboard
from tests.test_backends_payments import wait_for

NOTICE = {
    "text_hi": "रविवार को थाने में सत्यापन शिविर लगेगा।",
    "text_en": "A verification camp is held at the police station on Sunday.",
}


@pytest.fixture(scope="module")
def channel() -> Iterator[FakeChannel]:
    with fake_channel() as running:
        yield running


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory, channel: FakeChannel) -> Iterator[Backend]:
    directory = tmp_path_factory.mktemp("report-backend")
    settings = {**channel_settings(channel, directory), "STATUS_SYNC_INTERVAL_SECONDS": "3600"}
    with running_backend(directory, **settings) as running:
        yield running


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[Dashboard]:
    with running_dashboard(tmp_path_factory.mktemp("report"), backends_url=backend.url) as running:
        running.add_user("asha", "officer", ["djb"], name="Asha Verma")
        running.add_user("ravi", "officer", ["revenue"], name="Ravi Kumar")
        yield running


def prefer(backend: Backend, citizen: str, **values: Any) -> None:
    answer = requests.put(
        f"{backend.url}/citizens/{citizen}/preferences",
        json=values,
        headers=backend.citizen(citizen),
        timeout=5,
    )
    assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def citizens(backend: Backend) -> dict[str, str]:
    """Jal Board subscribers: two in East Delhi, one who said STOP, one in West Delhi."""
    base = str(uuid.uuid4().int)[:6]
    who = {
        "east_hi": f"919{base}0011",
        "east_en": f"919{base}0012",
        "stopped": f"919{base}0013",
        "west": f"919{base}0014",
    }
    prefer(backend, who["east_hi"], departments=["djb"], district="east", language="hi")
    prefer(backend, who["east_en"], departments=["djb"], district="east", language="en")
    prefer(backend, who["stopped"], departments=["djb"], district="east", broadcasts=False)
    prefer(backend, who["west"], departments=["djb"], district="west", language="hi")
    return who


def form_of(page: str) -> dict[str, str]:
    nonce = re.search(r'name="nonce" value="([^"]+)"', page)
    assert nonce
    return {
        "csrf_token": csrf_of(page),
        "department": "djb",
        "category": "utility",
        "district": "east",
        "nonce": nonce.group(1),
        **NOTICE,
    }


def test_preview_counts_who_will_and_will_not_receive_it_and_shows_the_exact_message(
    dash: Dashboard, backend: Backend, citizens: dict[str, str]
) -> None:
    officer = dash.sign_in("asha")
    page = officer.get(f"{dash.url}/broadcasts", timeout=10).text
    before = requests.get(
        f"{backend.url}/broadcasts", params={"department": "djb"}, headers=backend.officer()
    ).json()["broadcasts"]
    preview = officer.post(f"{dash.url}/broadcasts/preview", data=form_of(page), timeout=10)
    assert preview.status_code == 200, preview.text[-1500:]
    assert "2 citizens will receive it." in preview.text
    excluded = dict(re.findall(r'data-excluded="([a-z_]+)">(\d+)', preview.text))
    assert excluded == {"opted_out": "1", "other_district": "1"}
    # the template's own wording around the officer's text, in each language
    assert "Notice from the Delhi Jal Board: A verification camp" in preview.text
    assert "दिल्ली जल बोर्ड की सूचना: रविवार को" in preview.text
    assert "Send to 2 citizens" in preview.text
    after = requests.get(
        f"{backend.url}/broadcasts", params={"department": "djb"}, headers=backend.officer()
    ).json()["broadcasts"]
    assert len(after) == len(before)  # a preview sends nothing


def test_report_counts_the_opted_out_lists_recipients_masked_and_follows_statuses_live(
    dash: Dashboard, backend: Backend, channel: FakeChannel, citizens: dict[str, str]
) -> None:
    officer = dash.sign_in("asha")
    page = officer.get(f"{dash.url}/broadcasts", timeout=10).text
    sent = officer.post(f"{dash.url}/broadcasts", data=form_of(page), timeout=10)
    assert sent.status_code == 200
    broadcast_id = re.search(r"BRD-\d{4}-\d{6}", sent.url)
    assert broadcast_id, sent.url
    bid = broadcast_id.group(0)

    def counts() -> dict[str, int]:
        answer = officer.get(f"{dash.url}/broadcasts/reports.json?department=djb", timeout=10)
        return dict(answer.json()["reports"][bid])

    assert wait_for(lambda: counts()["pending"] == 0, 30)
    now = counts()
    assert (now["audience"], now["sent"], now["opted_out"]) == (2, 2, 1)  # STOP is shown

    detail = officer.get(f"{dash.url}/broadcasts/{bid}", timeout=10)
    assert detail.status_code == 200
    rows = {
        number: status
        for status, number in re.findall(
            r'data-status="([a-z_]+)">\s*<td translate="no">([^<]+)<', detail.text
        )
    }
    assert sorted(rows.values()) == ["opted_out", "sent", "sent"]
    for citizen in (citizens["east_hi"], citizens["east_en"], citizens["stopped"]):
        assert citizen not in detail.text and f"+91•••••{citizen[-4:]}" in rows
    assert "opted out (said STOP): not sent" in detail.text

    # WhatsApp reports delivered and read; the hourly sync has not run: the page pulls
    with channel.lock:
        ids = {
            body["to"]: channel.answers[body["key"]]["message_id"]
            for _, body in channel.received
            if body["purpose"] == "broadcast" and body["to"] in citizens.values()
        }
    channel.statuses[ids[citizens["east_hi"]]] = "read"
    channel.statuses[ids[citizens["east_en"]]] = "delivered"
    live = officer.get(f"{dash.url}/broadcasts/{bid}/report.json", timeout=10).json()["reports"]
    assert (live[bid]["delivered"], live[bid]["read"]) == (2, 1)
    assert sorted(v["status"] for k, v in live.items() if k.startswith("r-")) == [
        "delivered",
        "opted out (said STOP): not sent",
        "read",
    ]
    assert (counts()["delivered"], counts()["read"]) == (2, 1)

    # another department's officer may not look
    other = dash.sign_in("ravi")
    assert other.get(f"{dash.url}/broadcasts/{bid}", timeout=10).status_code == 403
