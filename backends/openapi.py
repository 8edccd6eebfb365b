"""The hand-written OpenAPI 3 document of the service, served at ``GET /openapi.json``.

Kept beside the code on purpose: ``tests/test_backends_edistrict.py``
(``test_health_and_openapi_document_every_route``) checks that every registered route is
documented here and every documented one is registered, and every answer the tests get
from a running service is checked against the operation's documented statuses, content
types and JSON schemas (``tests/support/backends_contract.py``, used by
``running_backend``).
"""

from __future__ import annotations

from typing import Any

from backends.broadcasts import CATEGORIES as BROADCAST_CATEGORIES
from backends.edistrict import ACTIONS as APPLICATION_ACTIONS
from backends.edistrict import CHANNELS, MIME_TYPES
from backends.grievances import ACTIONS as GRIEVANCE_ACTIONS
from backends.grievances import ATTACHMENT_TYPES, CATEGORIES
from backends.notifications import FINAL, PURPOSES
from backends.reminders import TEMPLATES as REMINDER_TEMPLATES


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def _errors(*codes: int) -> dict[str, Any]:
    texts = {
        400: "Bad input: `details.fields` maps each field to an error code",
        401: "Missing or wrong bearer token",
        403: "This token may not make this call, or the record is another department's "
        "(wrong_department)",
        404: "Unknown id, or not the caller's own record",
        409: "Wrong state for this action, or Idempotency-Key reused with another body",
        422: "Refused by a rule (e.g. documents missing, no fee)",
    }
    return {str(code): _json(_ref("Error"), texts[code]) for code in codes}


def _gateway_page_404(gateway: str) -> dict[str, Any]:
    """404 of a gateway's page: an unknown link, or the page of another gateway."""
    return {
        "description": f"unknown link (HTML page); or PAYMENT_GATEWAY is not {gateway}, "
        "so the route is not mounted (JSON error not_found)",
        "content": {
            "text/html": {"schema": {"type": "string"}},
            "application/json": {"schema": _ref("Error")},
        },
    }


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


_STR = {"type": "string"}
_REFUND = _obj(
    ["payment_id", "order_id", "application_id", "amount", "reason", "status"],
    payment_id=_STR,
    order_id=_STR,
    application_id=_STR,
    amount={"type": "integer", "description": "rupees"},
    reason={"type": "string", "enum": ["already_paid", "application_closed"]},
    status={"type": "string", "enum": ["due", "refunded"]},
    created_at={"type": "string", "format": "date-time"},
)
_INT = {"type": "integer"}
_BROADCAST_BODY = _obj(
    ["department", "category", "text"],
    department=_STR,
    category={"type": "string", "enum": list(BROADCAST_CATEGORIES)},
    text=_obj(["hi", "en"], hi=_STR, en=_STR),
    district=_STR,
)
_BROADCAST_PREVIEW = _obj(
    ["department", "category", "district", "template", "audience", "by_language"]
    + ["excluded", "message"],
    department=_STR,
    category={"type": "string", "enum": list(BROADCAST_CATEGORIES)},
    district={"type": "string", "nullable": True},
    template=_STR,
    audience=_INT,
    by_language=_obj(["hi", "en"], hi=_INT, en=_INT),
    excluded=_obj(["opted_out", "other_district"], opted_out=_INT, other_district=_INT),
    message=_obj(["hi", "en"], hi=_STR, en=_STR),
)
_TIME = {"type": "string", "format": "date-time"}
_LANG = {"type": "string", "enum": ["hi", "en"]}
_CITIZEN = [{"$ref": "#/components/parameters/CitizenId"}]
_KEY = [{"$ref": "#/components/parameters/IdempotencyKey"}]
_OFFICER = [{"$ref": "#/components/parameters/OfficerId"}]
_TOKEN: list[dict[str, list[str]]] = [{"bearer": []}]
_PREFERENCE_FIELDS: dict[str, Any] = {
    "broadcasts": {"type": "boolean"},
    "reminders": {"type": "boolean"},
    "status_updates": {"type": "boolean"},
    "departments": {"type": "array", "items": _STR},
    "district": {"type": "string", "nullable": True},
    "language": {"type": "string", "enum": ["hi", "en"], "nullable": True},
}


