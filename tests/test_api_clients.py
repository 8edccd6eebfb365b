"""Backend clients (actions/api) against HTTP faked at the transport level."""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses

from actions import config
from actions.api import (
    ApiResult,
    BaseClient,
    ChannelClient,
    CitizensClient,
    EDistrictClient,
    FeedbackClient,
    GrievanceClient,
    PaymentsClient,
    clients,
    reset_clients,
)
from service_catalogue.validation import verhoeff_valid

BASE = "http://backend.test"
TOKEN = "service-token-for-tests"
CITIZEN = "919876543210"  # a WhatsApp id is a phone number: personal data
KEY = "idem-7f1c"
AADHAAR = "234567890124"
APP = "APP-2026-000123"
APPLICATION = {"application_id": APP, "service_id": "income_certificate", "status": "draft"}

Call = Callable[[Any], ApiResult]


def make(cls: type[BaseClient], **options: Any) -> Any:
    settings: dict[str, Any] = {
        "connect_timeout": 1.5,
        "read_timeout": 4.0,
        "retries": 2,
        "backoff": 0.0,
    }
    settings.update(options)
    return cls(BASE + "/", TOKEN, **settings)


@pytest.fixture
def edistrict() -> EDistrictClient:
    return make(EDistrictClient)


@pytest.fixture
def payments() -> PaymentsClient:
    return make(PaymentsClient)


@pytest.fixture
def grievance() -> GrievanceClient:
    return make(GrievanceClient)


@pytest.fixture
def feedback() -> FeedbackClient:
    return make(FeedbackClient)


@pytest.fixture
def citizens() -> CitizensClient:
    return make(CitizensClient)


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def body_of(call: Any) -> dict[str, Any]:
    return json.loads(call.request.body.decode("utf-8"))


# --------------------------------------------------------------------------- every call

