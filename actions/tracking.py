"""After applying: status, paying a pending fee, downloading the certificate."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.api import clients
from actions.common import call, catalogue, lang, new_key, show_date

_APPLICATION_ID = re.compile(r"app\D*(\d{4})\D*(\d{6})", re.IGNORECASE)
SHOWN_APPLICATIONS = 5


def application_id_from(tracker: Tracker) -> str | None:
    """The application number the citizen typed, in the backend's form APP-YYYY-NNNNNN."""
    for value in tracker.get_latest_entity_values("application_id"):
        match = _APPLICATION_ID.search(str(value))
        if match:
            return f"APP-{match.group(1)}-{match.group(2)}"
    return None


def status_variables(application: dict[str, Any], language: str) -> dict[str, Any]:
    service = catalogue().services.get(str(application.get("service_id")))
    history = application.get("history") or []
    reason = next((h.get("reason") for h in reversed(history) if h.get("reason")), None)
    return {
        "application_id": application.get("application_id"),
        "service": service.title(language) if service else application.get("service_id"),
        "sla_due": show_date(application.get("sla_due")),
        "fee": application.get("fee", 0),
        "reason": reason or "-",
    }


def say_status(
    dispatcher: CollectingDispatcher, application: dict[str, Any], language: str
) -> None:
    dispatcher.utter_message(
        response=f"utter_status_{application.get('status')}",
        **status_variables(application, language),
    )


async def own_applications(tracker: Tracker) -> tuple[bool, list[dict[str, Any]]]:
    result = await call(clients().edistrict.list_applications, citizen_id=tracker.sender_id)
    return result.ok, list(result.data.get("applications") or []) if result.ok else []


async def one_application(
    dispatcher: CollectingDispatcher, tracker: Tracker, application_id: str
) -> dict[str, Any] | None:
    """The citizen's application, or None after telling them why not."""
    result = await call(
        clients().edistrict.get_application,
        citizen_id=tracker.sender_id,
        application_id=application_id,
    )
    if result.ok:
        return result.data
    if result.error == "not_found":
        dispatcher.utter_message(
            response="utter_application_not_found", application_id=application_id
        )
    else:
        dispatcher.utter_message(response="utter_backend_unavailable")
    return None


async def chosen_application(
    dispatcher: CollectingDispatcher, tracker: Tracker, status: str, none_response: str
) -> dict[str, Any] | None:
    """The application the citizen named, else their newest one in ``status``; None
    after telling them why there is none."""
    application_id = application_id_from(tracker)
    if application_id:
        return await one_application(dispatcher, tracker, application_id)
    ok, applications = await own_applications(tracker)
    if not ok:
        dispatcher.utter_message(response="utter_backend_unavailable")
        return None
    matching = [a for a in applications if a.get("status") == status]
    if not matching:
        dispatcher.utter_message(response=none_response)
        return None
    return matching[0]


class ActionCheckStatus(Action):
    def name(self) -> str:
        return "action_check_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        language = lang(tracker)
        application_id = application_id_from(tracker)
        if application_id:
            application = await one_application(dispatcher, tracker, application_id)
            if application:
                say_status(dispatcher, application, language)
            return []
        ok, applications = await own_applications(tracker)
        if not ok:
            dispatcher.utter_message(response="utter_backend_unavailable")
        elif not applications:
            dispatcher.utter_message(response="utter_no_applications")
        for application in applications[:SHOWN_APPLICATIONS]:
            say_status(dispatcher, application, language)
        return []


def message_key(tracker: Tracker, purpose: str) -> str:
    """An idempotency key for what this action creates in answer to the citizen's latest
    message, derived from that message's id (the WhatsApp wamid): the same turn run
    again after a crash asks the backend with the same key and gets the same record.
    A new random key when the message has no id."""
    message_id = (tracker.latest_message or {}).get("message_id") or next(
        (e.get("message_id") for e in reversed(tracker.events) if e.get("event") == "user"), None
    )
    if not message_id:
        return new_key()
    seed = f"{tracker.sender_id}\n{message_id}\n{purpose}".encode()
    return hashlib.sha256(seed).hexdigest()[:40]


class ActionPayFee(Action):
    def name(self) -> str:
        return "action_pay_fee"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        application = await chosen_application(
            dispatcher, tracker, "payment_pending", "utter_nothing_to_pay"
        )
        if application is None:
            return []
        application_id = str(application["application_id"])
        if application.get("paid") or application.get("status") != "payment_pending":
            dispatcher.utter_message(response="utter_already_paid", application_id=application_id)
            return []
        order = await call(
            clients().payments.create_order,
            citizen_id=tracker.sender_id,
            application_id=application_id,
            idempotency_key=message_key(tracker, f"pay:{application_id}"),
        )
        if not order.ok:
            response = (
                "utter_already_paid" if order.error == "conflict" else "utter_backend_unavailable"
            )
            dispatcher.utter_message(response=response, application_id=application_id)
            return []
        dispatcher.utter_message(
            response="utter_payment_link",
            application_id=application_id,
            amount=order.data.get("amount"),
            payment_url=order.data.get("payment_url"),
        )
        return []


class ActionDownloadCertificate(Action):
    def name(self) -> str:
        return "action_download_certificate"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        language = lang(tracker)
        application = await chosen_application(
            dispatcher, tracker, "approved", "utter_no_certificates"
        )
        if application is None:
            return []
        variables = status_variables(application, language)
        if application.get("status") != "approved":
            dispatcher.utter_message(response="utter_certificate_not_ready", **variables)
            return []
        link = await call(
            clients().edistrict.certificate_link,
            citizen_id=tracker.sender_id,
            application_id=str(application["application_id"]),
        )
        if not link.ok:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        dispatcher.utter_message(
            response="utter_certificate_ready",
            attachment={
                "type": "document",
                "url": link.data.get("url"),
                "filename": link.data.get("filename"),
            },
            **variables,
        )
        return []
