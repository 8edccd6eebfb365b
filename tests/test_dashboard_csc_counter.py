"""CSC counter (issue 14, items 6 and 7): the ₹50 assisted-service charge with its
receipt and the operator's daily statement; a citizen without WhatsApp confirms with a
code sent by SMS and read out at the counter, and pays the fee there. Real backends (a
fake channel records what citizens receive on WhatsApp), the real dashboard with the
``file`` SMS gateway, both over HTTP."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select, update

from dashboard import csc_config, sms
from dashboard.csc import statement, statement_csv, totals
from dashboard.db import AuditEntry, CscCode, CscFiling, CscPayment
from dashboard.db import Database as DashboardDatabase
from tests.support.backends import (
    Backend,
    FakeChannel,
    backend_with_fake_channel,
)
from tests.support.dashboard import Dashboard, csrf_of, running_dashboard
from tests.test_backends_payments import wait_for
from tests.test_dashboard_desks import LEARNER_DOCS, csc_form, documents

channel, backend = backend_with_fake_channel("csc-backend")


@pytest.fixture(scope="module")
def sms_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sms") / "sms.jsonl"


@pytest.fixture(scope="module")
def dash(
    tmp_path_factory: pytest.TempPathFactory, backend: Backend, sms_file: Path
) -> Iterator[Dashboard]:
    with running_dashboard(
        tmp_path_factory.mktemp("csc-dash"),
        backends_url=backend.url,
        SMS_GATEWAY="file",
        SMS_FILE=str(sms_file),
    ) as running:
        running.add_user("csc.meena", "csc_operator", centre="CSC Seelampur", name="Meena")
        running.add_user("csc.other", "csc_operator", centre="CSC Rohini", name="Other")
        yield running


def db_run(dash: Dashboard, work: Any) -> Any:
    db = DashboardDatabase(dash.db_url)
    try:
        return db.run(work)
    finally:
        db.dispose()


def audited(dash: Dashboard, subject: str) -> list[str]:
    query = select(AuditEntry.action).where(AuditEntry.subject == subject).order_by(AuditEntry.id)
    return db_run(dash, lambda s: list(s.execute(query).scalars()))


def application(backend: Backend, app_id: str) -> dict[str, Any]:
    answer = requests.get(
        f"{backend.url}/edistrict/applications/{app_id}", headers=backend.officer(), timeout=10
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def file_for(
    dash: Dashboard, operator: requests.Session, national: str, **extra: str
) -> tuple[str, requests.Response]:
    page = operator.get(f"{dash.url}/csc/new?service=learner_licence", timeout=10)
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text)
    assert nonce
    filed = operator.post(
        f"{dash.url}/csc/new",
        data={
            "csrf_token": csrf_of(page.text),
            "nonce": nonce.group(1),
            **csc_form(national),
            **extra,
        },
        files=documents(*LEARNER_DOCS),
        timeout=30,
    )
    assert filed.status_code == 200, filed.text[-2000:]
    found = re.search(r"APP-\d{4}-\d{6}", filed.url)
    assert found, filed.url
    return found.group(0), filed


def texts_to(sms_file: Path, mobile: str) -> list[str]:
    if not sms_file.exists():
        return []
    lines = [json.loads(line) for line in sms_file.read_text(encoding="utf-8").splitlines()]
    return [line["text"] for line in lines if line["to"] == f"+91{mobile}"]


def code_in(text: str) -> str:
    found = re.search(r"(?<![\d-])(\d{6})(?!\d)", text)
    assert found, text
    return found.group(1)


def post_on(
    dash: Dashboard, browser: requests.Session, app_id: str, action: str, **data: str
) -> requests.Response:
    page = f"/csc/filings/{app_id}"
    return dash.post(browser, f"{page}/{action}", data, page=page)


# --------------------------------------------------------------------------- item 6


def test_the_charge_is_configured_taken_with_the_filing_and_receipted_on_whatsapp(
    dash: Dashboard, backend: Backend, channel: FakeChannel
) -> None:
    assert csc_config.load().charge("learner_licence") == 50
    operator = dash.sign_in("csc.meena")
    form = operator.get(f"{dash.url}/csc/new?service=learner_licence", timeout=10).text
    assert "Assisted-service charge: ₹50" in form and 'name="charge_mode"' in form
    national = "97" + str(uuid.uuid4().int)[:8]
    app_id, _ = file_for(dash, operator, national, charge_mode="upi")

    (taken,) = db_run(
        dash,
        lambda s: [
            (p.kind, p.amount, p.mode, p.receipt_number)
            for p in s.execute(
                select(CscPayment).where(CscPayment.application_id == app_id)
            ).scalars()
        ],
    )
    assert taken[:3] == ("charge", 50, "upi")
    # the citizen has WhatsApp: the receipt arrives there, in the filing's language
    assert wait_for(
        lambda: any(m["template"] == "csc_receipt" for m in channel.to("91" + national)), 30
    )
    (message,) = [m for m in channel.to("91" + national) if m["template"] == "csc_receipt"]
    assert message["language"] == "hi"
    assert taken[3] in message["parameters"] and "50" in message["parameters"]
    # and it is printable at the counter, in Hindi and English
    printed = operator.get(f"{dash.url}/csc/filings/{app_id}/receipt", timeout=10)
    assert printed.status_code == 200
    assert "सीएससी सहायता शुल्क" in printed.text and "CSC assisted-service charge" in printed.text
    assert taken[3] in printed.text and 'id="receipt-total">₹50<' in printed.text
    assert national not in printed.text  # the number is masked
    # another operator cannot read it
    other = dash.sign_in("csc.other")
    assert other.get(f"{dash.url}/csc/filings/{app_id}/receipt", timeout=10).status_code == 403
    assert {"csc.file", "csc.charge_taken", "csc.receipt_whatsapp", "csc.receipt_print"} <= set(
        audited(dash, app_id)
    )


def test_daily_statement_follows_indias_date_with_totals(tmp_path: Path) -> None:
    db = DashboardDatabase(f"sqlite:///{tmp_path / 'd.db'}")
    db.create_all()

    def add(session: Any) -> None:
        # 6 Dec 18:40 UTC is 7 Dec 00:10 IST; 7 Dec 18:20 UTC is 7 Dec 23:50 IST
        for app_id, at, mode in (
            ("APP-2026-000001", datetime(2026, 12, 6, 18, 20), "cash"),  # 6 Dec 23:50 IST
            ("APP-2026-000002", datetime(2026, 12, 6, 18, 40), "cash"),
            ("APP-2026-000003", datetime(2026, 12, 7, 18, 20), "upi"),
        ):
            session.add(
                CscFiling(
                    application_id=app_id,
                    user_id=1,
                    centre="CSC",
                    service_id="learner_licence",
                    mobile_last4="1234",
                    created_at=at,
                )
            )
            session.add(
                CscPayment(
                    receipt_number=f"R-{app_id}",
                    application_id=app_id,
                    user_id=1,
                    kind="charge",
                    amount=50,
                    mode=mode,
                    at=at,
                )
            )
        session.add(
            CscPayment(
                receipt_number="F-3",
                application_id="APP-2026-000003",
                user_id=1,
                kind="fee",
                amount=200,
                mode="cash",
                at=datetime(2026, 12, 7, 18, 25),
            )
        )

    db.run(add)
    fees = {"learner_licence": 200}
    day = db.run(lambda s: statement(s, 1, date(2026, 12, 7), fees))
    assert [r.application_id for r in day] == ["APP-2026-000002", "APP-2026-000003"]
    assert totals(day) == {
        "filings": 2,
        "charges": 100,
        "fees": 200,
        "cash": 250,
        "upi": 50,
        "total": 300,
    }
    before = db.run(lambda s: statement(s, 1, date(2026, 12, 6), fees))
    assert [r.application_id for r in before] == ["APP-2026-000001"]
    assert db.run(lambda s: statement(s, 2, date(2026, 12, 7), fees)) == []  # others' only
    rows = list(csv.reader(io.StringIO(statement_csv(day))))
    assert rows[0][:5] == ["time_ist", "application_id", "service_id", "service_fee", "csc_charge"]
    assert rows[1][:2] == ["2026-12-07 00:10", "APP-2026-000002"]
    assert rows[2][-3:] == ["200", "cash", "250"] and rows[3][-1] == "300"
    db.dispose()


def test_the_statement_page_and_csv_list_the_days_filings(
    dash: Dashboard, backend: Backend
) -> None:
    operator = dash.sign_in("csc.meena")
    national = "96" + str(uuid.uuid4().int)[:8]
    app_id, _ = file_for(dash, operator, national, charge_mode="cash")
    page = operator.get(f"{dash.url}/csc/statement", timeout=10)
    assert page.status_code == 200
    row = re.search(rf'data-application="{app_id}".*?</tr>', page.text, re.S)
    assert row and "₹50" in row.group(0) and "Cash" in row.group(0)
    assert 'data-total="charges">₹' in page.text
    download = operator.get(f"{dash.url}/csc/statement.csv", timeout=10)
    assert download.headers["content-type"].startswith("text/csv")
    assert any(r[1] == app_id and r[4] == "50" for r in csv.reader(io.StringIO(download.text)))


# --------------------------------------------------------------------------- item 7


def test_citizen_without_whatsapp_confirms_with_an_sms_code_and_pays_at_the_counter(
    dash: Dashboard, backend: Backend, channel: FakeChannel, sms_file: Path
) -> None:
    operator = dash.sign_in("csc.meena")
    national = "95" + str(uuid.uuid4().int)[:8]
    app_id, filed = file_for(dash, operator, national, confirmation="counter")
    assert f"/csc/filings/{app_id}" in filed.url and 'id="code-form"' in filed.text
    (text,) = texts_to(sms_file, national)
    code = code_in(text)
    assert app_id in text and "कोड" in text  # in the filing's language (Hindi)
    # only a hash of the code is kept
    (stored,) = db_run(
        dash,
        lambda s: [
            c.code_hash for c in s.execute(select(CscCode)).scalars() if c.application_id == app_id
        ],
    )
    assert stored and code not in stored and len(stored) == 64
    assert code not in dash.log()

    wrong = "000000" if code != "000000" else "111111"
    refused = post_on(dash, operator, app_id, "code", code=wrong)
    assert refused.status_code == 400 and "Tries left: 4" in refused.text
    assert application(backend, app_id)["status"] == "awaiting_citizen_confirmation"
    confirmed = post_on(dash, operator, app_id, "code", code=code)
    assert confirmed.status_code == 200 and "confirmed at the counter" in confirmed.text
    assert application(backend, app_id)["status"] == "payment_pending"  # fee ₹200
    # never asked on WhatsApp: the citizen has none
    assert not [
        m
        for m in channel.to("91" + national)
        if m["template"] in ("csc_confirmation", "csc_receipt")
    ]

    paid = post_on(dash, operator, app_id, "pay", mode="cash", reference="")
    assert paid.status_code == 200 and "Fee of ₹200 recorded" in paid.text
    after = application(backend, app_id)
    assert after["paid"] is True and after["status"] == "submitted"
    again = post_on(dash, operator, app_id, "pay", mode="cash", reference="")
    assert again.status_code == 409  # taken once
    printed = operator.get(f"{dash.url}/csc/filings/{app_id}/receipt", timeout=10).text
    assert 'id="receipt-total">₹250<' in printed and "सेवा शुल्क (काउंटर पर)" in printed
    actions = audited(dash, app_id)
    for expected in ("csc.code_sent", "csc.code_wrong", "csc.code_confirmed", "csc.fee_taken"):
        assert expected in actions


def test_counter_codes_expire_are_resent_and_lock_after_five_wrong_tries(
    dash: Dashboard, backend: Backend, sms_file: Path
) -> None:
    operator = dash.sign_in("csc.meena")
    national = "94" + str(uuid.uuid4().int)[:8]
    app_id, _ = file_for(dash, operator, national, confirmation="counter", language="en")
    (first,) = texts_to(sms_file, national)
    assert "Delhi Sewa" in first
    db_run(
        dash,
        lambda s: s.execute(
            update(CscCode)
            .where(CscCode.application_id == app_id)
            .values(expires_at=datetime.utcnow() - timedelta(seconds=1))
        ),
    )
    late = post_on(dash, operator, app_id, "code", code=code_in(first))
    assert late.status_code == 400 and "expired" in late.text
    assert application(backend, app_id)["status"] == "awaiting_citizen_confirmation"
    # a resend needs the citizen's number again (the dashboard keeps its last 4 digits)
    mismatch = post_on(dash, operator, app_id, "resend", mobile="9000000000")
    assert mismatch.status_code == 400 and len(texts_to(sms_file, national)) == 1
    resent = post_on(dash, operator, app_id, "resend", mobile=national)
    assert resent.status_code == 200 and len(texts_to(sms_file, national)) == 2
    second = code_in(texts_to(sms_file, national)[-1])
    wrong = "000000" if second != "000000" else "111111"
    for _ in range(4):
        assert post_on(dash, operator, app_id, "code", code=wrong).status_code == 400
    locked = post_on(dash, operator, app_id, "code", code=wrong)
    assert "Locked after too many wrong codes" in locked.text
    assert application(backend, app_id)["status"] == "confirmation_locked"
    too_late = post_on(dash, operator, app_id, "code", code=second)
    assert too_late.status_code == 400
    assert application(backend, app_id)["status"] == "confirmation_locked"
    assert "csc.code_locked" in audited(dash, app_id)


async def test_sms_gateways(tmp_path: Path) -> None:
    path = tmp_path / "out" / "sms.jsonl"
    sent = await sms.FileGateway(path).send("+919800000001", "कोड 123456")
    assert sent.ok and json.loads(path.read_text(encoding="utf-8"))["text"] == "कोड 123456"
    assert (await sms.ConsoleGateway().send("+919800000001", "x")).ok
    down = await sms.HttpGateway("http://127.0.0.1:9/sms", "t", "DLSEWA").send("+919800000001", "x")
    assert not down.ok and down.error == "unavailable"
    assert isinstance(sms.gateway("http", path, "http://x", "", "S"), sms.HttpGateway)
