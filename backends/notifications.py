"""Notification outbox: rows in ``notifications`` sent through the channel's internal API.

Whatever wants to message a citizen (:mod:`backends.outbox` for state changes,
:mod:`backends.reminders`, :mod:`backends.broadcasts`, a CSC filing) calls
:func:`enqueue` inside its own transaction; nothing talks to WhatsApp directly.

- the ``dispatch-notifications`` job (:mod:`backends.jobs`) claims due rows with a
  conditional UPDATE (``claim`` token and a lease, so two backend processes never send
  the same row), one row per citizen at a time in queue order (a later message waits
  while an earlier one is pending, e.g. for a retry: the citizen reads them in the order
  of the events), reads the citizen's preferences immediately before each send, POSTs
  ``{CHANNEL_URL}/notify`` with ``key = "ntf-<id>"`` (the channel sends a key once, so a
  row re-sent after a crash reaches the citizen once) and records the answer: 200 →
  ``sent``; 422 → ``failed`` with the channel's code; 503 or no answer → retried with
  doubling back-off and jitter. Broadcasts are paced per department number
  (:class:`Pacer`).
- the ``sync-statuses`` job pulls delivery/read statuses of sent rows (``POST /statuses``).

Every state lives in the database: a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import json
import logging
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sanic import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sqlalchemy import and_, bindparam, case, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from backends import csc_codes
from backends.citizens import preference_now
from backends.db import Database, Notification, Preference, clock, iso
from backends.web import ApiError, Context, context, officer
from ops.pacing import Pacer
from service_catalogue.templates import load_templates

log = logging.getLogger(__name__)

PURPOSES = ("status", "reminder", "broadcast", "handoff", "csc")
#: statuses a row can end in; ``pending`` is the only one that is ever sent
FINAL = ("sent", "delivered", "read", "failed", "skipped", "opted_out", "cancelled")
#: delivery statuses in the order WhatsApp reports them
_PROGRESS = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}
#: rows claimed per round and rows in flight at most
BATCH = 200
IN_FLIGHT = 100
CONCURRENT_REQUESTS = 16
LEASE = timedelta(minutes=5)
#: how often outcomes are written while sending
FLUSH_SECONDS = 0.1
MAX_ATTEMPTS = 50
#: delivery statuses are pulled for this long after sending
STATUS_HORIZON = timedelta(days=7)
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10)


def digest(value: Any) -> str:
    """Short stable hash of ``value`` for dedupe keys (never reversible personal data)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def language_of(session: Session, citizen_id: str, default: str) -> str:
    """The citizen's chosen language, else ``default`` (the record's language)."""
    preference = session.get(Preference, citizen_id)
    if preference is not None and preference.language:
        return str(preference.language)
    return default if default in ("hi", "en") else "hi"


