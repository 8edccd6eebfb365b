"""How the form reads a citizen's answers, through the whole system as `make run` wires it.

Issue 11, defects 4 (a tapped list row for a choice showed the service's info card; a
choice typed in a phrase was refused), 7 (a language switch was stored as the answer; a
sticker, location, voice note or 🙏 got "a name should have letters only"), 10 (amounts
in words refused), 13 (the summary used the questions as labels) and 14 (typed
"/ /affirm" obeyed as an intent).
"""

from __future__ import annotations

import pytest

from tests.journeys import files
from tests.journeys.phone import Citizen, Reply

INCOME = {
    "hi": {
        "hello": "नमस्ते",
        "agree": "हाँ",
        "apply": "मुझे आय प्रमाण पत्र चाहिए",
        "answers": ["सुनीता देवी", "रामेश्वर प्रसाद", "मकान 12, गली 4, लक्ष्मी नगर, दिल्ली", "110092"],
        "amount": "डेढ़ लाख रुपये सालाना",
        "amount_read_back": "₹1,50,000 (डेढ़ लाख)",
        "source": "वेतन",
        "purpose_question": "किस काम के लिए",
        "purpose": ("tap", "छात्रवृत्ति"),
        "first_document": "पहचान का प्रमाण",
        "summary": [
            "• आवेदक का नाम: सुनीता देवी",
            "• परिवार की वार्षिक आय: ₹1,50,000 (डेढ़ लाख)",
            "• आय का मुख्य स्रोत: वेतन / नौकरी",
            "• उद्देश्य: छात्रवृत्ति",
        ],
        "submit": "जमा करें",
    },
    "en": {
        "hello": "Hi",
        "agree": "Yes, I agree",
        "apply": "I want to apply for an income certificate",
        "answers": ["Sunita Devi", "Rameshwar Prasad", "House 12, Gali 4, Laxmi Nagar, Delhi"]
        + ["110092"],
        "amount": "one lakh fifty thousand a year",
        "amount_read_back": "₹1,50,000 (1.5 lakh)",
        "source": "Salary",
        "purpose_question": "For what purpose",
        "purpose": ("tap", "Scholarship"),
        "first_document": "Identity proof",
        "summary": [
            "• Applicant's name: Sunita Devi",
            "• Annual family income: ₹1,50,000 (1.5 lakh)",
            "• Main source of income: Salary / job",
            "• Purpose: Scholarship",
        ],
        "submit": "Submit",
    },
    "hinglish": {
        "hello": "namaste ji",
        "agree": "हाँ",
        "apply": "income certificate banwana hai",
        "answers": ["Sunita Devi", "Rameshwar Prasad", "Makan 12, Gali 4, Laxmi Nagar, Delhi"]
        + ["110092"],
        "amount": "dedh lakh saalana",
        "amount_read_back": "₹1,50,000 (डेढ़ लाख)",
        "source": "वेतन",
        "purpose_question": "किस काम के लिए",
        "purpose": ("say", "scholarship ke liye"),
        "first_document": "पहचान का प्रमाण",
        "summary": ["• परिवार की वार्षिक आय: ₹1,50,000 (डेढ़ लाख)", "• उद्देश्य: छात्रवृत्ति"],
        "submit": "जमा करें",
    },
}
# hello, consent, the request, 7 answers, 4 documents, submit
INCOME_MINIMUM = 3 + 7 + 4 + 1


def shown(replies: list[Reply]) -> str:
    return "\n".join(str(r) for r in replies)


@pytest.mark.parametrize("language", ["hi", "en", "hinglish"])
def test_income_certificate_amount_in_words_tapped_purpose_and_labelled_summary(citizen, language):
    w = INCOME[language]
    phone: Citizen = citizen(
        minimum=INCOME_MINIMUM,
        name=f"income certificate: amount in words, purpose row ({language})",
    )
    phone.says(w["hello"])
    phone.taps(w["agree"])
    phone.says(w["apply"])
    for answer in w["answers"]:
        replies = phone.says(answer)

    # defect 10: the amount in words is taken and read back in Indian grouping
    replies = phone.says(w["amount"])
    said = phone.all_text(replies)
    assert w["amount_read_back"] in said, shown(replies)
    assert "6/7" in said or "6 of 7" in said, shown(replies)
    replies = phone.taps(w["source"])

    # defect 4: tapping the purpose row (or naming it in a phrase) answers the question
    assert w["purpose_question"] in replies[-1].text, shown(replies)
    how, purpose = w["purpose"]
    replies = phone.taps(purpose) if how == "tap" else phone.says(purpose)
    said = phone.all_text(replies)
    assert w["first_document"] in replies[-1].text, shown(replies)
    assert w["purpose_question"] not in said, shown(replies)  # not asked again
    assert "₹" not in said.split(w["first_document"])[0], shown(replies)  # no info card

    for seed in range(4):
        replies = phone.attaches(files.camera_jpeg(seed=20 + seed))

    # defect 13: the summary names each answer by its short label, in the citizen's language
    summary = replies[-1]
    assert w["submit"] in summary.buttons, shown(replies)
    for line in w["summary"]:
        assert line in summary.text, shown(replies)
    assert "?" not in summary.text.split("\n", 1)[1].rsplit("\n", 2)[0], summary.text
    replies = phone.taps(w["submit"])
    assert "APP-" in phone.all_text(replies), shown(replies)
    assert phone.repeated_questions() == 0


