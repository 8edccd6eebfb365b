"""One generic application form for every service of the catalogue.

The form asks for the service, then that service's fields one by one (the catalogue
gives question, type and validation), then its documents, then shows a summary to
confirm. Answers live in the ``form_answers`` slot, so the conversation's tracker (SQL
tracker store) keeps them across restarts; a submission carries an idempotency key, so
retrying after a failure never files twice.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.api import clients
from actions.common import (
    call,
    catalogue,
    is_skip,
    lang,
    latest_attachment,
    latest_user_metadata,
    new_key,
    sent_a_file,
    show_date,
    upload_error,
)
from actions.services import department_buttons, documents_text
from indic_nlu.text import ascii_digits
from service_catalogue import Field, Service
from service_catalogue.india_time import today_in_india
from service_catalogue.validation import check, format_amount

MAX_FAILURES = 3
# Messages that leave the form for a moment (rules answer them, then the form resumes).
DIGRESSIONS = frozenset(
    {
        "cancel",
        "check_status",
        "service_info",
        "ask_question",
        "talk_to_human",
        "withdraw_consent",
        "opt_out",
        "opt_in",
        "erase_data",
        "data_summary",
        "csc_confirm",
        "csc_decline",
        "choose_language",
    }
)
# What the citizen sent instead of typing an answer, by the Cloud API message type the
# channel reports for a message it cannot read (metadata ``message_type``).
_UNREADABLE_KINDS = {"audio": "voice", "voice": "voice", "sticker": "sticker", "video": "video"}
# ... and the reply to each at a form question, before the question is asked again
_NOT_TYPED_REPLIES = {
    "voice": "utter_field_not_typed_voice",
    "sticker": "utter_field_not_typed_sticker",
    "video": "utter_field_not_typed_video",
    "unreadable": "utter_field_not_typed_unreadable",
    "location": "utter_field_not_typed_location",
    "file": "utter_field_not_typed_file",
    "wordless": "utter_field_not_typed_wordless",
}
# document_ref while the form explains a file the channel refused ("refused:too_large")
REFUSED_PREFIX = "refused:"
# What our channel sends in place of an Aadhaar number it has verified (Verhoeff) and
# masked before the text reached Rasa.
_MASKED_AADHAAR = re.compile(r"^XXXX-XXXX-\d{4}$")
FORM_SLOTS = (
    "service",
    "field_value",
    "document_ref",
    "application_confirmed",
    "form_answers",
    "form_documents",
    "form_failures",
    "application_key",
    "editing",
    "edit_field",
    "requested_slot",
    # the other forms, so that one reset leaves nothing half-filled behind
    "grievance_category",
    "grievance_description",
    "grievance_location",
    "grievance_key",
    "feedback_rating",
    "feedback_comment",
)


def current_service(tracker: Tracker) -> Service | None:
    service_id = tracker.get_slot("service") or ""
    if describes_a_file(tracker):  # the caption's "DL" is not a new application
        service_id = service_in_progress(tracker) or service_id
    return catalogue().services.get(service_id)


def service_in_progress(tracker: Tracker) -> str | None:
    """The service whose application the form is filling (its answers say which)."""
    answers = tracker.get_slot("form_answers")
    service_id = answers.get("service") if isinstance(answers, dict) else None
    return str(service_id) if service_id in catalogue().services else None


def describes_a_file(tracker: Tracker) -> bool:
    """A file sent while the form asks for a document: its caption ("my DL front side")
    describes the file and is never a new request, whatever intent or service the NLU
    reads in it. The file fills the document and the application carries on."""
    return (
        tracker.active_loop_name == "application_form"
        and tracker.get_slot("requested_slot") == "document_ref"
        and sent_a_file(tracker)
    )


def asks_for_the_form_in_progress(tracker: Tracker, service_id: str) -> bool:
    """The citizen asks to apply for the service whose form is already being filled."""
    return (
        tracker.active_loop_name == "application_form"
        and service_in_progress(tracker) == service_id
        and tracker.get_slot("requested_slot") not in (None, "service")
    )


def asks_to_apply(tracker: Tracker) -> bool:
    """The message asks to apply for a service it names (not an answer to a question)."""
    message = tracker.latest_message
    return (message.get("intent") or {}).get("name") == "apply_service" and any(
        e.get("entity") == "service" for e in message.get("entities") or []
    )


def asks_without_naming(tracker: Tracker) -> bool:
    """An "apply" message that names no service ("ok apply for it", "isi ke liye")."""
    message = tracker.latest_message
    return (message.get("intent") or {}).get("name") == "apply_service" and not any(
        e.get("entity") == "service" for e in message.get("entities") or []
    )


def answers_of(tracker: Tracker, service: Service) -> dict[str, Any]:
    answers = tracker.get_slot("form_answers") or {}
    if not isinstance(answers, dict) or answers.get("service") != service.id:
        return {"service": service.id, "values": {}, "display": {}}
    return answers


def next_field(service: Service, answers: dict[str, Any]) -> Field | None:
    return next((f for f in service.fields if f.id not in answers["values"]), None)


def next_document(service: Service, documents: dict[str, Any]) -> Any:
    return next((d for d in service.documents if d.id not in documents), None)


def field_buttons(field: Field, language: str) -> list[dict[str, str]]:
    buttons = [{"title": c.title(language), "payload": c.id} for c in field.choices or []]
    return buttons


def check_answer(field: Field, text: str) -> tuple[bool, Any, str, str | None]:
    """(ok, value to store, value to show back, error code) for one answer."""
    if field.type == "aadhaar" and _MASKED_AADHAAR.match(text.strip()):
        return True, text.strip(), text.strip(), None
    checked = check(field, text, today_in_india())
    return checked.ok, checked.value, checked.display, checked.error


def shown_answer(field: Field, value: Any, display: Any, language: str) -> str:
    """An answer as the citizen reads it back, in their current language: a choice by
    its title, an amount as "₹1,50,000 (डेढ़ लाख)", anything else as it was checked."""
    if value is None:
        return str(display or "-")
    if field.type == "choice":
        choice = field.choice(str(value))
        if choice is not None:
            return choice.title(language)
    if field.type == "amount" and isinstance(value, int):
        return format_amount(value, language)
    return str(display if display not in (None, "") else value)


def not_typed(tracker: Tracker) -> str | None:
    """What the citizen sent instead of typing words, or None for a typed message:
    ``voice``, ``sticker``, ``video`` or ``unreadable`` (what the channel could not read),
    ``location``, ``file`` (a file, taken or refused) or ``wordless`` (only emoji or
    punctuation, such as 🙏)."""
    metadata = latest_user_metadata(tracker)
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if intent == "unsupported_message":
        return _UNREADABLE_KINDS.get(str(metadata.get("message_type") or ""), "unreadable")
    if metadata.get("location"):
        return "location"
    if metadata.get("attachment") or intent == "upload_rejected":
        return "file"
    text = str(tracker.latest_message.get("text") or "")
    if text.strip() and not any(c.isalnum() for c in text):
        return "wordless"
    return None


class ValidateApplicationForm(FormValidationAction):
    def name(self) -> str:
        return "validate_application_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        service = current_service(tracker)
        if service is None:
            return ["service"]
        slots = ["service"]
        if service.fields:
            slots.append("field_value")
        if service.documents:
            slots.append("document_ref")
        if tracker.get_slot("editing"):
            slots.append("edit_field")
        return [*slots, "application_confirmed"]

    async def validate_service(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        in_progress = service_in_progress(tracker)
        if in_progress and describes_a_file(tracker):
            return {"service": in_progress}  # a caption: the answers and documents stay
        language = lang(tracker)
        service = catalogue().services.get(str(value or ""))
        if service is not None and asks_for_the_form_in_progress(tracker, service.id):
            # "Apply now" tapped (or the service named again) in the middle of its own
            # application: carry on where it was, nothing the citizen gave is dropped
            dispatcher.utter_message(
                response="utter_application_continues", service=service.title(language)
            )
            return {"service": service.id}
        if service is None:
            dispatcher.utter_message(
                response="utter_service_unknown",
                buttons=department_buttons(language, "apply_service"),
            )
            return {"service": None}
        dispatcher.utter_message(
            response="utter_service_intro",
            service=service.title(language),
            fee=service.fee,
            sla_days=service.sla_days,
            eligibility=service.eligibility.get(language) or service.eligibility["en"],
            documents=documents_text(service, language),
            count=len(service.fields),
        )
        return {
            "service": service.id,
            "form_answers": {"service": service.id, "values": {}, "display": {}},
            "form_documents": {},
            "form_failures": 0,
            "application_key": new_key(),
            "field_value": None,
            "document_ref": None,
            "application_confirmed": None,
        }

    async def extract_service(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """ "ok, apply for it" right after asking about a service: that service (the
        service in context), instead of asking "which service?" again."""
        if tracker.get_slot("service") or not asks_without_naming(tracker):
            return {}
        in_context = tracker.get_slot("service_in_context")
        return {"service": in_context} if in_context in catalogue().services else {}

    async def extract_field_value(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """What counts as an answer beyond the domain's ``from_text`` mapping.

        * A choice named by the message (a tapped row's payload is the choice id,
          "छात्रवृत्ति के लिए" names one) answers the question whatever intent the NLU
          reads in it: "scholarship" is also a service, but here it is the purpose, and
          "kheti" (farming) is no "cancel". Only the choices of this question count.
        * A voice note, sticker, location, file or a lone emoji is passed on to
          ``validate_field_value``, which answers it in kind and asks again.
        * Anything else with a rule of its own (DIGRESSIONS, including a language
          switch) is left to that rule: nothing is stored.
        """
        if tracker.get_slot("requested_slot") != "field_value":
            return {}
        service = current_service(tracker)
        field = next_field(service, answers_of(tracker, service)) if service else None
        if field is None:
            return {}
        text = str(tracker.latest_message.get("text") or "")
        kind = not_typed(tracker)
        if kind is not None:
            return {"field_value": text or kind}
        if field.type == "choice" and check_answer(field, text)[0]:
            return {"field_value": text}  # even "kheti" (farming), which NLU reads as cancel
        return {}

    async def validate_field_value(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        service = current_service(tracker)
        if service is None:
            return {"field_value": None}
        answers = answers_of(tracker, service)
        field = next_field(service, answers)
        if field is None:
            return {"field_value": "done"}
        language = lang(tracker)
        text = str(value or "")
        kind = not_typed(tracker)
        if field.optional and is_skip(text):
            ok, stored, shown, error = True, None, "-", None
        elif kind is not None:
            # not an answer, and not a mistake either: say so in kind, ask again
            if kind == "location" and field.type == "address":
                response = "utter_field_location_for_address"
            else:
                response = _NOT_TYPED_REPLIES[kind]
            dispatcher.utter_message(response=response, label=field.label(language))
            return {"field_value": None}
        elif asks_to_apply(tracker) and field.type != "choice":
            # "actually I want a domicile certificate instead": a request, which
            # validate_service has acted on, not the answer to the question
            return {"field_value": None}
        else:
            ok, stored, shown, error = check_answer(field, text)
        if not ok:
            failures = int(tracker.get_slot("form_failures") or 0) + 1
            dispatcher.utter_message(response=f"utter_invalid_{error}")
            if failures >= MAX_FAILURES:
                dispatcher.utter_message(response="utter_offer_human")
            return {"field_value": None, "form_failures": failures}
        if field.type == "amount" and isinstance(stored, int):
            # read back in Indian grouping and words: a lakh too many shows at once
            dispatcher.utter_message(
                response="utter_amount_noted", amount=format_amount(stored, language)
            )
        answers = {
            "service": service.id,
            "values": {**answers["values"], field.id: stored},
            "display": {**answers["display"], field.id: shown},
        }
        done = next_field(service, answers) is None
        return {
            "field_value": "done" if done else None,
            "form_answers": answers,
            "form_failures": 0,
        }

    async def extract_document_ref(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "document_ref":
            return {}
        attachment = latest_attachment(tracker)
        if attachment:  # a file sent now is the document, whatever its caption says
            return {"document_ref": str(attachment["storage_ref"])}
        refused = upload_error(tracker)
        if refused:  # a file was sent but could not be taken: say why, in the form
            return {"document_ref": f"{REFUSED_PREFIX}{refused}"}
        text = tracker.latest_message.get("text") or ""
        if is_skip(text):  # before digressions: "skip" / "छोड़ें" can read as "cancel"
            return {"document_ref": "skip"}
        if (tracker.latest_message.get("intent") or {}).get("name") in DIGRESSIONS:
            return {}
        if asks_for_the_form_in_progress(tracker, str(tracker.get_slot("service") or "")):
            named = [e.get("value") for e in tracker.latest_message.get("entities") or []]
            if tracker.get_slot("service") in named:
                return {}  # "Apply now" again: validate_service says we carry on
        return {"document_ref": "no-file"}

    async def validate_document_ref(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        service = current_service(tracker)
        if service is None:
            return {"document_ref": None}
        language = lang(tracker)
        documents = dict(tracker.get_slot("form_documents") or {})
        document = next_document(service, documents)
        if document is None:
            return {"document_ref": "done"}
        attachment = latest_attachment(tracker)
        if attachment and attachment.get("storage_ref") == value:
            documents[document.id] = attachment
            dispatcher.utter_message(
                response="utter_document_received", document=document.title(language)
            )
        elif isinstance(value, str) and value.startswith(REFUSED_PREFIX):
            # the real reason (damaged on the way, too large, not a photo or PDF), then
            # the document is asked for again
            dispatcher.utter_message(response=f"utter_upload_rejected_{upload_error(tracker)}")
            return {"document_ref": None}
        elif value == "skip" and not document.required:
            documents[document.id] = None
        else:
            dispatcher.utter_message(
                response="utter_document_expected", document=document.title(language)
            )
            return {"document_ref": None}
        done = next_document(service, documents) is None
        return {"document_ref": "done" if done else None, "form_documents": documents}

    async def validate_application_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is True or current_service(tracker) is None:
            return {"application_confirmed": value}
        return {"application_confirmed": None, "editing": True, "edit_field": None}

    async def validate_edit_field(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The detail to change (a tapped field id, or its number): only it is asked again."""
        service = current_service(tracker)
        if service is None:
            return {"edit_field": None, "editing": False}
        text = ascii_digits(str(value or "").strip())
        fields = service.fields
        field = next((f for f in fields if f.id == text), None)
        if field is None and text.isdigit() and 1 <= int(text) <= len(fields):
            field = fields[int(text) - 1]
        if field is None:
            dispatcher.utter_message(response="utter_invalid_choice_unknown")
            return {"edit_field": None}
        answers = answers_of(tracker, service)
        values = {k: v for k, v in answers["values"].items() if k != field.id}
        display = {k: v for k, v in answers["display"].items() if k != field.id}
        return {
            "edit_field": None,
            "editing": False,
            "field_value": None,
            "form_answers": {"service": service.id, "values": values, "display": display},
        }


