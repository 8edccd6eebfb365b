"""STOP and START: broadcasts and reminders off or on, recorded in the backends.

Status updates about the citizen's own applications continue after STOP (they are part
of the service asked for); withdrawing consent is a separate, stronger request.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.api import clients
from actions.common import call

ATTEMPTS = 3


class ActionSetMessages(Action):
    def name(self) -> str:
        return "action_set_messages"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        wanted = (tracker.latest_message.get("intent") or {}).get("name") == "opt_in"
        for attempt in range(ATTEMPTS):  # a PUT of the same state is safe to repeat
            result = await call(clients().citizens.set_messages, tracker.sender_id, wanted)
            if result.ok or result.error not in ("timeout", "unavailable"):
                break
            await asyncio.sleep(0.5 * (attempt + 1))
        if result.ok:
            dispatcher.utter_message(response="utter_opted_in" if wanted else "utter_opted_out")
        else:
            dispatcher.utter_message(response="utter_backend_unavailable")
        return []
