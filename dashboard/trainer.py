"""The NLU trainer's inbox (role ``trainer``; docs/nlu-guide.md tells the whole round).

- ``GET /trainer``: the sentences worth annotating (:mod:`dashboard.nlu_inbox`: low
  confidence, fallbacks, and those the conversation shows were misunderstood), newest
  first, filtered by language and reason; each with its language, the predicted intent,
  the next best ones and the entities with their confidence, and the assistant's message
  before it. ``?view=done`` lists the annotations made, each of which can be reopened.
- ``POST /trainer/<id>``: the trainer's verdict on the item whose message is event row
  ``id``: ``confirm`` (the prediction is right, one click), ``intent:<name>`` (one of
  the next best intents, one click), ``correct`` (an intent from the domain's list, the
  ``service`` from the catalogue and the words that name it, the language), or
  ``discard`` (not NLU data: noise, personal data).
- ``POST /trainer/annotations/<id>/reopen``: the annotation is deleted; the sentence is
  back in the inbox (while the feed still holds it).
- ``GET /trainer/export/<language>.yml``: the annotations of one language as Rasa NLU
  YAML (:func:`dashboard.nlu_export.render_export`: masked, de-duplicated against
  ``data/nlu/`` and ``bench/heldout/``, marked unreviewed).

Every annotation, reopening and export is audited (ids, intents and counts; never the
sentence). An annotation whose message was erased from the event table (the citizen
erased their data) is deleted at the next page view or export.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml
from sanic import Request
from sanic.response import HTTPResponse, redirect, text
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session as DbSession

from dashboard.conversations import current_feed
from dashboard.db import NluAnnotation, utcnow
from dashboard.feed import Feed
from dashboard.nlu_export import (
    LANGUAGES,
    Example,
    known_examples,
    normalize,
    render_export,
)
from dashboard.nlu_inbox import CHANNEL_INTENTS, REASONS, Candidate
from dashboard.web import (
    PAGE_ROLES,
    CurrentUser,
    PageError,
    Route,
    audit,
    context,
    form,
    language,
    query,
    render,
    require,
    t,
)
from service_catalogue import pick

log = logging.getLogger(__name__)

ROLES = PAGE_ROLES["trainer"]
PAGE_SIZE = 25
DONE_PAGE_SIZE = 100
VERDICTS = ("confirmed", "corrected", "discarded")
#: Outcomes shown after an action (``?done=``), texts in messages.yml.
DONE = ("trainer.saved", "trainer.reopened")


def key_of(sentence: str) -> str:
    """The annotation table's key of a sentence (one verdict per sentence)."""
    return hashlib.sha256(normalize(sentence).encode()).hexdigest()


