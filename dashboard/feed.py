"""The conversation feed: Rasa's SQL event broker table read incrementally.

Rasa publishes every tracker event to the ``events`` table (``id``, ``sender_id``,
``data``: the event as JSON; ``rasa/core/brokers/sql.py``). One background task per
dashboard process (:meth:`Feed.run`) reads the rows after the last id it has seen every
``POLL_SECONDS`` and folds them into

- an index of the conversations active within ``ACTIVE_HOURS`` (:class:`Conversation`:
  language, flow, last intent, waiting time, flags, the last ``TRANSCRIPT_LENGTH``
  messages), which the live pages stream; older conversations are dropped from memory
  and folded from the table again when someone opens them (:meth:`Feed.load`);
- daily figures per department for the analytics page (:class:`Stats`);
- the trainer's inbox of messages worth annotating (:class:`dashboard.nlu_inbox.Inbox`).

Who sees a conversation (:func:`visible_to`): its departments are the department of the
number the citizen last wrote to (``metadata.department`` of the user event; ``""`` for
the main number), the department of slot ``service`` (catalogue), the department a
request for an officer was routed to (slot ``handoff_department``, actions/handoff.py)
and the department of the officer's handoff (``ConversationPaused`` metadata). An
officer or supervisor sees the conversations of their departments. A conversation no
department owns (main number, no service, no routed request) is the triage queue:
supervisors and the helpdesk see it. Whoever holds a handoff always sees it, so taking a
conversation over never locks the officer out of it.

The transcript shows what the citizen saw and did: a tapped button by its title (the
bot's buttons, or a registered template's), never its payload; entity values that are
secrets (:data:`SECRET_ENTITIES`, the CSC code) as dots; handoff changes as events.

Personal data: texts are kept only in memory and shown with Aadhaar-like numbers masked
(:func:`mask_text`); analytics count citizens by a hash of their id. A citizen erased by
the channel (their rows deleted from the table) disappears from the index and from the
analytics' message lists at the next reconciliation (``RECONCILE_SECONDS``).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import functools
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import bindparam, create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from dashboard.nlu_inbox import Inbox
from service_catalogue import Catalogue
from service_catalogue.templates import load_templates

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
BATCH = 2000
ACTIVE_HOURS = 24.0
TRANSCRIPT_LENGTH = 200
RECONCILE_SECONDS = 30.0
#: Analytics keep this many days.
STATS_DAYS = 90
#: A user message whose intent confidence is below this counts as misunderstood.
LOW_CONFIDENCE = 0.5
#: Fallback turns among the last ``FALLBACK_TURNS`` that flag a fallback loop.
FALLBACK_TURNS, FALLBACK_LOOP = 4, 2
FALLBACK_MARKERS = frozenset({"nlu_fallback", "action_clarify", "action_default_fallback"})
HUMAN_INTENT = "talk_to_human"
HUMAN_SLOT = "human_requested"
ROUTED_SLOT = "handoff_department"
#: Entities whose values are never shown (a CSC confirmation code proves consent).
SECRET_ENTITIES = frozenset({"csc_code"})
HIDDEN_VALUE = "••••••"
#: Button payloads remembered per conversation, to show a tapped button by its title.
OFFERED_MAX = 60

# 12 digits (ASCII or Devanagari), possibly grouped 4-4-4, touching no other digit: shown
# masked whether or not the checksum holds (over-masking is the safe side).
_DIGIT = r"[0-9\u0966-\u096f]"
_AADHAAR_LIKE = re.compile(
    rf"(?<!{_DIGIT}){_DIGIT}{{4}}[ \-.]?{_DIGIT}{{4}}[ \-.]?({_DIGIT}{{4}})(?!{_DIGIT})"
)


def mask_text(value: str) -> str:
    """``value`` with every Aadhaar-like number shown as ``XXXX-XXXX-1234``."""
    return _AADHAAR_LIKE.sub(lambda m: f"XXXX-XXXX-{m.group(1)}", value)


def citizen_key(wa_id: str) -> str:
    """What analytics count citizens by: not their number."""
    return hashlib.sha256(wa_id.encode()).hexdigest()[:16]


def day_of(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")


# --------------------------------------------------------------------------- model


@dataclasses.dataclass(frozen=True)
class Message:
    id: int  # the event row id
    at: float
    kind: str  # citizen | bot | officer | event (a handoff change: ``text`` is its code)
    text: str
    officer_name: str | None = None
    button: bool = False  # the citizen tapped a button; ``text`` is its title

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Conversation:
    wa_id: str
    last_event_id: int = 0
    started_at: float = 0.0
    last_at: float = 0.0
    number_department: str = ""
    service: str | None = None
    language: str | None = None
    flow: str | None = None
    last_intent: str | None = None
    last_user_at: float | None = None
    waiting_since: float | None = None
    human_requested: bool = False
    routed_department: str = ""
    handed_over: bool = False
    officer_name: str | None = None
    holder_id: str | None = None
    holder_department: str | None = None
    #: payload -> title of the buttons the bot offered lately
    offered: dict[str, str] = dataclasses.field(default_factory=dict)
    # per turn: did it fall back (nlu_fallback / action_clarify / default fallback)
    turns: collections.deque[bool] = dataclasses.field(
        default_factory=lambda: collections.deque(maxlen=FALLBACK_TURNS)
    )
    messages: collections.deque[Message] = dataclasses.field(
        default_factory=lambda: collections.deque(maxlen=TRANSCRIPT_LENGTH)
    )

    @property
    def fallback_loop(self) -> bool:
        return sum(self.turns) >= FALLBACK_LOOP

    def service_department(self, catalogue: Catalogue) -> str:
        service = catalogue.services.get(self.service or "")
        return service.department if service is not None else ""

    def departments(self, catalogue: Catalogue) -> set[str]:
        found = {
            self.number_department,
            self.service_department(catalogue),
            self.routed_department,
            self.holder_department or "" if self.handed_over else "",
        }
        return {d for d in found if d}

    def owner(self, catalogue: Catalogue) -> str:
        """The one department that answers for the conversation ("" = the helpdesk): its
        handoff's, else where a request for an officer was routed, else its service's,
        else its number's. Officers taking it over speak for this department."""
        if self.handed_over and self.holder_department is not None:
            return self.holder_department
        return (
            self.routed_department or self.service_department(catalogue) or self.number_department
        )

    def summary(self, catalogue: Catalogue, now: float) -> dict[str, Any]:
        """What the live list shows (no message texts)."""
        return {
            "wa_id": self.wa_id,
            "who": masked_number(self.wa_id),
            "departments": sorted(self.departments(catalogue)),
            "owner": self.owner(catalogue),
            "service": self.service,
            "language": self.language,
            "flow": self.flow,
            "last_intent": self.last_intent,
            "last_at": self.last_at,
            "waiting_seconds": int(now - self.waiting_since) if self.waiting_since else None,
            "fallback_loop": self.fallback_loop,
            "human_requested": self.human_requested,
            "handed_over": self.handed_over,
            "officer_name": self.officer_name,
            "holder_id": self.holder_id if self.handed_over else None,
        }


