"""Browsing the catalogue: services by department, and one service's details.

A question names its service, or is a follow-up about the one being talked about
(``service_in_context``, set by ``actions.language``): "how long will it take?" after a
question about a domicile certificate is about the domicile certificate, and gets the
part asked for (the time), not the whole card again.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import catalogue, intent_of, lang
from indic_nlu.text import normalize
from service_catalogue import Service

# Between words (not \W: to re, Devanagari vowel signs are not word characters).
_WORD_BREAKS = re.compile(r"[\s,.;:!?।|/()\[\]\"'“”‘’-]+")


def words(text: str) -> list[str]:
    """The citizen's words, normalised (case, nukta, chandrabindu) as the NLU does."""
    return [w for w in _WORD_BREAKS.split(normalize(text).text) if w]


def _word_set(*phrases: str) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(words(p)) for p in phrases)


# What a follow-up question asks, by the words (or word pairs) that say so, in English,
# Hinglish and Hindi. Each part has its own short answer (utter_service_<part>).
SERVICE_PARTS: dict[str, frozenset[tuple[str, ...]]] = {
    "time": _word_set(
        "how long",
        "how many days",
        "days",
        "time",
        "kitne din",
        "din",
        "dino",
        "kab tak",
        "kitna time",
        "samay",
        "दिन",
        "दिनों",
        "समय",
        "टाइम",
        "कब तक",
    ),
    "fee": _word_set(
        "fee",
        "fees",
        "cost",
        "charge",
        "charges",
        "price",
        "how much",
        "free",
        "paisa",
        "paise",
        "kharcha",
        "muft",
        "फीस",
        "शुल्क",
        "पैसा",
        "पैसे",
        "खर्च",
        "खर्चा",
        "मुफ्त",
    ),
    "documents": _word_set(
        "document",
        "documents",
        "docs",
        "papers",
        "proof",
        "kagaz",
        "kagzat",
        "dastavej",
        "dastavez",
        "दस्तावेज",
        "दस्तावेजों",
        "कागज",
        "कागजात",
        "डॉक्यूमेंट",
        "डॉक्यूमेंट्स",
    ),
    "eligibility": _word_set(
        "eligible",
        "eligibility",
        "criteria",
        "who can",
        "age limit",
        "kaun apply",
        "kaun kar sakta",
        "patrata",
        "पात्र",
        "पात्रता",
        "उम्र",
        "कौन आवेदन",
        "कौन कर सकता",
    ),
    "where": _word_set(
        "where",
        "kahan",
        "kahaan",
        "kaha",
        "office",
        "csc",
        "कहां",
        "कहाँ",
        "दफ्तर",
        "ऑफिस",
    ),
}


# "How much is still to pay?" asks about the citizen's own fee, not the service's price.
DUE_WORDS = _word_set(
    "baaki",
    "baki",
    "bakaya",
    "bakiya",
    "pending",
    "due",
    "outstanding",
    "remaining",
    "still to pay",
    "left to pay",
    "बाकी",
    "बाक़ी",
    "बकाया",
    "शेष",
)


def phrases(text: str) -> set[tuple[str, ...]]:
    """The citizen's words, word pairs and word triples, to match against word sets."""
    said = words(text)
    return {(w,) for w in said} | set(zip(said, said[1:])) | set(zip(said, said[1:], said[2:]))


def asks_what_is_due(text: str) -> bool:
    return bool(DUE_WORDS & phrases(text))


PART_RESPONSES = {
    "time": "utter_service_time",
    "fee": "utter_service_fee",
    "documents": "utter_service_documents",
    "eligibility": "utter_service_eligibility",
    "where": "utter_service_where",
}


def parts_asked(text: str) -> list[str]:
    """The parts of a service a question asks about, in the card's order."""
    said = phrases(text)
    return [part for part, keys in SERVICE_PARTS.items() if keys & said]


def department_buttons(language: str, intent: str = "list_services") -> list[dict[str, str]]:
    return [
        {"title": dept.title(language), "payload": f'/{intent}{{"department": "{dept.id}"}}'}
        for dept in catalogue().departments.values()
    ]


def documents_text(service: Service, language: str) -> str:
    names = [d.title(language) for d in service.documents if d.required]
    return "; ".join(names) if names else "-"


def service_variables(service: Service, language: str) -> dict[str, Any]:
    department = catalogue().departments[service.department]
    return {
        "service": service.title(language),
        "service_id": service.id,
        "department": department.title(language),
        "fee": service.fee,
        "sla_days": service.sla_days,
        "eligibility": service.eligibility.get(language) or service.eligibility["en"],
        "documents": documents_text(service, language),
    }


class ActionListServices(Action):
    def name(self) -> str:
        return "action_list_services"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = lang(tracker)
        department = next(tracker.get_latest_entity_values("department"), None)
        if department is None:  # the citizen wrote to a department's own number
            department = tracker.get_slot("department_context")
        if department not in catalogue().departments:
            dispatcher.utter_message(
                response="utter_choose_department", buttons=department_buttons(language)
            )
            return []
        dispatcher.utter_message(**department_services_message(department, tracker))
        return []


def department_services_message(department: str, tracker: Tracker) -> dict[str, Any]:
    """utter_department_services with one button per service of the department."""
    language = lang(tracker)
    return {
        "response": "utter_department_services",
        "department": catalogue().departments[department].title(language),
        "buttons": [
            {"title": s.title(language), "payload": f'/apply_service{{"service": "{s.id}"}}'}
            for s in catalogue().by_department(department)
        ],
    }


def service_named(tracker: Tracker) -> Service | None:
    """A catalogue service named in the latest message (typed, or a button's)."""
    services = catalogue().services
    named = next((s for s in tracker.get_latest_entity_values("service") if s in services), None)
    return services[named] if named else None


def service_in_context(tracker: Tracker) -> Service | None:
    """What a question that names no service is about: in the middle of a form, the
    form's service; else the one the conversation is about. An answer to "which
    service?" that names none is about none."""
    if intent_of(tracker) != "service_info":
        return None
    in_form = tracker.get_slot("service") if tracker.active_loop.get("name") else None
    return catalogue().services.get(in_form or tracker.get_slot("service_in_context") or "")


class ActionServiceInfo(Action):
    def name(self) -> str:
        return "action_service_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = lang(tracker)
        named = service_named(tracker)
        text = tracker.latest_message.get("text") or ""
        if not named and parts_asked(text) == ["fee"] and asks_what_is_due(text):
            # "ab kitni fees baaki hai?": the citizen's own fee, not the service's price
            from actions.tracking import ActionPayFee

            return await ActionPayFee().run(dispatcher, tracker, domain)
        service = named or service_in_context(tracker)
        if service is None:
            dispatcher.utter_message(response="utter_ask_which_service_info")
            return []
        # a follow-up asking one thing gets that answer; anything else gets the card
        parts = [] if named else parts_asked(text)
        response = PART_RESPONSES[parts[0]] if len(parts) == 1 else "utter_service_details"
        dispatcher.utter_message(response=response, **service_variables(service, language))
        return []
