"""The emulator's pure parts: settings, runtime config, payload checks, envelopes."""

import hashlib
import hmac
import json

import pytest

from whatsapp_emulator.config import ConfigError, from_env, parse_phone_numbers
from whatsapp_emulator.state import RuntimeConfig, sha256_b64
from whatsapp_emulator.validation import GraphError, Templates, check_send
from whatsapp_emulator.webhooks import Event, envelope, serialise, sign


def test_default_settings_and_phone_numbers():
    settings = from_env({})
    assert (settings.host, settings.port) == ("127.0.0.1", 9000)
    assert settings.webhook_url == "http://127.0.0.1:5005/webhooks/whatsapp/webhook"
    assert [(n.id, n.display, n.label) for n in settings.phone_numbers] == [
        ("100001", "+911140001000", "Delhi Sewa"),
        ("100002", "+911140002000", "Transport"),
    ]
    assert settings.phone_numbers[0].display_digits == "911140001000"


def test_bad_settings_are_all_named():
    with pytest.raises(ConfigError) as error:
        from_env({"EMULATOR_PORT": "http", "PHONE_NUMBERS": "abc", "EMULATOR_HOST": "0.0.0.0"})
    message = str(error.value)
    assert "EMULATOR_PORT" in message and "PHONE_NUMBERS" in message
    # development secrets are refused when the emulator listens beyond loopback
    assert "WHATSAPP_TOKEN must be set" in message


def test_phone_numbers_must_be_unique():
    with pytest.raises(ValueError, match="unique"):
        parse_phone_numbers("1:+911100:A,1:+911200:B")


def test_runtime_config_applies_all_or_nothing():
    config = RuntimeConfig()
    problems = config.update({"duplicates": 3, "shuffle": "yes", "nonsense": 1})
    assert any("shuffle" in p for p in problems) and any("nonsense" in p for p in problems)
    assert config.duplicates == 1  # nothing applied
    assert config.update({"duplicates": 3, "throttle_rate": 1, "shuffle": True}) == []
    assert (config.duplicates, config.throttle_rate, config.shuffle) == (3, 1.0, True)
    assert config.update({"duplicates": 2.5}) == ["duplicates: must be a whole number"]


def _buttons(n, title="Yes"):
    return {
        "messaging_product": "whatsapp",
        "to": "919810000001",
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "Choose"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": f"b{i}", "title": f"{title}{i}"}}
                    for i in range(n)
                ]
            },
        },
    }


def test_check_send_names_the_limit():
    with pytest.raises(GraphError) as error:
        check_send(_buttons(4), lambda _: False, Templates())
    assert error.value.code == 100
    assert "at most 3" in error.value.message or "1 to 3" in error.value.message
    assert check_send(_buttons(3), lambda _: False, Templates()).wa_id == "919810000001"


def test_type_defaults_to_text_and_to_is_normalised():
    request = check_send(
        {"messaging_product": "whatsapp", "to": "+91 98100 00001", "text": {"body": "hi"}},
        lambda _: False,
        Templates(),
    )
    assert (request.type, request.wa_id, request.to) == ("text", "919810000001", "+91 98100 00001")


def test_signature_and_serialisation_match_meta():
    events = [
        Event("100001", "messages", {"type": "text", "text": {"body": "नमस्ते a/b"}}, {"wa_id": "1"})
    ]
    body = serialise(envelope(from_env({}), events))
    assert "नमस्ते".encode() in body  # raw UTF-8, not \\u escapes
    assert b"a\\/b" in body  # slashes escaped as Meta does
    assert json.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] == (
        "नमस्ते a/b"
    )
    expected = hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    assert sign("secret", body) == f"sha256={expected}"


def test_batched_envelope_has_an_entry_per_number_and_a_change_per_kind():
    settings = from_env({})
    events = [
        Event("100001", "messages", {"id": "m1"}, {"wa_id": "1", "profile": {"name": "A"}}),
        Event("100002", "messages", {"id": "m2"}, {"wa_id": "2", "profile": {"name": "B"}}),
        Event("100001", "statuses", {"id": "s1"}),
        Event("100001", "messages", {"id": "m3"}, {"wa_id": "1", "profile": {"name": "A"}}),
    ]
    body = envelope(settings, events)
    assert [e["id"] for e in body["entry"]] == ["900001", "900001"]
    first = body["entry"][0]["changes"]
    assert [c["value"].get("messages", c["value"].get("statuses")) for c in first] == [
        [{"id": "m1"}, {"id": "m3"}],
        [{"id": "s1"}],
    ]
    assert first[0]["value"]["contacts"] == [{"wa_id": "1", "profile": {"name": "A"}}]
    assert "contacts" not in first[1]["value"]
    assert first[0]["value"]["metadata"] == {
        "display_phone_number": "911140001000",
        "phone_number_id": "100001",
    }


def test_sha256_is_base64_of_the_digest():
    assert sha256_b64(b"abc") == "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="


def test_templates_load_from_yaml_with_meta_defaults(tmp_path):
    path = tmp_path / "templates.yml"
    path.write_text(
        "- name: service_update\n"
        "  language: hi\n"
        "  components:\n"
        "    - {type: BODY, text: 'आवेदन {{1}}: {{2}}'}\n",
        encoding="utf-8",
    )
    templates = Templates.load(path)
    [template] = templates.items
    assert (template["status"], template["category"]) == ("APPROVED", "UTILITY")
    assert templates.find("service_update", "hi") is template
    assert templates.find("service_update", "en") is None
    bad = tmp_path / "bad.json"
    bad.write_text('[{"name": "x"}]', encoding="utf-8")
    with pytest.raises(ValueError, match="language"):
        Templates.load(bad)


def test_without_a_file_the_registry_is_approved_in_both_languages():
    templates = Templates.load(None)
    approved = templates.find("application_approved", "en")
    assert approved is not None and approved["status"] == "APPROVED"
    assert approved["components"][0]["text"] == "Your application {{2}} ({{1}}) has been approved."
    assert templates.find("scheme_announcement", "hi")["category"] == "MARKETING"