class ActionAskService(Action):
    def name(self) -> str:
        return "action_ask_service"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            response="utter_ask_service",
            buttons=department_buttons(lang(tracker), "list_services"),
        )
        return []


class ActionAskFieldValue(Action):
    def name(self) -> str:
        return "action_ask_field_value"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        service = current_service(tracker)
        if service is None:
            return []
        language = lang(tracker)
        answers = answers_of(tracker, service)
        field = next_field(service, answers)
        if field is None:
            return []
        buttons = field_buttons(field, language)
        if field.optional:
            dispatcher.utter_message(response="utter_skip_hint")
            buttons.append({"title": "Skip" if language == "en" else "छोड़ें", "payload": "skip"})
        dispatcher.utter_message(
            response="utter_ask_field",
            step=len(answers["values"]) + 1,
            total=len(service.fields),
            question=field.ask(language),
            buttons=buttons,
        )
        return []


class ActionAskDocumentRef(Action):
    """Asks for the next document; an optional one comes with a Skip button, which the
    form takes as "leave it out" (``extract_document_ref``)."""

    def name(self) -> str:
        return "action_ask_document_ref"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        service = current_service(tracker)
        document = (
            next_document(service, tracker.get_slot("form_documents") or {}) if service else None
        )
        if document is None:
            return []
        response = "utter_ask_document" if document.required else "utter_ask_document_optional"
        dispatcher.utter_message(response=response, document=document.title(lang(tracker)))
        return []