# (client fixture, call, method, path, expected JSON body or None, Idempotency-Key, retried)
CALLS: list[tuple[str, Call, str, str, dict[str, Any] | None, bool, bool]] = [
    (
        "edistrict",
        lambda c: c.create_application(
            CITIZEN, "income_certificate", {"applicant_name": "रवि कुमार"}, "hi", KEY
        ),
        "POST",
        "/edistrict/applications",
        {
            "service_id": "income_certificate",
            "fields": {"applicant_name": "रवि कुमार"},
            "language": "hi",
            "channel": "whatsapp",
        },
        True,
        True,
    ),
    (
        "edistrict",
        lambda c: c.attach_document(CITIZEN, APP, {"document_id": "photo", "size": 10}),
        "POST",
        f"/edistrict/applications/{APP}/documents",
        {"document_id": "photo", "size": 10},
        False,
        False,
    ),
    (
        "edistrict",
        lambda c: c.submit(CITIZEN, APP, KEY),
        "POST",
        f"/edistrict/applications/{APP}/submit",
        {},
        True,
        True,
    ),
    (
        "edistrict",
        lambda c: c.get_application(CITIZEN, APP),
        "GET",
        f"/edistrict/applications/{APP}",
        None,
        False,
        True,
    ),
    (
        "edistrict",
        lambda c: c.list_applications(CITIZEN),
        "GET",
        "/edistrict/applications",
        None,
        False,
        True,
    ),
    (
        "edistrict",
        lambda c: c.certificate_link(CITIZEN, APP),
        "GET",
        f"/edistrict/applications/{APP}/certificate",
        None,
        False,
        True,
    ),
    (
        "payments",
        lambda c: c.create_order(CITIZEN, APP, KEY),
        "POST",
        "/payments/orders",
        {"application_id": APP},
        True,
        True,
    ),
    (
        "payments",
        lambda c: c.get_order(CITIZEN, "order_abc"),
        "GET",
        "/payments/orders/order_abc",
        None,
        False,
        True,
    ),
    (
        "payments",
        lambda c: c.receipt(CITIZEN, "order_abc"),
        "GET",
        "/payments/orders/order_abc/receipt",
        None,
        False,
        True,
    ),
    (
        "grievance",
        lambda c: c.register(
            CITIZEN,
            "water",
            "djb",
            "नल में पानी नहीं आ रहा",
            {"pin_code": "110092"},
            None,
            "hi",
            KEY,
        ),
        "POST",
        "/grievances",
        {
            "category": "water",
            "department": "djb",
            "description": "नल में पानी नहीं आ रहा",
            "location": {"pin_code": "110092"},
            "language": "hi",
        },
        True,
        True,
    ),
    (
        "grievance",
        lambda c: c.get(CITIZEN, "GRV-2026-000001"),
        "GET",
        "/grievances/GRV-2026-000001",
        None,
        False,
        True,
    ),
    ("grievance", lambda c: c.list(CITIZEN), "GET", "/grievances", None, False, True),
    (
        "grievance",
        lambda c: c.feedback(CITIZEN, "GRV-2026-000001", 4, "thik hua"),
        "POST",
        "/grievances/GRV-2026-000001/feedback",
        {"rating": 4, "comment": "thik hua"},
        False,
        False,
    ),
    (
        "grievance",
        lambda c: c.reopen(CITIZEN, "GRV-2026-000001", "abhi bhi pani nahi aa raha"),
        "POST",
        "/grievances/GRV-2026-000001/reopen",
        {"comment": "abhi bhi pani nahi aa raha"},
        False,
        False,
    ),
    (
        "feedback",
        lambda c: c.send(CITIZEN, 5, "bahut accha", APP, "hi"),
        "POST",
        "/feedback",
        {"rating": 5, "comment": "bahut accha", "application_id": APP, "language": "hi"},
        False,
        False,
    ),
]
CALLS += [
    (
        "edistrict",
        lambda c: c.confirm(CITIZEN, APP, "482913"),
        "POST",
        f"/edistrict/applications/{APP}/confirm",
        {"code": "482913"},
        False,
        False,  # every try counts against the citizen's attempts
    ),
    (
        "edistrict",
        lambda c: c.decline(CITIZEN, APP),
        "POST",
        f"/edistrict/applications/{APP}/decline",
        {},
        False,
        True,
    ),
    (
        "citizens",
        lambda c: c.preferences(CITIZEN),
        "GET",
        f"/citizens/{CITIZEN}/preferences",
        None,
        False,
        True,
    ),
    (
        "citizens",
        lambda c: c.update_preferences(CITIZEN, {"departments": ["djb"], "district": "south"}),
        "PUT",
        f"/citizens/{CITIZEN}/preferences",
        {"departments": ["djb"], "district": "south"},
        False,
        True,
    ),
    (
        "citizens",
        lambda c: c.set_messages(CITIZEN, False, language="hi"),
        "PUT",
        f"/citizens/{CITIZEN}/preferences",
        {"broadcasts": False, "reminders": False, "language": "hi"},
        False,
        True,
    ),
    (
        "citizens",
        lambda c: c.erase(CITIZEN),
        "POST",
        f"/citizens/{CITIZEN}/erasure",
        {},
        False,
        True,
    ),
]
# Safe to repeat by the contract although neither a GET nor keyed: a PUT of a state,
# an erasure, a decline.
IDEMPOTENT_BY_CONTRACT = {
    f"/citizens/{CITIZEN}/preferences",
    f"/citizens/{CITIZEN}/erasure",
    f"/edistrict/applications/{APP}/decline",
}
IDS = [f"{c[2]} {c[3]}" for c in CALLS]


