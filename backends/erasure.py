"""``POST /citizens/{citizen_id}/erasure``: erase or anonymise a citizen's personal data.

Kept, as the law requires: applications with an issued certificate (their row as it
is) and paid payment orders (receipts). Everything else of the citizen is erased or
anonymised in one transaction:

- applications without a certificate: form fields and reason emptied, documents' rows
  deleted and their files let go (``connectors/media.py``: a file in
  ``WHATSAPP_MEDIA_DIR`` is deleted once nothing else holds it — a kept application's
  document, another citizen's identical upload; CSC uploads live there too; a file of
  an older deployment under ``STORAGE_DIR`` is deleted), unfinished ones cancelled,
  the citizen id replaced by a random pseudonym (``erased-…``); unpaid orders likewise;
- grievances: description, location, attachment (its file let go likewise) and feedback
  comment; feedback comments;
- preferences deleted; reminders cancelled; pending notifications cancelled and every
  notification's parameters deleted; idempotency records deleted;
- events: the citizen id replaced by the pseudonym and the payload cut down to
  non-personal keys (states, ids, amounts).

Calling it again finds nothing left to erase (idempotent). The answer counts rows:
``{"erased": {...}, "kept": {"certificates": n, "payments": n}}``. Logs carry the
pseudonym and counts only. Conversation history is erased by the channel
(``POST /erase`` of docs/internal-apis.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import sys
from pathlib import Path
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from backends.config import from_env
from backends.db import (
    Application,
    Database,
    Document,
    Erasure,
    Event,
    Feedback,
    Grievance,
    IdempotencyKey,
    Notification,
    Order,
    Preference,
    Reminder,
    utcnow,
)
from backends.web import ApiError, Context, authenticate, context
from connectors import media

log = logging.getLogger(__name__)

PSEUDONYM_PREFIX = "erased-"
#: event payload keys that never hold personal data
SAFE_PAYLOAD_KEYS = frozenset(
    {
        "status",
        "previous",
        "by",
        "service_id",
        "certificate_number",
        "receipt_number",
        "amount",
        "order_id",
        "application_id",
        "escalation_level",
        "due_at",
        "rating",
        "broadcasts",
        "reminders",
        "status_updates",
    }
)
#: application states after which nothing happens any more
FINAL_STATES = ("approved", "rejected", "cancelled", "confirmation_locked")


def _update(session: Session, model: Any, where: Any, **values: Any) -> int:
    result = session.execute(
        update(model).where(where).values(**values).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def _let_go(ctx: Context, storage_ref: str, holder: str) -> None:
    """The record ``holder`` no longer holds its file: a media file is deleted when
    nothing else holds it; a file an older deployment stored under ``STORAGE_DIR``, at once."""
    if media.stored_name(storage_ref) is not None:
        media.drop_reference(ctx.settings.media_dir, storage_ref, holder)
        return
    root = ctx.settings.storage_dir.resolve()
    path = (root / storage_ref).resolve()
    if path.is_relative_to(root) and path.is_file():
        path.unlink()


def erase(
    session: Session, citizen_id: str, by: str
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The answer, and (storage ref, holder) of the files let go (once committed)."""
    now = utcnow()
    pseudonym = PSEUDONYM_PREFIX + secrets.token_hex(8)
    erased: dict[str, int] = {}

    apps = list(
        session.execute(select(Application).where(Application.citizen_id == citizen_id))
        .scalars()
        .all()
    )
    kept_apps = [a for a in apps if a.certificate_number is not None]
    erased_apps = [a for a in apps if a.certificate_number is None]
    documents: list[tuple[str, str]] = []
    for app in erased_apps:
        for doc in session.execute(select(Document).where(Document.application_id == app.id)):
            holder = f"document-{app.id}-{doc[0].document_id}"
            documents.append((str(doc[0].storage_ref), holder))
        session.execute(delete(Document).where(Document.application_id == app.id))
        app.fields = {}
        app.status_reason = None
        app.citizen_id = pseudonym
        app.confirmation_hash = None
        if app.status not in FINAL_STATES:
            app.status = "cancelled"
        app.updated_at = now
    erased["applications"] = len(erased_apps)
    erased["documents"] = len(documents)

    attached = session.execute(
        select(Grievance.id, Grievance.attachment).where(
            Grievance.citizen_id == citizen_id, Grievance.attachment.is_not(None)
        )
    )
    files = list(documents)
    for grievance_id, attachment in attached:
        if isinstance(attachment, dict) and attachment.get("storage_ref"):
            files.append((str(attachment["storage_ref"]), f"grievance-{grievance_id}"))

    paid = (Order.citizen_id == citizen_id) & (Order.status == "paid")
    kept_payments = len(session.execute(select(Order.id).where(paid)).all())
    erased["unpaid_orders"] = _update(
        session,
        Order,
        (Order.citizen_id == citizen_id) & (Order.status != "paid"),
        citizen_id=pseudonym,
    )
    erased["grievances"] = _update(
        session,
        Grievance,
        Grievance.citizen_id == citizen_id,
        citizen_id=pseudonym,
        description="",
        location=None,
        attachment=None,
        feedback_comment=None,
    )
    erased["feedback"] = _update(
        session, Feedback, Feedback.citizen_id == citizen_id, citizen_id=pseudonym, comment=None
    )
    erased["preferences"] = int(
        session.execute(delete(Preference).where(Preference.citizen_id == citizen_id)).rowcount or 0
    )
    erased["reminders"] = _update(
        session,
        Reminder,
        Reminder.citizen_id == citizen_id,
        citizen_id=pseudonym,
        status="cancelled",
        reason="erased",
        updated_at=now,
    )
    _update(
        session,
        Notification,
        (Notification.citizen_id == citizen_id) & (Notification.status == "pending"),
        status="cancelled",
        error="erased",
    )
    erased["notifications"] = _update(
        session,
        Notification,
        Notification.citizen_id == citizen_id,
        citizen_id=pseudonym,
        parameters=None,
        updated_at=now,
    )
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.owner == f"citizen:{citizen_id}"))
    events = list(
        session.execute(
            select(Event).where((Event.citizen_id == citizen_id) | (Event.subject_id == citizen_id))
        )
        .scalars()
        .all()
    )
    for event in events:
        event.citizen_id = pseudonym
        if event.subject_id == citizen_id:
            event.subject_id = pseudonym
        event.payload = {k: v for k, v in event.payload.items() if k in SAFE_PAYLOAD_KEYS}
    erased["events"] = len(events)

    total = sum(erased.values())
    if total:
        session.add(Erasure(pseudonym=pseudonym, counts=erased, requested_by=by, created_at=now))
    session.flush()
    log.info("erasure %s by %s: %d row(s)", pseudonym if total else "-", by.split(":")[0], total)
    answer = {"erased": erased, "kept": {"certificates": len(kept_apps), "payments": kept_payments}}
    return answer, files