class ActionAskEditField(Action):
    def name(self) -> str:
        return "action_ask_edit_field"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        service = current_service(tracker)
        if service is None:
            return []
        language = lang(tracker)
        buttons = [
            {"title": f"{i}. {field.label(language)}", "payload": field.id}
            for i, field in enumerate(service.fields, start=1)
        ]
        dispatcher.utter_message(response="utter_ask_edit_field", buttons=buttons)
        return []


class ActionAskApplicationConfirmed(Action):
    def name(self) -> str:
        return "action_ask_application_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        service = current_service(tracker)
        if service is None:
            return []
        language = lang(tracker)
        answers = answers_of(tracker, service)
        values, display = answers["values"], answers["display"]
        lines = [
            f"• {field.label(language)}: "
            f"{shown_answer(field, values.get(field.id), display.get(field.id), language)}"
            for field in service.fields
        ]
        documents = tracker.get_slot("form_documents") or {}
        lines += [
            f"• {d.title(language)}: {'✅' if documents.get(d.id) else '-'}"
            for d in service.documents
        ]
        dispatcher.utter_message(
            response="utter_application_summary",
            service=service.title(language),
            summary="\n".join(lines),
            fee=service.fee,
        )
        return []


def reset_form() -> list[dict[str, Any]]:
    events = [SlotSet(slot, None) for slot in FORM_SLOTS]
    return [
        *events,
        SlotSet("form_failures", 0),
        SlotSet("submission_pending", False),
        SlotSet("pending_kind", None),
    ]