@pytest.mark.parametrize("client_name, call, method, path, body, keyed, retried", CALLS, ids=IDS)
def test_success_sends_the_contract_request(
    request, mocked, client_name, call, method, path, body, keyed, retried
):
    answer = {"ok": "yes", "status": "draft"}
    mocked.add(method, BASE + path, json=answer, status=201 if method == "POST" else 200)
    result = call(request.getfixturevalue(client_name))

    assert result == ApiResult(True, 201 if method == "POST" else 200, answer)
    assert len(mocked.calls) == 1
    sent = mocked.calls[0].request
    assert sent.method == method
    assert sent.url == BASE + path
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["X-Citizen-Id"] == CITIZEN
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers.get("Idempotency-Key") == (KEY if keyed else None)
    assert sent.req_kwargs["timeout"] == (1.5, 4.0)
    if body is None:
        assert sent.body is None
    else:
        assert sent.headers["Content-Type"].startswith("application/json")
        assert body_of(mocked.calls[0]) == body


@pytest.mark.parametrize("client_name, call, method, path, body, keyed, retried", CALLS, ids=IDS)
def test_timeouts_are_retried_only_for_idempotent_calls(
    request, mocked, client_name, call, method, path, body, keyed, retried
):
    mocked.add(method, BASE + path, body=requests.exceptions.ReadTimeout())
    result = call(request.getfixturevalue(client_name))

    assert (result.ok, result.status, result.error) == (False, 0, "timeout")
    assert len(mocked.calls) == (3 if retried else 1)
    assert retried == (method == "GET" or keyed or path in IDEMPOTENT_BY_CONTRACT)


@pytest.mark.parametrize("client_name, call, method, path, body, keyed, retried", CALLS, ids=IDS)
def test_server_errors_are_retried_only_for_idempotent_calls(
    request, mocked, client_name, call, method, path, body, keyed, retried
):
    mocked.add(method, BASE + path, json={"error": "internal"}, status=503)
    result = call(request.getfixturevalue(client_name))

    assert (result.ok, result.status, result.error) == (False, 503, "unavailable")
    assert len(mocked.calls) == (3 if retried else 1)


# --------------------------------------------------------------------------- failures


def test_connect_timeout_is_a_timeout_not_a_connection_error(mocked, edistrict):
    mocked.add("GET", f"{BASE}/edistrict/applications", body=requests.exceptions.ConnectTimeout())
    result = edistrict.list_applications(CITIZEN)
    assert (result.error, result.status, len(mocked.calls)) == ("timeout", 0, 3)


def test_connect_timeout_on_a_keyed_post_is_retried(mocked, payments):
    mocked.add("POST", f"{BASE}/payments/orders", body=requests.exceptions.ConnectTimeout())
    assert payments.create_order(CITIZEN, APP, KEY).error == "timeout"
    assert len(mocked.calls) == 3
    assert {c.request.headers["Idempotency-Key"] for c in mocked.calls} == {KEY}


def test_connection_error_is_unavailable(mocked, edistrict, feedback):
    mocked.add("GET", f"{BASE}/edistrict/applications", body=requests.ConnectionError("refused"))
    mocked.add("POST", f"{BASE}/feedback", body=requests.ConnectionError("refused"))
    assert edistrict.list_applications(CITIZEN) == ApiResult(
        False, 0, {}, "unavailable", "backend unreachable"
    )
    assert len(mocked.calls) == 3
    assert feedback.send(CITIZEN, 5, None, None, "en").error == "unavailable"
    assert len(mocked.calls) == 4  # the unkeyed POST went once


def test_a_retry_that_succeeds_returns_the_success(mocked, edistrict):
    url = f"{BASE}/edistrict/applications/{APP}"
    mocked.add("GET", url, body=requests.exceptions.ReadTimeout())
    mocked.add("GET", url, status=502, body="<html>bad gateway</html>")
    mocked.add("GET", url, json=APPLICATION)
    result = edistrict.get_application(CITIZEN, APP)
    assert result == ApiResult(True, 200, APPLICATION)
    assert len(mocked.calls) == 3