def masked_number(wa_id: str) -> str:
    """A citizen's number as lists show it: country code and the last four digits."""
    return f"+{wa_id[:2]}•••••{wa_id[-4:]}" if len(wa_id) > 6 else wa_id


#: Who sees the conversations no department owns (the triage queue).
TRIAGE_ROLES = frozenset({"supervisor", "helpdesk"})
#: Who sees their departments' conversations.
DEPARTMENT_ROLES = frozenset({"officer", "supervisor"})


def visible_to(
    conversation: Conversation,
    catalogue: Catalogue,
    role: str,
    departments: Iterable[str],
    username: str | None = None,
) -> bool:
    """The rule in this module's docstring."""
    if username and conversation.handed_over and conversation.holder_id == username:
        return True
    own = conversation.departments(catalogue)
    if own:
        return role in DEPARTMENT_ROLES and bool(own & set(departments))
    return role in TRIAGE_ROLES


# --------------------------------------------------------------------------- folding


def _buttons(event: dict[str, Any]) -> list[dict[str, Any]]:
    data = event.get("data") or {}
    return [b for b in data.get("buttons") or [] if isinstance(b, dict)]


def payload_intent(text: str) -> str:
    """``/csc_confirm{"csc_code": "1"}`` -> ``csc_confirm``."""
    return text[1:].split("{", 1)[0].strip()


