"""Officers' handoffs in the channel: who holds a citizen's chat, and every way it ends.

An officer takes a conversation over from the dashboard (``POST /handoff``): a row of
``whatsapp_handoffs`` says who holds it, Rasa's ``ConversationPaused`` (the holder in its
metadata, for the dashboard's feed) silences the assistant, and the citizen is told who
is answering and how to get the assistant back. Every message to the citizen about the
handoff, and every officer's reply, goes from the number the citizen last wrote to, so
it lands in the chat they are looking at (else the department's number, else the main
one). The department named is the conversation's, as the dashboard sends it; a
conversation no department owns yet is answered by the helpdesk (``department`` "").

A handoff ends with ``ConversationResumed`` (its metadata says why) and a message to
the citizen in their language, when

- the holder hands back (``released``, template ``handoff_ended``);
- a supervisor of the owning department or an administrator releases it, or the
  holder's account is disabled (``override``; the dashboard decides who may);
- nobody has written as the officer for ``WHATSAPP_HANDOFF_TIMEOUT_MINUTES`` (default
  30) since the take-over or the officer's last reply (``expired``, ``handoff_expired``);
- the citizen writes only one of the :data:`WAY_BACK` words, "assistant", "सहायक",
  "bot", ... (``citizen``, ``handoff_left``).

``reassign`` gives the conversation to another officer without waking the assistant.

Every Rasa process runs :meth:`HandoffDesk.run`, a sweep every ``SWEEP_SECONDS`` for
timeouts and way-back words. Several processes may find the same end: each appends the
(idempotent) ``ConversationResumed``, only the one whose delete removed the row tells
the citizen. The clock is injectable (``clock``), and ``POST /handoffs/expire`` takes an
``as_of`` time, so no test waits for the timeout.

Two statements here read and write the channel store's tables directly (the way-back
words among the inbox rows of held conversations; the holder's atomic change on
reassignment); everything else goes through :class:`~connectors.store.ChannelStore`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import unicodedata
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from rasa.shared.core.events import BotUttered, ConversationPaused, ConversationResumed

from connectors import conversation
from connectors.graph import SendResult
from connectors.store import handoffs as handoffs_table
from connectors.store import inbox as inbox_table
from service_catalogue import load as load_catalogue
from service_catalogue.templates import TemplateError

if TYPE_CHECKING:
    from connectors.whatsapp import WhatsAppInput

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_MINUTES = 30.0
SWEEP_SECONDS = 1.0
#: A message that is only one of these (case, spacing and punctuation ignored) takes the
#: citizen back to the assistant. The handoff notices tell them to type "assistant" /
#: "सहायक"; the rest are what people type instead.
WAY_BACK = frozenset(
    {
        "assistant",
        "bot",
        "back to assistant",
        "back to bot",
        "सहायक",
        "बॉट",
        "sahayak",
        "sahayk",
        "sahayak ji",
    }
)
#: Why a handoff ended (``ConversationResumed`` metadata ``reason``) -> the citizen's message.
ENDINGS = {
    "released": "handoff_ended",
    "supervisor": "handoff_ended",
    "account_disabled": "handoff_ended",
    "expired": "handoff_expired",
    "citizen": "handoff_left",
}


def timeout_from_env() -> float:
    """``WHATSAPP_HANDOFF_TIMEOUT_MINUTES`` in seconds (default 30 minutes)."""
    raw = os.environ.get("WHATSAPP_HANDOFF_TIMEOUT_MINUTES", "")
    minutes = float(raw) if raw else DEFAULT_TIMEOUT_MINUTES
    if minutes <= 0:
        raise ValueError("WHATSAPP_HANDOFF_TIMEOUT_MINUTES must be greater than 0")
    return minutes * 60


def wants_the_assistant(text: str) -> bool:
    """True if ``text`` is only a way-back word (:data:`WAY_BACK`)."""
    folded = unicodedata.normalize("NFC", text).casefold().replace("\u093c", "")
    # letters, digits and Devanagari's vowel signs stay; punctuation is a space
    kept = "".join(c if unicodedata.category(c)[0] in "LMN" else " " for c in folded)
    return " ".join(kept.split()) in WAY_BACK


class HandoffError(Exception):
    """Refused: ``status`` and ``code`` become the internal API's error answer."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.extra = extra