def test_retry_count_and_backoff_come_from_the_client(mocked, monkeypatch):
    sleeps: list[float] = []
    monkeypatch.setattr("actions.api.base.time.sleep", sleeps.append)
    client = make(EDistrictClient, retries=3, backoff=0.25)
    mocked.add("GET", f"{BASE}/edistrict/applications", status=500)
    assert client.list_applications(CITIZEN).error == "unavailable"
    assert len(mocked.calls) == 4
    assert sleeps == [0.25, 0.5, 1.0]


def test_retry_is_never_granted_to_a_post_without_key(mocked, edistrict):
    mocked.add("POST", f"{BASE}/feedback", status=500)
    result = edistrict._request("POST", "/feedback", json={"rating": 5}, retry=True)
    assert result.error == "unavailable"
    assert len(mocked.calls) == 1


def test_zero_retries(mocked):
    client = make(GrievanceClient, retries=0)
    mocked.add("GET", f"{BASE}/grievances", body=requests.exceptions.ReadTimeout())
    assert client.list(CITIZEN).error == "timeout"
    assert len(mocked.calls) == 1


def test_not_found_keeps_the_server_body_and_is_not_retried(mocked, edistrict):
    answer = {"error": "not_found", "message": "no such application"}
    mocked.add("GET", f"{BASE}/edistrict/applications/{APP}", json=answer, status=404)
    result = edistrict.get_application(CITIZEN, APP)
    assert result == ApiResult(False, 404, answer, "not_found", "no such application")
    assert len(mocked.calls) == 1


def test_bad_input_is_invalid_with_the_server_details(mocked, edistrict):
    answer = {
        "error": "validation_failed",
        "message": "some fields are invalid",
        "details": {"fields": {"date_of_birth": "date_future", "aadhaar": "aadhaar_unmasked"}},
    }
    mocked.add("POST", f"{BASE}/edistrict/applications", json=answer, status=400)
    result = edistrict.create_application(CITIZEN, "income_certificate", {}, "en", KEY)
    assert (result.ok, result.status, result.error) == (False, 400, "invalid")
    assert result.data == answer
    assert result.code == "validation_failed"
    assert result.details["fields"]["date_of_birth"] == "date_future"
    assert len(mocked.calls) == 1  # a 4xx is never retried, even with a key


@pytest.mark.parametrize(
    "status, answer, error, code",
    [
        (401, {"error": "unauthorized"}, "unauthorized", "unauthorized"),
        (403, {"error": "forbidden"}, "forbidden", "forbidden"),
        (409, {"error": "idempotency_conflict"}, "conflict", "idempotency_conflict"),
        (
            422,
            {"error": "documents_missing", "details": {"documents": ["photo"]}},
            "rejected",
            "documents_missing",
        ),
        (429, {}, "unavailable", "unavailable"),
        (418, {"error": "teapot"}, "teapot", "teapot"),  # another 4xx: the server's code
        (405, {}, "invalid", "invalid"),
        (500, {}, "unavailable", "unavailable"),
    ],
)
def test_status_mapping(mocked, edistrict, status, answer, error, code):
    mocked.add("POST", f"{BASE}/edistrict/applications/{APP}/submit", json=answer, status=status)
    result = edistrict.submit(CITIZEN, APP, KEY)
    assert (result.ok, result.status, result.error, result.code) == (False, status, error, code)
    assert len(mocked.calls) == (3 if status >= 500 else 1)


def test_redirects_are_not_followed(mocked, edistrict):
    # Following one would carry the citizen id (and maybe the token) somewhere else.
    mocked.add(
        "GET",
        f"{BASE}/edistrict/applications",
        status=302,
        headers={"Location": "http://elsewhere.test/steal"},
    )
    mocked.add("GET", "http://elsewhere.test/steal", json={"applications": []})
    result = edistrict.list_applications(CITIZEN)
    assert (result.ok, result.status, result.error) == (False, 302, "bad_response")
    assert len(mocked.calls) == 1


