"""Live conversations and human handoff.

- ``GET /conversations``: the active conversations the user may see
  (:func:`dashboard.feed.visible_to`), updated in real time by server-sent events from
  ``/conversations/stream`` (``static/live.js``): new conversations appear, flags and
  waiting times change without a reload.
- ``GET /conversations/<wa_id>``: the transcript (citizen, assistant and officers'
  messages, the officer named, handoff changes; buttons by their titles, times in IST,
  the number masked), live from ``/conversations/<wa_id>/stream``, with Take over /
  Reply / Hand back, which call the channel's internal API. Taking over speaks for the
  conversation's department (:meth:`~dashboard.feed.Conversation.owner`), or for the
  helpdesk when no department owns it. A supervisor who may end someone else's handoff
  (``dashboard/handoffs.py``) gets Release there too.

Page views and every action are audited (``conversation.*``); streams are the live part
of an audited page and are not audited again. While it runs a stream re-checks, at
least every ``RECHECK_SECONDS``, that the session is still valid and the account
enabled (role and departments as they are now), and a conversation stream that the
conversation is still visible to the officer (handed to another department, the
handoff taken by someone else): if not it sends ``event: gone`` and ends, and the page
reloads into the refusal. It also ends after ``STREAM_SECONDS`` and the browser
reconnects.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sanic import Request
from sanic.response import HTTPResponse, redirect

from dashboard import auth
from dashboard.channel_client import ChannelClient, Officer
from dashboard.feed import Conversation, Feed, Message, visible_to
from dashboard.web import (
    PAGE_ROLES,
    CurrentUser,
    PageError,
    audit,
    context,
    current_user,
    departments_of,
    forbid,
    form,
    ist,
    label,
    language,
    problem,
    query,
    render,
    require,
    t,
)
from service_catalogue import pick

ROLES = PAGE_ROLES["conversations"]
STREAM_SECONDS = 300.0
#: A stream re-reads the session and account at least this often.
RECHECK_SECONDS = 5.0
#: A stream sends the current state at least this often (waiting times move on).
HEARTBEAT_SECONDS = 5.0
MAX_REPLY = 4096  # WhatsApp's text body limit
_WA_ID = re.compile(r"^[0-9]{6,20}$")
#: Outcomes shown after an action (``?done=``), texts in messages.yml.
DONE = ("handoff_taken", "handoff_released", "reply_sent")


@dataclasses.dataclass
class Live:
    """The dashboard process's feed and channel client (one of each, see :func:`live`)."""

    feed: Feed
    channel: ChannelClient

    async def run(self) -> None:
        try:
            await self.feed.run()
        finally:
            await self.channel.close()


def live(request: Request) -> Live:
    """The process's :class:`Live`, started on first use (its task is cancelled with the
    dashboard's other background tasks when the server stops)."""
    found: Live | None = getattr(request.app.ctx, "live", None)
    if found is None:
        ctx = context(request)
        settings = ctx.settings
        found = Live(
            Feed(settings.events_db_url, ctx.catalogue),
            ChannelClient(
                settings.channel_url,
                settings.whatsapp_internal_token,
                settings.backends_timeout_seconds,
            ),
        )
        request.app.ctx.live = found
        ctx.tasks.spawn(found.run())
    return found


async def current_feed(request: Request) -> Feed:
    """The feed, having read the table at least once (a page never shows a blank list
    just because the process started a moment ago)."""
    feed = live(request).feed
    if not feed.caught_up:
        await feed.poll()
    return feed


def _visible(user: CurrentUser, feed: Feed) -> list[Conversation]:
    return feed.active(user.role, departments_of(user), user.username)


async def _conversation(request: Request, user: CurrentUser, wa_id: str) -> Conversation:
    """The conversation if ``user`` may see it: 404 unknown, 403 (audited) not theirs."""
    feed = await current_feed(request)
    conversation = await feed.load(wa_id) if _WA_ID.match(wa_id) else None
    if conversation is None:
        raise PageError(404, "not_found")
    if not visible_to(conversation, feed.catalogue, user.role, departments_of(user), user.username):
        forbid(request, wa_id, page="conversation")
    return conversation


def when(timestamp: float, lang: str = "en") -> str:
    """A message time as pages show it, in IST (``live.js`` writes the same)."""
    return ist(timestamp, lang=lang)


def shown(request: Request, message: Message) -> dict[str, Any]:
    """A transcript message as pages and streams show it (handoff events in words)."""
    data = message.as_json()
    if message.kind == "event":
        data["text"] = t(request, f"transcript_{message.text}", name=message.officer_name or "")
    return data


