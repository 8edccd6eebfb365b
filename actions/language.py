"""What each citizen message sets before anything else runs: the reply language
(detected per message, switched and pinned on request), the department number written
to, the service being talked about, and whether a request made before consent still
waits for it."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import config
from actions.common import catalogue, latest_user_metadata
from actions.consent import PENDING_REQUESTS, forget_request
from actions.services import service_named

LANGUAGES = ("hi", "en")
# Messages that leave a request made before consent waiting: answering the privacy
# notice, choosing its language, a hello (a 🙏 after the notice is often just "ok"), a
# message not understood, or a new request that needs consent (which replaces it).
# Anything else means the citizen has moved on, and the request is dropped, so that a
# later "yes" to a privacy notice never starts it by surprise.
KEEPS_PENDING = frozenset({"affirm", "choose_language", "greet", "nlu_fallback"}) | PENDING_REQUESTS


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


def pending_after(intent: str | None, pending: str | None) -> str | None:
    """The request still waiting for consent after a message with ``intent``."""
    return pending if intent in KEEPS_PENDING else None


class ActionMessageContext(Action):
    """Slot mapping action run on every citizen message (one action-server call a turn).

    Sets ``language`` / ``language_locked`` (see ``choose_language``),
    ``department_context``: the department whose WhatsApp number the citizen wrote to,
    ``service_in_context``: the service last named, which a follow-up question ("how
    long will it take?") is about, and drops a request waiting for consent once the
    citizen has moved on (see ``pending_after``).
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
        service = service_named(tracker)
        if service is not None and service.id != tracker.get_slot("service_in_context"):
            events.append(SlotSet("service_in_context", service.id))
        pending = tracker.get_slot("pending_request")
        if pending is not None and pending_after(intent, pending) is None:
            events.extend(forget_request())
            if not tracker.active_loop.get("name"):
                # the service its message named (the ``service`` slot is filled from any
                # "apply for …" message) goes too, so that no later form starts with it
                events.append(SlotSet("service", None))
        return events
