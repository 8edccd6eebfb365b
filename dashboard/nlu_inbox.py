"""The trainer's inbox: the citizens' messages worth annotating, found while the feed
folds Rasa's events (:meth:`dashboard.feed.Feed.fold` calls :meth:`Inbox.observe` with
every event, after :func:`dashboard.feed.apply`).

A message is listed for one or more of these reasons (:data:`REASONS`):

- ``fallback``: the NLU fell back (``nlu_fallback``), or the assistant answered with a
  clarifying question or its default fallback;
- ``low_confidence``: the best intent's confidence is below :data:`LOW_CONFIDENCE`
  (above the fallback threshold, so the assistant acted on a guess);
- and what the conversation shows next, from the citizen's very next message:
  ``rephrased`` (written within :data:`REPHRASE_SECONDS`, sharing at least
  :data:`REPHRASE_SIMILARITY` of its letter trigrams: the citizen said it again in other
  words, or repeated it), ``said_no`` (a
  typed "no"/"wrong"/"गलत": the ``deny`` intent, or :data:`WRONG` in at most five
  words), ``asked_human`` (``talk_to_human``, typed or tapped), or ``officer_took_over``
  (an officer took the conversation over after it).

Not NLU data, never listed and never a signal: tapped buttons (payloads), messages sent
while an officer holds the conversation (they are written to the officer), answers to a
form's question (the form reads those itself, and they are names, dates and addresses),
messages holding a secret (the CSC code), messages without a letter or digit, and the
channel's own intents. The same sentence from several citizens is one item (the
latest message stands for it; :attr:`Candidate.count` says how often it came).

Texts are kept in memory only, masked (:func:`dashboard.nlu_export.mask`: Aadhaar and
phone numbers); a citizen erased by the channel disappears at the feed's next
reconciliation (:meth:`Inbox.forget`). Annotations live in the dashboard's database
(``dashboard/trainer.py``).
"""

from __future__ import annotations

import dataclasses
import re
import time
from typing import Any

from dashboard.nlu_export import ANNOTATED_ENTITIES, mask, normalize

REASONS = (
    "fallback",
    "low_confidence",
    "rephrased",
    "said_no",
    "asked_human",
    "officer_took_over",
)
#: Below this the assistant was guessing (the FallbackClassifier's threshold is 0.35).
LOW_CONFIDENCE = 0.6
#: "Rephrased at once": the next message within this many seconds...
REPHRASE_SECONDS = 120.0
#: ...sharing at least this share of its character trigrams (Jaccard).
REPHRASE_SIMILARITY = 0.3
#: The next message counts as a verdict on this one only within this many seconds.
NEXT_SECONDS = 600.0
#: At most this many items are kept (the oldest go first).
MAX_CANDIDATES = 5000
FALLBACK = "nlu_fallback"
FALLBACK_ACTIONS = frozenset({"action_clarify", "action_default_fallback"})
HUMAN = "talk_to_human"
DENY = "deny"
#: Sent by the channel, never typed (domain.yml).
CHANNEL_INTENTS = frozenset({"stale_message", "unsupported_message", "upload_rejected"})
#: A citizen telling the assistant it got them wrong (in a short message: "naam galat
#: chapa hai certificate pe" describes a problem, it is no verdict).
WRONG = re.compile(
    r"\b(wrong|incorrect|not what i|galat|galt|glt|nahi samjh|nahin samjh|samjhe nahi)"
    r"|गलत|ग़लत|नहीं समझ|समझे नहीं",
    re.IGNORECASE,
)
SECRET_ENTITIES = frozenset({"csc_code"})


