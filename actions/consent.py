"""DPDP consent: recorded with the notice version and the time, withdrawn as easily.

Withdrawing stops all processing of the citizen's personal data: any form in progress is
dropped and the backends stop every message to them (status updates, reminders,
announcements). Giving consent again turns status updates back on.
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
from actions.common import call

ALL_MESSAGES_OFF = {"status_updates": False, "broadcasts": False, "reminders": False}


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
            SlotSet("consent_given", False),
            SlotSet("consent_version", None),
            SlotSet("consent_time", utc_now()),
        ]
