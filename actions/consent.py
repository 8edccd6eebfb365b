"""DPDP consent: recorded with the notice version and the time, withdrawn as easily."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import config


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class ActionRecordConsent(Action):
    def name(self) -> str:
        return "action_record_consent"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
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
        return [
            SlotSet("consent_given", False),
            SlotSet("consent_version", None),
            SlotSet("consent_time", utc_now()),
        ]
