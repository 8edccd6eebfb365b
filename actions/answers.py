"""Free questions answered from the knowledge base (service_catalogue/knowledge.py).

The retrieval finds an FAQ entry, the parts of a service asked about, or nothing; this
module says it, in the citizen's language, with domain.yml's responses:

* an FAQ entry: its question and answer (``utter_answer_faq``), a note when the department has still
  to confirm it (``utter_answer_indicative``), and the service it is about with a button
  to apply (``utter_answer_apply``);
* parts of a service (fee, time, documents, eligibility, where): each part's short
  answer (``utter_service_<part>``, as actions/services.py gives them); the whole card
  for a bare service name;
* nothing relevant: "I don't know" and the menu, whose last rows are "talk to an
  officer" (``utter_answer_unknown``, ``utter_main_menu``): never a guess.

The service an answer is about becomes ``service_in_context``, so "and the fee?" next is
about it; a question naming no service is about the one in context (the form's, in the
middle of a form), as for ``service_info``.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import generative
from actions.common import lang
from actions.services import PART_RESPONSES, service_named, service_variables
from service_catalogue.knowledge import Answer, retriever


def context_service(tracker: Tracker) -> str | None:
    """The service a question naming none is about: one the NLU found in it, in the
    middle of a form the form's, else the one the conversation is about."""
    named = service_named(tracker)
    if named is not None:
        return named.id
    in_form = tracker.get_slot("service") if tracker.active_loop.get("name") else None
    return in_form or tracker.get_slot("service_in_context")


def answer_for(tracker: Tracker) -> Answer:
    text = (tracker.latest_message or {}).get("text") or ""
    return retriever().answer(text, context_service(tracker))


def facts_of(answer: Answer, language: str) -> str:
    """The retrieved facts, as the generative layer is given them (and nothing else)."""
    if answer.kind == "faq" and answer.entry is not None:
        return answer.entry.text(language)
    if answer.service is None:
        return ""
    v = service_variables(answer.service, language)
    return (
        f"Service: {v['service']} ({v['department']})\nFee: ₹{v['fee']}\n"
        f"Time taken: {v['sla_days']} days\nWho can apply: {v['eligibility']}\n"
        f"Documents: {v['documents']}\nWhere to apply: on this WhatsApp number or at any "
        "Common Service Centre (CSC)"
    )


async def say(
    dispatcher: CollectingDispatcher, tracker: Tracker, answer: Answer
) -> list[dict[str, Any]]:
    """Utters ``answer``; returns the events (the service now in context)."""
    language = lang(tracker)
    if answer.kind == "unknown":
        dispatcher.utter_message(response="utter_answer_unknown")
        dispatcher.utter_message(response="utter_main_menu")
        return []
    service = answer.service
    question = (tracker.latest_message or {}).get("text") or ""
    generated = None
    if generative.configured():
        generated = await generative.rewrite(question, facts_of(answer, language), language)
    if generated is not None:
        dispatcher.utter_message(response="utter_answer_generated", answer=generated)
        if answer.entry is not None and answer.entry.indicative:
            dispatcher.utter_message(response="utter_answer_indicative")
        if service is not None:
            dispatcher.utter_message(
                response="utter_answer_apply", **service_variables(service, language)
            )
    elif answer.kind == "faq" and answer.entry is not None:
        entry = answer.entry
        dispatcher.utter_message(
            response="utter_answer_faq",
            question=entry.question.get(language) or entry.question["en"],
            answer=entry.text(language),
        )
        if answer.entry.indicative:
            dispatcher.utter_message(response="utter_answer_indicative")
        if service is not None:
            dispatcher.utter_message(
                response="utter_answer_apply", **service_variables(service, language)
            )
    elif service is not None:
        variables = service_variables(service, language)
        if answer.kind == "facts":
            for part in answer.parts:
                dispatcher.utter_message(response=PART_RESPONSES[part], **variables)
        else:
            dispatcher.utter_message(response="utter_service_details", **variables)
    if service is not None and service.id != tracker.get_slot("service_in_context"):
        return [SlotSet("service_in_context", service.id)]
    return []


class ActionAnswerQuestion(Action):
    """``ask_question``: the knowledge base's answer, or "I don't know" and the menu."""

    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return await say(dispatcher, tracker, answer_for(tracker))