@pytest.mark.parametrize(
    "status, body",
    [(200, "<html>maintenance</html>"), (200, "[1, 2]"), (201, "{not json"), (200, '"text"')],
)
def test_an_answer_that_is_not_a_json_object_is_a_bad_response(mocked, edistrict, status, body):
    mocked.add("GET", f"{BASE}/edistrict/applications", body=body, status=status)
    result = edistrict.list_applications(CITIZEN)
    assert (result.ok, result.status, result.error, result.data) == (
        False,
        status,
        "bad_response",
        {},
    )
    assert len(mocked.calls) == 1


def test_an_empty_success_is_ok(mocked, feedback):
    mocked.add("POST", f"{BASE}/feedback", body="", status=204)
    assert feedback.send(CITIZEN, 3, None, None, "en") == ApiResult(True, 204, {})


def test_other_request_failures_never_raise(mocked, edistrict):
    mocked.add("GET", f"{BASE}/edistrict/applications", body=requests.exceptions.TooManyRedirects())
    result = edistrict.list_applications(CITIZEN)
    assert (result.ok, result.status, result.error) == (False, 0, "unavailable")
    assert len(mocked.calls) == 1


def test_an_unreachable_host_is_unavailable_without_responses():
    # Port 9 (discard) on localhost: refused at once, no fake involved.
    client = EDistrictClient("http://127.0.0.1:9", TOKEN, retries=1, backoff=0.0)
    assert client.list_applications(CITIZEN).error == "unavailable"


# --------------------------------------------------------------------------- refused locally


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_application(CITIZEN, ""),  # would otherwise list every application
        lambda c: c.submit(CITIZEN, APP, ""),
        lambda c: c.submit(CITIZEN, APP, "k" * 101),
        lambda c: c.list_applications(""),
        lambda c: c.create_application(CITIZEN, "x", {"when": object()}, "en", KEY),
    ],
)
def test_bad_arguments_are_refused_without_a_call(mocked, edistrict, call):
    result = call(edistrict)
    assert (result.ok, result.status, result.error) == (False, 0, "invalid")
    assert len(mocked.calls) == 0


@pytest.mark.parametrize("rating", [0, 6, True, 4.5, "5"])
def test_ratings_out_of_range_are_refused(mocked, grievance, feedback, rating):
    assert grievance.feedback(CITIZEN, "GRV-2026-000001", rating).error == "invalid"
    assert feedback.send(CITIZEN, rating, None, None, "en").error == "invalid"
    assert len(mocked.calls) == 0


def test_ids_are_quoted_into_one_path_segment(mocked, edistrict):
    mocked.add("GET", f"{BASE}/edistrict/applications/..%2F..%2Fevents", json={})
    assert edistrict.get_application(CITIZEN, "../../events").ok
    assert mocked.calls[0].request.url.endswith("/edistrict/applications/..%2F..%2Fevents")


def test_keyed_key_length_limit_is_inclusive(mocked, edistrict):
    mocked.add("POST", f"{BASE}/edistrict/applications/{APP}/submit", json=APPLICATION)
    assert edistrict.submit(CITIZEN, APP, "k" * 100).ok


# --------------------------------------------------------------------------- personal data


def test_a_full_aadhaar_never_leaves_the_action_server(mocked, edistrict, grievance):
    assert verhoeff_valid(AADHAAR)
    mocked.add("POST", f"{BASE}/edistrict/applications", json=APPLICATION, status=201)
    mocked.add("POST", f"{BASE}/grievances", json={"grievance_id": "GRV-2026-000001"}, status=201)
    edistrict.create_application(
        CITIZEN,
        "income_certificate",
        {"aadhaar": "XXXX-XXXX-0124", "remarks": f"my aadhaar {AADHAAR}"},
        "en",
        KEY,
    )
    grievance.register(
        CITIZEN,
        "ration",
        "food",
        f"ration band, aadhaar {AADHAAR[:4]} {AADHAAR[4:8]} {AADHAAR[8:]}",
        {"text": f"near {AADHAAR}"},
        None,
        "en",
        KEY,
    )
    for call in mocked.calls:
        assert AADHAAR not in call.request.body.decode("utf-8").replace(" ", "")
    assert body_of(mocked.calls[0])["fields"]["remarks"] == "my aadhaar XXXX-XXXX-0124"