def enqueue(
    session: Session,
    *,
    key: str,
    citizen_id: str,
    purpose: str,
    template: str,
    parameters: dict[str, Any],
    language: str,
    department: str | None,
    now: datetime,
    subject_id: str | None = None,
    event_id: int | None = None,
    reminder_id: int | None = None,
    broadcast_id: str | None = None,
    check_duplicate: bool = True,
) -> Notification | None:
    """Queue one message unless one with ``key`` exists; raises on an unknown template
    or a wrong parameter set (a programming error, caught by the tests)."""
    if (
        check_duplicate
        and session.execute(select(Notification.id).where(Notification.dedupe_key == key)).first()
    ):
        return None
    values = load_templates().check(template, parameters).values(parameters)
    row = Notification(
        dedupe_key=key,
        citizen_id=citizen_id,
        purpose=purpose,
        department=department,
        template=template,
        language=language,
        parameters=values,
        subject_id=subject_id,
        event_id=event_id,
        reminder_id=reminder_id,
        broadcast_id=broadcast_id,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    return row


def render(row: Notification) -> dict[str, Any]:
    return {
        "id": row.id,
        "citizen_id": row.citizen_id,
        "purpose": row.purpose,
        "department": row.department,
        "template": row.template,
        "language": row.language,
        "parameters": row.parameters,
        "subject_id": row.subject_id,
        "broadcast_id": row.broadcast_id,
        "reminder_id": row.reminder_id,
        "status": row.status,
        "error": row.error,
        "attempts": row.attempts,
        "next_attempt_at": iso(row.next_attempt_at),
        "message_id": row.message_id,
        "mode": row.mode,
        "phone_number_id": row.phone_number_id,
        "sent_at": iso(row.sent_at),
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


async def list_notifications(request: Request) -> HTTPResponse:
    """``GET /notifications?citizen_id=&subject_id=&broadcast_id=&purpose=`` (officer)."""
    officer(request)
    filters = {
        name: request.args.get(name)
        for name in ("citizen_id", "subject_id", "broadcast_id", "purpose")
        if request.args.get(name)
    }
    if not filters:
        raise ApiError(
            400,
            "invalid_fields",
            "Name at least one of citizen_id, subject_id, broadcast_id, purpose.",
            {"fields": {"citizen_id": "required"}},
        )

    def work(session: Session) -> dict[str, Any]:
        query = select(Notification).order_by(Notification.id).limit(1000)
        for name, value in filters.items():
            query = query.where(getattr(Notification, name) == value)
        return {"notifications": [render(r) for r in session.execute(query).scalars()]}

    return json_response(context(request).db.run(work))


# --------------------------------------------------------------------------- channel


class ChannelDown(Exception):
    """No usable answer from the channel: try again later."""

    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__("channel unavailable")
        self.retry_after = retry_after


class Channel:
    """The channel's internal API (docs/internal-apis.md §2)."""

    def __init__(self, ctx: Context) -> None:
        self.url = ctx.settings.channel_url
        self.headers = {"Authorization": f"Bearer {ctx.settings.internal_token}"}
        self._session: aiohttp.ClientSession | None = None

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """(status, JSON answer); raises :class:`ChannelDown` without a usable answer."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=REQUEST_TIMEOUT, headers=self.headers)
        try:
            async with self._session.post(self.url + path, json=body) as response:
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = {}
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError):
            raise ChannelDown() from None
        if not isinstance(answer, dict):
            answer = {}
        if status == 503 or status >= 500 or status in (401, 403, 404, 429):
            retry = answer.get("retry_after")
            raise ChannelDown(float(retry) if isinstance(retry, (int, float)) else None)
        return status, answer

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


# --------------------------------------------------------------------------- dispatcher


def in_line(row: Any) -> Any:
    """SQL: ``row`` is first in its citizen's queue (no earlier row of the same citizen
    and stream is still pending: due, waiting for a retry, or being sent by anyone).

    Broadcasts are a stream of their own: a status message never waits behind a paced
    department broadcast, nor a broadcast behind a status message that is retried.
    """
    earlier = aliased(Notification)
    same_stream = or_(
        and_(earlier.purpose == "broadcast", row.purpose == "broadcast"),
        and_(earlier.purpose != "broadcast", row.purpose != "broadcast"),
    )
    return ~exists().where(
        earlier.citizen_id == row.citizen_id,
        earlier.status == "pending",
        earlier.id < row.id,
        same_stream,
    )


def claim_due(session: Session, now: datetime, limit: int) -> list[Notification]:
    """Take up to ``limit`` due rows for this process (status messages before broadcasts).

    A citizen's messages go out one at a time in the order they were queued (the order
    of the events): a row is taken only when it is first in its citizen's queue
    (:func:`in_line`), so "approved" never overtakes "verified", even while "verified"
    waits for a retry. Different citizens never wait for each other.
    """
    free = or_(Notification.claimed_until.is_(None), Notification.claimed_until < now)
    due = (Notification.status == "pending", Notification.next_attempt_at <= now, free)
    ids = list(
        session.execute(
            select(Notification.id)
            .where(*due, in_line(Notification))
            .order_by(
                case((Notification.purpose == "broadcast", 1), else_=0),
                Notification.next_attempt_at,
                Notification.id,
            )
            .limit(limit)
        ).scalars()
    )
    if not ids:
        return []
    token = uuid.uuid4().hex
    session.execute(
        update(Notification)
        .where(Notification.id.in_(ids), *due)
        .values(claim=token, claimed_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    return list(
        session.execute(
            select(Notification).where(Notification.claim == token).order_by(Notification.id)
        ).scalars()
    )


def _refusal(db: Database, row: Notification) -> str | None:
    """Why this row must not be sent now (the citizen's latest preferences), if so."""
    preference = preference_now(db, row.citizen_id)
    if row.purpose == "status" and not preference["status_updates"]:
        return "skipped"
    if row.purpose == "reminder" and not preference["reminders"]:
        return "skipped"
    if row.purpose == "broadcast":
        if not preference["broadcasts"]:
            return "opted_out"
        marketing = load_templates()[row.template].category == "marketing"
        if marketing and row.department not in preference["departments"]:
            return "opted_out"
    return None


def _finish(session: Session, outcomes: list[tuple[Notification, dict[str, Any]]]) -> None:
    """Record outcomes of claimed rows, where this process still holds the claim (one
    executemany per kind of outcome)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = collections.defaultdict(list)
    for row, values in outcomes:
        groups[tuple(sorted(values))].append({**values, "_id": row.id, "_claim": row.claim})
    for names, parameters in groups.items():
        session.execute(
            update(Notification.__table__)
            .where(
                Notification.__table__.c.id == bindparam("_id"),
                Notification.__table__.c.claim == bindparam("_claim"),
            )
            .values(claim=None, claimed_until=None, **{n: bindparam(n) for n in names}),
            parameters,
        )


class Sender:
    """Sends claimed rows concurrently, broadcasts paced per department.

    Outcomes are written in batches (:meth:`flush`, every :data:`FLUSH_SECONDS`): a
    crash before a batch is written leaves its rows claimed, so they are sent again
    once the lease ends, with the same key, which the channel answers without sending.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.channel = Channel(ctx)
        self.pacers: dict[str, Pacer] = {}
        self.requests = asyncio.Semaphore(CONCURRENT_REQUESTS)
        self.in_flight: set[asyncio.Task[None]] = set()
        self.outcomes: list[tuple[Notification, dict[str, Any]]] = []

    def spawn(self, row: Notification) -> None:
        task = asyncio.get_running_loop().create_task(self.deliver(row))
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)

    def record(self, row: Notification, **values: Any) -> None:
        values["updated_at"] = clock.now().replace(microsecond=0)
        self.outcomes.append((row, values))

    def flush(self) -> None:
        if not self.outcomes:
            return
        batch, self.outcomes = self.outcomes, []
        try:
            self.ctx.db.run(lambda session: _finish(session, batch))
        except Exception:
            log.exception("recording %d notification outcome(s) failed", len(batch))

    async def deliver(self, row: Notification) -> None:
        try:
            if row.purpose != "broadcast":
                async with self.requests:
                    await self._deliver(row)
                return
            pacer = self.pacers.setdefault(
                str(row.department), Pacer(self.ctx.settings.broadcast_rate, CONCURRENT_REQUESTS)
            )
            async with pacer.senders, pacer.slot():  # held until the channel answers
                await self._deliver(row)
        except Exception:
            # The claim expires and the row is tried again; the key keeps it single.
            log.exception("notification %s: unexpected error", row.id)

    async def _deliver(self, row: Notification) -> None:
        refusal = _refusal(self.ctx.db, row)
        if refusal is not None:
            self.record(row, status=refusal, error="preference")
            log.info("notification %s: %s by the citizen's preferences", row.id, refusal)
            return
        sent_parameters = row.parameters
        if row.template == "csc_confirmation" and row.parameters and row.subject_id:
            # the code itself exists only in this request (backends/csc_codes.py)
            key = self.ctx.settings.signing_key
            code = csc_codes.reveal(key, row.subject_id, row.parameters[-1])
            sent_parameters = [*row.parameters[:-1], code]
        body = {
            "key": f"ntf-{row.id}",
            "to": row.citizen_id,
            "department": row.department,
            "purpose": row.purpose,
            "template": row.template,
            "language": row.language,
            "parameters": sent_parameters,
        }
        try:
            status, answer = await self.channel.post("/notify", body)
        except ChannelDown as down:
            self.record(row, **self._retry(row, down.retry_after))
            return
        if status == 200:
            parameters = row.parameters
            if row.template == "csc_confirmation" and parameters:
                parameters = [*parameters[:-1], "******"]  # the code is not kept once sent
            self.record(
                row,
                status="sent",
                attempts=row.attempts + 1,
                message_id=str(answer.get("message_id") or "")[:200] or None,
                mode=str(answer.get("mode") or "")[:10] or None,
                phone_number_id=str(answer.get("phone_number_id") or "")[:40] or None,
                sent_at=clock.now().replace(microsecond=0),
                parameters=parameters,
                error=None,
            )
            return
        code = str(answer.get("error") or f"http_{status}")[:60]
        self.record(row, status="failed", attempts=row.attempts + 1, error=code)
        log.warning("notification %s failed permanently: %s", row.id, code)

    def _retry(self, row: Notification, retry_after: float | None) -> dict[str, Any]:
        attempts = row.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            log.warning("notification %s: gave up after %d attempts", row.id, attempts)
            return {"status": "failed", "attempts": attempts, "error": "retries_exhausted"}
        settings = self.ctx.settings
        delay = min(settings.retry_max_seconds, settings.retry_base_seconds * 2 ** (attempts - 1))
        delay = max(delay * random.uniform(0.5, 1.0), retry_after or 0.0)  # noqa: S311
        log.info("notification %s: channel unavailable, retry in %.1fs", row.id, delay)
        return {
            "attempts": attempts,
            "error": "channel_unavailable",
            "next_attempt_at": clock.now() + timedelta(seconds=delay),
        }


