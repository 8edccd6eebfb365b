"""Complaints (grievances), their status, and feedback on the service.

Feedback about a resolved grievance is linked to it: the "Give feedback" button of the
resolution notice (and of a resolved grievance's status) names the grievance, and
feedback typed without a number goes to the citizen's latest grievance awaiting it. The
citizen first says whether the problem is really solved: yes, they rate it and the
grievance is closed; no, they say what is still wrong and it is reopened.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.api import clients
from actions.common import (
    call,
    catalogue,
    intent_of,
    is_skip,
    lang,
    latest_user_metadata,
    new_key,
    show_date,
)
from indic_nlu.text import ascii_digits, normalize, phonetic_key
from service_catalogue.lists import grievance_categories

_GRIEVANCE_ID = re.compile(r"grv\D*(\d{4})\D*(\d{6})", re.IGNORECASE)
MIN_DESCRIPTION = 10
GRIEVANCE_SLOTS = ("grievance_category", "grievance_description", "grievance_location")
SHOWN_GRIEVANCES = 5
#: ``feedback_grievance`` when the feedback is about the service in general, and when
#: the named grievance takes no feedback (already rated, not resolved yet)
GENERAL, NOT_DUE = "-", "not_due"
_NO_WORDS = ("nahi", "nahin", "nhi", "नहीं", "नही", "no", "not", "abhi bhi", "अभी भी", "still")
_YES_WORDS = (
    "haan",
    "han",
    "haa",
    "हां",
    "yes",
    "ji",
    "जी",
    "solved",
    "ho gaya",
    "ho gayi",
    "हो गया",
    "हो गई",
)
_SEPARATORS = re.compile(r"[\s,.!?।]+")


def match_category(text: str) -> str | None:
    """A category id from a button payload, a title in either language or its sound."""
    wanted = normalize(text.strip()).text
    key = "".join(phonetic_key(w) for w in wanted.split())
    for category_id, category in grievance_categories().items():
        titles = [category_id, *category["title"].values()]
        for title in titles:
            normalized = normalize(title).text
            if wanted == normalized or (
                len(key) >= 3 and key == "".join(phonetic_key(w) for w in normalized.split())
            ):
                return str(category_id)
    return None


def category_buttons(language: str) -> list[dict[str, str]]:
    return [
        {"title": c["title"].get(language) or c["title"]["en"], "payload": str(category_id)}
        for category_id, c in grievance_categories().items()
    ]


class ValidateGrievanceForm(FormValidationAction):
    def name(self) -> str:
        return "validate_grievance_form"

    async def validate_grievance_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        category = match_category(str(value or ""))
        if category is None:
            dispatcher.utter_message(response="utter_invalid_choice_unknown")
            return {"grievance_category": None}
        return {"grievance_category": category, "grievance_key": new_key()}

    async def validate_grievance_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        if len(text) < MIN_DESCRIPTION:
            dispatcher.utter_message(response="utter_grievance_too_short")
            return {"grievance_description": None}
        if len(text) > 2000:
            dispatcher.utter_message(response="utter_invalid_too_long")
            return {"grievance_description": None}
        return {"grievance_description": text}

    async def validate_grievance_location(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split())[:300]
        return {"grievance_location": "-" if is_skip(text) else text}


class ActionAskGrievanceCategory(Action):
    def name(self) -> str:
        return "action_ask_grievance_category"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            response="utter_ask_grievance_category", buttons=category_buttons(lang(tracker))
        )
        return []


async def register_grievance(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[dict[str, Any]]:
    category_id = tracker.get_slot("grievance_category")
    category = grievance_categories().get(category_id or "")
    key = tracker.get_slot("grievance_key")
    if category is None or not key:
        return [SlotSet(s, None) for s in GRIEVANCE_SLOTS]
    language = lang(tracker)
    location_text = tracker.get_slot("grievance_location")
    location: dict[str, Any] = {}
    if location_text and location_text != "-":
        location["text"] = location_text
    shared = latest_user_metadata(tracker).get("location")
    if isinstance(shared, dict):
        location.update({k: shared[k] for k in ("latitude", "longitude") if k in shared})
    result = await call(
        clients().grievance.register,
        citizen_id=tracker.sender_id,
        category=category_id,
        department=category["department"],
        description=tracker.get_slot("grievance_description"),
        location=location or None,
        attachment=None,
        language=language,
        idempotency_key=key,
    )
    if not result.ok and result.error in ("timeout", "unavailable"):
        dispatcher.utter_message(response="utter_submission_failed")
        return [SlotSet("submission_pending", True), SlotSet("pending_kind", "grievance")]
    if not result.ok:
        dispatcher.utter_message(response="utter_submission_rejected", reason=result.error or "")
    else:
        department = catalogue().departments.get(category["department"])
        dispatcher.utter_message(
            response="utter_grievance_registered",
            grievance_id=result.data.get("grievance_id"),
            department=department.title(language) if department else category["department"],
            sla_due=show_date(result.data.get("sla_due")),
        )
    return [
        *[SlotSet(s, None) for s in GRIEVANCE_SLOTS],
        SlotSet("grievance_key", None),
        SlotSet("submission_pending", False),
        SlotSet("pending_kind", None),
    ]


class ActionRegisterGrievance(Action):
    def name(self) -> str:
        return "action_register_grievance"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        return await register_grievance(dispatcher, tracker)


def say_grievance(
    dispatcher: CollectingDispatcher, grievance: dict[str, Any], language: str
) -> None:
    category = grievance_categories().get(str(grievance.get("category")), {})
    title = (category.get("title") or {}).get(language) or grievance.get("category")
    history = grievance.get("history") or []
    message = next((h.get("message") for h in reversed(history) if h.get("message")), "")
    dispatcher.utter_message(
        response=f"utter_grievance_status_{grievance.get('status')}",
        grievance_id=grievance.get("grievance_id"),
        category=title,
        sla_due=show_date(grievance.get("sla_due")),
        message=message or "",
        # a resolved one asks whether the problem is solved (its feedback button)
        feedback_payload=feedback_payload(grievance.get("grievance_id")),
    )
    level = int(grievance.get("escalation_level") or 0)
    if level and grievance.get("status") in ("open", "in_progress"):
        dispatcher.utter_message(response="utter_grievance_escalated", level=level)


def grievance_id_from(tracker: Tracker) -> str | None:
    """The grievance number in the latest message, as ``GRV-YYYY-NNNNNN``."""
    for value in tracker.get_latest_entity_values("grievance_id"):
        match = _GRIEVANCE_ID.search(str(value))
        if match:
            return f"GRV-{match.group(1)}-{match.group(2)}"
    return None


def feedback_payload(grievance_id: object) -> str:
    """What the "Give feedback" button about this grievance sends (as the notice's)."""
    return "/give_feedback" + json.dumps({"grievance_id": str(grievance_id)})


class ActionGrievanceStatus(Action):
    def name(self) -> str:
        return "action_grievance_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        language = lang(tracker)
        api = clients().grievance
        grievance_id = grievance_id_from(tracker)
        if grievance_id:
            result = await call(api.get, citizen_id=tracker.sender_id, grievance_id=grievance_id)
            if result.ok:
                say_grievance(dispatcher, result.data, language)
            elif result.error == "not_found":
                dispatcher.utter_message(
                    response="utter_grievance_not_found", grievance_id=grievance_id
                )
            else:
                dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        listed = await call(api.list, citizen_id=tracker.sender_id)
        if not listed.ok:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        grievances = list(listed.data.get("grievances") or [])
        if not grievances:
            dispatcher.utter_message(response="utter_no_grievances")
        for grievance in grievances[:SHOWN_GRIEVANCES]:
            say_grievance(dispatcher, grievance, language)
        return []


async def grievance_for_feedback(dispatcher: CollectingDispatcher, tracker: Tracker) -> str:
    """The grievance this feedback is about: the one the message names (the button of
    its resolution notice), else the citizen's most recently resolved one that awaits
    feedback; :data:`GENERAL` for none, :data:`NOT_DUE` (after saying why) when the
    named one takes no feedback."""
    api = clients().grievance
    named = grievance_id_from(tracker)
    if named:
        found = await call(api.get, citizen_id=tracker.sender_id, grievance_id=named)
        status = found.data.get("status") if found.ok else None
        if status == "resolved":
            return named
        if status is None:  # not theirs, or the backend did not answer: general feedback
            return GENERAL
        response = "utter_grievance_already_rated" if status == "closed" else None
        dispatcher.utter_message(
            response=response or "utter_grievance_not_resolved_yet", grievance_id=named
        )
        return NOT_DUE
    listed = await call(api.list, citizen_id=tracker.sender_id)
    if not listed.ok:
        return GENERAL
    resolved = [g for g in listed.data.get("grievances") or [] if g.get("status") == "resolved"]
    if not resolved:
        return GENERAL
    latest = max(resolved, key=lambda g: (str(g.get("resolved_at") or ""), g["grievance_id"]))
    return str(latest["grievance_id"])


def linked_grievance(tracker: Tracker) -> str | None:
    value = tracker.get_slot("feedback_grievance")
    return None if value in (None, GENERAL, NOT_DUE) else str(value)


class ValidateFeedbackForm(FormValidationAction):
    """Rating and comment; about a resolved grievance, first whether it is solved."""

    def name(self) -> str:
        return "validate_feedback_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        grievance = tracker.get_slot("feedback_grievance")
        if grievance == NOT_DUE:
            return ["feedback_grievance"]  # nothing to ask
        if grievance in (None, GENERAL):
            return ["feedback_grievance", "feedback_rating", "feedback_comment"]
        if tracker.get_slot("grievance_solved") is False:
            return ["feedback_grievance", "grievance_solved", "feedback_comment"]
        return ["feedback_grievance", "grievance_solved", "feedback_rating", "feedback_comment"]

    async def extract_feedback_grievance(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Decided once, when the form starts (nothing is requested yet); a value left
        from an earlier, cancelled feedback is not reused."""
        if tracker.get_slot("requested_slot") and tracker.get_slot("feedback_grievance"):
            return {}
        grievance = await grievance_for_feedback(dispatcher, tracker)
        return {
            "feedback_grievance": grievance,
            "grievance_solved": None,
            "feedback_rating": None,
            "feedback_comment": None,
        }

    async def validate_feedback_grievance(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"feedback_grievance": value}  # decided by extract_feedback_grievance

    async def validate_grievance_solved(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The Yes/No buttons, or typed: "haan ho gaya", "नहीं, अभी भी पानी नहीं", ..."""
        if value is None:  # cleared as the form starts
            return {"grievance_solved": None}
        intent = intent_of(tracker)
        text = normalize(str(value or "")).text.casefold()
        words = [w for w in _SEPARATORS.split(text) if w]
        phrase = " ".join(words)

        def says(vocabulary: tuple[str, ...]) -> bool:
            return any(w in words or (" " in w and w in phrase) for w in vocabulary)

        if intent == "deny" or says(_NO_WORDS):  # "हल नहीं हुआ": the "no" decides
            return {"grievance_solved": False}
        if intent == "affirm" or says(_YES_WORDS):
            return {"grievance_solved": True}
        dispatcher.utter_message(response="utter_answer_yes_or_no")
        return {"grievance_solved": None}

    async def validate_feedback_rating(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:  # cleared as the form starts
            return {"feedback_rating": None}
        digits = re.findall(r"[1-5]", ascii_digits(str(value)))
        if len(set(digits)) != 1:
            dispatcher.utter_message(response="utter_invalid_rating")
            return {"feedback_rating": None}
        return {"feedback_rating": digits[0]}

    async def validate_feedback_comment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:  # cleared as the form starts
            return {"feedback_comment": None}
        text = " ".join(str(value).split())[:1000]
        return {"feedback_comment": "-" if is_skip(text) else text}


class ActionAskFeedbackRating(Action):
    def name(self) -> str:
        return "action_ask_feedback_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        grievance = linked_grievance(tracker)
        if grievance:
            dispatcher.utter_message(response="utter_ask_grievance_rating", grievance_id=grievance)
        else:
            dispatcher.utter_message(response="utter_ask_feedback_rating")
        return []


class ActionAskFeedbackComment(Action):
    def name(self) -> str:
        return "action_ask_feedback_comment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        grievance = linked_grievance(tracker)
        if grievance and tracker.get_slot("grievance_solved") is False:
            dispatcher.utter_message(
                response="utter_ask_grievance_still_wrong", grievance_id=grievance
            )
        else:
            dispatcher.utter_message(response="utter_ask_feedback_comment")
        return []


FEEDBACK_SLOTS = ("feedback_rating", "feedback_comment", "feedback_grievance", "grievance_solved")


class ActionSendFeedback(Action):
    """General feedback to ``POST /feedback``; about a grievance: rated and closed, or
    reopened when the citizen says the problem is not solved."""

    def name(self) -> str:
        return "action_send_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        reset = [SlotSet(slot, None) for slot in FEEDBACK_SLOTS]
        if tracker.get_slot("feedback_grievance") == NOT_DUE:
            return reset  # already told why there is nothing to record
        comment = tracker.get_slot("feedback_comment")
        comment = None if comment in (None, "-") else str(comment)
        rating = int(tracker.get_slot("feedback_rating") or 0)
        grievance = linked_grievance(tracker)
        api = clients().grievance
        if grievance and tracker.get_slot("grievance_solved") is False:
            result = await call(
                api.reopen, citizen_id=tracker.sender_id, grievance_id=grievance, comment=comment
            )
            if result.ok:
                dispatcher.utter_message(
                    response="utter_grievance_reopened",
                    grievance_id=grievance,
                    sla_due=show_date(result.data.get("sla_due")),
                )
        elif grievance:
            result = await call(
                api.feedback,
                citizen_id=tracker.sender_id,
                grievance_id=grievance,
                rating=rating,
                comment=comment,
            )
            if result.ok:
                dispatcher.utter_message(
                    response="utter_grievance_closed", grievance_id=grievance, rating=rating
                )
        else:
            result = await call(
                clients().feedback.send,
                citizen_id=tracker.sender_id,
                rating=rating,
                comment=comment,
                application_id=None,
                language=lang(tracker),
            )
            if result.ok:
                dispatcher.utter_message(response="utter_feedback_thanks")
        if not result.ok and grievance and result.error == "conflict":
            # rated or reopened meanwhile (a second tap, another device)
            dispatcher.utter_message(
                response="utter_grievance_already_rated", grievance_id=grievance
            )
        elif not result.ok:
            dispatcher.utter_message(response="utter_backend_unavailable")
        return reset


class ActionRetrySubmission(Action):
    """The citizen tapped "Try again" after a submission failed."""

    def name(self) -> str:
        return "action_retry_submission"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        from actions.application import submit_application

        if tracker.get_slot("pending_kind") == "grievance":
            return await register_grievance(dispatcher, tracker)
        return await submit_application(dispatcher, tracker)
