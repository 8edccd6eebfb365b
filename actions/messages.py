"""STOP and START, and following a department's announcements, recorded in the backends.

STOP turns broadcasts and reminders off at once. Status updates about the citizen's own
applications continue (they are part of the service asked for); withdrawing consent is
the separate, stronger request that stops those too. START turns both on again; on a
department's own number it also follows that department, on the main number the
citizen is offered the departments to follow, then optionally their district.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.api import clients
from actions.common import call, catalogue, intent_of, lang
from actions.services import department_buttons
from service_catalogue.lists import districts


def district_buttons(department: str, language: str) -> list[dict[str, str]]:
    return [
        {
            "title": names.get(language) or names["en"],
            "payload": (
                f'/subscribe_department{{"department": "{department}", "district": "{district}"}}'
            ),
        }
        for district, names in districts().items()
    ]


async def follow_department(
    dispatcher: CollectingDispatcher, tracker: Tracker, department: str, district: str | None
) -> bool:
    """Adds ``department`` to the citizen's followed departments (and sets the district).

    Says what was done; False after telling the citizen the backend failed.
    """
    api = clients()
    language = lang(tracker)
    current = await call(api.citizens.preferences, tracker.sender_id)
    if not current.ok:
        dispatcher.utter_message(response="utter_backend_unavailable")
        return False
    followed = [d for d in current.data.get("departments") or [] if d != department]
    changes: dict[str, Any] = {
        "broadcasts": True,
        "departments": [*followed, department],
        "language": language,
    }
    if district:
        changes["district"] = district
    result = await call(api.citizens.update_preferences, tracker.sender_id, changes)
    if not result.ok:
        dispatcher.utter_message(response="utter_backend_unavailable")
        return False
    title = catalogue().departments[department].title(language)
    if district:
        names = districts()[district]
        dispatcher.utter_message(
            response="utter_district_set",
            department=title,
            district=names.get(language) or names["en"],
        )
    else:
        dispatcher.utter_message(
            response="utter_department_followed",
            department=title,
            buttons=district_buttons(department, language),
        )
    return True


class ActionSetMessages(Action):
    def name(self) -> str:
        return "action_set_messages"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        wanted = intent_of(tracker) == "opt_in"
        language = lang(tracker)
        result = await call(
            clients().citizens.set_messages, tracker.sender_id, wanted, language=language
        )
        if not result.ok:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        if not wanted:
            dispatcher.utter_message(response="utter_opted_out")
            return []
        dispatcher.utter_message(response="utter_opted_in")
        department = tracker.get_slot("department_context")
        if department in catalogue().departments:  # START on a department's own number
            await follow_department(dispatcher, tracker, department, None)
        else:
            dispatcher.utter_message(
                response="utter_offer_departments",
                buttons=department_buttons(language, "subscribe_department"),
            )
        return []


class ActionSubscribeDepartment(Action):
    """ "Send me the Transport Department's announcements" (or a tapped department/district)."""

    def name(self) -> str:
        return "action_subscribe_department"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        department = next(tracker.get_latest_entity_values("department"), None)
        if department not in catalogue().departments:
            department = tracker.get_slot("department_context")
        if department not in catalogue().departments:
            dispatcher.utter_message(
                response="utter_ask_subscription_department",
                buttons=department_buttons(lang(tracker), "subscribe_department"),
            )
            return []
        district = next(tracker.get_latest_entity_values("district"), None)
        if district not in districts():
            district = None
        await follow_department(dispatcher, tracker, str(department), district)
        return []
