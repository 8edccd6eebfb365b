"""Free questions answered from the knowledge base (issue 15, items 1 and 2), through the
whole system as `make run` wires it: the answer names the service and offers to apply,
a follow-up keeps the service, and a question the knowledge base cannot answer gets a
plain "I don't know" with the menu and an officer, never a guess.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.journeys.phone import Citizen, Reply

IDK = ("I don't know", "जवाब मेरे पास नहीं है")
OFFICER = ("Talk to an officer", "अधिकारी से बात")


def shown(replies: list[Reply]) -> str:
    return "\n".join(str(r) for r in replies)


def offered(replies: list[Reply]) -> list[str]:
    return [title for r in replies for title in (*r.buttons, *r.rows)]


def test_a_spelling_mistake_on_a_certificate(citizen: Callable[..., Citizen]) -> None:
    phone = citizen(minimum=1, name="question: spelling mistake on a certificate")
    replies = phone.says("my certificate has a spelling mistake, what do I do?")
    said = phone.all_text(replies)
    assert "correction" in said and "SDM office" in said, shown(replies)
    assert "indicative" in said, shown(replies)
    assert not any(idk in said for idk in IDK), shown(replies)


def test_the_income_limit_of_a_pension_names_the_scheme_and_offers_to_apply(
    citizen: Callable[..., Citizen],
) -> None:
    phone = citizen(minimum=1, name="question: pension income limit")
    replies = phone.says("pension ke liye income limit kitni hai?")
    said = phone.all_text(replies)
    assert "₹1,00,000" in said and "वृद्धावस्था पेंशन" in said, shown(replies)
    assert "अभी आवेदन करें" in offered(replies), shown(replies)


def test_how_long_and_where_for_a_marriage_registration(
    citizen: Callable[..., Citizen],
) -> None:
    phone = citizen(minimum=1, name="question: marriage registration time and place")
    # as issue 15 asks it: "शादी का रजिस्ट्रेशन" names the marriage service
    replies = phone.says("शादी का रजिस्ट्रेशन कितने दिन में होता है और कहाँ जाना पड़ेगा?")
    said = phone.all_text(replies)
    assert "विवाह पंजीकरण प्रमाण पत्र" in said, shown(replies)
    assert "15 दिन" in said and "जन सेवा केंद्र" in said, shown(replies)
    assert "अभी आवेदन करें" in offered(replies), shown(replies)


def test_a_csc_near_a_locality(citizen: Callable[..., Citizen]) -> None:
    phone = citizen(minimum=1, name="question: CSC near Seelampur")
    replies = phone.says("CSC centre near Seelampur?")
    said = phone.all_text(replies)
    assert "North East Delhi" in said and "Seelampur" in said, shown(replies)


def test_a_follow_up_keeps_the_service_of_the_answer(citizen: Callable[..., Citizen]) -> None:
    phone = citizen(minimum=3, name="question: follow-ups keep the service")
    replies = phone.says("my driving licence is lost, what should I do?")
    said = phone.all_text(replies)
    assert "Duplicate Driving Licence" in said and "₹200" in said, shown(replies)
    assert "Apply now" in offered(replies), shown(replies)
    # the follow-ups name no service: they are about the duplicate licence
    replies = phone.says("how long will it take?")
    said = phone.all_text(replies)
    assert "Duplicate Driving Licence" in said and "7 days" in said, shown(replies)
    assert "Which service" not in said, shown(replies)
    replies = phone.says("and the fee?")
    said = phone.all_text(replies)
    assert "Duplicate Driving Licence" in said and "₹200" in said, shown(replies)
    assert phone.repeated_questions() == 0


def test_an_unanswerable_question_gets_i_dont_know_the_menu_and_an_officer(
    citizen: Callable[..., Citizen],
) -> None:
    phone = citizen(minimum=1, name="question: not in the knowledge base")
    replies = phone.says("how do I apply for a passport?")
    said = phone.all_text(replies)
    assert any(idk in said for idk in IDK), shown(replies)
    assert any(o in offered(replies) for o in OFFICER), shown(replies)
    assert any(r.rows or r.buttons for r in replies), shown(replies)
