"""A newcomer's first `make run` no longer prints 140-odd yellow "not used in any story or
rule" warnings about responses the actions send (issue 16, item 7); any other warning,
including one about a response that nothing sends, still shows."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import yaml

from scripts.rasa_cli import expected, install, sent_outside_stories

ROOT = Path(__file__).resolve().parent.parent
UNUSED = "The utterance '{}' is not used in any story or rule."


def domain_with_an_unused_response(tmp_path: Path) -> Path:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    domain["responses"]["utter_nobody_sends_this"] = [
        {
            "text": "Nobody sends this.",
            "condition": [{"type": "slot", "name": "language", "value": "en"}],
        }
    ]
    path = tmp_path / "domain.yml"
    path.write_text(yaml.safe_dump(domain, allow_unicode=True), encoding="utf-8")
    return path


def test_the_list_holds_what_actions_forms_channel_and_rasa_send(tmp_path):
    known = sent_outside_stories(domain_path=domain_with_an_unused_response(tmp_path))
    assert "utter_backend_unavailable" in known  # response="utter_backend_unavailable"
    assert "utter_status_approved" in known  # f"utter_status_{status}"
    assert "utter_invalid_aadhaar_checksum" in known  # f"utter_invalid_{error}"
    assert "utter_ask_grievance_location" in known  # a form's question
    assert "utter_default" in known  # Rasa's default fallback
    assert "utter_nobody_sends_this" not in known


def test_only_the_known_warnings_are_silenced():
    known = frozenset({"utter_status_approved"})
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        install(known)
        warnings.warn(UNUSED.format("utter_status_approved"), UserWarning, stacklevel=1)
        warnings.warn(UNUSED.format("utter_nobody_sends_this"), UserWarning, stacklevel=1)
        warnings.warn("The intent 'x' is not used in any story or rule.", UserWarning, stacklevel=1)
        warnings.warn(UNUSED.format("utter_status_approved"), DeprecationWarning, stacklevel=1)
    assert [str(w.message) for w in shown] == [
        UNUSED.format("utter_nobody_sends_this"),
        "The intent 'x' is not used in any story or rule.",
        UNUSED.format("utter_status_approved"),
    ]
    assert not expected(UNUSED.format("utter_status_approved") + " and more", known)


def test_rasa_validation_warns_only_about_the_response_nobody_sends(tmp_path):
    """The whole CLI as `make train` and `make validate` run it."""
    domain = domain_with_an_unused_response(tmp_path)
    # rules and stories decide what is "used"; the NLU examples only cost time to load
    dialogues = sorted(str(p) for p in (ROOT / "data").iterdir() if p.is_dir() and p.name != "nlu")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false"}
    result = subprocess.run(
        [sys.executable, "-m", "scripts.rasa_cli", "data", "validate", "--quiet"]
        + ["--domain", str(domain), "--config", "config.yml", "--data", *dialogues],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    unused = [line for line in output.splitlines() if "is not used in any story or rule" in line]
    assert len(unused) == 1 and "'utter_nobody_sends_this'" in unused[0], unused
