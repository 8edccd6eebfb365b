"""The WhatsApp template registry (service_catalogue/whatsapp_templates.yml)."""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from service_catalogue.templates import (
    DEFAULT_PATH,
    TemplateError,
    load_templates,
    meta_definitions,
    parse,
)

# docs/internal-apis.md §1: the names and parameters other services send.
CONTRACT = {
    "service_update": ["text"],
    "application_documents_verified": ["service", "application_id"],
    "application_approved": ["service", "application_id"],
    "application_rejected": ["service", "application_id", "reason"],
    "application_resubmission": ["service", "application_id", "reason"],
    "payment_received": ["amount", "application_id", "receipt_number"],
    "certificate_issued": ["service", "application_id", "certificate_number"],
    "grievance_updated": ["grievance_id", "reply"],
    "grievance_resolved": ["grievance_id"],
    "grievance_escalated": ["grievance_id", "level"],
    "reminder_fee_unpaid": ["service", "application_id", "amount"],
    "reminder_documents_missing": ["service", "application_id"],
    "reminder_certificate_ready": ["service", "application_id"],
    "department_notice": ["department", "text"],
    "scheme_announcement": ["department", "text"],
    "handoff_started": ["officer_name", "department"],
    "handoff_started_helpdesk": ["officer_name"],
    "handoff_ended": [],
    "handoff_expired": [],
    "handoff_left": [],
    "officer_reply": ["department", "text"],
    "officer_reply_helpdesk": ["text"],
    "csc_confirmation": ["service", "centre", "code"],
    "csc_receipt": [
        "receipt_number",
        "application_id",
        "service",
        "centre",
        "charge",
        "fee",
        "total",
        "mode",
    ],
}


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def test_registry_has_exactly_the_contracts_names_and_parameters():
    registry = load_templates()
    assert {name: list(t.parameters) for name, t in registry.items()} == CONTRACT
    assert registry["scheme_announcement"].category == "marketing"
    assert {t.category for n, t in registry.items() if n != "scheme_announcement"} == {"utility"}


def test_every_template_reads_in_hindi_and_english():
    for template in load_templates().values():
        assert re.search(r"[\u0900-\u097f]", template.body["hi"]), template.name
        assert not re.search(r"[\u0900-\u097f]", template.body["en"]), template.name
        for button in template.buttons:
            assert re.search(r"[\u0900-\u097f]", button.title["hi"]), template.name


def test_render_fills_parameters_and_button_payloads_in_the_citizens_language():
    template = load_templates()["certificate_issued"]
    params = {
        "service": "आय प्रमाणपत्र",
        "application_id": "APP-2026-000001",
        "certificate_number": "C-9",
    }
    rendered = template.render("hi", params)
    assert (
        rendered.text
        == "आपका प्रमाणपत्र तैयार है: आय प्रमाणपत्र, आवेदन APP-2026-000001, प्रमाणपत्र संख्या C-9।"
    )
    assert rendered.buttons == [
        {
            "payload": '/download_certificate{"application_id": "APP-2026-000001"}',
            "title": "प्रमाणपत्र लें",
        }
    ]
    assert template.render("en", list(params.values())).buttons[0]["title"] == "Get certificate"


def test_a_parameter_cannot_break_the_payload_or_span_lines():
    template = load_templates()["grievance_updated"]
    rendered = template.render("en", ['G-1"}, "x": "y', "line one\nline two\t   and    more"])
    assert rendered.text.endswith(": line one line two and more")
    assert (
        rendered.buttons[0]["payload"]
        == '/grievance_status{"grievance_id": "G-1\\"}, \\"x\\": \\"y"}'
    )


def test_check_refuses_unknown_names_and_wrong_counts():
    registry = load_templates()
    with pytest.raises(TemplateError) as unknown:
        registry.check("application_lost", ["x"])
    assert unknown.value.code == "unknown_template"
    for wrong in (["only service"], ["a", "b", "c"], {"service": "a"}, "text"):
        with pytest.raises(TemplateError) as count:
            registry.check("application_approved", wrong)
        assert count.value.code == "parameter_count"
    assert registry.check("handoff_ended", []).name == "handoff_ended"


def test_graph_template_is_a_cloud_api_template_object():
    template = load_templates()["reminder_fee_unpaid"]
    sent = template.graph_template("en", ["Trade licence", "APP-7", "500"], ["b1"])
    assert sent == {
        "name": "reminder_fee_unpaid",
        "language": {"code": "en"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Trade licence"},
                    {"type": "text", "text": "APP-7"},
                    {"type": "text", "text": "500"},
                ],
            },
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "0",
                "parameters": [{"type": "payload", "payload": "b1"}],
            },
        ],
    }


def test_meta_definitions_list_every_template_in_both_languages():
    definitions = meta_definitions(load_templates())
    assert len(definitions) == 2 * len(CONTRACT)
    approved = next(
        d for d in definitions if d["name"] == "application_approved" and d["language"] == "hi"
    )
    assert approved["components"][0] == {
        "type": "BODY",
        "text": "आपका आवेदन {{2}} ({{1}}) स्वीकृत हो गया है।",
    }
    assert approved["components"][1]["buttons"] == [{"type": "QUICK_REPLY", "text": "स्थिति देखें"}]


@pytest.mark.parametrize(
    ("break_it", "problem"),
    [
        (
            lambda t: t["application_approved"]["body"].pop("hi"),
            "body: needs exactly the languages",
        ),
        (
            lambda t: t["application_approved"]["body"].update(en="Approved: {{1}}"),
            "body.en: uses placeholders ['1'] but the template has 2",
        ),
        (
            lambda t: t["handoff_ended"]["body"].update(hi="{{1}} ने बातचीत समाप्त की"),
            "body.hi: uses placeholders ['1'] but the template has 0",
        ),
        (
            lambda t: t["certificate_issued"]["buttons"][0]["title"].update(
                en="Download your certificate"
            ),
            "title.en: 1 to 20 characters",
        ),
        (
            lambda t: t["application_rejected"]["buttons"].extend(
                copy.deepcopy(t["application_rejected"]["buttons"])
            ),
            "buttons: at most 3 buttons",
        ),
        (lambda t: t["payment_received"].update(category="promo"), "category: must be one of"),
        (
            lambda t: t["grievance_resolved"]["buttons"][0].update(payload='/x{"a": "{{2}}"}'),
            "payload: uses a placeholder the template does not have",
        ),
    ],
)
def test_load_refuses_a_broken_registry(raw, break_it, problem):
    data = copy.deepcopy(raw)
    break_it(data["templates"])
    with pytest.raises(TemplateError) as error:
        parse(data)
    assert error.value.code == "invalid_registry"
    assert any(problem in line for line in error.value.errors), error.value.errors