@functools.lru_cache(maxsize=1)
def _template_buttons() -> list[tuple[re.Pattern[str], dict[str, str]]]:
    """Every registered template's buttons: payload pattern ({{n}} = anything), titles."""
    found = []
    for template in load_templates().values():
        for button in template.buttons:
            parts = re.split(r"\{\{\d+\}\}", button.payload)
            pattern = re.compile("^" + ".*?".join(re.escape(p) for p in parts) + "$", re.DOTALL)
            found.append((pattern, dict(button.title)))
    return found


def button_title(conversation: Conversation, payload: str) -> str | None:
    """The title of the button whose payload the citizen sent: one the bot offered, or
    one of a template the channel sent (in the conversation's language)."""
    if payload in conversation.offered:
        return conversation.offered[payload]
    language = conversation.language if conversation.language in ("hi", "en") else "en"
    for pattern, titles in _template_buttons():
        if pattern.match(payload):
            return titles.get(language) or titles.get("en")
    return None


def citizen_text(conversation: Conversation, event: dict[str, Any]) -> tuple[str, bool]:
    """What the citizen's message shows: (text, whether it was a tapped button).

    A payload shows as its button's title, else as its intent only (entity values in a
    payload may be secrets); typed text with secret entities (the CSC code) dotted out,
    Aadhaar-like numbers masked."""
    text = str(event.get("text") or "")
    if text.startswith("/"):
        return button_title(conversation, text) or f"[{payload_intent(text)}]", True
    entities = ((event.get("parse_data") or {}).get("entities")) or []
    spans = sorted(
        (int(e["start"]), int(e["end"]))
        for e in entities
        if isinstance(e, dict)
        and e.get("entity") in SECRET_ENTITIES
        and isinstance(e.get("start"), int)
        and isinstance(e.get("end"), int)
    )
    for start, end in reversed(spans):
        if 0 <= start < end <= len(text):
            text = text[:start] + HIDDEN_VALUE + text[end:]
    return mask_text(text), False


def _bot_text(event: dict[str, Any]) -> str:
    """A bot message as one line: its text, then its buttons' titles."""
    parts = [str(event.get("text") or "")]
    data = event.get("data") or {}
    titles = [str(b.get("title", "")) for b in _buttons(event)]
    if titles:
        parts.append("[" + " | ".join(titles) + "]")
    if data.get("attachment") or data.get("image"):
        parts.append("[attachment]")
    return " ".join(p for p in parts if p).strip()


