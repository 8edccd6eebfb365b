"""Documents in an application, as a citizen sends them from a real phone: a camera photo
of a few MB, a scanned multi-page PDF, a file too large to take, a photo with a caption,
an optional document left out with the Skip button.

Issue 11, defects 1 (uploads over ~64 KB refused; "I need a file here" right after
sending one), 5 (a caption started another application and discarded the answers) and 6
(no Skip button for an optional document). Everything runs through the emulator, our
connector's real download path, Rasa and the action server, as `make run` wires them.
"""

from __future__ import annotations

import pytest

from tests.journeys import files
from tests.journeys.phone import Citizen, Reply

# The driving-licence renewal: 4 questions, then the current licence (required), a
# medical certificate (optional) and a photograph (required).
ANSWERS = ["DL04 20120034567", "15/08/1980", "20/12/2026", "House 12, Lajpat Nagar, Delhi"]
WORDS = {
    "en": {
        "hello": "Hi",
        "agree": "Yes, I agree",
        "apply": "I want to apply for driving licence renewal",
        "licence": "Current driving licence",
        "medical": "Form 1-A",
        "photo": "passport-size photograph",
        "received": "Received ✅",
        "skip": "Skip",
        "submit": "Submit",
        "too_large": "too large",
        "damaged": "damaged on the way",
        "need_a_file": "I need a file here",
        "not_accepted": "not accepted",
    },
    "hi": {
        "hello": "नमस्ते",
        "agree": "हाँ",
        "apply": "मुझे ड्राइविंग लाइसेंस नवीनीकरण चाहिए",
        "licence": "मौजूदा ड्राइविंग लाइसेंस",
        "medical": "फॉर्म 1-ए",
        "photo": "पासपोर्ट साइज़ फोटो",
        "received": "मिल गया ✅",
        "skip": "छोड़ें",
        "submit": "जमा करें",
        "too_large": "बहुत बड़ी",
        "damaged": "रास्ते में ख़राब",
        "need_a_file": "यहाँ मुझे फ़ाइल चाहिए",
        "not_accepted": "स्वीकार नहीं",
    },
}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# hello, consent, the request, 4 answers, 3 documents (one skipped), submit
MINIMUM = 1 + 1 + 1 + len(ANSWERS) + 3 + 1


def shown(replies: list[Reply]) -> str:
    return "\n".join(str(r) for r in replies)


def renewal_up_to_the_licence(phone: Citizen, language: str) -> list[Reply]:
    w = WORDS[language]
    phone.says(w["hello"])
    phone.taps(w["agree"])
    replies = phone.says(w["apply"])
    for answer in ANSWERS:
        replies = phone.says(answer)
    assert w["licence"] in replies[-1].text, shown(replies)
    return replies


def assert_medical_certificate_is_asked_with_skip(replies: list[Reply], language: str) -> None:
    w = WORDS[language]
    question = replies[-1]
    assert w["medical"] in question.text, shown(replies)
    assert question.buttons == [w["skip"]], shown(replies)


@pytest.mark.parametrize("language", ["hi", "en"])
def test_a_camera_photo_fills_the_document_step(citizen, language):
    w = WORDS[language]
    phone = citizen(minimum=MINIMUM, name=f"camera photo, optional document skipped ({language})")
    renewal_up_to_the_licence(phone, language)
    photo = files.camera_jpeg()
    assert len(photo) > 1_500_000
    replies = phone.attaches(photo)
    assert w["received"] in phone.all_text(replies), shown(replies)
    assert w["need_a_file"] not in phone.all_text(replies)
    assert_medical_certificate_is_asked_with_skip(replies, language)
    replies = phone.taps(w["skip"])
    assert w["photo"] in replies[-1].text, shown(replies)
    replies = phone.attaches(files.camera_jpeg(seed=8))
    summary = replies[-1]
    assert w["submit"] in summary.buttons, shown(replies)
    # the licence is there, the optional certificate is not, the answers all are
    assert "DL04 20120034567" in summary.text
    assert "✅" in summary.text
    replies = phone.taps(w["submit"])
    assert "APP-" in phone.all_text(replies), shown(replies)
    assert phone.repeated_questions() == 0


def test_a_scanned_multi_page_pdf_fills_the_document_step(citizen):
    phone = citizen()
    renewal_up_to_the_licence(phone, "en")
    scan = files.multipage_pdf()
    assert len(scan) > 400_000
    replies = phone.attaches(scan, "application/pdf", filename="licence-scan.pdf")
    assert "Received ✅ Current driving licence" in phone.all_text(replies), shown(replies)
    assert_medical_certificate_is_asked_with_skip(replies, "en")


@pytest.mark.parametrize("language", ["hi", "en"])
def test_an_oversize_or_unsupported_file_is_refused_with_the_reason_then_a_good_one_is_taken(
    citizen, language
):
    w = WORDS[language]
    phone = citizen()
    renewal_up_to_the_licence(phone, language)
    big = files.oversize_pdf()
    replies = phone.attaches(big, "application/pdf", filename="scan-600dpi.pdf")
    said = phone.all_text(replies)
    assert w["too_large"] in said and "20 MB" in said and "5 MB" in said, shown(replies)
    assert w["need_a_file"] not in said
    assert w["licence"] in replies[-1].text  # asked again: the citizen knows what to send
    word = b"PK\x03\x04" + bytes(range(256)) * 40  # a Word file, not a photo or PDF
    replies = phone.attaches(word, DOCX, filename="licence.docx")
    said = phone.all_text(replies)
    assert "PDF" in said and w["not_accepted"] in said, shown(replies)
    assert w["need_a_file"] not in said
    replies = phone.attaches(files.camera_jpeg())
    assert w["received"] in phone.all_text(replies), shown(replies)


@pytest.mark.parametrize(
    ("language", "caption"), [("en", "my DL front side"), ("hi", "मेरा DL आगे से")]
)
def test_a_caption_on_the_photo_does_not_start_another_application(citizen, language, caption):
    w = WORDS[language]
    phone = citizen(minimum=MINIMUM, name=f"captioned photo keeps the form ({language})")
    renewal_up_to_the_licence(phone, language)
    replies = phone.attaches(files.camera_jpeg(), caption=caption)
    said = phone.all_text(replies)
    assert f"{w['received']} {w['licence']}" in said, shown(replies)
    assert "₹500" not in said  # no new Driving Licence application
    assert "Learner" not in said and "लर्नर" not in said  # not filed as a learner licence
    assert_medical_certificate_is_asked_with_skip(replies, language)
    replies = phone.taps(w["skip"])
    replies = phone.attaches(files.camera_jpeg(seed=9))
    summary = replies[-1].text
    for answer in ("DL04 20120034567", "House 12, Lajpat Nagar, Delhi"):
        assert answer in summary, shown(replies)  # the four answers were kept
    assert "₹200" in summary  # still the renewal
    replies = phone.taps(w["submit"])
    assert "APP-" in phone.all_text(replies), shown(replies)
    assert phone.repeated_questions() == 0
