"""What the assistant says when it is not sure what the citizen meant.

A message the NLU did not understand may still be a question the knowledge base
answers ("CSC centre near Seelampur?"): retrieval is tried first (actions/answers.py),
and only when it finds nothing relevant is the citizen asked to rephrase.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import answer_for, say

_WORDLIKE = re.compile(r"\w", re.UNICODE)


class ActionClarify(Action):
    """Answers from the knowledge base if it can; else asks to rephrase and shows the
    menu; an empty or emoji-only message is told so."""

    def name(self) -> str:
        return "action_clarify"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        text = (tracker.latest_message or {}).get("text") or ""
        if not _WORDLIKE.search(text):
            dispatcher.utter_message(response="utter_empty_message")
        else:
            answer = answer_for(tracker)
            if answer.kind != "unknown":
                return await say(dispatcher, tracker, answer)
            dispatcher.utter_message(response="utter_clarify")
        dispatcher.utter_message(response="utter_main_menu")
        return []