@functools.lru_cache(maxsize=4)
def _intents(path: Path, mtime: float) -> tuple[str, ...]:
    domain = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    names = [i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents") or []]
    return tuple(n for n in names if n not in CHANNEL_INTENTS)


def intents(request: Request) -> tuple[str, ...]:
    """The intents a trainer may choose: the domain's, less the channel's own."""
    path = context(request).settings.nlu_domain
    return _intents(path, path.stat().st_mtime)


@functools.lru_cache(maxsize=4)
def _known(path: Path, stamp: tuple[float, ...]) -> dict[str, str]:
    return known_examples([path])


def known(path: Path) -> dict[str, str]:
    """The sentences of the NLU files under ``path`` (normalized -> intent), cached
    until a file there changes."""
    files = sorted(path.rglob("*.yml")) if path.is_dir() else [path] if path.exists() else []
    return _known(path, tuple(f.stat().st_mtime for f in files) + (len(files),))


# --------------------------------------------------------------------------- storage


def _annotations(request: Request) -> list[NluAnnotation]:
    def work(session: DbSession) -> list[NluAnnotation]:
        rows = list(session.execute(select(NluAnnotation)).scalars())
        session.expunge_all()
        return rows

    return list(context(request).db.run(work))


async def _purge_erased(request: Request, feed: Feed) -> list[NluAnnotation]:
    """The annotations, less (deleted) those whose message the event table lost."""
    rows = _annotations(request)
    if not rows:
        return rows
    try:
        existing = await asyncio.to_thread(feed.existing_rows, [int(r.event_id) for r in rows])
    except SQLAlchemyError as exc:  # the table is away: keep everything for now
        log.warning("trainer: event table not readable: %s", type(exc).__name__)
        return rows
    gone = [int(r.id) for r in rows if int(r.event_id) not in existing]
    if gone:
        context(request).db.run(
            lambda s: s.execute(delete(NluAnnotation).where(NluAnnotation.id.in_(gone)))
        )
        audit(request, "nlu.erased", None, {"annotations": len(gone)})
    return [r for r in rows if int(r.id) not in gone]


# --------------------------------------------------------------------------- the page


def _services(request: Request) -> list[tuple[str, list[tuple[str, str]]]]:
    """(department name, [(service id, name)]) in the user's language."""
    catalogue = context(request).catalogue
    lang = language(request)
    return [
        (
            pick(department.name, lang),
            [
                (s.id, pick(s.name, lang))
                for s in catalogue.services.values()
                if s.department == department.id
            ],
        )
        for department in catalogue.departments.values()
    ]


def _filters(request: Request) -> dict[str, str]:
    lang, reason = query(request, "lang"), query(request, "reason")
    return {
        "lang": lang if lang in (*LANGUAGES, "unknown") else "",
        "reason": reason if reason in REASONS else "",
    }


def _item(candidate: Candidate, training: dict[str, str]) -> dict[str, Any]:
    service = candidate.service
    return {
        "c": candidate,
        "reasons": [r for r in REASONS if r in candidate.reasons],
        "service": service["value"] if service else "",
        "service_words": candidate.text[service["start"] : service["end"]] if service else "",
        "in_training": training.get(candidate.key),
    }


async def page(
    request: Request, flash: str | None = None, flash_kind: str = "ok", status: int = 200
) -> HTTPResponse:
    require(request, *ROLES)
    feed = await current_feed(request)
    annotations = await _purge_erased(request, feed)
    filters = _filters(request)
    view = "done" if query(request, "view") == "done" else "todo"
    number = query(request, "page", "1")
    page_number = max(1, int(number)) if number.isdigit() else 1
    done_keys = {a.key for a in annotations}
    waiting = [c for c in feed.inbox.items.values() if key_of(c.text) not in done_keys]
    shown = [
        c
        for c in waiting
        if (not filters["lang"] or c.language == filters["lang"])
        and (not filters["reason"] or filters["reason"] in c.reasons)
    ]
    shown.sort(key=lambda c: -c.id)
    training = known(context(request).settings.nlu_data)
    start = (page_number - 1) * PAGE_SIZE
    exportable = {
        lang: sum(1 for a in annotations if a.language == lang and a.verdict != "discarded")
        for lang in LANGUAGES
    }
    audit(request, "nlu.inbox.view", None, {"view": view, **filters})
    done = query(request, "done")
    return render(
        request,
        "trainer.html",
        status=status,
        view=view,
        filters=filters,
        items=[_item(c, training) for c in shown[start : start + PAGE_SIZE]],
        total=len(shown),
        waiting=len(waiting),
        page_number=page_number,
        page_size=PAGE_SIZE,
        annotations=sorted(annotations, key=lambda a: a.annotated_at, reverse=True)[
            :DONE_PAGE_SIZE
        ],
        annotated=len(annotations),
        exportable=exportable,
        intents=intents(request),
        services=_services(request),
        languages=LANGUAGES,
        reasons=REASONS,
        caught_up=feed.caught_up,
        flash=flash or (t(request, done) if done in DONE else None),
        flash_kind=flash_kind,
    )


# --------------------------------------------------------------------------- annotating


def _back(request: Request, done: str | None = None, anchor: str = "") -> str:
    params = {k: form(request, k) for k in ("lang", "reason") if form(request, k)}
    if done:
        params["done"] = done
    return "/trainer" + (f"?{urlencode(params)}" if params else "") + anchor


def _has_devanagari(sentence: str) -> bool:
    return any("\u0900" <= c <= "\u097f" for c in sentence)


def _verdict(
    request: Request, candidate: Candidate, known_intents: tuple[str, ...]
) -> tuple[str, str | None, list[dict[str, Any]], str]:
    """(verdict, intent, entities, language) from the form; PageError(400) if unusable."""
    action = form(request, "do")
    chosen_language = form(request, "language") or candidate.language
    if chosen_language not in LANGUAGES:
        raise PageError(400, "trainer.language_required")
    if _has_devanagari(candidate.text) != (chosen_language == "hi"):
        raise PageError(400, "trainer.language_script")
    predicted = [{k: e[k] for k in ("entity", "value", "start", "end")} for e in candidate.entities]
    if action == "discard":
        return "discarded", None, [], chosen_language
    if action == "confirm":
        if candidate.intent not in known_intents:
            raise PageError(400, "trainer.intent_required")
        return "confirmed", candidate.intent, predicted, chosen_language
    if action.startswith("intent:"):
        intent = action.split(":", 1)[1]
        if intent not in known_intents:
            raise PageError(400, "trainer.intent_required")
        verdict = "confirmed" if intent == candidate.intent else "corrected"
        return verdict, intent, predicted, chosen_language
    if action != "correct":
        raise PageError(400, "not_allowed")
    intent = form(request, "intent")
    if intent not in known_intents:
        raise PageError(400, "trainer.intent_required")
    service = form(request, "service")
    entities = [e for e in predicted if e["entity"] != "service"]
    if service:
        if service not in context(request).catalogue.services:
            raise PageError(400, "service_unknown")
        words = " ".join(form(request, "service_words").split())
        at = candidate.text.casefold().find(words.casefold()) if words else -1
        if at < 0:
            raise PageError(400, "trainer.service_words_missing")
        end = at + len(words)
        entities = [e for e in entities if e["end"] <= at or e["start"] >= end]
        entities.append({"entity": "service", "value": service, "start": at, "end": end})
    same = intent == candidate.intent and sorted(map(str, entities)) == sorted(map(str, predicted))
    return "confirmed" if same else "corrected", intent, entities, chosen_language


async def annotate(request: Request, item_id: int) -> HTTPResponse:
    user = require(request, *ROLES)
    feed = await current_feed(request)
    candidate = feed.inbox.by_id(item_id)
    if candidate is None:
        raise PageError(404, "not_found")
    try:
        verdict, intent, entities, chosen_language = _verdict(request, candidate, intents(request))
    except PageError as error:
        if error.status != 400:
            raise
        return await page(request, flash=t(request, error.code), flash_kind="error", status=400)
    _store(request, user, candidate, verdict, intent, entities, chosen_language)
    service = next((e["value"] for e in entities if e["entity"] == "service"), None)
    audit(
        request,
        "nlu.annotate",
        f"event-{candidate.id}",
        {
            "verdict": verdict,
            "intent": intent,
            "predicted": candidate.intent,
            "confidence": round(candidate.confidence, 3),
            "service": service,
            "language": chosen_language,
            "reasons": sorted(candidate.reasons),
        },
    )
    return redirect(_back(request, "trainer.saved", "#inbox"))


def _store(
    request: Request,
    user: CurrentUser,
    candidate: Candidate,
    verdict: str,
    intent: str | None,
    entities: list[dict[str, Any]],
    chosen_language: str,
) -> None:
    key = key_of(candidate.text)

    def work(session: DbSession) -> None:
        row = session.execute(
            select(NluAnnotation).where(NluAnnotation.key == key)
        ).scalar_one_or_none()
        if row is None:
            row = NluAnnotation(key=key)
            session.add(row)
        row.event_id = candidate.id
        row.text = candidate.text
        row.language = chosen_language
        row.predicted_intent = candidate.intent
        row.predicted_confidence = candidate.confidence
        row.reasons = sorted(candidate.reasons)
        row.verdict = verdict
        row.intent = intent
        row.entities = entities
        row.annotated_by = user.username
        row.annotated_at = utcnow()

    context(request).db.run(work)


async def reopen(request: Request, annotation_id: int) -> HTTPResponse:
    require(request, *ROLES)

    def work(session: DbSession) -> str | None:
        row = session.get(NluAnnotation, annotation_id)
        if row is None:
            return None
        event_id = int(row.event_id)
        session.delete(row)
        return f"event-{event_id}"

    subject = context(request).db.run(work)
    if subject is None:
        raise PageError(404, "not_found")
    audit(request, "nlu.reopen", subject, None)
    return redirect("/trainer?" + urlencode({"view": "done", "done": "trainer.reopened"}))


# --------------------------------------------------------------------------- export


async def export(request: Request, filename: str) -> HTTPResponse:
    user = require(request, *ROLES)
    lang = filename.removesuffix(".yml")
    if lang not in LANGUAGES or not filename.endswith(".yml"):
        raise PageError(404, "not_found")
    feed = await current_feed(request)
    rows = [
        a
        for a in await _purge_erased(request, feed)
        if a.language == lang and a.verdict != "discarded" and a.intent
    ]
    rows.sort(key=lambda a: a.annotated_at)
    settings = context(request).settings
    now = datetime.now(timezone.utc)
    result = render_export(
        lang,
        [Example(a.text, str(a.intent), tuple(a.entities or ())) for a in rows],
        known(settings.nlu_data),
        known(settings.nlu_heldout),
        now,
        user.username,
    )
    audit(
        request,
        "nlu.export",
        lang,
        {
            "examples": result.written,
            "in_training": result.in_training,
            "in_heldout": result.in_heldout,
            "repeated": result.repeated,
        },
    )
    return text(
        result.yaml,
        content_type="application/x-yaml; charset=utf-8",
        headers={
            "Content-Disposition": (
                f'attachment; filename="nlu-export-{lang}-{now:%Y%m%d-%H%M}.yml"'
            )
        },
    )


ROUTES: list[Route] = [
    ("GET", "/trainer", page),
    ("POST", "/trainer/<item_id:int>", annotate),
    ("POST", "/trainer/annotations/<annotation_id:int>/reopen", reopen),
    ("GET", "/trainer/export/<filename:str>", export),
]
