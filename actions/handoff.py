""" "Talk to an officer": the request is flagged for the department dashboard.

The dashboard sees the ``talk_to_human`` intent in the conversation feed and an officer
takes the chat over through the channel (docs/internal-apis.md §2); meanwhile the
assistant keeps answering. The citizen is told when an officer can join: officers work
Monday to Saturday within office hours (IST).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import config

IST = timezone(timedelta(hours=5, minutes=30), "IST")
SUNDAY = 6
REPLIES = {
    "now": "utter_officer_now",
    "today": "utter_officer_today",
    "tomorrow": "utter_officer_tomorrow",
    "monday": "utter_officer_monday",
}


def officer_availability(now: datetime) -> str:
    """When an officer can join: ``now``, ``today``, ``tomorrow`` or ``monday``."""
    local = now.astimezone(IST)
    working_day = local.weekday() != SUNDAY
    if working_day and config.OFFICE_OPENS <= local.hour < config.OFFICE_CLOSES:
        return "now"
    if working_day and local.hour < config.OFFICE_OPENS:
        return "today"
    if local.weekday() in (5, SUNDAY):  # after hours on Saturday, or on Sunday
        return "monday"
    return "tomorrow"


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


class ActionTalkToHuman(Action):
    def name(self) -> str:
        return "action_talk_to_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        when = officer_availability(now_utc())
        dispatcher.utter_message(response=REPLIES[when])
        return [SlotSet("human_requested", True)]