@dataclasses.dataclass
class Candidate:
    """One sentence for the trainer (the latest message that said it)."""

    id: int  # the event table's row id of the message
    at: float
    key: str  # normalized text: one item per sentence
    text: str  # masked, one line
    language: str  # hi | en | hinglish | unknown
    intent: str  # the classifier's best intent ("nlu_fallback" only if it had none)
    confidence: float
    ranking: list[tuple[str, float]]  # the next best intents
    entities: list[dict[str, Any]]  # entity, value, start, end (in text), confidence, extractor
    previous: str | None  # the assistant's message before it (masked)
    fell_back: bool
    reasons: set[str] = dataclasses.field(default_factory=set)
    #: every message that said it: row id -> citizen key (a hash, not the number)
    messages: dict[int, str] = dataclasses.field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.messages)

    @property
    def service(self) -> dict[str, Any] | None:
        return next((e for e in self.entities if e["entity"] == "service"), None)


@dataclasses.dataclass
class _Recent:
    """What the inbox remembers of one conversation."""

    previous: str | None = None  # the assistant's (or officer's) last message
    turn: Candidate | None = None  # the citizen's last typed message, while it may be judged


def trigrams(text: str) -> set[str]:
    padded = f"  {normalize(text)}  "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def similarity(a: str, b: str) -> float:
    first, second = trigrams(a), trigrams(b)
    union = first | second
    return len(first & second) / len(union) if union else 0.0


def language_of(parse_data: dict[str, Any], slot: str | None) -> str:
    """hi / en / hinglish from the language detector's reading of the message (the
    ``language`` slot when it could not tell)."""
    guess = parse_data.get("language")
    guess = guess if isinstance(guess, dict) else {}
    if guess.get("hinglish"):
        return "hinglish"
    code, script = guess.get("code"), guess.get("script")
    if code == "en":
        return "en"
    if code == "hi" or script == "deva":
        return "hinglish" if script == "latn" else "hi"
    if slot == "en":
        return "en"
    if slot == "hi":
        return "hinglish" if script == "latn" else "hi"
    return "unknown"


def _entities(raw_text: str, text: str, parse_data: dict[str, Any]) -> list[dict[str, Any]]:
    """The predicted entities the export can carry, re-anchored in the masked ``text``."""
    found = []
    for entity in parse_data.get("entities") or []:
        if not isinstance(entity, dict) or entity.get("entity") not in ANNOTATED_ENTITIES:
            continue
        start, end = entity.get("start"), entity.get("end")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end):
            continue
        words = " ".join(raw_text[start:end].split())
        at = text.find(words) if words else -1
        if at < 0:
            continue  # masked away
        confidence = entity.get("confidence_entity")
        found.append(
            {
                "entity": str(entity["entity"]),
                "value": str(entity.get("value") or words),
                "start": at,
                "end": at + len(words),
                "confidence": float(confidence) if isinstance(confidence, int | float) else None,
                "extractor": str(entity.get("extractor") or ""),
            }
        )
    return found


