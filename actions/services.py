"""Browsing the catalogue: services by department, and one service's details."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import catalogue, lang
from service_catalogue import Service


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


class ActionServiceInfo(Action):
    def name(self) -> str:
        return "action_service_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = lang(tracker)
        service_id = next(tracker.get_latest_entity_values("service"), None)
        if service_id is None and tracker.active_loop.get("name"):
            service_id = tracker.get_slot("service")  # asked in the middle of a form
        service = catalogue().services.get(service_id or "")
        if service is None:
            dispatcher.utter_message(response="utter_ask_which_service_info")
            return []
        dispatcher.utter_message(
            response="utter_service_details", **service_variables(service, language)
        )
        return []
