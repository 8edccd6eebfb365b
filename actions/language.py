"""The reply language: detected per message, switched and pinned on request."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import config
from actions.common import catalogue, latest_user_metadata

LANGUAGES = ("hi", "en")


def choose_language(
    current: str | None,
    locked: bool,
    intent: str | None,
    requested: str | None,
    detected: dict[str, Any],
) -> tuple:
    """Returns (language, locked) after one citizen message.

    * asking for a language ("reply in English", the language button) sets it and pins
      it: later messages in the other language do not switch it back;
    * asking to change language without naming one toggles between Hindi and English;
    * otherwise, while not pinned, the language follows the citizen's messages: the
      first message decides, later ones switch only with clear evidence ("ok" does not).
    """
    if intent == "choose_language":
        if requested in LANGUAGES:
            return requested, True
        return ("en" if current == "hi" else "hi"), True
    code = detected.get("code")
    if locked or code not in LANGUAGES or code == current:
        return current, locked
    if current is None or int(detected.get("evidence") or 0) >= config.LANGUAGE_SWITCH_MIN_EVIDENCE:
        return code, locked
    return current, locked


class ActionMessageContext(Action):
    """Slot mapping action run on every citizen message (one action-server call a turn).

    Sets ``language`` / ``language_locked`` (see ``choose_language``) and
    ``department_context``: the department whose WhatsApp number the citizen wrote to.
    """

    def name(self) -> str:
        return "action_message_context"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        latest = tracker.latest_message or {}
        intent = (latest.get("intent") or {}).get("name")
        requested = next(tracker.get_latest_entity_values("language"), None)
        detected = latest.get("language") or {}
        current = tracker.get_slot("language")
        locked = bool(tracker.get_slot("language_locked"))
        language, now_locked = choose_language(
            current, locked, intent, requested, detected if isinstance(detected, dict) else {}
        )
        events = []
        if language != current:
            events.append(SlotSet("language", language))
        if now_locked != locked:
            events.append(SlotSet("language_locked", now_locked))
        department = latest_user_metadata(tracker).get("department") or None
        if department is not None and department not in catalogue().departments:
            department = None
        if department != tracker.get_slot("department_context"):
            events.append(SlotSet("department_context", department))
        return events
