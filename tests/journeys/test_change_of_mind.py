"""A citizen changes their mind in the middle of a form: asks something, taps "Apply
now" on the answer, switches to another service, or cancels. Nothing they gave is
dropped unless they chose to drop it."""

from collections.abc import Callable

from tests.journeys import files
from tests.journeys.phone import Citizen, Reply


def shown(replies: list[Reply]) -> str:
    return "\n".join(str(r) for r in replies)


def start_income_certificate(phone: Citizen) -> None:
    phone.says("namaste ji, mujhe income certificate banwana hai")
    replies = phone.says("haan")
    assert "सवाल 1/7" in replies[-1].text, shown(replies)


def test_apply_now_tapped_mid_form_keeps_every_answer(citizen: Callable[..., Citizen]) -> None:
    phone = citizen(minimum=9, name="Apply now tapped mid-form (hinglish)")
    start_income_certificate(phone)
    phone.says("Rajesh Kumar Sharma")
    replies = phone.says("kitne din lagega?")  # a follow-up in the middle of the form
    assert "21 दिन" in phone.all_text(replies), shown(replies)
    assert "सवाल 2/7" in replies[-1].text, shown(replies)  # and the question again
    # the answer offers "Apply now": tapping it carries on, it does not start over
    replies = phone.taps("अभी आवेदन करें")
    said = phone.all_text(replies)
    assert "पहले से" in said and "सवाल 2/7" in replies[-1].text, shown(replies)
    assert "सवाल 1/7" not in said, shown(replies)
    for answer in ("Shrikrishan Prasad", "makan 12 gali 3 laxmi nagar delhi", "110092"):
        phone.says(answer)
    replies = phone.says("dedh lakh")
    assert "सवाल 6/7" in replies[-1].text, shown(replies)


def test_apply_now_tapped_at_a_document_step_is_not_taken_as_a_missing_file(
    citizen: Callable[..., Citizen],
) -> None:
    phone = citizen(name="Apply now tapped at a document step")
    start_income_certificate(phone)
    for answer in (
        "Rajesh Kumar Sharma",
        "Shrikrishan Prasad",
        "makan 12 gali 3 laxmi nagar delhi",
        "110092",
        "dedh lakh salana",
        "naukri",
        "scholarship ke liye",
    ):
        replies = phone.says(answer)
    assert "फ़ोटो या PDF" in replies[-1].text, shown(replies)
    phone.says("kitne din lagenge")
    replies = phone.taps("अभी आवेदन करें")
    said = phone.all_text(replies)
    assert "फ़ाइल चाहिए" not in said and "सवाल 1/7" not in said, shown(replies)
    assert "पहचान का प्रमाण" in replies[-1].text, shown(replies)  # the same document
    replies = phone.attaches(files.camera_jpeg())
    assert "मिल गया" in phone.all_text(replies), shown(replies)


def test_another_service_mid_form_starts_that_one_and_cancel_ends_it(
    citizen: Callable[..., Citizen],
) -> None:
    phone = citizen(name="change of mind: another service, then cancel (en)")
    phone.says("I want an income certificate")
    replies = phone.says("Yes, I agree")
    assert "Question 1 of 7" in replies[-1].text, shown(replies)
    phone.says("Rajesh Kumar Sharma")
    replies = phone.says("actually I want to apply for a domicile certificate instead")
    said = phone.all_text(replies)
    assert "Domicile Certificate" in said and "Question 1 of" in replies[-1].text, shown(replies)
    replies = phone.says("cancel")
    assert "cancel" in phone.all_text(replies).lower(), shown(replies)
    replies = phone.says("what is the status of my application?")
    assert "Question" not in phone.all_text(replies), shown(replies)  # no form resumes


def test_apply_for_it_after_questions_about_a_service_starts_that_service(
    citizen: Callable[..., Citizen],
) -> None:
    phone = citizen(minimum=5, name="questions, then 'ok apply for it' (en)")
    phone.says("Good morning, I need some help")
    phone.taps("Yes, I agree")
    replies = phone.says("how much fee for caste certifcate and what documents?")
    assert "Caste Certificate" in phone.all_text(replies), shown(replies)
    replies = phone.says("and how long will it take?")
    assert "14 days" in phone.all_text(replies), shown(replies)
    replies = phone.says("ok apply for it")
    said = phone.all_text(replies)
    assert "Which service" not in said, shown(replies)
    assert "Caste Certificate" in said and "Question 1 of" in replies[-1].text, shown(replies)
    assert phone.repeated_questions() == 0


def test_iske_liye_apply_karna_hai_after_asking_in_hinglish(
    citizen: Callable[..., Citizen],
) -> None:
    phone = citizen(minimum=4, name="question, then 'iske liye apply karna hai' (hinglish)")
    phone.says("namaste")
    phone.taps("हाँ")
    replies = phone.says("domicile certificate ke liye kya kya documents chahiye")
    assert "निवास" in phone.all_text(replies), shown(replies)
    replies = phone.says("theek hai iske liye apply karna hai")
    said = phone.all_text(replies)
    assert "किस सेवा" not in said, shown(replies)
    assert "सवाल 1/" in replies[-1].text, shown(replies)


def test_a_free_question_mid_form_is_answered_and_not_stored_as_the_answer(
    citizen: Callable[..., Citizen],
) -> None:
    phone = citizen(name="a free question in the middle of a form (en)")
    phone.says("I want an income certificate")
    phone.says("Yes, I agree")
    replies = phone.says("my certificate has a spelling mistake, what do I do?")
    said = phone.all_text(replies)
    assert "Question 1 of 7" in replies[-1].text, shown(replies)  # asked again, not stored
    assert "letters only" not in said, shown(replies)
    replies = phone.says("Rajesh Kumar Sharma")
    assert "Question 2 of 7" in replies[-1].text, shown(replies)
