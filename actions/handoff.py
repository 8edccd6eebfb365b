""" "Talk to an officer": the request is flagged and routed for the department dashboard.

The dashboard sees ``human_requested`` in the conversation feed and an officer takes
the chat over through the channel (docs/internal-apis.md §2); meanwhile the assistant
keeps answering. The request goes to the department it is about
(:func:`department_for`, from the catalogue), in slot ``handoff_department``; one the
catalogue cannot place stays with the number's department, or on the main number goes
to the helpdesk's triage queue (slot empty). The citizen is told when an officer can
join: officers work Monday to Saturday within office hours (IST).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import config
from actions.common import catalogue
from actions.grievance import match_category
from indic_nlu.text import normalize, phonetic_key
from service_catalogue.india_time import IST
from service_catalogue.lists import grievance_categories

SUNDAY = 6
REPLIES = {
    "now": "utter_officer_now",
    "today": "utter_officer_today",
    "tomorrow": "utter_officer_tomorrow",
    "monday": "utter_officer_monday",
}
#: "Something else" names no department.
UNPLACED_CATEGORIES = frozenset({"other"})
#: Longest run of words compared with a grievance category's name.
CATEGORY_WORDS = 3
#: Words that only sound like a category's name count when their consonant skeleton has
#: at least this many letters: "pension" / "पेंशन" (pnsn) do, "voter" (vtr ~ water) not.
MIN_SOUND = 4


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


def _category_named(words: str) -> str | None:
    """The complaint category ``words`` name: spelt as its id or a title, or sounding
    like one (the grievance form's matcher) with enough letters to be sure."""
    category = match_category(words)
    if category is None or category in UNPLACED_CATEGORIES:
        return None
    names = [category, *grievance_categories()[category]["title"].values()]
    if normalize(words).text in {normalize(n).text for n in names}:
        return category
    sound = "".join(phonetic_key(w) for w in normalize(words).text.split())
    return category if len(sound) >= MIN_SOUND else None


def category_department(text: str) -> str | None:
    """The department of a complaint category named among the words ("मेरा पेंशन नहीं
    आया" -> pension -> social_welfare; service_catalogue/grievances.yml)."""
    words = normalize(text).text.split()
    for size in range(CATEGORY_WORDS, 0, -1):
        for start in range(len(words) - size + 1):
            category = _category_named(" ".join(words[start : start + size]))
            if category is not None:
                return str(grievance_categories()[category]["department"])
    return None


def department_for(tracker: Tracker) -> str | None:
    """The department a request for an officer is about, first found of: a service or
    department the request names, a complaint category it names, the service the
    conversation is about, the department whose number the citizen wrote to. None: the
    catalogue cannot tell (the helpdesk triages it)."""
    known = catalogue()
    latest = tracker.latest_message or {}
    for entity in latest.get("entities") or []:
        value = str(entity.get("value") or "")
        if entity.get("entity") == "service" and value in known.services:
            return known.services[value].department
        if entity.get("entity") == "department" and value in known.departments:
            return value
    found = category_department(str(latest.get("text") or ""))
    if found:
        return found
    service = known.services.get(str(tracker.get_slot("service") or ""))
    if service is not None:
        return service.department
    number = tracker.get_slot("department_context")
    return str(number) if number in known.departments else None


class ActionTalkToHuman(Action):
    def name(self) -> str:
        return "action_talk_to_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        when = officer_availability(now_utc())
        dispatcher.utter_message(response=REPLIES[when])
        return [
            SlotSet("human_requested", True),
            SlotSet("handoff_department", department_for(tracker)),
        ]