def test_logs_name_the_path_template_and_status_only(mocked, edistrict, grievance, caplog):
    caplog.set_level(logging.DEBUG, logger="actions.api")
    mocked.add("GET", f"{BASE}/edistrict/applications/{APP}", json={"name": "Ravi"})
    mocked.add("POST", f"{BASE}/grievances", json={"error": "invalid"}, status=400)
    edistrict.get_application(CITIZEN, APP)
    grievance.register(CITIZEN, "water", "djb", "Ravi Kumar, 9876543210", None, None, "en", KEY)

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "GET /edistrict/applications/{application_id} -> 200" in logged
    assert "POST /grievances -> 400" in logged
    for secret in (CITIZEN, "9876543210", "Ravi", TOKEN, APP, KEY):
        assert secret not in logged


def test_repr_and_logs_never_show_the_token(caplog):
    caplog.set_level(logging.DEBUG, logger="actions.api")
    client = make(PaymentsClient)
    assert TOKEN not in repr(client)
    PaymentsClient(BASE, "", retries=0)
    assert "no bearer token" in caplog.text


def test_without_a_token_no_authorization_header_is_sent(mocked):
    client = PaymentsClient(BASE, "", retries=0)
    mocked.add(
        "GET", f"{BASE}/payments/orders/order_abc", json={"error": "unauthorized"}, status=401
    )
    assert client.get_order(CITIZEN, "order_abc").error == "unauthorized"
    assert "Authorization" not in mocked.calls[0].request.headers


# --------------------------------------------------------------------------- wiring


def test_one_session_per_client_reused_across_calls(mocked, edistrict):
    mocked.add("GET", f"{BASE}/edistrict/applications", json={"applications": []})
    session = edistrict.session
    edistrict.list_applications(CITIZEN)
    edistrict.list_applications(CITIZEN)
    assert edistrict.session is session
    assert make(EDistrictClient).session is not session


def test_chat_erasure_goes_to_the_channel_with_the_internal_token(mocked):
    channel = ChannelClient("http://rasa.test/internal", "internal-token", backoff=0.0)
    mocked.add("POST", "http://rasa.test/internal/erase", status=503)
    mocked.add("POST", "http://rasa.test/internal/erase", json={"status": "scheduled"}, status=202)
    result = channel.erase(CITIZEN)
    assert result.ok and result.data == {"status": "scheduled"}
    sent = mocked.calls[-1].request
    assert sent.headers["Authorization"] == "Bearer internal-token"
    assert "X-Citizen-Id" not in sent.headers
    assert body_of(mocked.calls[-1]) == {"wa_id": CITIZEN}


def test_unknown_preference_fields_are_refused_without_a_call(mocked, citizens):
    for changes in ({}, {"broadcasts": True, "name": "Ravi"}):
        result = citizens.update_preferences(CITIZEN, changes)
        assert (result.ok, result.status, result.error) == (False, 0, "invalid")
    assert not mocked.calls


