"""DPDP consent: recorded with the notice version and the time, withdrawn as easily.

Withdrawing stops all processing of the citizen's personal data: any form in progress is
dropped and the backends stop every message to them (status updates, reminders,
announcements). Giving consent again turns status updates back on.

What the citizen asked for before consenting is not forgotten: the consent gate
(data/rules/consent_gate.yml) remembers the request (``action_remember_request``) and,
once consent is given, ``action_resume_request`` continues it. A form's rule
(data/rules/welcome.yml) starts the form with what was already said (the service, the
complaint's category); anything else (status, payment, download) is run right away, as
if the citizen had asked again. Declining, or moving on to something else, drops it
(``actions.language.pending_after``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import config
from actions.api import clients
from actions.application import reset_form
from actions.channel import ActionMainMenu
from actions.common import call, catalogue
from actions.grievance import ActionGrievanceStatus, match_category
from actions.services import words
from actions.tracking import ActionCheckStatus, ActionDownloadCertificate, ActionPayFee
from service_catalogue.lists import grievance_categories

ALL_MESSAGES_OFF = {"status_updates": False, "broadcasts": False, "reminders": False}


# Requests that need consent and are continued once it is given: a form (its rule in
# data/rules/welcome.yml starts it) or an action run again with the request's entities.
FORM_REQUESTS = {"apply_service": "application_form", "file_grievance": "grievance_form"}
ACTION_REQUESTS: dict[str, type[Action]] = {
    "check_status": ActionCheckStatus,
    "pay_fee": ActionPayFee,
    "download_certificate": ActionDownloadCertificate,
    "grievance_status": ActionGrievanceStatus,
}
PENDING_REQUESTS = frozenset(FORM_REQUESTS) | frozenset(ACTION_REQUESTS)
# Entities worth keeping: what the request was about, never free text.
KEPT_ENTITIES = ("service", "department", "application_id", "grievance_id")
# The catch-all category is the citizen's own choice, never guessed from their words.
GUESSED_CATEGORY_EXCLUDED = frozenset({"other"})


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def leave_forms() -> list[dict[str, Any]]:
    """Ends any form in progress and forgets what it had collected."""
    return [ActiveLoop(None), *reset_form()]


class ActionRecordConsent(Action):
    def name(self) -> str:
        return "action_record_consent"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        if tracker.get_slot("consent_time"):  # consent given before, then withdrawn
            result = await call(
                clients().citizens.update_preferences,
                tracker.sender_id,
                {"status_updates": True},
            )
            if not result.ok:
                dispatcher.utter_message(response="utter_updates_not_resumed")
        return [
            SlotSet("consent_given", True),
            SlotSet("consent_version", config.CONSENT_NOTICE_VERSION),
            SlotSet("consent_time", utc_now()),
        ]


def category_in(text: str, service_id: str | None) -> str | None:
    """The complaint's category when the citizen already said it: a service of the only
    department with one category ("ration card nahi bana" -> ration), or a category's
    name among their words ("pension nahi mili" -> pension)."""
    service = catalogue().services.get(service_id or "")
    if service is not None:
        same_department = [
            category_id
            for category_id, category in grievance_categories().items()
            if category["department"] == service.department
        ]
        if len(same_department) == 1:
            return str(same_department[0])
    said = words(text)
    for size in (3, 2, 1):
        for start in range(len(said) - size + 1):
            category = match_category(" ".join(said[start : start + size]))
            if category and category not in GUESSED_CATEGORY_EXCLUDED:
                return category
    return None


def forget_request() -> list[dict[str, Any]]:
    return [SlotSet("pending_request", None), SlotSet("pending_entities", None)]


class ActionRememberRequest(Action):
    """Run by the consent gate: keeps what was asked (intent and the entities that say
    what it is about) until the citizen answers the privacy notice."""

    def name(self) -> str:
        return "action_remember_request"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        latest = tracker.latest_message or {}
        intent = (latest.get("intent") or {}).get("name")
        if intent not in PENDING_REQUESTS:
            return forget_request()
        entities = [
            {"entity": e["entity"], "value": e["value"]}
            for e in latest.get("entities") or []
            if e.get("entity") in KEPT_ENTITIES and isinstance(e.get("value"), str)
        ]
        if intent == "file_grievance":
            service = next((e["value"] for e in entities if e["entity"] == "service"), None)
            category = category_in(str(latest.get("text") or ""), service)
            if category:
                entities.append({"entity": "grievance_category", "value": category})
        return [SlotSet("pending_request", intent), SlotSet("pending_entities", entities)]


def entity_value(entities: list[dict[str, Any]], name: str) -> str | None:
    return next((str(e["value"]) for e in entities if e.get("entity") == name), None)


class ActionResumeRequest(Action):
    """Right after consent: continues the request made before it, else the main menu.

    A form request sets what the citizen already said (the form's rule then starts the
    form, which takes it as answered); any other request is run now, with the entities
    of the message that asked for it.
    """

    def name(self) -> str:
        return "action_resume_request"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        intent = tracker.get_slot("pending_request")
        kept = tracker.get_slot("pending_entities")
        entities = [e for e in kept if isinstance(e, dict)] if isinstance(kept, list) else []
        events = forget_request()
        if intent == "apply_service":
            service = entity_value(entities, "service")
            if service in catalogue().services:
                events.append(SlotSet("service", service))
            return events
        if intent == "file_grievance":
            category = entity_value(entities, "grievance_category")
            if category in grievance_categories():
                events.append(SlotSet("grievance_category", category))
            return events
        action = ACTION_REQUESTS.get(str(intent))
        if action is None:
            return [*events, *await ActionMainMenu().run(dispatcher, tracker, domain)]
        asked = Tracker(
            tracker.sender_id,
            tracker.slots,
            {"text": "", "intent": {"name": intent, "confidence": 1.0}, "entities": entities},
            tracker.events,
            tracker.is_paused(),
            None,
            tracker.active_loop,
            tracker.latest_action_name,
        )
        return [*events, *await action().run(dispatcher, asked, domain)]


class ActionWithdrawConsent(Action):
    def name(self) -> str:
        return "action_withdraw_consent"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        result = await call(
            clients().citizens.update_preferences, tracker.sender_id, ALL_MESSAGES_OFF
        )
        dispatcher.utter_message(response="utter_consent_withdrawn")
        if not result.ok:
            dispatcher.utter_message(response="utter_messages_not_stopped")
        return [
            *leave_forms(),
            *forget_request(),
            SlotSet("consent_given", False),
            SlotSet("consent_version", None),
            SlotSet("consent_time", utc_now()),
        ]
