"""The certificate PDF as a reader gets it: Hindi text shaped and given back exactly,
an embedded Devanagari font, labels from the catalogue, Indian dates, a QR code that
decodes to the verify address, and a page that OCR reads in Hindi and English.

Reads the PDFs with Debian's poppler-utils, tesseract-ocr(-hin) and zbar-tools
(``scripts/system_packages.sh``). Writes a PNG of every kind of certificate to
``results/certificates/<service_id>.png`` for people to look at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from backends import certificate_pdf
from service_catalogue import Field, Service, load

ROOT = Path(__file__).resolve().parent.parent
PNG_DIR = ROOT / "results" / "certificates"
CATALOGUE = load()
ISSUING = [s for s in CATALOGUE.services.values() if s.issues_document]
TOOLS = ("pdftotext", "pdffonts", "pdftoppm", "pdfinfo", "tesseract", "zbarimg")

NAME = "राजेश कुमार शर्मा"
FATHER = "श्रीकृष्ण प्रसाद"
ADDRESS = "मकान नं. 12, गली नं. 3, लक्ष्मी नगर, दिल्ली"
VERIFY = "http://127.0.0.1:8000/verify/CERT-2026-000042.q0XhT7k2f1z9b8Yv6w5u4t3s2r1p0o9n8m7l6k5j4i3"
# 20:00 UTC on 23 November is already 24 November in Delhi (01:30 IST).
ISSUED = datetime(2026, 11, 23, 20, 0)
APPLIED = datetime(2026, 11, 2, 4, 30)

#: Answers of identifier fields, which must match their catalogue pattern.
IDENTIFIERS = {
    "dl_number": "DL05 20150012345",
    "learner_licence_number": "DL04 20240001234",
    "registration_number": "DL 3C AB 1234",
    "chassis_number": "MA3EWDE1S00123456",
    "chassis_last5": "23456",
    "khasra_number": "45/2",
    "ration_card_number": "1234567890123",
}
#: More names for forms with several (mother, spouse, child, deceased...).
OTHER_NAMES = ["सुनीता देवी", "किशन लाल", "प्रिया शर्मा", "धर्मेन्द्र सिंह", "अर्जुन"]


@pytest.fixture(scope="module", autouse=True)
def _reader_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run scripts/system_packages.sh")


def sample_value(field: Field, names: list[str], long: bool = False) -> Any:
    """A valid answer of ``field`` in Hindi where it can be; ``long``: as long as allowed."""
    if field.type == "name":
        name = names.pop(0) if names else "अर्जुन"
        return words_up_to(name + " विश्वनाथ" * 12, 80) if long else name
    if field.type == "address":
        return words_up_to(ADDRESS + ", पूर्वी दिल्ली" * 30, 300) if long else ADDRESS
    if field.type == "date":
        return "2030-06-30" if field.future_only else "1988-07-15"
    if field.type == "pin":
        return "110092"
    if field.type == "mobile":
        return "9876543210"
    if field.type == "aadhaar":
        return "XXXX-XXXX-4821"
    if field.type == "choice":
        return (
            max(field.choices, key=lambda c: len(c.title("hi"))) if long else field.choices[0]
        ).id
    if field.type in ("amount", "number"):
        if field.type == "amount":
            return 150000 if field.max is None or field.max >= 150000 else int(field.max)
        low = int(field.min or 0)
        return max(low, min(12, int(field.max or 12)))
    if field.id in IDENTIFIERS:
        return IDENTIFIERS[field.id]
    text = "श्री गणेश किराना एवं जनरल स्टोर"
    return words_up_to(" ".join([text] * 10), field.max_length or 1000) if long else text


def words_up_to(text: str, limit: int) -> str:
    """The most whole words of ``text`` within ``limit`` characters (cutting inside a
    word could split a syllable)."""
    return text[: limit + 1].rsplit(" ", 1)[0] if len(text) > limit else text


def sample_fields(service: Service, long: bool = False) -> dict[str, Any]:
    names = [NAME, FATHER, *OTHER_NAMES]
    return {f.id: sample_value(f, names, long) for f in service.fields}


def render(service: Service, fields: dict[str, Any] | None = None) -> bytes:
    return certificate_pdf.render(
        certificate_pdf.Certificate(
            service=service,
            department=CATALOGUE.departments[service.department],
            number="CERT-2026-000042",
            application_id="APP-2026-000137",
            fields=sample_fields(service) if fields is None else fields,
            issued_at=ISSUED,
            applied_at=APPLIED,
            verify_url=VERIFY,
        )
    )


def run(*command: str, data: bytes | None = None) -> str:
    result = subprocess.run(command, input=data, capture_output=True, check=True, timeout=120)
    return result.stdout.decode()


def pdftotext(pdf: Path) -> str:
    return run("pdftotext", "-layout", str(pdf), "-")


def pages(pdf: Path) -> int:
    match = re.search(r"^Pages:\s+(\d+)", run("pdfinfo", str(pdf)), re.M)
    assert match is not None
    return int(match.group(1))


def first_page_png(pdf: Path, out: Path, dpi: int = 100) -> Path:
    """``pdftoppm`` of page 1 to ``out`` (a .png path)."""
    run(
        "pdftoppm",
        "-png",
        "-r",
        str(dpi),
        "-f",
        "1",
        "-l",
        "1",
        "-singlefile",
        str(pdf),
        str(out.with_suffix("")),
    )
    return out


@pytest.fixture(scope="module")
def income(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The income certificate of a citizen who wrote everything in Hindi."""
    path = tmp_path_factory.mktemp("certificate") / "income.pdf"
    path.write_bytes(render(CATALOGUE.services["income_certificate"]))
    return path


