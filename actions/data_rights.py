"""What data do you have about me? A summary from the tracker and the backends."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.api import clients
from actions.common import call, show_date


class ActionDataSummary(Action):
    def name(self) -> str:
        return "action_data_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        api = clients()
        citizen = tracker.sender_id
        applications = await call(api.edistrict.list_applications, citizen_id=citizen)
        grievances = await call(api.grievance.list, citizen_id=citizen)
        preferences = await call(api.citizens.preferences, citizen)
        if not (applications.ok and grievances.ok and preferences.ok):
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        consent_time = tracker.get_slot("consent_time")
        dispatcher.utter_message(
            response="utter_data_summary",
            number=f"XXXXXX{citizen[-4:]}",
            consent="✅" if tracker.get_slot("consent_given") else "❌",
            consent_version=tracker.get_slot("consent_version") or "-",
            consent_date=show_date(consent_time) if consent_time else "-",
            applications=len(applications.data.get("applications") or []),
            grievances=len(grievances.data.get("grievances") or []),
            messages="✅" if preferences.data.get("broadcasts") else "❌",
        )
        return []