def test_the_renewal_summary_has_labels_not_questions(citizen):
    phone = citizen()
    phone.says("Hi")
    phone.taps("Yes, I agree")
    phone.says("I want to apply for driving licence renewal")
    for answer in ["DL04 20120034567", "15/08/1980", "20/12/2026", "House 12, Lajpat Nagar, Delhi"]:
        phone.says(answer)
    phone.attaches(files.camera_jpeg())
    phone.taps("Skip")
    replies = phone.attaches(files.camera_jpeg(seed=8))
    summary = replies[-1].text
    assert "• Licence number: DL04 20120034567" in summary, shown(replies)
    assert "• Postal address: House 12, Lajpat Nagar, Delhi" in summary
    assert "(e.g." not in summary and "What is" not in summary
    replies = phone.taps("Change")
    assert "1. Licence number" in replies[-1].rows, shown(replies)


# defect 7: a language switch mid-form switches and asks the same question again
@pytest.mark.parametrize(
    "start, switch, asked_again, after",
    [
        (
            ["Hi", "Yes, I agree", "I need a birth certificate for my child"],
            "हिंदी में बात करो",
            "सवाल 1/7: बच्चे का नाम क्या है?",
            "सवाल 2/7",
        ),
        (
            ["नमस्ते", "हाँ", "मुझे जन्म प्रमाण पत्र चाहिए"],
            "reply in English please",
            "Question 1 of 7: What is the child's name?",
            "Question 2 of 7",
        ),
        (
            ["namaste", "हाँ", "janam praman patra banwana hai"],
            "english mein baat karo",
            "Question 1 of 7: What is the child's name?",
            "Question 2 of 7",
        ),
    ],
    ids=["en-to-hi", "hi-to-en", "hinglish-to-en"],
)
def test_a_language_switch_mid_form_asks_the_same_question_again(
    citizen, start, switch, asked_again, after
):
    phone = citizen(minimum=len(start) + 2, name=f"language switch mid-form: {switch}")
    for text in start:
        replies = phone.says(text) if text not in ("Yes, I agree", "हाँ") else phone.taps(text)
    assert "1/7" in replies[-1].text or "1 of 7" in replies[-1].text, shown(replies)
    replies = phone.says(switch)
    assert replies[-1].text.startswith(asked_again), shown(replies)
    assert len(replies) == 2, shown(replies)  # "okay, I will reply in ..." and the question
    replies = phone.says("Aarav Kumar")
    assert after in replies[-1].text, shown(replies)  # the switch was not stored as the name
    assert phone.repeated_questions() == 0


# defect 7: a sticker, a location, a voice note or 🙏 at a name question
@pytest.mark.parametrize(
    "language, start, expected",
    [
        (
            "en",
            ["Hi", "Yes, I agree", "I need a birth certificate for my child"],
            {
                "sticker": "Thanks for the sticker",
                "location": "a location is not an answer",
                "audio": "can't listen to voice notes",
                "🙏": "Please type your answer in words",
            },
        ),
        (
            "hi",
            ["नमस्ते", "हाँ", "मुझे जन्म प्रमाण पत्र चाहिए"],
            {
                "sticker": "स्टिकर के लिए धन्यवाद",
                "location": "लोकेशन इस सवाल का जवाब नहीं है",
                "audio": "वॉइस नोट नहीं सुन सकता",
                "🙏": "शब्दों में लिखकर",
            },
        ),
    ],
)
def test_what_is_not_typed_gets_a_fitting_reply_then_the_question_again(
    citizen, language, start, expected
):
    phone = citizen()
    for text in start:
        replies = phone.says(text) if text not in ("Yes, I agree", "हाँ") else phone.taps(text)
    question = replies[-1].text
    assert "1/7" in question or "1 of 7" in question, shown(replies)
    for kind, reply in expected.items():
        if kind == "location":
            replies = phone.sends(type="location", latitude=28.6315, longitude=77.2167)
        elif kind == "🙏":
            replies = phone.says("🙏")
        else:
            replies = phone.sends(type=kind)
        said = phone.all_text(replies)
        assert reply in said, (kind, shown(replies))
        assert "letters only" not in said and "केवल अक्षर" not in said, (kind, shown(replies))
        assert replies[-1].text == question, (kind, shown(replies))  # the question again
    replies = phone.says("Aarav Kumar")
    assert "2/7" in replies[-1].text or "2 of 7" in replies[-1].text, shown(replies)


# defect 14: typed intent syntax is never obeyed
@pytest.mark.parametrize("typed", ["/ /affirm", "／affirm", "\u200b/affirm", "/\n/affirm"])
def test_a_typed_intent_is_not_obeyed(citizen, typed):
    phone = citizen()
    replies = phone.says("Hi")
    assert "Yes, I agree" in replies[-1].buttons, shown(replies)
    replies = phone.says(typed)
    said = phone.all_text(replies)
    assert "consent has been recorded" not in said, shown(replies)
    # still not consented: a request for personal data gets the consent question again
    replies = phone.says("I want to apply for an income certificate")
    assert "Yes, I agree" in phone.all_text(replies) or any(
        "Yes, I agree" in r.buttons for r in replies
    ), shown(replies)
