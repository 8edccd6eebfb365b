"""How the conversation carries what the citizen already said, through the whole system
as `make run` wires it.

Issue 11, defects 3 (a need stated before consent was forgotten: after "haan" / "Yes, I
agree" came the generic menu and the citizen had to say it again), 8 (a follow-up "how
long will it take?" lost the service; "the domicile one" then got the fallback) and 9
("Good morning, I need some help", a wave or folded hands alone got a fallback instead
of the welcome).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.journeys.phone import Citizen, Reply

MENU = ("What would you like to do?", "आप क्या करना चाहेंगे?")


def shown(replies: list[Reply]) -> str:
    return "\n".join(str(r) for r in replies)


def consent(phone: Citizen, how: str) -> list[Reply]:
    """Answers the privacy notice: a button tapped, or typed in words."""
    return phone.taps(how) if how in ("Yes, I agree", "हाँ, मैं सहमत हूँ") else phone.says(how)


# --------------------------------------------------------------- defect 3: asked before consent


@pytest.mark.parametrize(
    "request_text, agree, started",
    [
        # Hinglish: the application form of the service asked for, its first question
        ("income certificate chahiye", "haan", ["आय प्रमाण पत्र", "सवाल 1/7"]),
        # Hinglish: the complaint form, the category already said (ration), so the
        # next question is the description
        (
            "mera ration card nahi bana abhi tak, shikayat karni hai",
            "haan",
            ["कृपया समस्या बताइए"],
        ),
        # English, the consent button
        (
            "i want to renew my driving licence",
            "Yes, I agree",
            ["Driving Licence Renewal", "Question 1 of", "driving licence number"],
        ),
        # a hello and the need in the very first message
        ("Hi, income certificate chahiye", "हाँ, मैं सहमत हूँ", ["आय प्रमाण पत्र", "सवाल 1/7"]),
    ],
)
def test_a_need_stated_before_consent_continues_right_after_it(
    citizen: Callable[..., Citizen], request_text: str, agree: str, started: list[str]
) -> None:
    # the need, then consent: the form's first question follows at once
    phone = citizen(minimum=2, name=f"asked before consent: {request_text}")
    replies = phone.says(request_text)
    assert "Yes, I agree" in replies[-1].buttons or "हाँ, मैं सहमत हूँ" in replies[-1].buttons
    replies = consent(phone, agree)
    said = phone.all_text(replies)
    for text in started:
        assert text in said, shown(replies)
    assert not any(menu in said for menu in MENU), shown(replies)  # not the generic menu
    assert "किस सेवा" not in said and "Which service" not in said, shown(replies)
    assert phone.repeated_questions() == 0


def test_a_language_chosen_before_consent_keeps_the_request(
    citizen: Callable[..., Citizen],
) -> None:
    # the need, the language button, consent
    phone = citizen(minimum=3, name="asked before consent, then English chosen")
    replies = phone.says("income certificate chahiye")
    assert "English" in replies[-1].buttons, shown(replies)
    replies = phone.taps("English")
    assert "Privacy notice" in phone.all_text(replies), shown(replies)
    replies = phone.taps("Yes, I agree")
    said = phone.all_text(replies)
    assert "Income Certificate" in said and "Question 1 of 7" in said, shown(replies)
    assert phone.repeated_questions() == 0


def test_declining_drops_the_request_and_a_later_yes_shows_the_menu(
    citizen: Callable[..., Citizen],
) -> None:
    phone = citizen()
    phone.says("income certificate chahiye")
    replies = phone.taps("नहीं")
    assert "CSC" in phone.all_text(replies), shown(replies)
    phone.says("namaste")
    replies = phone.taps("हाँ, मैं सहमत हूँ")
    said = phone.all_text(replies)
    assert "सवाल 1/" not in said, shown(replies)  # no form started by surprise
    assert replies[-1].rows or replies[-1].buttons, shown(replies)  # the menu


# ------------------------------------------------------------ defect 8: follow-up questions


def test_a_follow_up_question_keeps_the_service(citizen: Callable[..., Citizen]) -> None:
    # the first question, then two follow-ups that name no service
    phone = citizen(minimum=3, name="follow-up keeps the domicile service")
    replies = phone.says(
        "what documents do I need for a domicile certificate and how much is the fee?"
    )
    first = phone.all_text(replies)
    assert "Domicile" in first and "Fee:" in first and "Documents needed" in first, first
    replies = phone.says("how long will it take?")
    said = phone.all_text(replies)
    assert "Domicile" in said and "21 days" in said, shown(replies)
    assert "Which service" not in said, shown(replies)
    replies = phone.says("where do I apply")
    said = phone.all_text(replies)
    assert "Domicile" in said and "right here on WhatsApp" in said, shown(replies)
    assert phone.repeated_questions() == 0


@pytest.mark.parametrize(
    "question, asked, answer, answered",
    [
        ("how long will it take?", "Which service", "the domicile one", "Domicile Certificate"),
        ("kitne din lagenge", "किस सेवा", "domicile wala", "निवास प्रमाण पत्र"),
        ("कितने दिन लगेंगे", "किस सेवा", "निवास प्रमाण पत्र वाला", "निवास प्रमाण पत्र"),
    ],
)
def test_which_service_is_answered_by_naming_it(
    citizen: Callable[..., Citizen], question: str, asked: str, answer: str, answered: str
) -> None:
    # the question, the service's name
    phone = citizen(minimum=2, name=f"which service? {answer}")
    replies = phone.says(question)
    assert asked in phone.all_text(replies), shown(replies)
    replies = phone.says(answer)
    said = phone.all_text(replies)
    assert answered in said and "21" in said, shown(replies)
    assert "Sorry" not in said and "माफ़ कीजिए" not in said, shown(replies)
    assert phone.repeated_questions() == 0


# ---------------------------------------------------------------- defect 9: ordinary openers


@pytest.mark.parametrize(
    "opener", ["Good morning, I need some help", "👋", "🙏", "शुभ प्रभात, मुझे मदद चाहिए"]
)
def test_ordinary_openers_get_the_welcome(citizen: Callable[..., Citizen], opener: str) -> None:
    phone = citizen()
    replies = phone.says(opener)
    said = phone.all_text(replies)
    assert "WhatsApp assistant" in said or "व्हाट्सऐप सहायक" in said, shown(replies)
    assert "understand" not in said and "any words" not in said, shown(replies)
    assert replies[-1].buttons[:1] in (["Yes, I agree"], ["हाँ, मैं सहमत हूँ"]), shown(replies)