def apply(conversation: Conversation, row_id: int, event: dict[str, Any]) -> Message | None:
    """Fold one broker event into ``conversation``; the transcript message it adds, if any."""
    kind = event.get("event")
    at = float(event.get("timestamp") or time.time())
    conversation.last_event_id = row_id
    conversation.started_at = conversation.started_at or at
    message: Message | None = None
    if kind == "user":
        conversation.last_at = at
        metadata = event.get("metadata") or {}
        if "department" in metadata:
            conversation.number_department = str(metadata.get("department") or "")
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        conversation.last_intent = intent
        conversation.last_user_at = at
        if conversation.waiting_since is None:
            conversation.waiting_since = at
        conversation.turns.append(intent == "nlu_fallback")
        if intent == HUMAN_INTENT and not conversation.handed_over:
            conversation.human_requested = True
        shown, tapped = citizen_text(conversation, event)
        message = Message(row_id, at, "citizen", shown, button=tapped)
    elif kind == "bot":
        conversation.last_at = at
        conversation.waiting_since = None
        metadata = event.get("metadata") or {}
        officer = metadata.get("officer_name") if isinstance(metadata, dict) else None
        if officer:
            conversation.officer_name = str(officer)
        for button in _buttons(event):
            payload, title = button.get("payload"), button.get("title")
            if isinstance(payload, str) and isinstance(title, str):
                conversation.offered.pop(payload, None)
                conversation.offered[payload] = title
        while len(conversation.offered) > OFFERED_MAX:
            conversation.offered.pop(next(iter(conversation.offered)))
        message = Message(
            row_id,
            at,
            "officer" if officer else "bot",
            mask_text(_bot_text(event)),
            str(officer) if officer else None,
        )
    elif kind == "action":
        if event.get("name") in FALLBACK_MARKERS and conversation.turns:
            conversation.turns[-1] = True
    elif kind == "slot":
        name, value = event.get("name"), event.get("value")
        if name == "language":
            conversation.language = str(value) if value else None
        elif name == "service":
            conversation.service = str(value) if value else None
        elif name == HUMAN_SLOT:
            conversation.human_requested = bool(value) and not conversation.handed_over
        elif name == ROUTED_SLOT:
            conversation.routed_department = str(value) if value else ""
    elif kind == "active_loop":
        conversation.flow = event.get("name") or None
    elif kind in ("restart", "reset_slots"):
        conversation.language = conversation.service = conversation.flow = None
        conversation.routed_department = ""
    elif kind == "pause":
        metadata = event.get("metadata") or {}
        metadata = metadata if isinstance(metadata, dict) else {}
        conversation.handed_over = True
        conversation.human_requested = False
        conversation.holder_id = str(metadata.get("officer_id") or "") or None
        conversation.holder_department = (
            str(metadata.get("department") or "") if "department" in metadata else None
        )
        if metadata.get("officer_name"):
            conversation.officer_name = str(metadata["officer_name"])
            code = "reassigned" if metadata.get("reassigned_by") else "taken"
            message = Message(row_id, at, "event", code, conversation.officer_name)
    elif kind == "resume":
        metadata = event.get("metadata") or {}
        reason = metadata.get("reason") if isinstance(metadata, dict) else None
        if conversation.handed_over and reason:
            message = Message(row_id, at, "event", f"ended_{reason}", conversation.officer_name)
        conversation.handed_over = False
        conversation.officer_name = None
        conversation.holder_id = conversation.holder_department = None
        conversation.human_requested = False
    if message is not None:
        conversation.messages.append(message)
    return message


# --------------------------------------------------------------------------- analytics


@dataclasses.dataclass
class DayStats:
    """One day of one department ("" = main number, no service yet)."""

    conversations: set[str] = dataclasses.field(default_factory=set)  # citizen keys
    languages: dict[str, str] = dataclasses.field(default_factory=dict)  # citizen -> language
    messages: int = 0
    fallbacks: int = 0


@dataclasses.dataclass
class Misunderstood:
    text: str  # masked
    departments: set[str] = dataclasses.field(default_factory=set)
    languages: set[str] = dataclasses.field(default_factory=set)
    by_citizen: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)

    @property
    def count(self) -> int:
        return sum(self.by_citizen.values())


@dataclasses.dataclass
class Stats:
    days: dict[tuple[str, str], DayStats] = dataclasses.field(default_factory=dict)
    misunderstood: dict[str, Misunderstood] = dataclasses.field(default_factory=dict)

    def count(
        self, conversation: Conversation, event: dict[str, Any], catalogue: Catalogue
    ) -> None:
        """Count a user event (after :func:`apply` folded it)."""
        at = float(event.get("timestamp") or time.time())
        who = citizen_key(conversation.wa_id)
        intent = (event.get("parse_data") or {}).get("intent") or {}
        fell_back = intent.get("name") == "nlu_fallback"
        low = fell_back or float(intent.get("confidence") or 0.0) < LOW_CONFIDENCE
        language = conversation.language or "unknown"
        departments = conversation.departments(catalogue) or {""}
        for department in departments:
            day = self.days.setdefault((day_of(at), department), DayStats())
            day.conversations.add(who)
            if conversation.language or who not in day.languages:
                day.languages[who] = language
            day.messages += 1
            day.fallbacks += fell_back
        words = " ".join(citizen_text(conversation, event)[0].split())
        if str(event.get("text") or "").startswith("/"):
            words = ""  # a tapped button is not something the citizen wrote
        if low and words and not words.startswith("/"):
            entry = self.misunderstood.setdefault(words.casefold(), Misunderstood(words))
            entry.departments |= departments
            entry.languages.add(language)
            entry.by_citizen[who] += 1

    def language_set(self, conversation: Conversation, at: float, catalogue: Catalogue) -> None:
        """The language became known after the message was counted (it is detected from
        that message): that day's figures count the citizen in it."""
        who, language = citizen_key(conversation.wa_id), conversation.language or "unknown"
        for department in conversation.departments(catalogue) or {""}:
            day = self.days.get((day_of(at), department))
            if day is not None and who in day.languages:
                day.languages[who] = language

    def forget(self, wa_id: str) -> None:
        """Remove an erased citizen's messages (their counts in past days stay)."""
        who = citizen_key(wa_id)
        for key in [k for k, m in self.misunderstood.items() if who in m.by_citizen]:
            entry = self.misunderstood[key]
            del entry.by_citizen[who]
            if not entry.by_citizen:
                del self.misunderstood[key]

    def prune(self, today: str) -> None:
        oldest = datetime.strptime(today, "%Y-%m-%d").timestamp() - STATS_DAYS * 86400
        for key in [k for k in self.days if k[0] < day_of(oldest)]:
            del self.days[key]


