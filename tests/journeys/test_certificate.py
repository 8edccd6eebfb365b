"""From "नमस्ते" to a certificate in hand, in Hindi: apply for a learner licence with a
Hindi name, attach camera photos, pay on the sandbox, an officer verifies and approves,
the citizen asks for the certificate, the PDF arrives in the chat, its text gives the
Hindi name back exactly and its QR code opens a verify page that says it is genuine.

Issue 11, defect 2: the certificate printed a Devanagari name as ■■■ (Helvetica only).
The PDF is read as a person's tools read it: ``pdftotext`` and ``zbarimg`` (Debian's
poppler-utils and zbar-tools, scripts/system_packages.sh).
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import requests

from service_catalogue.validation import verhoeff_valid
from tests.journeys import files
from tests.journeys.phone import Citizen, Reply

NAME = "राजेश कुमार शर्मा"
FATHER = "श्रीकृष्ण प्रसाद"
ADDRESS = "मकान नं. 12, गली नं. 3, लक्ष्मी नगर, दिल्ली"
# A valid (Verhoeff) Aadhaar number; only its last four digits may be stored or printed.
AADHAAR = next(f"23456789012{d}" for d in "0123456789" if verhoeff_valid(f"23456789012{d}"))
DOCUMENTS = 4  # address proof, age proof, photo, signature
# hello, consent, the request, 7 answers, 4 documents, submit, download
MINIMUM = 1 + 1 + 1 + 7 + DOCUMENTS + 1 + 1


def shown(replies: list[Reply]) -> str:
    return "\n".join(str(r) for r in replies)


def answer(phone: Citizen, text: str, next_question: str) -> list[Reply]:
    """Types ``text``; the bot must go on to a message containing ``next_question``."""
    replies = phone.says(text)
    assert next_question in phone.all_text(replies), shown(replies)
    return replies


def tap(phone: Citizen, title: str, next_question: str) -> list[Reply]:
    replies = phone.taps(title)
    assert next_question in phone.all_text(replies), shown(replies)
    return replies


def run(*command: str) -> str:
    return subprocess.run(command, capture_output=True, check=True, timeout=60).stdout.decode()


def test_a_hindi_learner_licence_from_hello_to_a_genuine_certificate(
    citizen, system, tmp_path: Path
) -> None:
    phone = citizen(minimum=MINIMUM, name="learner licence to certificate (hi)")
    phone.says("नमस्ते")
    phone.taps("हाँ")
    replies = phone.says("मुझे लर्नर लाइसेंस बनवाना है")
    assert "आवेदक का पूरा नाम" in phone.all_text(replies), shown(replies)
    answer(phone, NAME, "पिता का पूरा नाम")
    answer(phone, FATHER, "जन्म तिथि")
    answer(phone, "12/03/1995", "लिंग")
    tap(phone, "पुरुष", "किस वाहन")
    tap(phone, "स्कूटर", "पूरा पता")
    answer(phone, ADDRESS, "आधार")
    replies = answer(phone, AADHAAR, "पते का प्रमाण")
    for document, seed in zip(("आयु का प्रमाण", "पासपोर्ट साइज़ फोटो", "हस्ताक्षर"), (21, 22, 23)):
        replies = phone.attaches(files.camera_jpeg(seed=seed))
        assert document in phone.all_text(replies), shown(replies)
    replies = phone.attaches(files.camera_jpeg(seed=24))
    summary = replies[-1]
    assert NAME in summary.text and FATHER in summary.text, shown(replies)
    assert AADHAAR not in summary.text
    replies = phone.taps("जमा करें")
    text = phone.all_text(replies)
    found = re.search(r"APP-\d{4}-\d{6}", text)
    pay = re.search(r"http\S+/pay/\S+", text)
    assert found and pay, shown(replies)
    application_id = found.group(0)

    # The citizen pays on the sandbox page the link opens.
    assert requests.post(pay.group(0), data={"outcome": "success"}, timeout=10).ok
    backend = system.backend
    url = f"{backend.url}/edistrict/applications/{application_id}"
    deadline = time.monotonic() + 30
    while requests.get(url, headers=backend.officer(), timeout=5).json()["status"] != "submitted":
        assert time.monotonic() < deadline, "the payment never submitted the application"
        time.sleep(0.2)
    # An officer verifies and approves.
    for action in ("verify", "approve"):
        acted = requests.post(
            f"{url}/actions", json={"action": action}, headers=backend.officer(), timeout=30
        )
        assert acted.ok, acted.text
    number = acted.json()["certificate_number"]

    replies = phone.says("प्रमाण पत्र डाउनलोड करना है")
    document = next((r for r in replies if r.kind == "document"), None)
    assert document is not None, shown(replies)
    pdf = tmp_path / document.filename
    pdf.write_bytes(document.document)

    # Read as a person's tools read it: the Hindi name exactly, and no full Aadhaar.
    text = run("pdftotext", "-layout", str(pdf), "-")
    for typed in (NAME, FATHER, ADDRESS, number, "लर्नर लाइसेंस", "Learner Licence"):
        assert typed in text, typed
    assert AADHAAR not in text.replace(" ", "").replace("-", "")
    assert f"XXXX-XXXX-{AADHAAR[-4:]}" in text

    # The QR code, scanned off the printed page, opens the verify page: genuine.
    page = tmp_path / "page"
    run("pdftoppm", "-png", "-r", "150", "-singlefile", str(pdf), str(page))
    verify_url = run("zbarimg", "--quiet", "--raw", f"{page}.png").strip()
    assert verify_url.startswith(f"{backend.url}/verify/{number}."), verify_url
    assert verify_url in text.replace("\n", "")  # printed beside the code as well
    verdict = requests.get(verify_url, params={"format": "json"}, timeout=10).json()
    assert verdict["valid"] is True, verdict
    assert verdict["certificate_number"] == number and verdict["applicant_name"] == NAME
    html = requests.get(verify_url, timeout=10).text
    assert "Genuine" in html and "असली" in html and NAME in html
    assert phone.repeated_questions() == 0