def test_clients_are_built_once_from_config(monkeypatch):
    monkeypatch.setattr(config, "EDISTRICT_URL", "http://edistrict.test/")
    monkeypatch.setattr(config, "PAYMENTS_URL", "http://payments.test")
    monkeypatch.setattr(config, "GRIEVANCE_URL", "http://grievance.test")
    monkeypatch.setattr(config, "BACKENDS_SERVICE_TOKEN", "from-env")
    monkeypatch.setattr(config, "CHANNEL_URL", "http://rasa.test/internal")
    monkeypatch.setattr(config, "WHATSAPP_INTERNAL_TOKEN", "internal-from-env")
    monkeypatch.setattr(config, "API_CONNECT_TIMEOUT", 1.0)
    monkeypatch.setattr(config, "API_READ_TIMEOUT", 3.0)
    monkeypatch.setattr(config, "API_RETRIES", 4)
    reset_clients()
    try:
        shared = clients()
        assert clients() is shared
        assert shared.edistrict.base_url == "http://edistrict.test"
        assert shared.payments.base_url == "http://payments.test"
        assert shared.grievance.base_url == shared.feedback.base_url == "http://grievance.test"
        assert shared.edistrict.timeout == (1.0, 3.0)
        assert shared.payments.retries == 4
        assert shared.citizens.base_url == "http://edistrict.test"
        assert shared.channel.base_url == "http://rasa.test/internal"
        assert shared.channel._token == "internal-from-env"
        assert shared.citizens._token == "from-env"
        sessions = {id(c.session) for c in vars(shared).values()}
        assert len(sessions) == 6  # one Session per client
    finally:
        reset_clients()


SETTINGS = (
    "EDISTRICT_URL",
    "PAYMENTS_URL",
    "GRIEVANCE_URL",
    "BACKENDS_SERVICE_TOKEN",
    "API_CONNECT_TIMEOUT",
    "API_READ_TIMEOUT",
    "API_RETRIES",
    "API_RETRY_BACKOFF",
    "CHANNEL_URL",
    "WHATSAPP_INTERNAL_TOKEN",
    "OFFICE_OPENS",
    "OFFICE_CLOSES",
)


@pytest.fixture
def reload_config(monkeypatch):
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    yield lambda: importlib.reload(config)
    monkeypatch.undo()
    importlib.reload(config)


def test_config_defaults(reload_config):
    reload_config()
    assert config.EDISTRICT_URL == config.PAYMENTS_URL == config.GRIEVANCE_URL
    assert config.GRIEVANCE_URL == "http://127.0.0.1:8000"
    assert config.BACKENDS_SERVICE_TOKEN == ""  # a secret has no default
    assert (config.API_CONNECT_TIMEOUT, config.API_READ_TIMEOUT) == (2.0, 5.0)
    assert config.API_RETRIES == 2
    assert config.CONSENT_NOTICE_VERSION  # the older settings are still there
    assert config.CHANNEL_URL == "http://127.0.0.1:5005/webhooks/whatsapp/internal"
    assert config.WHATSAPP_INTERNAL_TOKEN == ""  # a secret has no default
    assert (config.OFFICE_OPENS, config.OFFICE_CLOSES) == (10, 18)


def test_config_refuses_office_hours_that_end_before_they_start(reload_config, monkeypatch):
    monkeypatch.setenv("OFFICE_OPENS", "18")
    monkeypatch.setenv("OFFICE_CLOSES", "10")
    with pytest.raises(ValueError, match="OFFICE_OPENS"):
        reload_config()


def test_config_reads_the_environment(reload_config, monkeypatch):
    monkeypatch.setenv("PAYMENTS_URL", "https://pay.delhi.gov.in")
    monkeypatch.setenv("BACKENDS_SERVICE_TOKEN", "t0k3n")
    monkeypatch.setenv("API_READ_TIMEOUT", "7.5")
    monkeypatch.setenv("API_RETRIES", "0")
    reload_config()
    assert config.PAYMENTS_URL == "https://pay.delhi.gov.in"
    assert config.BACKENDS_SERVICE_TOKEN == "t0k3n"
    assert config.API_READ_TIMEOUT == 7.5
    assert config.API_RETRIES == 0


def test_config_refuses_a_zero_timeout(reload_config, monkeypatch):
    monkeypatch.setenv("API_CONNECT_TIMEOUT", "0")
    with pytest.raises(ValueError, match="API_CONNECT_TIMEOUT"):
        reload_config()