class ActionResetApplication(Action):
    def name(self) -> str:
        return "action_reset_application"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        return reset_form()


async def submit_application(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[dict[str, Any]]:
    """Files the collected application; on a failure keeps everything for a retry."""
    service = current_service(tracker)
    key = tracker.get_slot("application_key")
    if service is None or not key:
        return reset_form()
    language = lang(tracker)
    citizen = tracker.sender_id
    api = clients()
    answers = answers_of(tracker, service)
    created = await call(
        api.edistrict.create_application,
        citizen_id=citizen,
        service_id=service.id,
        fields={k: v for k, v in answers["values"].items() if v is not None},
        language=language,
        idempotency_key=key,
    )
    if created.ok:
        application_id = str(created.data["application_id"])
        for document_id, attachment in (tracker.get_slot("form_documents") or {}).items():
            if not attachment:
                continue
            attached = await call(
                api.edistrict.attach_document,
                citizen_id=citizen,
                application_id=application_id,
                document={"document_id": document_id, **attachment},
            )
            if not attached.ok and attached.error != "conflict":
                created = attached
                break
    if created.ok:
        submitted = await call(
            api.edistrict.submit,
            citizen_id=citizen,
            application_id=application_id,
            idempotency_key=f"{key}:submit",
        )
        created = submitted
    if not created.ok:
        if created.error in ("timeout", "unavailable"):
            dispatcher.utter_message(response="utter_submission_failed")
            return [SlotSet("submission_pending", True), SlotSet("pending_kind", "application")]
        dispatcher.utter_message(response="utter_submission_rejected", reason=created.error or "")
        return reset_form()
    application = created.data
    if application.get("status") == "payment_pending":
        order = await call(
            api.payments.create_order,
            citizen_id=citizen,
            application_id=application_id,
            idempotency_key=f"{key}:order",
        )
        if not order.ok:
            dispatcher.utter_message(
                response="utter_status_payment_pending",
                application_id=application_id,
                service=service.title(language),
                fee=service.fee,
            )
            return reset_form()
        dispatcher.utter_message(
            response="utter_payment_link",
            application_id=application_id,
            amount=order.data.get("amount", service.fee),
            payment_url=order.data.get("payment_url", ""),
        )
    else:
        dispatcher.utter_message(
            response="utter_application_submitted",
            application_id=application_id,
            service=service.title(language),
            sla_due=show_date(application.get("sla_due")),
        )
    return reset_form()


class ActionSubmitApplication(Action):
    def name(self) -> str:
        return "action_submit_application"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        return await submit_application(dispatcher, tracker)
