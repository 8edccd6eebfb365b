"""A complaint from filing to the citizen's verdict, and a citizen's notifications in the
order of the events, through the whole system as `make run` wires it.

Issue 11, defects 11 (feedback after a resolution, typed or through the "प्रतिक्रिया दें"
button, was saved as general feedback: the grievance stayed ``resolved`` with no
feedback, never closed) and 12 ("आपका प्रमाणपत्र तैयार है" arrived before "…सत्यापन हो
गया है" after an officer verified and then approved). The officer acts through the
backends' API with the officer token, as the department's systems do.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import requests

from tests.journeys.phone import Citizen, Reply
from tests.support.backends import Backend

GRIEVANCE_ID = re.compile(r"GRV-\d{4}-\d{6}")
WAIT = 60.0


def shown(replies: list[Reply]) -> str:
    return "\n".join(str(r) for r in replies)


def officer_acts(backend: Backend, grievance_id: str, action: str, **body: Any) -> dict[str, Any]:
    answer = requests.post(
        f"{backend.url}/grievances/{grievance_id}/actions",
        json={"action": action, **body},
        headers=backend.officer("je-djb-12"),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def in_backend(backend: Backend, grievance_id: str) -> dict[str, Any]:
    answer = requests.get(
        f"{backend.url}/grievances/{grievance_id}", headers=backend.officer(), timeout=30
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def file_complaint(phone: Citizen, opening: list[str], steps: list[tuple[str, str]]) -> str:
    """Greets, consents, asks to complain and answers the form; the grievance id."""
    replies: list[Reply] = []
    for text in opening:
        replies = phone.says(text)
    for how, what in steps:
        replies = phone.taps(what) if how == "tap" else phone.says(what)
    found = GRIEVANCE_ID.search(phone.all_text(replies))
    assert found, shown(replies)
    return found.group(0)


def resolution_notice(phone: Citizen, grievance_id: str) -> Reply:
    return phone.waits_for(lambda r: grievance_id in r.text and bool(r.options), WAIT)


def test_hinglish_complaint_status_in_other_words_resolved_then_rated_and_closed(
    citizen: Callable[..., Citizen], system: Any
) -> None:
    # hello, consent, the complaint, category, description, location; the status; the
    # notice's button, "solved", the rating, a comment
    phone = citizen(minimum=6 + 1 + 4, name="grievance (Hinglish): file, status, rate")
    grievance_id = file_complaint(
        phone,
        ["namaste ji", "haan", "mere gali me 3 din se pani nahi aa raha, shikayat karni hai"],
        [
            ("tap", "पानी की आपूर्ति"),
            ("say", "Gali 4 me 3 din se nal me pani nahi aa raha, tanker bhi nahi aaya"),
            ("say", "Gali 4, Shakarpur, Delhi 110092"),
        ],
    )
    assert in_backend(system.backend, grievance_id)["status"] == "open"

    status = phone.says("meri shikayat ka kya hua")
    assert grievance_id in phone.all_text(status), shown(status)
    assert "दर्ज" in phone.all_text(status), shown(status)

    officer_acts(system.backend, grievance_id, "assign")
    officer_acts(system.backend, grievance_id, "resolve", message="Naya pipe laga diya gaya hai.")
    notice = resolution_notice(phone, grievance_id)
    assert "समाधान" in notice.text and notice.buttons == ["प्रतिक्रिया दें"], str(notice)

    asked = phone.taps("प्रतिक्रिया दें")
    assert grievance_id in phone.all_text(asked), shown(asked)
    assert asked[-1].buttons == ["हाँ, हल हो गई", "नहीं, हल नहीं हुई"], shown(asked)
    rating = phone.taps("हाँ")
    assert grievance_id in rating[-1].text and "4 ⭐" in rating[-1].rows, shown(rating)
    phone.taps("4 ⭐")
    done = phone.says("bahut jaldi theek ho gaya, dhanyavaad")
    assert grievance_id in phone.all_text(done) and "बंद" in phone.all_text(done), shown(done)

    closed = in_backend(system.backend, grievance_id)
    assert closed["status"] == "closed"
    assert closed["feedback"] == {"rating": 4, "comment": "bahut jaldi theek ho gaya, dhanyavaad"}
    assert phone.repeated_questions() == 0


def test_not_solved_reopens_then_typed_feedback_after_the_next_notice_closes(
    citizen: Callable[..., Citizen], system: Any
) -> None:
    phone = citizen(name="grievance (English): not solved, then typed feedback")
    grievance_id = file_complaint(
        phone,
        ["Hi", "Yes, I agree", "I want to complain about a street light"],
        [
            ("tap", "Street light"),
            ("say", "The street light outside house 12 has been off for a week"),
            ("say", "Lajpat Nagar II, near the park"),
        ],
    )
    officer_acts(system.backend, grievance_id, "assign")
    officer_acts(system.backend, grievance_id, "resolve", message="Bulb replaced.")
    resolution_notice(phone, grievance_id)

    # "was not solved", in the citizen's words: the status, and the way to say so
    status = phone.says(f"my complaint {grievance_id} was not solved")
    assert "resolved" in status[-1].text and status[-1].buttons == ["Give feedback"], shown(status)
    asked = phone.taps("Give feedback")
    assert grievance_id in asked[-1].text, shown(asked)
    wrong = phone.taps("No, not solved")
    assert "still wrong" in wrong[-1].text, shown(wrong)
    reopened = phone.says("The light is still off at night")
    assert grievance_id in reopened[-1].text and "reopened" in reopened[-1].text, shown(reopened)
    back = in_backend(system.backend, grievance_id)
    assert (back["status"], back["feedback"]) == ("in_progress", None)
    assert back["history"][-1]["comment"] == "The light is still off at night"

    # resolved again; feedback typed right after the notice, no button, no number
    officer_acts(system.backend, grievance_id, "resolve", message="Wiring repaired.")
    second = phone.waits_for(
        lambda r: grievance_id in r.text and bool(r.options) and r.seq > reopened[-1].seq, WAIT
    )
    assert second.buttons == ["Give feedback"], str(second)
    asked = phone.says("Thanks a lot, the street light is working now. 5 stars")
    assert grievance_id in asked[-1].text and "solved" in asked[-1].text, shown(asked)
    phone.says("yes")
    phone.says("5")
    done = phone.taps("Skip")
    assert grievance_id in done[-1].text and "closed" in done[-1].text, shown(done)
    closed = in_backend(system.backend, grievance_id)
    assert (closed["status"], closed["feedback"]) == ("closed", {"rating": 5, "comment": None})


# --------------------------------------------------------------------------- defect 12

VERIFIED, READY = "सत्यापन हो गया है", "आपका प्रमाणपत्र तैयार है"
CHARACTER = {
    "applicant_name": "Ravi Kumar",
    "father_name": "Suresh Kumar",
    "date_of_birth": "1990-03-12",
    "address": "House 12, Gali 3, Laxmi Nagar, Delhi",
    "purpose": "job",
}


def submitted_application(backend: Backend, wa_id: str) -> str:
    """A police character certificate (no fee) filed and submitted for this citizen."""
    headers = backend.citizen(wa_id)
    created = requests.post(
        f"{backend.url}/edistrict/applications",
        json={"service_id": "character_certificate", "fields": CHARACTER, "language": "hi"},
        headers=headers,
        timeout=30,
    )
    assert created.status_code == 201, created.text
    app_id = str(created.json()["application_id"])
    for doc in ("identity_proof", "address_proof", "photo"):
        attached = requests.post(
            f"{backend.url}/edistrict/applications/{app_id}/documents",
            json={
                "document_id": doc,
                "filename": f"{doc}.jpg",
                "mime_type": "image/jpeg",
                "size": 1000,
                "sha256": "ab" * 32,
                "storage_ref": f"uploads/{doc}",
            },
            headers=headers,
            timeout=30,
        )
        assert attached.status_code == 201, attached.text
    submitted = requests.post(
        f"{backend.url}/edistrict/applications/{app_id}/submit",
        json={},
        headers=headers,
        timeout=30,
    )
    assert submitted.json()["status"] == "submitted", submitted.text
    return app_id


def officer_decides(backend: Backend, app_id: str, action: str) -> None:
    answer = requests.post(
        f"{backend.url}/edistrict/applications/{app_id}/actions",
        json={"action": action},
        headers=backend.officer("officer-1"),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


def order_on_the_phone(phone: Citizen, app_id: str) -> list[str]:
    """The application's status messages as the phone shows them, oldest first."""
    return [
        ("verified" if VERIFIED in r.text else "ready")
        for r in phone.inbox()
        if app_id in r.text and (VERIFIED in r.text or READY in r.text)
    ]


