"""backends: settings, the Aadhaar guard and certificate tokens, without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends import certificates
from backends.config import ROOT, ConfigError, from_env
from backends.web import contains_aadhaar, unmasked_aadhaar_paths
from service_catalogue.validation import verhoeff_valid
from tests.support.backends import environment_for

AADHAAR = next(f"23456789012{d}" for d in "0123456789" if verhoeff_valid(f"23456789012{d}"))
NOT_AADHAAR = next(f"23456789012{d}" for d in "0123456789" if not verhoeff_valid(f"23456789012{d}"))


def env(**changes: str) -> dict[str, str]:
    values = environment_for(Path("/tmp/unused"), 8123)
    values.update(changes)
    return {k: v for k, v in values.items() if v != ""}


def test_settings_come_from_the_environment() -> None:
    settings = from_env(
        env(PAYMENT_PENDING_SECONDS="2.5", GRIEVANCE_SLA_DAYS_BY_DEPARTMENT="djb=3")
    )
    assert settings.port == 8123
    assert settings.payment_pending_seconds == 2.5
    assert settings.grievance_sla_days == 7
    assert settings.grievance_sla_by_department == {"djb": 3.0}
    assert settings.payment_webhook_url == "http://127.0.0.1:8123/payments/webhook"
    defaults = from_env(env(BACKENDS_DB_URL="", STORAGE_DIR="", PUBLIC_URL="", BACKENDS_PORT=""))
    assert defaults.db_url == f"sqlite:///{ROOT / 'var' / 'backends.db'}"
    assert defaults.storage_dir == ROOT / "var" / "storage"
    assert (defaults.port, defaults.public_url) == (8000, "http://127.0.0.1:8000")


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"CERTIFICATE_SIGNING_KEY": ""}, "CERTIFICATE_SIGNING_KEY is not set"),
        ({"PAYMENT_WEBHOOK_SECRET": "short"}, "PAYMENT_WEBHOOK_SECRET must be at least 16"),
        ({"BACKENDS_OFFICER_TOKEN": "test-service-token-0123456789"}, "must differ"),
        ({"PAYMENT_PENDING_SECONDS": "soon"}, "PAYMENT_PENDING_SECONDS must be a number"),
        ({"BACKENDS_PORT": "70000"}, "BACKENDS_PORT must be a TCP port"),
    ],
)
def test_unusable_settings_are_refused(changes: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        from_env(env(**changes))


def test_aadhaar_guard() -> None:
    grouped = f"{AADHAAR[:4]} {AADHAAR[4:8]} {AADHAAR[8:]}"
    devanagari = AADHAAR.translate(str.maketrans("0123456789", "०१२३४५६७८९"))
    for text in (
        AADHAAR,
        grouped,
        f"aadhaar: {AADHAAR[:4]}-{AADHAAR[4:8]}-{AADHAAR[8:]}",
        devanagari,
        f"CH{AADHAAR}X",  # letters around it do not hide it (privacy: one rule everywhere)
    ):
        assert contains_aadhaar(text), text
    for text in (
        "XXXX-XXXX-1234",
        NOT_AADHAAR,  # 12 digits without a valid check digit are not an Aadhaar number
        f"+91{AADHAAR[2:]}",  # a normalised mobile number
        "1" + AADHAAR,  # 13 digits
    ):
        assert not contains_aadhaar(text), text
    body = {
        "fields": {"name": "Ravi", "aadhaar": AADHAAR},
        "notes": [{"text": grouped}],
        "n": int(AADHAAR),
    }
    assert unmasked_aadhaar_paths(body) == ["fields.aadhaar", "notes[0].text", "n"]


def test_certificate_tokens() -> None:
    settings = from_env(env())
    other = from_env(env(CERTIFICATE_SIGNING_KEY="another-signing-key-0123456789"))
    token = certificates.token_for(settings, "CERT-2026-000001")
    assert certificates.number_from_token(settings, token) == "CERT-2026-000001"
    assert certificates.number_from_token(other, token) is None
    number, kid, signature = token.split(".")
    # Every one-character change of the signature is caught, even in base64's spare bits.
    for i in range(len(signature)):
        for swap in "AQgw":
            if signature[i] != swap:
                changed = f"{number}.{kid}.{signature[:i]}{swap}{signature[i + 1 :]}"
                assert certificates.number_from_token(settings, changed) is None
    assert certificates.number_from_token(settings, f"CERT-2026-000002.{kid}.{signature}") is None
    assert certificates.number_from_token(settings, f"{number}.k9.{signature}") is None
    assert certificates.number_from_token(settings, "") is None