def test_the_hindi_name_father_and_address_come_back_exactly(income: Path) -> None:
    text = pdftotext(income)
    for typed in (NAME, FATHER, ADDRESS):
        assert typed in text
    # the header, the title and labels in both languages
    for printed in (
        "दिल्ली सरकार",
        "Government of National Capital Territory of Delhi",
        "राजस्व विभाग",
        "Revenue Department",
        "आय प्रमाण पत्र",
        "Income Certificate",
        "प्रमाण पत्र संख्या / Certificate number",
        "CERT-2026-000042",
        "APP-2026-000137",
        "₹1,50,000",
        "वेतन / नौकरी",
        "Salary / job",
        VERIFY,
    ):
        assert printed in text, printed


@pytest.mark.parametrize(
    "word",
    [
        "किशन",  # i-matra drawn before its consonant
        "दिल्ली",  # i-matra before a conjunct
        "उद्देश्य",  # a vowel sign on a conjunct, then a half form
        "धर्मेन्द्र",  # reph and a conjunct with a vowel sign
        "क्षेत्र",  # क्ष and त्र
        "श्रीकृष्ण",  # श्र, ृ and ष्ण
        "ज़िला क़ानून",  # nukta
        "छात्रवृत्ति",
        "राष्ट्रीय",
    ],
)
def test_every_syllable_reads_back_as_typed(word: str, tmp_path: Path) -> None:
    service = CATALOGUE.services["character_certificate"]
    fields = {**sample_fields(service), "applicant_name": word}
    pdf = tmp_path / "word.pdf"
    pdf.write_bytes(render(service, fields))
    assert word in pdftotext(pdf)


def test_a_devanagari_font_is_embedded_and_no_base_font_is_used(income: Path) -> None:
    fonts = run("pdffonts", str(income)).splitlines()[2:]
    embedded = {line.split()[0].split("+", 1)[-1] for line in fonts if " yes " in line}
    assert "NotoSansDevanagari" in embedded
    assert "NotoSans" in embedded  # Latin letters and digits
    assert all(" yes yes yes " in line for line in fonts), fonts  # embedded, subset, ToUnicode
    assert not any(re.search(r"Helvetica|ZapfDingbats|Times|Courier", line) for line in fonts)


def test_ocr_reads_the_hindi_and_english_on_the_rasterised_page(
    income: Path, tmp_path: Path
) -> None:
    # page 1 at 150 dpi, from the header to the end of the table (OCR of the whole page
    # takes twice as long and adds nothing)
    crop = ["-x", "0", "-y", "0", "-W", "1240", "-H", "1250"]
    png = tmp_path / "page.png"
    run(
        "pdftoppm", "-png", "-r", "150", "-singlefile", *crop, str(income), str(png.with_suffix(""))
    )
    seen = run("tesseract", str(png), "-", "-l", "hin+eng")
    squeezed = re.sub(r"\s+", " ", seen.replace("\u200c", "").replace("\u200d", ""))
    # Shaped glyphs are what OCR recognises: प्रमाण drawn as प्‌रमाण (a virama and
    # a full र) would not read as प्रमाण.
    for word in ("राजेश", "कुमार", "शर्मा", "श्रीकृष्ण", "प्रसाद", "लक्ष्मी", "प्रमाण", "दिल्ली", "सरकार"):
        assert word in squeezed, f"OCR did not read {word!r}:\n{seen}"
    for word in ("Income Certificate", "Government of National Capital Territory of Delhi"):
        assert word in squeezed, f"OCR did not read {word!r}:\n{seen}"


def test_the_qr_code_decodes_to_the_verify_address(income: Path, tmp_path: Path) -> None:
    png = first_page_png(income, tmp_path / "page.png", dpi=150)
    assert run("zbarimg", "--quiet", "--raw", str(png)).strip() == VERIFY


def test_the_issue_date_is_the_date_in_delhi(income: Path) -> None:
    text = pdftotext(income)
    assert "24/11/2026" in text  # 20:00 UTC on 23/11 is 01:30 IST on 24/11
    assert "23/11/2026" not in text
    assert "02/11/2026" in text  # applied at 10:00 IST