def _summary(request: Request, feed: Feed, conversation: Conversation) -> dict[str, Any]:
    """The list row / page header of a conversation, department names in the user's language."""
    row = conversation.summary(feed.catalogue, feed.clock())
    departments = feed.catalogue.departments
    row["department_names"] = [
        pick(departments[d].name, language(request)) if d in departments else d
        for d in row["departments"]
    ]
    owner = row["owner"]
    row["language_name"] = label(request, "language", row["language"]) if row["language"] else None
    row["owner_name"] = (
        pick(departments[owner].name, language(request))
        if owner in departments
        else t(request, "helpdesk")
    )
    return row


def _rows(request: Request, feed: Feed, conversations: list[Conversation]) -> list[dict[str, Any]]:
    return [_summary(request, feed, c) for c in conversations]


# --------------------------------------------------------------------------- streams


class Gone(Exception):
    """The stream's user may no longer see what it shows."""


def _signed_in_user(request: Request) -> CurrentUser | None:
    """The session's user as the database says now (None: session ended, account
    disabled); role and departments re-read."""
    auth.load_session(request)
    return current_user(request)


async def _stream(request: Request, produce: Any) -> None:
    """Server-sent events: ``produce(user)`` -> (event name, data) or None, sent on every
    feed change and at least every ``HEARTBEAT_SECONDS``, for ``STREAM_SECONDS``;
    ``produce`` raises :class:`Gone` when ``user`` may no longer see it. ``user`` is
    re-read at least every ``RECHECK_SECONDS``."""
    feed = live(request).feed
    user = require(request, *ROLES)
    response = await request.respond(
        content_type="text/event-stream; charset=utf-8",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
    await response.send("retry: 1000\n\n")
    now = time.monotonic()
    deadline, recheck = now + STREAM_SECONDS, now + RECHECK_SECONDS
    while time.monotonic() < deadline:
        try:
            if time.monotonic() >= recheck:
                recheck = time.monotonic() + RECHECK_SECONDS
                found = _signed_in_user(request)
                if found is None or found.role not in ROLES:
                    raise Gone
                user = found
            item = await produce(user)
        except Gone:
            await response.send("event: gone\ndata: {}\n\n")
            break
        if item is not None:
            name, data = item
            payload = json.dumps(data, ensure_ascii=False)
            await response.send(f"event: {name}\ndata: {payload}\n\n")
        await feed.wait(HEARTBEAT_SECONDS)
    await response.eof()


async def list_stream(request: Request) -> None:
    require(request, *ROLES)
    feed = await current_feed(request)

    async def produce(user: CurrentUser) -> tuple[str, Any]:
        rows = _rows(request, feed, _visible(user, feed))
        return "conversations", {"now": feed.clock(), "rows": rows}

    await _stream(request, produce)


async def conversation_stream(request: Request, wa_id: str) -> None:
    user = require(request, *ROLES)
    conversation = await _conversation(request, user, wa_id)
    feed = live(request).feed
    after = query(request, "after")
    sent = int(after) if after.isdigit() else 0

    async def produce(user: CurrentUser) -> tuple[str, Any]:
        nonlocal sent, conversation
        conversation = feed.conversations.get(wa_id, conversation)
        if not visible_to(
            conversation, feed.catalogue, user.role, departments_of(user), user.username
        ):
            raise Gone
        new = [shown(request, m) for m in conversation.messages if m.id > sent]
        if new:
            sent = new[-1]["id"]
        summary = _summary(request, feed, conversation)
        return "conversation", {"now": feed.clock(), "summary": summary, "messages": new}

    await _stream(request, produce)


# --------------------------------------------------------------------------- pages


def since_epoch(handoff: dict[str, Any]) -> float:
    """When the handoff started (unix seconds), from the channel's answer."""
    value = handoff.get("since_epoch")
    if isinstance(value, int | float):
        return float(value)
    try:
        return datetime.fromisoformat(str(handoff.get("since")).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def is_stale(handoff: dict[str, Any], now: float, stale_seconds: float) -> bool:
    """Held at least ``stale_seconds`` (``DASHBOARD_HANDOFF_STALE_MINUTES``)."""
    return now - since_epoch(handoff) >= stale_seconds


async def stale_handoffs(request: Request, user: CurrentUser, feed: Feed) -> int:
    """How many handoffs ``user`` may manage are held past the supervisors' threshold."""
    if user.role not in PAGE_ROLES["handoffs"]:
        return 0
    listed = await live(request).channel.handoffs()
    if not listed.ok:
        return 0
    stale_seconds = context(request).settings.handoff_stale_seconds
    rows = listed.data.get("handoffs") or []
    return sum(1 for r in rows if may_manage(user, r) and is_stale(r, feed.clock(), stale_seconds))


async def list_page(request: Request) -> HTTPResponse:
    user = require(request, *ROLES)
    feed = await current_feed(request)
    audit(request, "conversations.view")
    return render(
        request,
        "conversations.html",
        rows=_rows(request, feed, _visible(user, feed)),
        now=feed.clock(),
        when=when,
        stale=await stale_handoffs(request, user, feed),
        stale_minutes=f"{context(request).settings.handoff_stale_seconds / 60:g}",
    )


def may_manage(user: CurrentUser, handoff: dict[str, Any]) -> bool:
    """May ``user`` end or reassign a handoff someone else holds? Administrators: any;
    supervisors: their departments', and the helpdesk's (the triage queue is theirs)."""
    if user.role == "admin":
        return True
    department = str(handoff.get("department") or "")
    return user.role == "supervisor" and (not department or department in user.departments)


async def holder_of(request: Request, wa_id: str) -> tuple[dict[str, Any] | None, bool]:
    """Who holds the conversation according to the channel, and whether that is known."""
    handoffs = await live(request).channel.handoffs()
    if not handoffs.ok:
        return None, False
    rows = handoffs.data.get("handoffs") or []
    return next((h for h in rows if h.get("wa_id") == wa_id), None), True


async def conversation_page(
    request: Request, wa_id: str, flash: str | None = None, status: int = 200
) -> HTTPResponse:
    user = require(request, *ROLES)
    conversation = await _conversation(request, user, wa_id)
    feed = live(request).feed
    holder, known = await holder_of(request, wa_id)
    done = query(request, "done")
    audit(request, "conversation.view", wa_id)
    mine = bool(holder and holder.get("officer_id") == user.username)
    return render(
        request,
        "conversation.html",
        status=status,
        conversation=conversation,
        summary=_summary(request, feed, conversation),
        when=when,
        messages=[shown(request, m) for m in conversation.messages],
        holder=holder,
        mine=mine,
        manage=bool(holder and not mine and may_manage(user, holder)),
        handoffs_known=known,
        flash=flash or (t(request, done) if done in DONE else None),
        flash_kind="error" if flash else "ok",
        max_reply=MAX_REPLY,
    )


def _officer(user: CurrentUser, conversation: Conversation, feed: Feed) -> Officer:
    """The user as the channel names them, speaking for the conversation's department
    (its owner; "" = the helpdesk), whatever the user's own departments are."""
    return Officer(user.username, user.name, conversation.owner(feed.catalogue))


async def _act(request: Request, wa_id: str, action: str) -> HTTPResponse:
    user = require(request, *ROLES)
    conversation = await _conversation(request, user, wa_id)
    current = live(request)
    officer = _officer(user, conversation, current.feed)
    if action == "take":
        result = await current.channel.take(wa_id, officer)
        done = "handoff_taken"
    elif action == "release":
        result = await current.channel.release(wa_id, officer)
        done = "handoff_released"
    else:
        reply = form(request, "text")
        if not reply or len(reply) > MAX_REPLY:
            raise PageError(400, "reply_invalid")
        result = await current.channel.send(wa_id, officer, reply)
        done = "reply_sent"
    audit(
        request,
        f"conversation.{action}",
        wa_id,
        {"ok": result.ok, "error": result.error, "department": officer.department},
    )
    if not result.ok:
        status = result.status if 400 <= result.status < 500 else 502
        return await conversation_page(
            request, wa_id, flash=problem(request, result), status=status
        )
    if action == "take":
        # what the feed will fold from the channel's ConversationPaused in a moment
        conversation.handed_over = True
        conversation.officer_name = user.name
        conversation.holder_id = user.username
        conversation.holder_department = officer.department
    return redirect(f"/conversations/{quote(wa_id)}?done={done}")


async def take(request: Request, wa_id: str) -> HTTPResponse:
    return await _act(request, wa_id, "take")


async def reply(request: Request, wa_id: str) -> HTTPResponse:
    return await _act(request, wa_id, "reply")


async def release(request: Request, wa_id: str) -> HTTPResponse:
    return await _act(request, wa_id, "release")


ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/conversations", list_page),
    ("GET", "/conversations/stream", list_stream),
    ("GET", "/conversations/<wa_id:str>", conversation_page),
    ("GET", "/conversations/<wa_id:str>/stream", conversation_stream),
    ("POST", "/conversations/<wa_id:str>/take", take),
    ("POST", "/conversations/<wa_id:str>/reply", reply),
    ("POST", "/conversations/<wa_id:str>/release", release),
]
