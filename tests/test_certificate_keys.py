"""Certificate signing keys carry key ids (issue 13, item 10): a key can be rotated
without making the certificates it signed (printed, with their QR code) "Not valid"."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends import certificates
from backends.config import ConfigError, from_env
from tests.support.backends import environment_for

KEY_A = "signing-key-A-0123456789abcdef"
KEY_B = "signing-key-B-0123456789abcdef"
NUMBER = "CERT-2026-000123"


def settings(**changes: str):  # type: ignore[no-untyped-def]
    values = environment_for(Path("/tmp/unused"), 8123)
    values.update(changes)
    return from_env({k: v for k, v in values.items() if v != ""})


def test_a_certificate_signed_before_a_rotation_still_verifies_and_new_ones_use_the_new_key() -> (
    None
):
    before = settings(CERTIFICATE_SIGNING_KEY=KEY_A, CERTIFICATE_SIGNING_KID="a")
    printed = certificates.token_for(before, NUMBER)
    assert printed.split(".")[1] == "a"  # the QR token names its key

    after = settings(
        CERTIFICATE_SIGNING_KEY=KEY_B,
        CERTIFICATE_SIGNING_KID="b",
        CERTIFICATE_RETIRED_KEYS=f"a={KEY_A}",
    )
    assert certificates.number_from_token(after, printed) == NUMBER  # still genuine
    fresh = certificates.token_for(after, "CERT-2026-000124")
    assert fresh.split(".")[1] == "b"
    assert certificates.number_from_token(after, fresh) == "CERT-2026-000124"
    assert certificates.number_from_token(before, fresh) is None  # B is not A

    # a token naming a kid signed with another key is refused
    number, _, signature = printed.split(".")
    assert certificates.number_from_token(after, f"{number}.b.{signature}") is None
    # once the old key is withdrawn (compromised), its certificates no longer verify
    withdrawn = settings(CERTIFICATE_SIGNING_KEY=KEY_B, CERTIFICATE_SIGNING_KID="b")
    assert certificates.number_from_token(withdrawn, printed) is None


def test_tokens_printed_before_key_ids_still_verify_after_a_rotation() -> None:
    legacy = f"{NUMBER}.{certificates._sign(KEY_A, NUMBER)}"  # the format before kids
    after = settings(
        CERTIFICATE_SIGNING_KEY=KEY_B,
        CERTIFICATE_SIGNING_KID="b",
        CERTIFICATE_RETIRED_KEYS=f"a={KEY_A}",
    )
    assert certificates.number_from_token(after, legacy) == NUMBER
    assert certificates.number_from_token(settings(CERTIFICATE_SIGNING_KEY=KEY_B), legacy) is None


def test_bad_key_configuration_is_refused() -> None:
    with pytest.raises(ConfigError, match="CERTIFICATE_RETIRED_KEYS"):
        settings(CERTIFICATE_RETIRED_KEYS="a=short")
    with pytest.raises(ConfigError, match="CERTIFICATE_SIGNING_KID"):
        settings(CERTIFICATE_SIGNING_KID="no.dots")
