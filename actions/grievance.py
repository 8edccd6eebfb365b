"""Complaints (grievances), their status, and feedback on the service."""

from __future__ import annotations

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
    grievance_categories,
    is_skip,
    lang,
    latest_user_metadata,
    new_key,
    show_date,
)
from indic_nlu.text import normalize, phonetic_key

_GRIEVANCE_ID = re.compile(r"grv\D*(\d{4})\D*(\d{6})", re.IGNORECASE)
_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
MIN_DESCRIPTION = 10
GRIEVANCE_SLOTS = ("grievance_category", "grievance_description", "grievance_location")
SHOWN_GRIEVANCES = 5


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
    )
    level = int(grievance.get("escalation_level") or 0)
    if level and grievance.get("status") in ("open", "in_progress"):
        dispatcher.utter_message(response="utter_grievance_escalated", level=level)


class ActionGrievanceStatus(Action):
    def name(self) -> str:
        return "action_grievance_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        language = lang(tracker)
        api = clients().grievance
        grievance_id = None
        for value in tracker.get_latest_entity_values("grievance_id"):
            match = _GRIEVANCE_ID.search(str(value))
            if match:
                grievance_id = f"GRV-{match.group(1)}-{match.group(2)}"
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


class ValidateFeedbackForm(FormValidationAction):
    def name(self) -> str:
        return "validate_feedback_form"

    async def validate_feedback_rating(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        digits = re.findall(r"[1-5]", str(value or "").translate(_DIGITS))
        if len(set(digits)) != 1:
            dispatcher.utter_message(response="utter_invalid_rating")
            return {"feedback_rating": None}
        return {"feedback_rating": digits[0]}

    async def validate_feedback_comment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split())[:1000]
        return {"feedback_comment": "-" if is_skip(text) else text}


class ActionSendFeedback(Action):
    def name(self) -> str:
        return "action_send_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        comment = tracker.get_slot("feedback_comment")
        result = await call(
            clients().feedback.send,
            citizen_id=tracker.sender_id,
            rating=int(tracker.get_slot("feedback_rating") or 0),
            comment=None if comment in (None, "-") else comment,
            application_id=None,
            language=lang(tracker),
        )
        dispatcher.utter_message(
            response="utter_feedback_thanks" if result.ok else "utter_backend_unavailable"
        )
        return [SlotSet("feedback_rating", None), SlotSet("feedback_comment", None)]


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