# --------------------------------------------------------------------------- statuses


def _to_check(session: Session, now: datetime) -> list[tuple[int, str]]:
    rows = session.execute(
        select(Notification.id, Notification.message_id)
        .where(
            Notification.status.in_(("sent", "delivered")),
            Notification.message_id.is_not(None),
            Notification.sent_at >= now - STATUS_HORIZON,
        )
        .order_by(Notification.status_checked_at.asc().nullsfirst(), Notification.id)
        .limit(500)
    ).all()
    return [(int(i), str(m)) for i, m in rows]


def record_statuses(
    session: Session, rows: list[tuple[int, str]], statuses: dict[str, Any], now: datetime
) -> int:
    """Apply the channel's statuses (never backwards); returns how many rows changed."""
    session.execute(
        update(Notification)
        .where(Notification.id.in_([i for i, _ in rows]))
        .values(status_checked_at=now)
        .execution_options(synchronize_session=False)
    )
    changed = 0
    for notification_id, message_id in rows:
        new = statuses.get(message_id)
        if new not in _PROGRESS:
            continue
        row = session.get(Notification, notification_id)
        if row is not None and _PROGRESS[new] > _PROGRESS.get(row.status, 0):
            row.status = new
            row.updated_at = now
            if new == "failed":
                row.error = "whatsapp_failed"
            changed += 1
    return changed


def counts(session: Session, *where: Any) -> dict[str, int]:
    """Rows per status among notifications matching ``where``."""
    return {
        str(status): int(n)
        for status, n in session.execute(
            select(Notification.status, func.count()).where(*where).group_by(Notification.status)
        ).all()
    }
