"""The payment gateway chosen by configuration (issue 13, item 3): the production profile
refuses the sandbox and has no ``/pay/`` page; the Razorpay adapter against a local
stand-in speaking Razorpay's API (orders, hosted checkout, signed webhooks, status API),
over real HTTP."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import requests

from backends.config import ROOT, ConfigError, from_env
from backends.gateway import GatewayError, Razorpay
from tests.support.backends import WEBHOOK_SECRET, Backend, environment_for, running_backend
from tests.support.fake_razorpay import (
    KEY_ID,
    KEY_SECRET,
    FakeRazorpay,
    running_razorpay,
    sign,
)
from tests.test_backends_payments import (
    FEE,
    application,
    new_citizen,
    order_events,
    order_status,
    pending_application,
    wait_for,
)


def env(**changes: str) -> dict[str, str]:
    return {**environment_for(Path("/tmp/unused"), 8000), **changes}


def test_the_sandbox_is_the_default_outside_production_only() -> None:
    assert from_env(env()).payment_gateway == "sandbox"
    with pytest.raises(ConfigError) as unset:
        from_env(env(DELHI_SEWA_PROFILE="production"))
    assert "PAYMENT_GATEWAY must be razorpay" in str(unset.value)
    with pytest.raises(ConfigError) as sandbox:
        from_env(env(DELHI_SEWA_PROFILE="production", PAYMENT_GATEWAY="sandbox"))
    assert "PAYMENT_GATEWAY=sandbox in the production profile" in str(sandbox.value)
    with pytest.raises(ConfigError) as keys:
        from_env(env(DELHI_SEWA_PROFILE="production", PAYMENT_GATEWAY="razorpay"))
    assert "RAZORPAY_KEY_ID is not set" in str(keys.value)
    assert "RAZORPAY_KEY_SECRET is not set" in str(keys.value)
    razorpay = {"PAYMENT_GATEWAY": "razorpay", "RAZORPAY_KEY_ID": KEY_ID}
    razorpay["RAZORPAY_KEY_SECRET"] = KEY_SECRET
    with pytest.raises(ConfigError, match="must be https in production"):
        from_env(env(DELHI_SEWA_PROFILE="production", RAZORPAY_API_URL="http://x/v1", **razorpay))
    settings = from_env(env(DELHI_SEWA_PROFILE="production", **razorpay))
    assert (settings.production, settings.payment_gateway) == (True, "razorpay")
    assert settings.razorpay_api_url == "https://api.razorpay.com/v1"


def test_the_production_profile_will_not_start_with_the_sandbox(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "backends"],
        cwd=ROOT,
        env={
            **os.environ,
            **environment_for(tmp_path, 8000),
            "DELHI_SEWA_PROFILE": "production",
            "PAYMENT_GATEWAY": "sandbox",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "PAYMENT_GATEWAY=sandbox in the production profile" in done.stderr


@pytest.fixture(scope="module")
def razorpay() -> Iterator[FakeRazorpay]:
    with running_razorpay(WEBHOOK_SECRET) as fake:
        yield fake


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory, razorpay: FakeRazorpay) -> Iterator[Backend]:
    with running_backend(
        tmp_path_factory.mktemp("razorpay"),
        DELHI_SEWA_PROFILE="production",
        PAYMENT_GATEWAY="razorpay",
        RAZORPAY_KEY_ID=KEY_ID,
        RAZORPAY_KEY_SECRET=KEY_SECRET,
        RAZORPAY_API_URL=razorpay.api_url,
        RAZORPAY_CHECKOUT_URL=razorpay.checkout_url,
        PAYMENT_PENDING_SECONDS="1",
        RECONCILE_INTERVAL_SECONDS="0.2",
    ) as running:
        yield running


def order(backend: Backend, citizen: str, app_id: str, key: str) -> requests.Response:
    return requests.post(
        f"{backend.url}/payments/orders",
        json={"application_id": app_id},
        headers=backend.citizen(citizen, key=key),
        timeout=10,
    )


def form_of(page: str) -> tuple[str, dict[str, str]]:
    action = re.search(r'<form method="post" action="([^"]+)"', page)
    assert action is not None, page
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    return html.unescape(action.group(1)), {k: html.unescape(v) for k, v in fields}


def webhook(backend: Backend, body: bytes, signature: str) -> requests.Response:
    return requests.post(
        f"{backend.url}/payments/webhook",
        data=body,
        headers={"Content-Type": "application/json", "X-Razorpay-Signature": signature},
        timeout=10,
    )


def test_a_citizen_pays_on_razorpay_and_forgeries_pay_nothing(
    backend: Backend, razorpay: FakeRazorpay
) -> None:
    citizen = new_citizen()
    app_id = pending_application(backend, citizen)["application_id"]
    first = order(backend, citizen, app_id, "tap-1")
    assert first.status_code == 201, first.text
    created = first.json()
    # The order is Razorpay's: created through its orders API with the key, in paise.
    assert created["order_id"] in razorpay.orders
    [(method, path, body)] = [r for r in razorpay.requests if r[1] == "/v1/orders"][-1:]
    assert (method, body["amount"], body["currency"], body["receipt"]) == (
        "POST",
        FEE * 100,
        "INR",
        app_id,
    )
    link = created["payment_url"]
    assert link == f"{backend.url}/payments/checkout/{created['order_id']}"
    # A second tap gives the same link and creates nothing at Razorpay.
    before = len(razorpay.orders)
    assert order(backend, citizen, app_id, "tap-2").json()["payment_url"] == link
    assert len(razorpay.orders) == before

    # The production profile has no sandbox page that marks orders paid.
    assert requests.get(f"{backend.url}/pay/{created['order_id']}", timeout=5).status_code == 404
    forged_pay = requests.post(
        f"{backend.url}/pay/{created['order_id']}", data={"outcome": "success"}, timeout=5
    )
    assert forged_pay.status_code in (404, 405)

    # The link hands the order to Razorpay's hosted checkout; the key secret stays here.
    page = requests.get(link, timeout=5)
    assert page.status_code == 200 and f"&#8377; {FEE}" in page.text
    action, fields = form_of(page.text)
    assert action == razorpay.checkout_url
    assert fields["key_id"] == KEY_ID and fields["order_id"] == created["order_id"]
    assert fields["amount"] == str(FEE * 100)
    assert fields["callback_url"] == f"{backend.url}/payments/callback"
    assert KEY_SECRET not in page.text
    assert f"form-action {razorpay.url}" in page.headers["Content-Security-Policy"]

    # Forgeries, before anyone paid: a webhook "order.paid" signed with a guessed or
    # another secret, a signed body altered, a return with a made-up signature.
    made_up = {
        "id": "pay_madeup00000001",
        "entity": "payment",
        "amount": FEE * 100,
        "currency": "INR",
        "status": "captured",
        "order_id": created["order_id"],
        "method": "upi",
    }
    [(captured, signature), (order_paid, _)] = razorpay.webhooks(made_up)
    bad = webhook(backend, order_paid, "0" * 64)
    assert bad.status_code == 401 and bad.json()["error"] == "bad_signature"
    assert (
        webhook(backend, order_paid, sign("another-webhook-secret", order_paid)).status_code == 401
    )
    tampered = webhook(backend, captured.replace(b'"upi"', b'"card"'), signature)
    assert tampered.status_code == 401
    fake_return = {
        "razorpay_order_id": created["order_id"],
        "razorpay_payment_id": made_up["id"],
        "razorpay_signature": "f" * 64,
    }
    refused = requests.post(f"{backend.url}/payments/callback", data=fake_return, timeout=10)
    assert refused.status_code == 401
    assert order_status(backend, citizen, created["order_id"])["status"] == "created"
    assert application(backend, citizen, app_id)["paid"] is False

    status, back = razorpay.checkout(fields)  # the citizen pays on Razorpay
    assert status == 200, back
    [(captured, signature), _] = razorpay.webhooks(razorpay.payments[created["order_id"]][0])

    # The genuine return: the status API is asked, and the fee is paid.
    returned = requests.post(back["callback_url"], data=back, timeout=10)
    assert returned.status_code == 200 and "Payment received" in returned.text
    paid = order_status(backend, citizen, created["order_id"])
    assert paid["status"] == "paid" and paid["receipt_number"]
    app = application(backend, citizen, app_id)
    assert (app["status"], app["paid"]) == ("submitted", True)
    # Razorpay's own signed webhooks then change nothing, and nothing is paid twice.
    assert webhook(backend, captured, signature).json()["status"] == "no_change"
    assert len(order_events(backend, app_id, "order.paid")) == 1
    again = requests.get(link, timeout=5)
    assert "Already paid" in again.text and paid["receipt_number"] in again.text


def test_the_reconciler_asks_razorpay_when_no_webhook_comes(
    backend: Backend, razorpay: FakeRazorpay
) -> None:
    citizen = new_citizen()
    paid_app = pending_application(backend, citizen)["application_id"]
    failed_app = pending_application(backend, citizen)["application_id"]
    paid = order(backend, citizen, paid_app, "silent-paid").json()
    failed = order(backend, citizen, failed_app, "silent-failed").json()
    razorpay.pay(paid["order_id"])  # captured at Razorpay; its webhook never arrives
    razorpay.pay(failed["order_id"], status="failed")
    assert wait_for(lambda: application(backend, citizen, paid_app)["paid"], 15)
    assert order_status(backend, citizen, paid["order_id"])["status"] == "paid"
    assert wait_for(
        lambda: order_status(backend, citizen, failed["order_id"])["status"] == "failed", 15
    )
    assert application(backend, citizen, failed_app)["status"] == "payment_pending"
    polled = [r for r in razorpay.requests if r[1].endswith("/payments") and r[0] == "GET"]
    assert any(paid["order_id"] in path for _, path, _ in polled)


def test_an_abandoned_order_is_asked_about_less_and_less(
    backend: Backend, razorpay: FakeRazorpay
) -> None:
    citizen = new_citizen()
    app_id = pending_application(backend, citizen)["application_id"]
    abandoned = order(backend, citizen, app_id, "abandoned").json()["order_id"]

    def polls() -> int:
        return sum(1 for m, path, _ in razorpay.requests if m == "GET" and abandoned in path)

    time.sleep(6)  # PAYMENT_PENDING_SECONDS=1, a reconciler round every 0.2 s
    # asked after about 1, 2 and 4 s; every round would have been about 25 calls
    assert 2 <= polls() <= 4, polls()
    assert order_status(backend, citizen, abandoned)["status"] == "created"


def test_the_adapter_refuses_bad_answers(razorpay: FakeRazorpay) -> None:
    good = Razorpay(razorpay.api_url, KEY_ID, KEY_SECRET, razorpay.checkout_url)
    assert good.create_order(20000, "APP-X", {}).startswith("order_")
    with pytest.raises(GatewayError, match="401"):
        Razorpay(razorpay.api_url, KEY_ID, "wrong-secret-0123456789", "").create_order(
            20000, "APP-X", {}
        )
    with pytest.raises(GatewayError):
        Razorpay("http://127.0.0.1:9", KEY_ID, KEY_SECRET, "", timeout=2).create_order(
            20000, "APP-X", {}
        )
    with pytest.raises(GatewayError, match="400"):
        good.order_payments(None, "order_doesnotexist000", datetime.now())


def test_the_deployment_files_select_razorpay_in_the_production_profile() -> None:
    import yaml

    example = dict(
        line.split("#")[0].strip().split("=", 1)
        for line in (ROOT / "deploy" / "env.example").read_text().splitlines()
        if re.match(r"^[A-Z_]+=", line)
    )
    assert example["DELHI_SEWA_PROFILE"] == "production"
    assert example["PAYMENT_GATEWAY"] == "razorpay"
    assert {"RAZORPAY_KEY_ID", "RAZORPAY_KEY_SECRET", "PAYMENT_WEBHOOK_SECRET"} <= set(example)
    k8s = ROOT / "deploy" / "k8s"
    config = yaml.safe_load((k8s / "config.yaml").read_text())["data"]
    assert (config["DELHI_SEWA_PROFILE"], config["PAYMENT_GATEWAY"]) == ("production", "razorpay")
    backends = yaml.safe_load((k8s / "backends.yaml").read_text().split("\n---\n")[0])
    [container] = backends["spec"]["template"]["spec"]["containers"]
    refs = {e["name"] for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})}
    assert {"RAZORPAY_KEY_ID", "RAZORPAY_KEY_SECRET", "PAYMENT_WEBHOOK_SECRET"} <= refs