def _list_params(*names: str) -> list[dict[str, Any]]:
    """Query filters of a list call (comma-separated values), due_before, limit, offset."""
    return [
        *({"name": n, "in": "query", "schema": _STR, "description": "a,b,..."} for n in names),
        {"name": "due_before", "in": "query", "schema": _STR},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 500}},
        {"name": "offset", "in": "query", "schema": _INT},
    ]


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _STR}


def _op(
    summary: str,
    responses: dict[str, Any],
    *,
    params: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    security: list[dict[str, list[str]]] | None = None,
    tags: list[str] | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": responses, "security": security or []}
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = body
    if tags:
        op["tags"] = tags
    return op


_SCHEMAS: dict[str, Any] = {
    "Error": _obj(
        ["error", "message", "details"],
        error=_STR,
        message=_STR,
        details={"type": "object", "properties": {"fields": {"type": "object"}}},
    ),
    "HistoryItem": _obj(
        ["status", "at", "by"],
        status=_STR,
        at=_TIME,
        by=_STR,
        reason={"type": "string", "nullable": True},
    ),
    "Document": _obj(
        ["document_id", "filename", "sha256"],
        document_id=_STR,
        filename=_STR,
        mime_type={"type": "string", "enum": list(MIME_TYPES)},
        size=_INT,
        sha256=_STR,
        storage_ref=_STR,
        uploaded_at=_TIME,
    ),
    "Application": _obj(
        ["application_id", "service_id", "status", "fee", "paid", "fields", "documents", "history"],
        application_id={"type": "string", "pattern": r"^APP-\d{4}-\d{6}$"},
        service_id=_STR,
        status={
            "type": "string",
            "enum": [
                "draft",
                "payment_pending",
                "submitted",
                "verified",
                "approved",
                "rejected",
                "resubmission_requested",
                "awaiting_citizen_confirmation",
                "cancelled",
                "confirmation_locked",
            ],
        },
        status_reason={"type": "string", "nullable": True},
        fee=_INT,
        paid={"type": "boolean"},
        fields={"type": "object", "additionalProperties": True},
        documents={"type": "array", "items": _ref("Document")},
        history={"type": "array", "items": _ref("HistoryItem")},
        sla_due={"type": "string", "format": "date", "nullable": True},
        certificate_number={"type": "string", "nullable": True},
        language=_LANG,
        channel={"type": "string", "enum": list(CHANNELS)},
        operator={"type": "object", "nullable": True},
        created_at=_TIME,
        updated_at=_TIME,
    ),
    "CertificateLink": _obj(
        ["url", "filename", "expires_at"], url=_STR, filename=_STR, expires_at=_TIME
    ),
    "Verification": _obj(
        ["valid"],
        valid={"type": "boolean"},
        reason=_STR,
        certificate_number=_STR,
        service_id=_STR,
        service_name={"type": "object"},
        department={"type": "object"},
        applicant_name=_STR,
        issued_on={"type": "string", "format": "date"},
    ),
    "Order": _obj(
        ["order_id", "amount", "currency", "status", "payment_url", "application_id"],
        order_id=_STR,
        application_id=_STR,
        amount={"type": "integer", "description": "rupees; the catalogue fee"},
        currency={"type": "string", "enum": ["INR"]},
        status={
            "type": "string",
            "enum": ["created", "attempted", "paid", "failed", "refund_due"],
        },
        payment_url=_STR,
        receipt_number={"type": "string", "nullable": True},
        paid_at={"type": "string", "format": "date-time", "nullable": True},
        created_at=_TIME,
        updated_at=_TIME,
    ),
    "Receipt": _obj(
        ["receipt_number", "amount", "paid_at", "application_id", "service_id"],
        receipt_number=_STR,
        order_id=_STR,
        payment_id={"type": "string", "nullable": True},
        amount=_INT,
        currency=_STR,
        paid_at=_TIME,
        application_id=_STR,
        service_id=_STR,
    ),
    "WebhookEvent": _obj(
        ["id", "event", "payload"],
        id=_STR,
        event={
            "type": "string",
            "enum": ["payment.authorized", "payment.captured", "payment.failed", "order.paid"],
        },
        created_at=_INT,
        payload={
            "type": "object",
            "description": "Razorpay shape: payment.entity {id, amount (paise), order_id, "
            "status}, order.entity {id, amount_paid}",
        },
    ),
    "Grievance": _obj(
        ["grievance_id", "category", "department", "description", "status", "escalation_level"],
        grievance_id={"type": "string", "pattern": r"^GRV-\d{4}-\d{6}$"},
        category={"type": "string", "enum": list(CATEGORIES)},
        department=_STR,
        description=_STR,
        location={"type": "object", "nullable": True},
        attachment={"type": "object", "nullable": True},
        language=_LANG,
        status={"type": "string", "enum": ["open", "in_progress", "resolved", "closed"]},
        escalation_level={"type": "integer", "minimum": 0, "maximum": 3},
        due_at=_TIME,
        sla_due={"type": "string", "format": "date"},
        assigned_to={"type": "string", "nullable": True},
        feedback={"type": "object", "nullable": True},
        history={"type": "array", "items": {"type": "object"}},
        created_at=_TIME,
        updated_at=_TIME,
        resolved_at={"type": "string", "format": "date-time", "nullable": True},
        closed_at={"type": "string", "format": "date-time", "nullable": True},
    ),
    "Preferences": _obj(
        ["citizen_id", "broadcasts", "reminders", "status_updates", "departments"],
        citizen_id=_STR,
        **_PREFERENCE_FIELDS,
        updated_at={"type": "string", "format": "date-time", "nullable": True},
    ),
    "Notification": _obj(
        ["id", "purpose", "template", "status"],
        id=_INT,
        citizen_id=_STR,
        purpose={"type": "string", "enum": list(PURPOSES)},
        department={"type": "string", "nullable": True},
        template=_STR,
        language=_LANG,
        parameters={"type": "array", "items": _STR, "nullable": True},
        subject_id={"type": "string", "nullable": True},
        broadcast_id={"type": "string", "nullable": True},
        reminder_id={"type": "integer", "nullable": True},
        status={"type": "string", "enum": ["pending", *FINAL]},
        error={"type": "string", "nullable": True},
        attempts=_INT,
        next_attempt_at=_TIME,
        message_id={"type": "string", "nullable": True},
        mode={"type": "string", "nullable": True},
        phone_number_id={"type": "string", "nullable": True},
        sent_at={"type": "string", "format": "date-time", "nullable": True},
        created_at=_TIME,
        updated_at=_TIME,
    ),
    "Reminder": _obj(
        ["id", "kind", "application_id", "status", "due_at", "sent"],
        id=_INT,
        kind={"type": "string", "enum": list(REMINDER_TEMPLATES)},
        application_id=_STR,
        status={"type": "string", "enum": ["scheduled", "done", "cancelled"]},
        reason={"type": "string", "nullable": True},
        due_at=_TIME,
        sent=_INT,
        max_count=_INT,
    ),
    "Broadcast": _obj(
        ["broadcast_id", "department", "category", "audience", "sent", "pending"],
        broadcast_id={"type": "string", "pattern": r"^BRD-\d{4}-\d{6}$"},
        department=_STR,
        category={"type": "string", "enum": list(BROADCAST_CATEGORIES)},
        district={"type": "string", "nullable": True},
        text=_obj(["hi", "en"], hi=_STR, en=_STR),
        officer_id=_STR,
        created_at=_TIME,
        **{
            name: _INT
            for name in (
                "audience",
                "sent",
                "delivered",
                "read",
                "failed",
                "opted_out",
                "cancelled",
                "pending",
            )
        },
    ),
    "Erasure": _obj(
        ["erased", "kept"],
        erased={"type": "object", "additionalProperties": _INT},
        kept=_obj(["certificates", "payments"], certificates=_INT, payments=_INT),
    ),
    "Feedback": _obj(
        ["feedback_id", "rating"],
        feedback_id=_INT,
        rating={"type": "integer", "minimum": 1, "maximum": 5},
        comment={"type": "string", "nullable": True},
        application_id={"type": "string", "nullable": True},
        language=_LANG,
        created_at=_TIME,
    ),
    "Event": _obj(
        ["id", "type", "subject_id", "payload", "created_at"],
        id=_INT,
        type=_STR,
        subject_id=_STR,
        citizen_id={"type": "string", "nullable": True},
        payload={"type": "object"},
        created_at=_TIME,
    ),
}

_APP = [_path_param("application_id")]
_CITIZEN_PATH = [_path_param("citizen_id"), *_CITIZEN]
_ORDER = [_path_param("order_id")]
_GRV = [_path_param("grievance_id")]

_PATHS: dict[str, Any] = {
    "/health": {"get": _op("Liveness", {"200": _json(_obj(["status"], status=_STR), "ok")})},
    "/openapi.json": {"get": _op("This document", {"200": _json({"type": "object"}, "OpenAPI")})},
    "/events": {
        "get": _op(
            "State-change events after an id (notification outbox)",
            {
                "200": _json(
                    _obj(["events"], events={"type": "array", "items": _ref("Event")}), "events"
                ),
                **_errors(400, 401, 403),
            },
            params=[
                {"name": "after", "in": "query", "schema": _INT},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 500}},
            ],
            security=_TOKEN,
            tags=["events"],
        )
    },
    "/edistrict/applications": {
        "post": _op(
            "Create an application (draft) for a catalogue service",
            {
                "201": _json(_ref("Application"), "created"),
                "200": _json(_ref("Application"), "same Idempotency-Key and body: the original"),
                **_errors(400, 401, 403, 409),
            },
            params=_CITIZEN + _KEY,
            body=_body(
                _obj(
                    ["service_id", "fields"],
                    service_id=_STR,
                    fields={"type": "object", "additionalProperties": True},
                    language=_LANG,
                    channel={"type": "string", "enum": list(CHANNELS)},
                    operator={"type": "object"},
                )
            ),
            security=_TOKEN,
            tags=["edistrict"],
        ),
        "get": _op(
            "The caller's applications (officer: all), newest first, filtered",
            {
                "200": _json(
                    _obj(
                        ["applications", "total"],
                        applications={"type": "array", "items": _ref("Application")},
                        total=_INT,
                    ),
                    "applications",
                ),
                **_errors(400, 401),
            },
            params=_CITIZEN + _list_params("service_id", "status"),
            security=_TOKEN,
            tags=["edistrict"],
        ),
    },
    "/edistrict/applications/{application_id}": {
        "get": _op(
            "One application",
            {"200": _json(_ref("Application"), "application"), **_errors(401, 403, 404)},
            params=_APP + _CITIZEN,
            security=_TOKEN,
            tags=["edistrict"],
        )
    },
    "/edistrict/applications/{application_id}/documents": {
        "post": _op(
            "Attach (or replace) a document; only in draft or resubmission_requested",
            {
                "201": _json(_obj(["document"], document=_ref("Document")), "attached"),
                **_errors(400, 401, 403, 404, 409),
            },
            params=_APP + _CITIZEN,
            body=_body(
                _obj(
                    ["document_id", "filename", "mime_type", "size", "sha256", "storage_ref"],
                    document_id=_STR,
                    filename=_STR,
                    mime_type={"type": "string", "enum": list(MIME_TYPES)},
                    size=_INT,
                    sha256=_STR,
                    storage_ref=_STR,
                )
            ),
            security=_TOKEN,
            tags=["edistrict"],
        )
    },
    "/edistrict/applications/{application_id}/submit": {
        "post": _op(
            "Submit: payment_pending when a fee is due, else submitted",
            {
                "200": _json(_ref("Application"), "submitted or payment_pending"),
                **_errors(400, 401, 403, 404, 409, 422),
            },
            params=_APP + _CITIZEN + _KEY,
            body=_body({"type": "object"}),
            security=_TOKEN,
            tags=["edistrict"],
        )
    },
    "/edistrict/applications/{application_id}/actions": {
        "post": _op(
            "Officer action (reason required for reject and request_resubmission)",
            {"200": _json(_ref("Application"), "application"), **_errors(400, 401, 403, 404, 409)},
            params=_APP + _OFFICER,
            body=_body(
                _obj(
                    ["action"],
                    action={"type": "string", "enum": list(APPLICATION_ACTIONS)},
                    reason=_STR,
                )
            ),
            security=_TOKEN,
            tags=["edistrict"],
        )
    },
    "/edistrict/applications/{application_id}/confirm": {
        "post": _op(
            "The citizen confirms a CSC filing with the WhatsApp code; then on as a "
            "submission (422 wrong_code with details.attempts_left; locked after 5)",
            {
                "200": _json(_ref("Application"), "payment_pending, submitted or draft"),
                **_errors(400, 401, 403, 404, 409, 422),
            },
            params=_APP + _CITIZEN,
            body=_body(_obj(["code"], code={"type": "string", "pattern": "^[0-9]{6}$"})),
            security=_TOKEN,
            tags=["edistrict"],
        )
    },
    "/edistrict/applications/{application_id}/decline": {
        "post": _op(
            "The citizen did not ask for this CSC filing: cancelled",
            {"200": _json(_ref("Application"), "cancelled"), **_errors(401, 403, 404, 409)},
            params=_APP + _CITIZEN,
            body=_body({"type": "object"}),
            security=_TOKEN,
            tags=["edistrict"],
        )
    },
    "/edistrict/applications/{application_id}/counter": {
        "post": _op(
            "What happened at the CSC counter, from the operator who filed it: confirm / "
            "lock (a citizen without WhatsApp read out the dashboard's SMS code), pay (fee "
            "paid at the counter, cash or upi), receipt (the CSC receipt to the citizen's "
            "WhatsApp; sent: false without it)",
            {
                "200": _json(_ref("Application"), "the application"),
                **_errors(400, 401, 403, 404, 409),
            },
            params=_APP + _OFFICER,
            body=_body(
                _obj(
                    ["action"],
                    action={"type": "string", "enum": ["confirm", "lock", "pay", "receipt"]},
                    mode={"type": "string", "enum": ["cash", "upi"]},
                    receipt_number=_STR,
                    charge={"type": "integer"},
                    fee={"type": "integer"},
                    total={"type": "integer"},
                )
            ),
            security=_TOKEN,
            tags=["edistrict"],
        )
    },
    "/edistrict/applications/{application_id}/certificate": {
        "get": _op(
            "Signed download link of the certificate PDF (valid 15 minutes)",
            {"200": _json(_ref("CertificateLink"), "link"), **_errors(401, 404, 409)},
            params=_APP + _CITIZEN,
            security=_TOKEN,
            tags=["edistrict"],
        )
    },
    "/certificates/{filename}": {
        "get": _op(
            "The certificate PDF through a signed, expiring link (no bearer token)",
            {
                "200": {
                    "description": "PDF",
                    "content": {
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}}
                    },
                },
                "403": _json(_ref("Error"), "bad or expired link"),
            },
            params=[
                _path_param("filename"),
                {"name": "expires", "in": "query", "required": True, "schema": _INT},
                {"name": "signature", "in": "query", "required": True, "schema": _STR},
            ],
            tags=["edistrict"],
        )
    },
    "/verify/{token}": {
        "get": _op(
            "Public verification page of a certificate's QR code (200 either way)",
            {
                "200": {
                    "description": "Genuine / Not valid page; JSON with ?format=json",
                    "content": {
                        "text/html": {"schema": {"type": "string"}},
                        "application/json": {"schema": _ref("Verification")},
                    },
                }
            },
            params=[
                _path_param("token"),
                {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json"]}},
            ],
            tags=["edistrict"],
        )
    },
    "/payments/orders": {
        "post": _op(
            "Create a payment order; the amount is the catalogue fee, never the request's",
            {
                "201": _json(_ref("Order"), "created"),
                "200": _json(_ref("Order"), "same Idempotency-Key and body: the original"),
                **_errors(400, 401, 403, 404, 409, 422),
            },
            params=_CITIZEN + _KEY,
            body=_body(_obj(["application_id"], application_id=_STR)),
            security=_TOKEN,
            tags=["payments"],
        )
    },
    "/payments/orders/{order_id}": {
        "get": _op(
            "One order",
            {"200": _json(_ref("Order"), "order"), **_errors(401, 404)},
            params=_ORDER + _CITIZEN,
            security=_TOKEN,
            tags=["payments"],
        )
    },
    "/payments/orders/{order_id}/receipt": {
        "get": _op(
            "Receipt of a paid order",
            {"200": _json(_ref("Receipt"), "receipt"), **_errors(401, 404, 409)},
            params=_ORDER + _CITIZEN,
            security=_TOKEN,
            tags=["payments"],
        )
    },
    "/payments/webhook": {
        "post": _op(
            "Gateway webhook (X-Razorpay-Signature: hex HMAC-SHA256 of the raw body)",
            {
                "200": _json(
                    _obj(["status"], status=_STR, event_id=_STR),
                    "applied, no_change, refund_due, duplicate, ignored, unknown_order or "
                    "amount_mismatch",
                ),
                **_errors(400, 401),
            },
            params=[
                {
                    "name": "X-Razorpay-Signature",
                    "in": "header",
                    "required": True,
                    "schema": _STR,
                }
            ],
            body=_body(_ref("WebhookEvent")),
            tags=["payments"],
        )
    },
    "/payments/refunds": {
        "get": _op(
            "Payments that paid for nothing (the fee was already paid, or the application "
            "was cancelled or erased), of the officer's departments",
            {
                "200": _json(
                    _obj(["refunds"], refunds={"type": "array", "items": _REFUND}), "refunds"
                ),
                **_errors(400, 401, 403),
            },
            params=_OFFICER
            + [
                {
                    "name": "status",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["due", "refunded"]},
                }
            ],
            security=_TOKEN,
            tags=["payments"],
        )
    },
    "/payments/refunds/{payment_id}": {
        "post": _op(
            "The officer refunded this payment at the gateway",
            {"200": _json(_REFUND, "the refund"), **_errors(400, 401, 403, 404)},
            params=[_path_param("payment_id"), *_OFFICER],
            body=_body(_obj(["gateway_refund_id"], gateway_refund_id=_STR)),
            security=_TOKEN,
            tags=["payments"],
        )
    },
    "/payments/checkout/{order_id}": {
        "get": _op(
            "The payment link (PAYMENT_GATEWAY=razorpay): hands the order to Razorpay's "
            "hosted checkout",
            {
                "200": _html("page"),
                "404": _gateway_page_404("razorpay"),
                "409": _html("nothing to pay"),
            },
            params=_ORDER,
            tags=["payments"],
        )
    },
    "/payments/callback": {
        "post": _op(
            "Return from Razorpay's hosted checkout (razorpay_signature: hex HMAC-SHA256 of "
            "'<order_id>|<payment_id>' with the key secret); the status API decides",
            {"200": _html("outcome page"), **_errors(401)},
            body={
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": _obj(
                            [],
                            razorpay_order_id=_STR,
                            razorpay_payment_id=_STR,
                            razorpay_signature=_STR,
                        )
                    }
                },
            },
            tags=["payments"],
        )
    },
    "/pay/{order_id}": {
        "get": _op(
            "Hosted sandbox checkout page (PAYMENT_GATEWAY=sandbox only; never in production)",
            {
                "200": _html("page"),
                "404": _gateway_page_404("sandbox"),
                "409": _html("nothing to pay: the order is closed or the application withdrawn"),
            },
            params=_ORDER,
            tags=["sandbox gateway"],
        ),
        "post": _op(
            "Sandbox outcome; the gateway then POSTs signed webhooks to the merchant",
            {
                "200": _html("outcome page"),
                "400": _html("bad outcome"),
                "404": _gateway_page_404("sandbox"),
                "409": _html("nothing to pay: the order is closed or the application withdrawn"),
            },
            params=_ORDER,
            body={
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": _obj(
                            ["outcome"],
                            outcome={"type": "string", "enum": ["success", "failure", "pending"]},
                        )
                    }
                },
            },
            tags=["sandbox gateway"],
        ),
    },
    "/grievances": {
        "post": _op(
            "Register a grievance",
            {
                "201": _json(_ref("Grievance"), "created"),
                "200": _json(_ref("Grievance"), "same Idempotency-Key and body: the original"),
                **_errors(400, 401, 403, 409),
            },
            params=_CITIZEN + _KEY,
            body=_body(
                _obj(
                    ["category", "department", "description"],
                    category={"type": "string", "enum": list(CATEGORIES)},
                    department=_STR,
                    description={"type": "string", "minLength": 10, "maxLength": 2000},
                    location=_obj(
                        [],
                        text=_STR,
                        latitude={"type": "number"},
                        longitude={"type": "number"},
                        pin_code=_STR,
                    ),
                    attachment=_obj(
                        ["storage_ref", "mime_type", "sha256"],
                        storage_ref=_STR,
                        mime_type={"type": "string", "enum": list(ATTACHMENT_TYPES)},
                        sha256=_STR,
                    ),
                    language=_LANG,
                )
            ),
            security=_TOKEN,
            tags=["grievances"],
        ),
        "get": _op(
            "The caller's grievances (officer: all), newest first, filtered",
            {
                "200": _json(
                    _obj(
                        ["grievances", "total"],
                        grievances={"type": "array", "items": _ref("Grievance")},
                        total=_INT,
                    ),
                    "grievances",
                ),
                **_errors(400, 401),
            },
            params=_CITIZEN + _list_params("department", "status", "assigned_to"),
            security=_TOKEN,
            tags=["grievances"],
        ),
    },
    "/grievances/escalate-due": {
        "post": _op(
            "Escalate grievances past their SLA (what the background task runs)",
            {
                "200": _json(
                    _obj(["escalated"], escalated={"type": "array", "items": _STR}), "escalated ids"
                ),
                **_errors(401, 403),
            },
            security=_TOKEN,
            tags=["grievances"],
        )
    },
    "/grievances/{grievance_id}": {
        "get": _op(
            "One grievance",
            {"200": _json(_ref("Grievance"), "grievance"), **_errors(401, 403, 404)},
            params=_GRV + _CITIZEN,
            security=_TOKEN,
            tags=["grievances"],
        )
    },
    "/grievances/{grievance_id}/actions": {
        "post": _op(
            "Officer action: assign, reply (message required) or resolve",
            {"200": _json(_ref("Grievance"), "grievance"), **_errors(400, 401, 403, 404, 409)},
            params=_GRV + _OFFICER,
            body=_body(
                _obj(
                    ["action"],
                    action={"type": "string", "enum": list(GRIEVANCE_ACTIONS)},
                    officer=_STR,
                    message=_STR,
                )
            ),
            security=_TOKEN,
            tags=["grievances"],
        )
    },
    "/grievances/{grievance_id}/feedback": {
        "post": _op(
            "Citizen's rating of a resolved grievance; closes it",
            {"200": _json(_ref("Grievance"), "closed"), **_errors(400, 401, 403, 404, 409)},
            params=_GRV + _CITIZEN,
            body=_body(
                _obj(
                    ["rating"], rating={"type": "integer", "minimum": 1, "maximum": 5}, comment=_STR
                )
            ),
            security=_TOKEN,
            tags=["grievances"],
        )
    },
    "/grievances/{grievance_id}/reopen": {
        "post": _op(
            "The citizen says a resolved grievance was not resolved: back to the department"
            " (in_progress if assigned, else open) with a new due time",
            {"200": _json(_ref("Grievance"), "reopened"), **_errors(400, 401, 403, 404, 409)},
            params=_GRV + _CITIZEN,
            body=_body(_obj([], comment=_STR)),
            security=_TOKEN,
            tags=["grievances"],
        )
    },
    "/citizens/{citizen_id}/preferences": {
        "get": _op(
            "Whether the citizen accepts broadcasts and reminders (STOP turns both off)",
            {"200": _json(_ref("Preferences"), "the preferences"), **_errors(401, 404)},
            params=[_path_param("citizen_id"), *_CITIZEN],
            security=_TOKEN,
            tags=["citizens"],
        ),
        "put": _op(
            "Change them (STOP / START); the service token may change only its own citizen",
            {"200": _json(_ref("Preferences"), "updated"), **_errors(400, 401, 403, 404)},
            params=[_path_param("citizen_id"), *_CITIZEN],
            body=_body(_obj([], **_PREFERENCE_FIELDS)),
            security=_TOKEN,
            tags=["citizens"],
        ),
    },
    "/citizens/{citizen_id}/erasure": {
        "post": _op(
            "Erase or anonymise the citizen's personal data; keeps issued certificates and "
            "payments (service token for that citizen, or a named officer); idempotent",
            {"200": _json(_ref("Erasure"), "what was erased and kept"), **_errors(400, 401, 404)},
            params=_CITIZEN_PATH + _OFFICER,
            security=_TOKEN,
            tags=["citizens"],
        )
    },
    "/notifications": {
        "get": _op(
            "Notifications (outbox rows) by citizen_id, subject_id, broadcast_id or purpose",
            {
                "200": _json(
                    _obj(
                        ["notifications"],
                        notifications={"type": "array", "items": _ref("Notification")},
                    ),
                    "notifications, oldest first",
                ),
                **_errors(400, 401, 403),
            },
            params=[
                {"name": name, "in": "query", "schema": _STR}
                for name in ("citizen_id", "subject_id", "broadcast_id", "purpose")
            ],
            security=_TOKEN,
            tags=["notifications"],
        )
    },
    "/reminders": {
        "get": _op(
            "An application's reminders",
            {
                "200": _json(
                    _obj(["reminders"], reminders={"type": "array", "items": _ref("Reminder")}),
                    "reminders",
                ),
                **_errors(401, 403),
            },
            params=[{"name": "application_id", "in": "query", "required": True, "schema": _STR}],
            security=_TOKEN,
            tags=["notifications"],
        )
    },
    "/broadcasts": {
        "post": _op(
            "A department's announcement to its opted-in citizens (marketing: explicit opt-in "
            "only; utility: also citizens with an open application or grievance there)",
            {
                "201": _json(_ref("Broadcast"), "created; sending starts at once"),
                "200": _json(_ref("Broadcast"), "same Idempotency-Key and body: the original"),
                **_errors(400, 401, 403, 409),
            },
            params=_OFFICER + _KEY,
            body=_body(_BROADCAST_BODY),
            security=_TOKEN,
            tags=["broadcasts"],
        ),
        "get": _op(
            "Broadcasts with their reports, newest first",
            {
                "200": _json(
                    _obj(["broadcasts"], broadcasts={"type": "array", "items": _ref("Broadcast")}),
                    "broadcasts",
                ),
                **_errors(401, 403),
            },
            params=[{"name": "department", "in": "query", "schema": _STR}],
            security=_TOKEN,
            tags=["broadcasts"],
        ),
    },
    "/broadcasts/preview": {
        "post": _op(
            "Audience preview, nothing sent: how many would receive it, how many it concerns "
            "but would not reach (excluded.opted_out: said STOP; excluded.other_district), "
            "and the exact message in hi and en (the template's wording around the text)",
            {"200": _json(_BROADCAST_PREVIEW, "preview"), **_errors(400, 401, 403)},
            body=_body(_BROADCAST_BODY),
            security=_TOKEN,
            tags=["broadcasts"],
        )
    },
    "/broadcasts/{broadcast_id}/statuses": {
        "post": _op(
            "Pull the WhatsApp statuses of this broadcast's messages from the channel now "
            "(instead of waiting for the periodic sync); answers the report",
            {"200": _json(_ref("Broadcast"), "report"), **_errors(401, 403, 404)},
            params=[_path_param("broadcast_id")],
            security=_TOKEN,
            tags=["broadcasts"],
        )
    },
    "/broadcasts/{broadcast_id}": {
        "get": _op(
            "Report: audience, sent, delivered, read, failed, opted_out, pending",
            {"200": _json(_ref("Broadcast"), "report"), **_errors(401, 403, 404)},
            params=[_path_param("broadcast_id")],
            security=_TOKEN,
            tags=["broadcasts"],
        )
    },
    "/feedback": {
        "post": _op(
            "Feedback on the service",
            {
                "201": _json(_obj(["feedback"], feedback=_ref("Feedback")), "recorded"),
                "200": _json(_obj(["feedback"], feedback=_ref("Feedback")), "repeated key"),
                **_errors(400, 401, 403, 404, 409),
            },
            params=_CITIZEN + _KEY,
            body=_body(
                _obj(
                    ["rating"],
                    rating={"type": "integer", "minimum": 1, "maximum": 5},
                    comment=_STR,
                    application_id=_STR,
                    language=_LANG,
                )
            ),
            security=_TOKEN,
            tags=["feedback"],
        )
    },
}


def document(public_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Delhi Sewa backends (e-District, payments, grievances)",
            "version": "1",
            "description": "Implements docs/backends-api.md. Errors are "
            '{"error", "message", "details"}; times are ISO 8601 UTC.',
        },
        "servers": [{"url": public_url}],
        "paths": _PATHS,
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "BACKENDS_SERVICE_TOKEN (with X-Citizen-Id) or an "
                    "officer credential signed with BACKENDS_OFFICER_TOKEN (ops/tokens.py: "
                    "officer id, departments, expiry); officers act in those departments only",
                }
            },
            "parameters": {
                "CitizenId": {
                    "name": "X-Citizen-Id",
                    "in": "header",
                    "description": "The citizen's WhatsApp id; required with the service token",
                    "schema": _STR,
                },
                "OfficerId": {
                    "name": "X-Officer-Id",
                    "in": "header",
                    "description": "The acting officer; optional, must match the credential",
                    "schema": _STR,
                },
                "IdempotencyKey": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 100},
                },
            },
        },
    }