class HandoffDesk:
    def __init__(
        self,
        channel: WhatsAppInput,
        timeout_seconds: float | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.channel = channel
        self.store = channel.store
        self.timeout = timeout_from_env() if timeout_seconds is None else timeout_seconds
        self.clock = clock or channel.settings.clock
        # wa_id -> (the officer who held it, not before this time can it expire): only
        # saves re-reading trackers; every decision is made on the tracker itself
        self._not_before: dict[str, tuple[str, float]] = {}
        self._task: asyncio.Task[None] | None = None

    # --- helpers -----------------------------------------------------------------------

    def agent(self) -> Any:
        agent = self.channel.agent
        if agent is None:
            raise HandoffError(503, "rasa_unavailable", "the assistant is starting", retry_after=5)
        return agent

    def number(self, wa_id: str, department: str) -> str:
        """The number the citizen last wrote to; else the department's, else the main one."""
        settings = self.channel.settings
        latest = self.store.latest_number(wa_id)
        if latest in settings.numbers:
            return str(latest)
        return settings.department_number(department) or settings.main_number

    @staticmethod
    def department_name(department: str, language: str) -> str:
        found = load_catalogue().departments.get(department)
        return found.title(language) if found is not None else department

    async def tell(
        self, wa_id: str, department: str, name: str, values: list[str], language: str
    ) -> SendResult:
        """A registered message to the citizen, in their chat; a failure is logged only
        (the handoff has changed either way)."""
        template = self.channel.templates.check(name, values)
        result, _ = await self.channel.send_template(
            self.number(wa_id, department), wa_id, template, language, values, max_retries=1
        )
        if not result.ok:
            logger.warning("handoff.notice_failed template=%s", name)
        return result

    async def announce(self, wa_id: str, holder: dict[str, str], language: str) -> None:
        """Who is answering now, and how to get the assistant back."""
        department = holder["department"]
        if department:
            name = self.department_name(department, language)
            values = [holder["officer_name"], name]
            await self.tell(wa_id, department, "handoff_started", values, language)
        else:
            values = [holder["officer_name"]]
            await self.tell(wa_id, department, "handoff_started_helpdesk", values, language)

    # --- what officers do -------------------------------------------------------------

    async def take(self, wa_id: str, holder: dict[str, str]) -> str:
        agent = self.agent()
        current = self.store.handoff(wa_id)
        if current is not None:
            if current["officer_id"] != holder["officer_id"]:
                raise _taken(current)
            return "taken"
        taken = self.store.take_handoff(
            wa_id, holder["officer_id"], holder["officer_name"], holder["department"]
        )
        if taken["officer_id"] != holder["officer_id"]:  # another officer was a moment faster
            raise _taken(taken)
        try:
            await conversation.append(agent, wa_id, [ConversationPaused(metadata=dict(holder))])
        except Exception:
            self.store.release_handoff(wa_id, holder["officer_id"])
            raise
        await self.announce(wa_id, holder, await conversation.language(agent, wa_id))
        logger.info("handoff.taken department=%s", holder["department"] or "helpdesk")
        return "taken"

    async def release(
        self, wa_id: str, officer_id: str, override: bool = False, reason: str = "released"
    ) -> str:
        """The holder hands back; with ``override`` anyone the dashboard allowed to."""
        self.agent()
        current = self.store.handoff(wa_id)
        if current is None:
            return "released"
        if current["officer_id"] != officer_id and not override:
            raise _taken(current)
        await self.end(current, reason)
        return "released"

    async def reassign(self, wa_id: str, holder: dict[str, str], by: str) -> str:
        """Another officer holds it from now; the citizen is told who."""
        agent = self.agent()
        current = self.store.handoff(wa_id)
        if current is None:
            raise HandoffError(409, "not_in_handoff", "no officer holds this conversation")
        if current["officer_id"] == holder["officer_id"]:
            return "taken"
        with self.store.engine.begin() as connection:
            changed = connection.execute(
                handoffs_table.update()
                .where(
                    handoffs_table.c.wa_id == wa_id,
                    handoffs_table.c.officer_id == current["officer_id"],
                )
                .values(
                    officer_id=holder["officer_id"],
                    officer_name=holder["officer_name"],
                    department=holder["department"],
                    since=time.time(),  # the store's clock, as take_handoff's
                )
            ).rowcount
        if not changed:  # ended or changed meanwhile
            raise HandoffError(409, "not_in_handoff", "the conversation changed; look again")
        self._not_before.pop(wa_id, None)
        metadata = {**holder, "reassigned_by": by}
        await conversation.append(agent, wa_id, [ConversationPaused(metadata=metadata)])
        await self.announce(wa_id, holder, await conversation.language(agent, wa_id))
        logger.info("handoff.reassigned department=%s", holder["department"] or "helpdesk")
        return "taken"

    async def send(self, wa_id: str, officer_id: str, text: str) -> SendResult:
        """The holder's message, from the citizen's chat, recorded in the conversation."""
        agent = self.agent()
        current = self.store.handoff(wa_id)
        if current is None or current["officer_id"] != officer_id:
            raise HandoffError(409, "not_in_handoff", "take the conversation over first")
        department = current["department"]
        language = await conversation.language(agent, wa_id)
        if department:
            name, values = "officer_reply", [self.department_name(department, language), text]
        else:
            name, values = "officer_reply_helpdesk", [text]
        number = self.number(wa_id, department)
        try:
            template = self.channel.templates.check(name, values)
        except TemplateError as error:
            raise HandoffError(422, error.code, str(error)) from None
        result, _ = await self.channel.send_template(
            number, wa_id, template, language, values, max_retries=1
        )
        if not result.ok:
            return result
        metadata = {
            "officer_id": officer_id,
            "officer_name": current["officer_name"],
            "department": department,
            "message_id": result.message_id,
            "phone_number_id": number,
        }
        await conversation.append(agent, wa_id, [BotUttered(text, metadata=metadata)])
        return result

    # --- how a handoff ends -----------------------------------------------------------

    async def end(self, current: dict[str, Any], reason: str) -> bool:
        """Wake the assistant, drop the row and tell the citizen why; False if someone
        else (another process, the officer) ended it first."""
        agent = self.agent()
        wa_id = current["wa_id"]
        metadata = {"reason": reason, "officer_id": current["officer_id"]}
        await conversation.append(agent, wa_id, [ConversationResumed(metadata=metadata)])
        if not self.store.release_handoff(wa_id, current["officer_id"]):
            return False
        self._not_before.pop(wa_id, None)
        language = await conversation.language(agent, wa_id)
        await self.tell(wa_id, current["department"], ENDINGS[reason], [], language)
        logger.info("handoff.ended reason=%s department=%s", reason, current["department"])
        return True

    async def last_officer_activity(self, current: dict[str, Any]) -> float:
        """The take-over, or the holder's latest message if later (from the tracker)."""
        latest = float(current["since"])
        tracker = await self.agent().tracker_store.retrieve(current["wa_id"])
        for event in reversed(tracker.events if tracker is not None else []):
            if isinstance(event, BotUttered) and (event.metadata or {}).get("officer_id"):
                return max(latest, float(event.timestamp))
            if isinstance(event, ConversationPaused):
                break
        return latest

    async def expire(self, now: float | None = None) -> list[str]:
        """End every handoff whose officer has been silent for the timeout as of ``now``."""
        now = self.clock() if now is None else now
        ended = []
        for current in self.store.all_handoffs():
            wa_id = current["wa_id"]
            if float(current["since"]) + self.timeout > now:
                continue
            holder, not_before = self._not_before.get(wa_id, ("", 0.0))
            if holder == current["officer_id"] and not_before > now:
                continue
            last = await self.last_officer_activity(current)
            if last + self.timeout > now:
                self._not_before[wa_id] = (current["officer_id"], last + self.timeout)
                continue
            if await self.end(current, "expired"):
                ended.append(wa_id)
        return ended

    def _asked_back(self, held: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Held conversations whose citizen has since written only a way-back word (among
        their processed messages, so the word is in the record before the end is)."""
        by_id = {h["wa_id"]: h for h in held}
        if not by_id:
            return []
        oldest = min(float(h["since"]) for h in by_id.values())
        query = sa.select(inbox_table.c.wa_id, inbox_table.c.body, inbox_table.c.received_at).where(
            inbox_table.c.wa_id.in_(list(by_id)),
            inbox_table.c.received_at >= oldest,
            inbox_table.c.state == "done",
        )
        with self.store.engine.connect() as connection:
            rows = connection.execute(query).all()
        found: dict[str, dict[str, Any]] = {}
        for wa_id, body, received_at in rows:
            current = by_id[str(wa_id)]
            if float(received_at) < float(current["since"]) or wa_id in found:
                continue
            try:
                message = json.loads(body)
            except ValueError:
                continue
            if message.get("kind") == "text" and wants_the_assistant(str(message.get("text"))):
                found[str(wa_id)] = current
        return list(found.values())

    async def sweep(self, now: float | None = None) -> None:
        """One pass: timeouts, then citizens who asked for the assistant."""
        await self.expire(now)
        for current in self._asked_back(self.store.all_handoffs()):
            await self.end(current, "citizen")

    async def run(self) -> None:
        """Sweep every ``SWEEP_SECONDS`` while the server runs."""
        while True:
            agent = self.channel.agent
            try:
                if agent is not None and agent.is_ready():
                    await self.sweep()
            except Exception:  # noqa: BLE001 - the next sweep tries again
                logger.exception("handoff.sweep_failed")
            await asyncio.sleep(SWEEP_SECONDS)

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None


def _taken(current: dict[str, Any]) -> HandoffError:
    return HandoffError(
        409,
        "taken_by_other",
        f"{current['officer_name']} ({current['department'] or 'helpdesk'}) has this conversation",
        officer_name=current["officer_name"],
    )
