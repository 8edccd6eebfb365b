"""Applications a Common Service Centre filed for the citizen: confirm with the code, or decline.

The citizen gets the ``csc_confirmation`` template (buttons ``/csc_confirm{"csc_code"}``
and ``/csc_decline``) or types the code ("मेरा कोड 482913"), or only the code ("482913",
which the classifier reads as ``inform``: data/rules/csc.yml sends it here, and it
confirms only while the backend holds an application awaiting the citizen; otherwise it
is an answer with no question, as before). Without an application number the citizen's
application awaiting confirmation is used; with several, they choose. Each wrong code
counts: the backend locks the application after too many.

A citizen who never wrote to the bot has no ``language`` slot: the replies then follow
the language the application was filed in (that of the template they answer), not
English.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.api import clients
from actions.common import call, catalogue, intent_of, lang
from actions.tracking import application_id_from, say_status
from indic_nlu.text import ascii_digits

AWAITING = "awaiting_citizen_confirmation"
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def code_from(tracker: Tracker) -> str | None:
    """The 6-digit code from the button or the citizen's words (Devanagari digits too)."""
    candidates = [*tracker.get_latest_entity_values("csc_code"), tracker.latest_message.get("text")]
    for value in candidates:
        match = _CODE.search(ascii_digits(str(value or "")))
        if match:
            return match.group(1)
    return None


def service_title(application: dict[str, Any], language: str) -> str:
    service = catalogue().services.get(str(application.get("service_id")))
    return service.title(language) if service else str(application.get("service_id"))


class ActionCscAnswer(Action):
    """``csc_confirm`` with a code, or ``csc_decline``."""

    def name(self) -> str:
        return "action_csc_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        intent = intent_of(tracker)
        bare_code = intent == "inform"  # only the code, typed (data/rules/csc.yml)
        confirming = intent in ("csc_confirm", "inform")
        code = code_from(tracker) if confirming else None
        if bare_code and code is None:
            return [FollowupAction("action_clarify")]
        if confirming and code is None:
            dispatcher.utter_message(response="utter_csc_ask_code")
            return []
        waiting = await self.waiting(tracker)
        if waiting is None:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        if bare_code and not waiting:  # six digits, but nothing to confirm: not a code
            return [FollowupAction("action_clarify")]
        filed_in = next((a.get("language") for a in waiting if a.get("language")), None)
        if tracker.get_slot("language") is None and filed_in in ("hi", "en"):
            # answer in the language of the filing; responses follow the slot, so set it
            # first and run again with it
            return [SlotSet("language", filed_in), FollowupAction(self.name())]
        application = self.choose(dispatcher, tracker, waiting, code)
        if application is None:
            return []
        api = clients()
        application_id = str(application["application_id"])
        language = lang(tracker)
        names = {"application_id": application_id, "service": service_title(application, language)}
        if not confirming:
            result = await call(api.edistrict.decline, tracker.sender_id, application_id)
            reply = "utter_csc_declined" if result.ok else "utter_backend_unavailable"
            dispatcher.utter_message(response=reply, **names)
            return []
        result = await call(api.edistrict.confirm, tracker.sender_id, application_id, str(code))
        if result.ok:  # then where it stands: submitted, fee to pay, documents missing
            dispatcher.utter_message(response="utter_csc_confirmed", **names)
            say_status(dispatcher, result.data, language)
        elif result.code in ("wrong_code", "invalid_code") and result.details.get("attempts_left"):
            dispatcher.utter_message(
                response="utter_csc_wrong_code",
                attempts_left=result.details["attempts_left"],
                **names,
            )
        elif result.error in ("rejected", "conflict", "locked") or result.status == 423:
            dispatcher.utter_message(response="utter_csc_locked", **names)
        else:
            dispatcher.utter_message(response="utter_backend_unavailable")
        return []

    @staticmethod
    async def waiting(tracker: Tracker) -> list[dict[str, Any]] | None:
        """The citizen's applications awaiting their confirmation; None if unknown."""
        result = await call(clients().edistrict.list_applications, citizen_id=tracker.sender_id)
        if not result.ok:
            return None
        return [a for a in result.data.get("applications") or [] if a.get("status") == AWAITING]

    @staticmethod
    def choose(
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        waiting: list[dict[str, Any]],
        code: str | None,
    ) -> dict[str, Any] | None:
        """The application this answer is about; None after saying why there is none."""
        named = application_id_from(tracker)
        if named:
            waiting = [a for a in waiting if a.get("application_id") == named]
        if len(waiting) == 1:
            return waiting[0]
        if not waiting:
            dispatcher.utter_message(response="utter_csc_nothing_pending")
            return None
        intent = "csc_confirm" if code else "csc_decline"
        extra = f', "csc_code": "{code}"' if code else ""
        dispatcher.utter_message(
            response="utter_csc_choose_application",
            buttons=[
                {
                    "title": str(a["application_id"]),
                    "payload": f'/{intent}{{"application_id": "{a["application_id"]}"{extra}}}',
                }
                for a in waiting
            ],
        )
        return None