# --------------------------------------------------------------------------- the feed


class Feed:
    """The index, kept current by :meth:`run`; waiters are woken by :meth:`wait`."""

    def __init__(
        self, events_db_url: str, catalogue: Catalogue, clock: Callable[[], float] = time.time
    ) -> None:
        kwargs: dict[str, Any] = {"future": True, "hide_parameters": True}
        if events_db_url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 10}
        self.engine: Engine = create_engine(events_db_url, **kwargs)
        self.catalogue = catalogue
        self.clock = clock
        self.conversations: dict[str, Conversation] = {}
        self.stats = Stats()
        self.inbox = Inbox()  # the trainer's (dashboard/nlu_inbox.py)
        self.last_id = 0
        self.caught_up = False
        self._changed = asyncio.Event()
        self._known: set[str] = set()  # every citizen the analytics hold messages of
        self._reconciled_at = 0.0
        # one poll at a time: a page's first poll and the feed task's used to read the
        # same rows together and fold every message twice
        self._polling = asyncio.Lock()

    # --- reading -----------------------------------------------------------------------

    def _rows(self, after: int, sender_id: str | None = None) -> list[tuple[int, str, str]]:
        where = "id > :after" + (" AND sender_id = :sender" if sender_id is not None else "")
        query = text(f"SELECT id, sender_id, data FROM events WHERE {where} ORDER BY id LIMIT :n")  # noqa: S608 - fixed text
        params: dict[str, Any] = {"after": after, "n": BATCH}
        if sender_id is not None:
            params["sender"] = sender_id
        try:
            with self.engine.connect() as connection:
                return [
                    (int(r[0]), str(r[1]), str(r[2])) for r in connection.execute(query, params)
                ]
        except SQLAlchemyError as exc:
            # No table yet (Rasa has not published anything) or the database is away.
            log.debug("feed: events not readable: %s", type(exc).__name__)
            return []

    def _existing(self, sender_ids: list[str]) -> set[str]:
        query = text("SELECT DISTINCT sender_id FROM events WHERE sender_id IN :ids").bindparams(
            bindparam("ids", expanding=True)
        )
        found: set[str] = set()
        with self.engine.connect() as connection:
            for start in range(0, len(sender_ids), 500):
                chunk = sender_ids[start : start + 500]
                found.update(str(r[0]) for r in connection.execute(query, {"ids": chunk}))
        return found

    def existing_rows(self, row_ids: list[int]) -> set[int]:
        """Which of the event rows ``row_ids`` are still in the table (an erased citizen's
        rows are deleted). Raises :class:`SQLAlchemyError` when the table cannot be read."""
        query = text("SELECT id FROM events WHERE id IN :ids").bindparams(
            bindparam("ids", expanding=True)
        )
        found: set[int] = set()
        with self.engine.connect() as connection:
            for start in range(0, len(row_ids), 500):
                chunk = row_ids[start : start + 500]
                found.update(int(r[0]) for r in connection.execute(query, {"ids": chunk}))
        return found

    @staticmethod
    def _event(data: str) -> dict[str, Any] | None:
        try:
            event = json.loads(data)
        except ValueError:
            return None
        return event if isinstance(event, dict) else None

    def fold(self, rows: list[tuple[int, str, str]]) -> bool:
        """Fold rows read from the table into the index; True if there were any new."""
        rows = [r for r in rows if r[0] > self.last_id]  # a row is folded once
        for row_id, sender_id, data in rows:
            self.last_id = row_id
            event = self._event(data)
            if event is None:
                continue
            conversation = self.conversations.get(sender_id)
            if conversation is None:
                conversation = self.conversations[sender_id] = Conversation(sender_id)
            handed_over, flow = conversation.handed_over, conversation.flow
            apply(conversation, row_id, event)
            self.inbox.observe(
                sender_id,
                citizen_key(sender_id),
                event,
                row_id,
                # as the message found the conversation: to an officer, or a form's answer
                handed_over=handed_over,
                flow=flow,
                language_slot=conversation.language,
            )
            if event.get("event") == "user":
                self.stats.count(conversation, event, self.catalogue)
                self._known.add(sender_id)
            elif event.get("event") == "slot" and event.get("name") == "language":
                at = float(event.get("timestamp") or self.clock())
                self.stats.language_set(conversation, at, self.catalogue)
        return bool(rows)

    async def poll(self) -> bool:
        """Fold every new row; True if anything changed. Reading happens in a thread,
        folding on the event loop, so pages never see a half-updated index."""
        async with self._polling:
            return await self._poll()

    async def _poll(self) -> bool:
        changed = False
        while True:
            rows = await asyncio.to_thread(self._rows, self.last_id)
            changed = self.fold(rows) or changed
            if len(rows) < BATCH:
                break
        self.caught_up = True
        now = self.clock()
        if now - self._reconciled_at >= RECONCILE_SECONDS:
            self._reconciled_at = now
            changed = await self._reconcile(now) or changed
        return changed

    async def _reconcile(self, now: float) -> bool:
        """Drop inactive conversations from memory and forget erased citizens."""
        cutoff = now - ACTIVE_HOURS * 3600
        for wa_id in [w for w, c in self.conversations.items() if c.last_at < cutoff]:
            del self.conversations[wa_id]
            self.inbox.drop_conversation(wa_id)
        self.stats.prune(day_of(now))
        self.inbox.prune(now - STATS_DAYS * 86400)
        known = sorted(self._known | set(self.conversations))
        try:
            existing = await asyncio.to_thread(self._existing, known) if known else set()
        except SQLAlchemyError as exc:
            log.warning("feed: reconciliation failed: %s", type(exc).__name__)
            return False
        erased = set(known) - existing
        for wa_id in erased:
            self.conversations.pop(wa_id, None)
            self.stats.forget(wa_id)
            self.inbox.forget(citizen_key(wa_id))
            self.inbox.drop_conversation(wa_id)
            self._known.discard(wa_id)
        if erased:
            log.info("feed: %d erased conversation(s) removed", len(erased))
        return bool(erased)

    async def load(self, wa_id: str) -> Conversation | None:
        """The conversation from memory, else folded from the table (None if unknown)."""
        if wa_id in self.conversations:
            return self.conversations[wa_id]
        conversation = Conversation(wa_id)
        after = 0
        while True:
            rows = await asyncio.to_thread(self._rows, after, wa_id)
            for row_id, _, data in rows:
                after = row_id
                event = self._event(data)
                if event is not None:
                    apply(conversation, row_id, event)
            if len(rows) < BATCH:
                break
        return conversation if conversation.last_event_id else None

    # --- running -----------------------------------------------------------------------

    async def run(self) -> None:
        """Poll forever (the dashboard's one feed task)."""
        while True:
            try:
                if await self.poll():
                    self.notify()
            except Exception:  # noqa: BLE001 - the feed must outlive any bad row or outage
                log.exception("feed: poll failed")
            await asyncio.sleep(POLL_SECONDS)

    def notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait(self, timeout: float) -> bool:
        """Until the next change (True) or ``timeout`` seconds (False)."""
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    def active(
        self, role: str, departments: Iterable[str], username: str | None = None
    ) -> list[Conversation]:
        """Conversations ``role`` with ``departments`` may see, most recent first."""
        departments = set(departments)
        found = [
            c
            for c in self.conversations.values()
            if visible_to(c, self.catalogue, role, departments, username)
        ]
        return sorted(found, key=lambda c: c.last_at, reverse=True)
