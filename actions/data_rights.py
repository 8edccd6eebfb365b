"""The citizen's data rights: what do you hold about me, and erase it.

Erasure is explained first (what goes, what the law makes us keep) and done only on an
explicit yes: the backends erase or anonymise the citizen's records, then the channel
erases the conversation itself. A failure is said as it is, with nothing claimed that
did not happen, and a button to try again (both calls are safe to repeat).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.api import clients
from actions.common import call, catalogue, intent_of, lang, show_date
from actions.consent import leave_forms
from service_catalogue.lists import districts


def tick(value: Any) -> str:
    return "✅" if value else "❌"


class ActionDataSummary(Action):
    def name(self) -> str:
        return "action_data_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        api = clients()
        citizen = tracker.sender_id
        language = lang(tracker)
        applications = await call(api.edistrict.list_applications, citizen_id=citizen)
        grievances = await call(api.grievance.list, citizen_id=citizen)
        preferences = await call(api.citizens.preferences, citizen)
        if not (applications.ok and grievances.ok and preferences.ok):
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        held = preferences.data
        departments = [
            catalogue().departments[d].title(language)
            for d in held.get("departments") or []
            if d in catalogue().departments
        ]
        district = districts().get(str(held.get("district")))
        consent_time = tracker.get_slot("consent_time")
        dispatcher.utter_message(
            response="utter_data_summary",
            number=f"XXXXXX{citizen[-4:]}",
            consent=tick(tracker.get_slot("consent_given")),
            consent_version=tracker.get_slot("consent_version") or "-",
            consent_date=show_date(consent_time) if consent_time else "-",
            applications=len(applications.data.get("applications") or []),
            grievances=len(grievances.data.get("grievances") or []),
            updates=tick(held.get("status_updates", True)),
            messages=tick(held.get("broadcasts")),
            reminders=tick(held.get("reminders")),
            departments=", ".join(departments) or "-",
            district=(district.get(language) or district["en"]) if district else "-",
            language=held.get("language") or "-",
        )
        return []


class ActionEraseDataNotice(Action):
    """What erasure removes and what the law keeps, then yes / no."""

    def name(self) -> str:
        return "action_erase_data_notice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_erasure_explained")
        return leave_forms()  # a half-filled form would swallow the yes / no


class ActionEraseData(Action):
    """The answer to the erasure question: yes erases, no keeps everything."""

    def name(self) -> str:
        return "action_erase_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if intent_of(tracker) != "affirm":
            dispatcher.utter_message(response="utter_erasure_cancelled")
            return []
        api = clients()
        citizen = tracker.sender_id
        records = await call(api.citizens.erase, citizen)
        if not records.ok:
            dispatcher.utter_message(response="utter_erasure_failed")
            return []
        chat = await call(api.channel.erase, citizen)
        erased = records.data.get("erased") or {}
        kept = records.data.get("kept") or {}
        counts = {
            "applications": erased.get("applications", 0),
            "grievances": erased.get("grievances", 0),
            "certificates": kept.get("certificates", 0),
            "payments": kept.get("payments", 0),
        }
        if not chat.ok:
            dispatcher.utter_message(response="utter_erasure_incomplete", **counts)
            return []
        dispatcher.utter_message(response="utter_erasure_done", **counts)
        # The channel deletes this conversation once the turn ends; until then hold nothing.
        return [
            SlotSet("consent_given", False),
            SlotSet("consent_version", None),
            SlotSet("consent_time", None),
            SlotSet("human_requested", False),
        ]