def test_each_field_appears_once_under_its_catalogue_label(income: Path) -> None:
    text = pdftotext(income)
    assert text.count(NAME) == 1  # "Applicant" was printed twice
    service = CATALOGUE.services["income_certificate"]
    for field in service.fields:
        assert text.count(field.label("en")) == 1, field.id
        assert field.label("hi") in text, field.id
    assert "Applicant name" not in text and "Annual income\n" not in text  # no id-made labels


def test_the_driving_licence_renewal_has_proper_labels_and_no_blank_applicant(
    tmp_path: Path,
) -> None:
    service = CATALOGUE.services["driving_licence_renewal"]
    pdf = tmp_path / "renewal.pdf"
    pdf.write_bytes(render(service))
    text = pdftotext(pdf)
    dl_number = service.field("dl_number")
    assert dl_number is not None
    assert dl_number.label("hi") in text and dl_number.label("en") in text
    assert "DL05 20150012345" in text
    assert "Dl number" not in text
    assert "Applicant" not in text  # the form asks no name: no empty "Applicant" line
    assert "प्रमाण पत्र संख्या / Certificate number" in text
    assert "15/07/1988" in text  # dates as DD/MM/YYYY
    assert "1988-07-15" not in text


def test_the_longest_answers_still_fit_on_one_page(tmp_path: Path) -> None:
    for service in ISSUING:
        pdf = tmp_path / f"{service.id}.pdf"
        pdf.write_bytes(render(service, sample_fields(service, long=True)))
        assert pages(pdf) == 1, f"{service.id}: the verification block went to page 2"


def test_a_png_of_every_certificate_type_goes_to_results(tmp_path: Path) -> None:
    """``results/certificates/<service_id>.png``; also measures the render time."""
    PNG_DIR.mkdir(parents=True, exist_ok=True)
    timings = []
    for service in ISSUING:
        started = time.perf_counter()
        data = render(service)
        timings.append(time.perf_counter() - started)
        pdf = tmp_path / f"{service.id}.pdf"
        pdf.write_bytes(data)
        text = pdftotext(pdf)
        assert service.title("hi") in text and service.title("en") in text, service.id
        assert text.count("\f") == 1, service.id  # one page
        png = first_page_png(pdf, PNG_DIR / f"{service.id}.png")
        assert png.stat().st_size > 10_000
    timings.sort()
    print(
        f"\nrendered {len(timings)} certificates: median {timings[len(timings) // 2]:.3f} s, "
        f"slowest {timings[-1]:.3f} s"
    )
    assert len(list(PNG_DIR.glob("*.png"))) >= len(ISSUING)


def test_through_the_backend_a_hindi_certificate_reads_back_and_its_qr_says_genuine(
    backend: Any, tmp_path: Path
) -> None:
    """e-District over HTTP: apply with a Hindi name, approve, download by the signed link,
    read the PDF's text and follow its QR code to the verify page."""
    citizen = "919812345678"
    fields = {
        "applicant_name": NAME,
        "father_name": FATHER,
        "date_of_birth": "1990-03-12",
        "address": ADDRESS,
        "purpose": "job",
    }
    base = f"{backend.url}/edistrict/applications"
    created = requests.post(
        base,
        json={"service_id": "character_certificate", "fields": fields, "language": "hi"},
        headers=backend.citizen(citizen),
        timeout=10,
    )
    assert created.status_code == 201, created.text
    app_id = created.json()["application_id"]
    for document in ("identity_proof", "address_proof", "photo"):
        attached = requests.post(
            f"{base}/{app_id}/documents",
            json={
                "document_id": document,
                "filename": f"{document}.jpg",
                "mime_type": "image/jpeg",
                "size": 2_400_000,
                "sha256": "ab" * 32,
                "storage_ref": f"uploads/{document}",
            },
            headers=backend.citizen(citizen),
            timeout=10,
        )
        assert attached.status_code == 201, attached.text
    submitted = requests.post(
        f"{base}/{app_id}/submit", json={}, headers=backend.citizen(citizen), timeout=10
    )
    assert submitted.json()["status"] == "submitted", submitted.text
    for action in ("verify", "approve"):
        acted = requests.post(
            f"{base}/{app_id}/actions",
            json={"action": action},
            headers=backend.officer(),
            timeout=30,
        )
        assert acted.status_code == 200, acted.text
    number = acted.json()["certificate_number"]
    link = requests.get(
        f"{base}/{app_id}/certificate", headers=backend.citizen(citizen), timeout=10
    )
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(requests.get(link.json()["url"], timeout=30).content)

    text = pdftotext(pdf)
    assert NAME in text and FATHER in text and ADDRESS in text and number in text
    scanned = run("zbarimg", "--quiet", "--raw", str(first_page_png(pdf, tmp_path / "p.png", 150)))
    url = scanned.strip()
    assert url in text.replace("\n", "")  # the address is printed beside the QR code too
    verdict = requests.get(url, params={"format": "json"}, timeout=10).json()
    assert verdict["valid"] is True and verdict["certificate_number"] == number
    assert verdict["applicant_name"] == NAME
    page = requests.get(url, timeout=10).text
    assert "Genuine" in page and NAME in page
