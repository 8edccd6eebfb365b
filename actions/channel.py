"""Dialogue parts that follow from the WhatsApp channel: department menus, refused uploads."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import catalogue

UPLOAD_ERRORS = frozenset(
    {"mime_not_allowed", "too_large", "empty", "magic_mismatch", "hash_mismatch", "download_failed"}
)


class ActionUploadRejected(Action):
    def name(self) -> str:
        return "action_upload_rejected"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        error = next(tracker.get_latest_entity_values("upload_error"), None)
        if error not in UPLOAD_ERRORS:
            error = "download_failed"
        dispatcher.utter_message(response=f"utter_upload_rejected_{error}")
        return []


class ActionMainMenu(Action):
    """The main menu; on a department's own number, that department's services first."""

    def name(self) -> str:
        return "action_main_menu"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        from actions.services import department_services_message

        department = tracker.get_slot("department_context")
        if department in catalogue().departments:
            dispatcher.utter_message(**department_services_message(department, tracker))
        else:
            dispatcher.utter_message(response="utter_main_menu")
        return []
