"""A citizen's phone for journey tests: type, tap what the bot offered, attach files.

Everything goes through the WhatsApp emulator's simulator API, exactly as the phone
simulator of `make run` does, and every reply is read back from the emulator, so a test
sees what the citizen's phone would show. A turn is over when the channel has finished
the message (its inbox row is ``done``), so no test sleeps and guesses.
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

TURN_TIMEOUT = 90.0


@dataclass
class Reply:
    """One message the bot sent, as the phone shows it."""

    seq: int
    kind: str  # text | buttons | list | document | image | template | other
    text: str
    buttons: list[str]
    rows: list[str]
    options: list[tuple[str, str, str]]  # (kind, id, title) a citizen can tap
    raw: dict[str, Any]
    media_id: str | None
    emulator_url: str
    phone_number_id: str

    @property
    def document(self) -> bytes:
        """The bytes of a document or image the bot sent, fetched as the phone would."""
        assert self.media_id, f"reply {self.seq} carries no file: {self.text!r}"
        response = requests.get(f"{self.emulator_url}/simulator/media/{self.media_id}", timeout=30)
        response.raise_for_status()
        return response.content

    @property
    def filename(self) -> str:
        payload = self.raw.get("payload") or {}
        return str((payload.get("document") or {}).get("filename") or "")

    def __str__(self) -> str:
        extra = self.buttons or self.rows
        return f"[{self.kind}] {self.text}" + (f" {extra}" if extra else "")


def to_reply(entry: dict[str, Any], emulator_url: str) -> Reply:
    payload = entry.get("payload") or {}
    kind = str(payload.get("type") or entry.get("type") or "other")
    text, buttons, rows = "", [], []
    options: list[tuple[str, str, str]] = []
    if kind == "text":
        text = str((payload.get("text") or {}).get("body") or "")
    elif kind == "interactive":
        interactive = payload.get("interactive") or {}
        text = str((interactive.get("body") or {}).get("text") or "")
        header = (interactive.get("header") or {}).get("text")
        if header:
            text = f"{header}\n{text}"
        action = interactive.get("action") or {}
        if interactive.get("type") == "button":
            kind = "buttons"
            for button in action.get("buttons") or []:
                reply = button.get("reply") or {}
                buttons.append(str(reply.get("title")))
                options.append(("button_reply", str(reply.get("id")), str(reply.get("title"))))
        elif interactive.get("type") == "list":
            kind = "list"
            for section in action.get("sections") or []:
                for row in section.get("rows") or []:
                    rows.append(str(row.get("title")))
                    options.append(("list_reply", str(row.get("id")), str(row.get("title"))))
        else:
            kind = str(interactive.get("type") or "interactive")
    elif kind in ("document", "image", "audio", "video"):
        text = str((payload.get(kind) or {}).get("caption") or "")
    elif kind == "template":
        rendered = entry.get("rendered") or {}
        text = "\n".join(
            str(rendered.get(part) or "")
            for part in ("header", "body", "footer")
            if rendered.get(part)
        )
        for button in rendered.get("buttons") or []:
            title = str(button.get("text") or button.get("title") or "")
            buttons.append(title)
            if button.get("payload"):
                options.append(("button", str(button["payload"]), title))
    return Reply(
        seq=int(entry["seq"]),
        kind=kind,
        text=text,
        buttons=buttons,
        rows=rows,
        options=options,
        raw=entry,
        media_id=entry.get("media_id"),
        emulator_url=emulator_url,
        phone_number_id=str(entry.get("phone_number_id")),
    )


@dataclass
class Citizen:
    """One phone number talking to one government number."""

    system: Any  # tests.support.stack.Stack
    wa_id: str
    number: str = "100001"
    name: str = "Citizen"
    messages_sent: int = 0
    latencies: list[float] = field(default_factory=list)
    seen: list[Reply] = field(default_factory=list)

    # --- what the citizen does ------------------------------------------------------
    def says(self, text: str) -> list[Reply]:
        return self._send({"type": "text", "text": text})

    def taps(self, title: str) -> list[Reply]:
        """Taps a button or list row offered by the latest message that offers any.

        ``title`` matches the option's title exactly, else as a case-insensitive prefix,
        else as a substring; ambiguity or no match fails the test with what was offered.
        """
        offered = next((r for r in reversed(self.seen) if r.options), None)
        assert offered is not None, "the bot has offered nothing to tap"
        kind, reply_id, shown = self._choose(offered, title)
        return self._send({"type": kind, "reply_id": reply_id, "reply_title": shown})

    def attaches(
        self,
        data: bytes,
        mime_type: str = "image/jpeg",
        caption: str | None = None,
        filename: str | None = None,
    ) -> list[Reply]:
        """Attaches a file (a photo as ``image``, anything else as ``document``)."""
        kind = "image" if mime_type in ("image/jpeg", "image/png") and not filename else "document"
        name = filename or ("photo.jpg" if kind == "image" else "document.pdf")
        media = self.system.emulator.upload(data, name, mime_type)
        message: dict[str, Any] = {"type": kind, "media_id": media["media_id"]}
        if caption:
            message["caption"] = caption
        if kind == "document":
            message["filename"] = name
        return self._send(message)

    def speaks(self, voice_note: bytes) -> list[Reply]:
        """Sends a voice note (OGG/Opus bytes, e.g. ``tests.support.voice.voice_note``) as
        WhatsApp does: an ``audio`` message with ``voice: true``."""
        media = self.system.emulator.upload(voice_note, "voice.ogg", "audio/ogg")
        return self._send({"type": "audio", "media_id": media["media_id"], "voice": True})

    def sends(self, **message: Any) -> list[Reply]:
        """Any other message the simulator can send: sticker, location, audio, reaction."""
        if message.get("type") in ("sticker", "audio") and "media_id" not in message:
            message["media_id"] = self._placeholder_media(str(message["type"]))
        return self._send(message)

    # --- what the citizen sees --------------------------------------------------------
    def waits_for(self, predicate: Callable[[Reply], bool] | str, seconds: float = 60.0) -> Reply:
        """Waits for a message the bot sends on its own (a notification, a reminder)."""
        test = predicate if callable(predicate) else (lambda r, s=predicate: s in r.text)
        deadline = time.monotonic() + seconds
        while True:
            for reply in self._outbound(0):
                if test(reply):
                    self._remember([reply])
                    return reply
            if time.monotonic() > deadline:
                shown = "\n".join(str(r) for r in self._outbound(0)[-8:])
                raise AssertionError(f"no such message within {seconds:.0f} s; last seen:\n{shown}")
            time.sleep(0.2)

    def inbox(self, number: str | None = None) -> list[Reply]:
        """Everything the bot sent this citizen from ``number`` (default: this chat)."""
        return self._outbound(0, number)

    @staticmethod
    def all_text(replies: list[Reply]) -> str:
        return "\n".join(r.text for r in replies)

    def repeated_questions(self) -> int:
        """Questions the bot asked again word for word (a citizen had to repeat)."""
        asked: set[str] = set()
        repeats = 0
        for reply in self.seen:
            question = reply.options or reply.text.rstrip().endswith(("?", "？"))
            if not question or reply.kind == "template":
                continue
            key = f"{reply.text}|{reply.buttons}|{reply.rows}"
            repeats += key in asked
            asked.add(key)
        return repeats

    # --- plumbing ---------------------------------------------------------------------
    @property
    def _emulator_url(self) -> str:
        return str(self.system.emulator.url)

    def _choose(self, offered: Reply, title: str) -> tuple[str, str, str]:
        wanted = title.casefold().strip()
        for test in (
            lambda t: t.casefold().strip() == wanted,
            lambda t: t.casefold().strip().startswith(wanted),
            lambda t: wanted in t.casefold(),
        ):
            found = [o for o in offered.options if test(o[2])]
            if len(found) == 1:
                return found[0]
            assert len(found) < 2, f"{title!r} matches several options: {found}"
        raise AssertionError(f"no option {title!r}; offered: {[o[2] for o in offered.options]}")

    def _placeholder_media(self, kind: str) -> str:
        if kind == "sticker":
            data, mime, name = _webp(), "image/webp", "sticker.webp"
        else:
            data, mime, name = _ogg(), "audio/ogg", "voice.ogg"
        return str(self.system.emulator.upload(data, name, mime)["media_id"])

    def _last_seq(self) -> int:
        messages = self.system.emulator.conversation(wa_id=self.wa_id, phone_number_id=self.number)
        return max((m["seq"] for m in messages), default=0)

    def _outbound(self, after: int, number: str | None = None) -> list[Reply]:
        entries = self.system.emulator.conversation(
            wa_id=self.wa_id, phone_number_id=number or self.number, after=after
        )
        return [to_reply(e, self._emulator_url) for e in entries if e["direction"] == "out"]

    def _send(self, message: dict[str, Any]) -> list[Reply]:
        after = self._last_seq()
        started = time.monotonic()
        wamid = self.system.emulator.citizen_says(
            wa_id=self.wa_id, to=self.number, name=self.name, **message
        )
        self.messages_sent += 1
        self._wait_turn(wamid, started)
        self.latencies.append(time.monotonic() - started)
        replies = self._outbound(after)
        self._remember(replies)
        return replies

    def _remember(self, replies: list[Reply]) -> None:
        known = {r.seq for r in self.seen}
        self.seen.extend(r for r in replies if r.seq not in known)
        self.seen.sort(key=lambda r: r.seq)

    def _wait_turn(self, wamid: str, started: float) -> None:
        """Until the channel has processed the message (replies are sent by then)."""
        database = Path(self.system.whatsapp_db)
        deadline = started + TURN_TIMEOUT
        state = None
        while time.monotonic() < deadline:
            if database.exists():
                with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
                    try:
                        row = db.execute(
                            "SELECT state FROM whatsapp_inbox WHERE message_id = ?", (wamid,)
                        ).fetchone()
                    except sqlite3.OperationalError:  # not created yet, or busy
                        row = None
                state = row[0] if row else None
                if state in ("done", "failed"):
                    return
            time.sleep(0.05)
        raise AssertionError(
            f"message {wamid} not processed within {TURN_TIMEOUT:.0f} s (state {state})"
        )


def _webp() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (512, 512), (255, 200, 0, 255)).save(out, "WEBP")
    return out.getvalue()


def _ogg() -> bytes:
    """A tiny Ogg container header: enough for the emulator to carry a voice note."""
    return b"OggS" + b"\x00" * 2000


def summary(citizens: list[tuple[str, Citizen, int]]) -> str:
    """A Markdown table: messages used vs the minimum, repeated questions, latency."""
    lines = [
        "| journey | citizen messages | minimum | repeated questions | p50 s | p95 s |",
        "|---|---|---|---|---|---|",
    ]
    every: list[float] = []
    for name, citizen, minimum in citizens:
        lat = sorted(citizen.latencies) or [0.0]
        every += lat
        p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]
        lines.append(
            f"| {name} | {citizen.messages_sent} | {minimum} | {citizen.repeated_questions()} "
            f"| {statistics.median(lat):.2f} | {p95:.2f} |"
        )
    if every:
        every.sort()
        p95 = every[min(len(every) - 1, int(round(0.95 * (len(every) - 1))))]
        lines.append(
            f"| all turns ({len(every)}) | | | | {statistics.median(every):.2f} | {p95:.2f} |"
        )
    return "\n".join(lines)
