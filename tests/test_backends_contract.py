"""The backends' OpenAPI document is the contract the tests hold the service to.

``running_backend`` checks every answer against it (tests/support/backends_contract.py);
these tests show the checker refuses what an integrator reading the document would not
expect, and that the document is valid JSON Schema where it gives one.
"""

import json

import jsonschema
import pytest
import requests

from backends.openapi import document
from tests.support.backends_contract import Contract, ContractError, _json_schema, checking

APPLICATION = {
    "application_id": "APP-2026-000001",
    "service_id": "character_certificate",
    "status": "draft",
    "fee": 0,
    "paid": False,
    "fields": {},
    "documents": [],
    "history": [],
}
JSON = "application/json"


@pytest.fixture(scope="module")
def contract():
    return Contract()


def _body(value):
    return json.dumps(value).encode()


def test_a_documented_answer_passes(contract):
    path = "/edistrict/applications/APP-2026-000001"
    contract.check("GET", path, 200, JSON, _body(APPLICATION))
    error = {"error": "wrong_department", "message": "m", "details": {}}
    contract.check("GET", path, 403, JSON, _body(error))


def test_a_body_that_does_not_fit_its_schema_fails(contract):
    wrong = {**APPLICATION, "application_id": "42"}
    with pytest.raises(ContractError, match="application_id"):
        contract.check("GET", "/edistrict/applications/APP-2026-000001", 200, JSON, _body(wrong))
    missing = {k: v for k, v in APPLICATION.items() if k != "history"}
    with pytest.raises(ContractError, match="'history' is a required property"):
        contract.check("GET", "/edistrict/applications/APP-2026-000001", 200, JSON, _body(missing))


def test_an_undocumented_status_route_or_content_type_fails(contract):
    with pytest.raises(ContractError, match="status not in backends/openapi.py"):
        contract.check("GET", "/edistrict/applications/APP-2026-000001", 418, JSON, b"{}")
    with pytest.raises(ContractError, match="no such operation"):
        contract.check("DELETE", "/edistrict/applications/APP-2026-000001", 200, JSON, b"{}")
    with pytest.raises(ContractError, match="no such operation"):
        contract.check("GET", "/edistrict/secret", 200, JSON, b"{}")
    with pytest.raises(ContractError, match="answered 'text/html'"):
        contract.check("GET", "/edistrict/applications/APP-1", 200, "text/html", b"<p>")
    # a path the document does not have may answer 404: there is no such route
    contract.check("GET", "/storage/certificates/CERT-2026-000001.pdf", 404, JSON, b"{}")


def test_a_literal_path_is_not_taken_for_a_parameter(contract):
    template, _ = contract.operation("GET", "/payments/refunds")
    assert template == "/payments/refunds"
    template, _ = contract.operation("POST", "/payments/refunds/pay_123")
    assert template == "/payments/refunds/{payment_id}"


def test_nullable_means_null_is_allowed():
    schema = _json_schema({"type": "string", "nullable": True})
    jsonschema.validate(None, schema)
    jsonschema.validate("x", schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(1, schema)


def test_every_documented_schema_is_valid_json_schema():
    doc = document("http://backends.test")
    components = _json_schema(doc["components"])
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                for media, content in answer.get("content", {}).items():
                    schema = {**_json_schema(content["schema"]), "components": components}
                    jsonschema.Draft7Validator.check_schema(schema)
                    assert status.isdigit(), (method, path, status, media)


def test_a_running_service_is_held_to_the_document(monkeypatch, contract):
    """Inside ``checking(url)`` a ``requests`` call whose answer breaks the contract fails."""

    def answer(self, request, **kwargs):
        reply = requests.Response()
        reply.status_code, reply.url = 200, request.url
        reply.headers["Content-Type"] = JSON
        reply._content = _body({"application_id": "not an id"})
        return reply

    from tests.support import backends_contract

    monkeypatch.setattr(requests.Session, "send", requests.Session.send)  # put back after
    monkeypatch.setattr(backends_contract, "_original_send", answer)
    url = "http://127.0.0.1:9"
    with checking(url), pytest.raises(ContractError, match="required property"):
        requests.get(f"{url}/edistrict/applications/APP-2026-000001", timeout=1)
    # once out, answers are not checked
    assert requests.get(f"{url}/edistrict/applications/APP-2026-000001").status_code == 200