def backfill_references(db: Database, media_dir: Path) -> int:
    """Records the holders of files attached before references existed (once, after the
    upgrade: ``python -m backends.erasure backfill``), so that a citizen's erasure of
    the chat never deletes a file a kept application's document points at."""

    def work(session: Session) -> list[tuple[str, str]]:
        found = [
            (str(d.storage_ref), f"document-{d.application_id}-{d.document_id}")
            for d in session.execute(select(Document)).scalars()
        ]
        for grievance_id, attachment in session.execute(
            select(Grievance.id, Grievance.attachment).where(Grievance.attachment.is_not(None))
        ):
            if isinstance(attachment, dict) and attachment.get("storage_ref"):
                found.append((str(attachment["storage_ref"]), f"grievance-{grievance_id}"))
        return found

    return sum(media.add_reference(media_dir, ref, holder) for ref, holder in db.run(work))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backends.erasure")
    parser.add_argument("command", choices=["backfill"])
    parser.parse_args(argv)
    settings = from_env()
    db = Database(settings.db_url)
    try:
        print(json.dumps({"references": backfill_references(db, settings.media_dir)}))
    finally:
        db.dispose()
    return 0


async def erase_citizen(request: Request, citizen_id: str) -> HTTPResponse:
    caller = authenticate(request)
    if caller.role == "officer":
        if not caller.officer_id:
            raise ApiError(400, "missing_officer_id", "Name the acting officer in X-Officer-Id.")
        by = f"officer:{caller.officer_id}"
    elif caller.citizen_id == citizen_id:
        by = "citizen"
    else:
        raise ApiError(404, "not_found", "No such citizen.")
    ctx = context(request)
    answer, documents = ctx.db.run(lambda session: erase(session, citizen_id, by))
    for ref, holder in documents:  # after the commit: a rolled-back erasure keeps its files
        _let_go(ctx, ref, holder)
    return json_response(answer)


if __name__ == "__main__":
    sys.exit(main())