class Inbox:
    """Items by sentence; see the module docstring."""

    def __init__(self) -> None:
        self.items: dict[str, Candidate] = {}  # key -> candidate
        self._recent: dict[str, _Recent] = {}  # wa_id -> recent

    # --- folding ------------------------------------------------------------------------

    def observe(
        self,
        wa_id: str,
        citizen: str,
        event: dict[str, Any],
        row_id: int,
        handed_over: bool,
        flow: str | None,
        language_slot: str | None,
    ) -> None:
        """One event of conversation ``wa_id`` (state after :func:`feed.apply`)."""
        kind = event.get("event")
        recent = self._recent.setdefault(wa_id, _Recent())
        if kind == "user":
            self._user(recent, citizen, event, row_id, handed_over, flow, language_slot)
        elif kind == "bot":
            words = " ".join(str(event.get("text") or "").split())
            if words:
                recent.previous = mask(words)
        elif kind == "action":
            if event.get("name") in FALLBACK_ACTIONS and recent.turn is not None:
                self._flag(recent.turn, "fallback")
        elif kind == "pause":
            if recent.turn is not None and recent.turn.intent != HUMAN:
                self._flag(recent.turn, "officer_took_over")
            recent.turn = None
        elif kind in ("restart", "session_started"):
            recent.turn = None

    def _user(
        self,
        recent: _Recent,
        citizen: str,
        event: dict[str, Any],
        row_id: int,
        handed_over: bool,
        flow: str | None,
        language_slot: str | None,
    ) -> None:
        raw = str(event.get("text") or "")
        parse_data = event.get("parse_data") or {}
        intent = parse_data.get("intent") or {}
        name = str(intent.get("name") or "")
        at = float(event.get("timestamp") or time.time())
        previous, recent.turn = recent.turn, None
        if handed_over:
            return  # written to the officer: neither data nor a verdict
        tapped = raw.startswith("/")
        if previous is not None and at - previous.at <= NEXT_SECONDS:
            if name == HUMAN and previous.intent != HUMAN:
                self._flag(previous, "asked_human")
            elif not tapped and (name == DENY or (WRONG.search(raw) and len(raw.split()) <= 5)):
                self._flag(previous, "said_no")
            elif (
                not tapped
                and at - previous.at <= REPHRASE_SECONDS
                and similarity(previous.text, raw) >= REPHRASE_SIMILARITY
            ):
                self._flag(previous, "rephrased")
        if tapped or flow or name in CHANNEL_INTENTS or not any(c.isalnum() for c in raw):
            return
        entities = parse_data.get("entities") or []
        if any(isinstance(e, dict) and e.get("entity") in SECRET_ENTITIES for e in entities):
            return
        text = mask(raw)
        ranking = [
            (str(r.get("name")), float(r.get("confidence") or 0.0))
            for r in parse_data.get("intent_ranking") or []
            if isinstance(r, dict) and r.get("name") and r.get("name") != FALLBACK
        ]
        best, confidence = (
            ranking[0] if ranking else (name or FALLBACK, float(intent.get("confidence") or 0))
        )
        turn = Candidate(
            id=row_id,
            at=at,
            key=normalize(text),
            text=text,
            language=language_of(parse_data, language_slot),
            intent=best,
            confidence=confidence,
            ranking=ranking[1:4],
            entities=_entities(raw, text, parse_data),
            previous=recent.previous,
            fell_back=name == FALLBACK,
        )
        turn.messages[row_id] = citizen
        recent.turn = turn
        if turn.fell_back:
            self._flag(turn, "fallback")
        if confidence < LOW_CONFIDENCE:
            self._flag(turn, "low_confidence")

    def _flag(self, turn: Candidate, reason: str) -> None:
        turn.reasons.add(reason)
        listed = self.items.get(turn.key)
        if listed is turn:
            return
        if listed is not None:
            if listed.id > turn.id:  # a later message already stands for the sentence
                listed.reasons |= turn.reasons
                listed.messages.update(turn.messages)
                return
            turn.reasons |= listed.reasons
            turn.messages.update(listed.messages)
            del self.items[turn.key]
        self.items[turn.key] = turn
        while len(self.items) > MAX_CANDIDATES:
            oldest = min(self.items.values(), key=lambda c: c.id)
            del self.items[oldest.key]

    # --- upkeep -------------------------------------------------------------------------

    def forget(self, citizen: str) -> None:
        """An erased citizen's messages leave the inbox; an item their message stood for
        goes with it (its context, the assistant's previous message, was theirs)."""
        for key in [k for k, c in self.items.items() if citizen in c.messages.values()]:
            item = self.items[key]
            item.messages = {i: who for i, who in item.messages.items() if who != citizen}
            if item.id not in item.messages:  # their message (and its context) stood for it
                del self.items[key]

    def drop_conversation(self, wa_id: str) -> None:
        """The feed dropped an inactive conversation from memory."""
        self._recent.pop(wa_id, None)

    def prune(self, oldest: float) -> None:
        for key in [k for k, c in self.items.items() if c.at < oldest]:
            del self.items[key]

    def by_id(self, item_id: int) -> Candidate | None:
        return next((c for c in self.items.values() if c.id == item_id), None)