def until(condition: Callable[[], Any], what: str, seconds: float = WAIT) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        assert time.monotonic() < deadline, f"{what}: not within {seconds:.0f} s"
        time.sleep(0.2)
    return found


def notification_rows(backend: Backend, app_id: str) -> list[dict[str, Any]]:
    answer = requests.get(
        f"{backend.url}/notifications",
        params={"subject_id": app_id},
        headers=backend.officer(),
        timeout=30,
    )
    return list(answer.json()["notifications"])


def emulator_config(system: Any, **values: Any) -> None:
    answer = requests.post(f"{system.emulator.url}/emulator/config", json=values, timeout=10)
    assert answer.status_code == 200, answer.text


def test_verified_then_approved_arrive_in_that_order_even_when_the_first_is_retried(
    citizen: Callable[..., Citizen], system: Any
) -> None:
    phone = citizen()
    phone.says("नमस्ते")
    phone.taps("हाँ")  # the privacy notice: a conversation, so free-form messages
    apps = [submitted_application(system.backend, phone.wa_id) for _ in range(4)]

    for app_id in apps[:3]:  # verified and at once approved, three times
        officer_decides(system.backend, app_id, "verify")
        officer_decides(system.backend, app_id, "approve")
    for app_id in apps[:3]:
        until(lambda a=app_id: len(order_on_the_phone(phone, a)) == 2, f"{app_id} messages")
        assert order_on_the_phone(phone, app_id) == ["verified", "ready"]

    # WhatsApp throttles the "verified" message (the channel answers 503): the backend
    # retries it after a back-off, and "ready", queued meanwhile, waits for it
    last = apps[3]
    emulator_config(system, throttle_rate=1.0)
    try:
        officer_decides(system.backend, last, "verify")
        until(
            lambda: any(
                r["error"] == "channel_unavailable" for r in notification_rows(system.backend, last)
            ),
            "the verified message refused once",
        )
    finally:
        emulator_config(system, throttle_rate=0.0)
    officer_decides(system.backend, last, "approve")
    until(lambda: len(order_on_the_phone(phone, last)) == 2, "both messages", 90)
    assert order_on_the_phone(phone, last) == ["verified", "ready"]
    verified, ready = notification_rows(system.backend, last)
    assert verified["attempts"] >= 2  # the first one really was refused and retried
