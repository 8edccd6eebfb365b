"""WhatsApp Cloud API shapes for the WhatsApp channel: webhook parsing and outbound bodies.

Everything here is pure (no network, no Rasa, no storage) so that the channel in
``connectors/whatsapp.py`` can stay small and these rules can be tested on their own.

* :func:`parse_webhook` turns a webhook POST body into :class:`Inbound` messages and
  :class:`StatusUpdate` s. It never raises: whatever is malformed is skipped (and logged
  at debug level, with no phone number, name or text in the log line).
* :func:`outbound_payloads` turns a message Rasa hands an output channel into the Cloud
  API message bodies to POST, in order, within every documented limit (text 4,096; reply
  buttons 3 with titles of 20; list rows 10 with titles of 24 and descriptions of 72;
  interactive body 1,024). Button payloads never leave the server: every button carries
  an opaque id from the caller's ``issue_id`` and the caller maps it back.
* :func:`split_text` cuts long text at paragraph, line, sentence, word boundaries.

The few labels below (list button, "More…", default body) are part of the wire format of
a list message rather than of the conversation, which is why they live here and not in
``domain.yml``.
"""

from __future__ import annotations

import json
import logging
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypedDict
from urllib.parse import unquote, urlsplit

__all__ = [
    "MAX_BODY",
    "MAX_TEXT",
    "PAGE_PREFIX",
    "STATUS_ORDER",
    "Inbound",
    "Kind",
    "Location",
    "Media",
    "StatusUpdate",
    "more_page_payloads",
    "outbound_payloads",
    "parse_webhook",
    "split_text",
]

logger = logging.getLogger(__name__)

#: Cloud API limits (see shared/reference/whatsapp-cloud-api.md).
MAX_TEXT = 4096
MAX_BODY = 1024
MAX_CAPTION = 1024
MAX_REPLY_BUTTONS = 3
MAX_LIST_ROWS = 10
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200
SECTION_TITLE_MAX = 24
LIST_BUTTON_MAX = 20

#: The "More…" row of a list carries ``issue_id(PAGE_PREFIX + json of the rest)``.
PAGE_PREFIX = "__page__:"

#: Rank of a delivery status; a stored status is only ever replaced by a higher one, so
#: a late "delivered" never overwrites "read" and "failed" is terminal.
STATUS_ORDER = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}

WABA_OBJECT = "whatsapp_business_account"

_ID_MAX = 256  # wamid, wa_id, media id, phone number id (real ones are < 100 chars)
_NAME_MAX = 256  # profile name, reply title, place name, error text
_FILENAME_MAX = 240
_MIME_MAX = 100
_ADDRESS_MAX = 1024
_MAX_TIMESTAMP = 10**11  # year 5138: anything larger is not a unix time in seconds
_ELLIPSIS = "…"

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "list_button": "Choose",
        "section": "Options",
        "more": "More…",
        "body": "Choose an option",
    },
    "hi": {
        "list_button": "चुनें",
        "section": "विकल्प",
        "more": "और…",
        "body": "एक विकल्प चुनें",
    },
}

# Types whose name may appear in a log line (anything else is logged as "other").
_KNOWN_TYPES = frozenset(
    {
        "text",
        "interactive",
        "button",
        "image",
        "document",
        "audio",
        "video",
        "sticker",
        "location",
        "contacts",
        "reaction",
        "unsupported",
        "unknown",
        "system",
        "order",
        "request_welcome",
    }
)


# =========================================================================== inbound


#: What a citizen's message is to the channel: typed text, a tap on a button or list row
#: we sent (``reply``), a photo or document (``media``), a voice note or audio file
#: (``audio``), a shared location, or anything else WhatsApp can carry (``unsupported``).
Kind = Literal["text", "reply", "media", "audio", "location", "unsupported"]


class _MediaIds(TypedDict):
    type: str  # the Cloud API type: "image", "document" or "audio"
    id: str  # the media id to download it with
    mime_type: str
    sha256: str | None


class Media(_MediaIds, total=False):
    """An attachment as WhatsApp described it (the bytes are fetched by ``id``). A dict
    on purpose: the channel stores the message as JSON and reads it back as one."""

    caption: str
    filename: str  # documents
    voice: bool  # audio: True for a voice note recorded in WhatsApp


class _Coordinates(TypedDict):
    latitude: float
    longitude: float


class Location(_Coordinates, total=False):
    """A shared location (a dict, like :class:`Media`)."""

    name: str
    address: str


@dataclass(frozen=True)
class Inbound:
    """One message a citizen sent, as read from a webhook."""

    message_id: str  # "wamid..."
    wa_id: str  # the citizen (``from``)
    phone_number_id: str  # our number that received it (value.metadata.phone_number_id)
    display_phone_number: str
    timestamp: int  # unix seconds
    kind: Kind
    text: str = ""  # text body; for a reply its title; for media the caption
    reply_id: str | None = None  # button_reply.id / list_reply.id / button.payload
    media: Media | None = None  # kinds media and audio
    location: Location | None = None
    original_type: str = ""  # the Cloud API type as received ("audio", "sticker", ...)
    profile_name: str | None = None
    context_id: str | None = None  # context.id: the message this one replies to


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery status of a message we sent."""

    message_id: str
    recipient_id: str
    status: str  # sent | delivered | read | failed
    timestamp: int
    phone_number_id: str
    errors: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class _Content:
    """What a per-type parser read from a message (the common fields come from outside)."""

    kind: Kind
    text: str = ""
    reply_id: str | None = None
    media: Media | None = None
    location: Location | None = None


def _dict(value: object) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _ident(value: object, max_len: int = _ID_MAX) -> str | None:
    """A non-empty printable identifier (ids and phone numbers may come as JSON numbers)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**20:
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > max_len or not value.isprintable():
        return None
    return value


def _timestamp(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12:
        seconds = int(value)
    else:
        return None
    return seconds if 0 <= seconds < _MAX_TIMESTAMP else None


def _clean(value: object, limit: int = MAX_TEXT) -> str:
    """Citizen text: control characters (but newlines) dropped, NFC, stripped, capped.

    Lone surrogates are dropped too: they cannot be encoded and would break storage.
    """
    if not isinstance(value, str):
        return ""
    text = value[: limit * 4]  # bound the work on absurd input before normalising
    if not text.isprintable():
        text = "".join(c for c in text if c == "\n" or unicodedata.category(c) not in ("Cc", "Cs"))
    text = unicodedata.normalize("NFC", text).strip()
    return text[:limit].rstrip() if len(text) > limit else text


def _clean_line(value: object, limit: int) -> str:
    """Like :func:`_clean`, on one line (names, titles, file names)."""
    return " ".join(_clean(value, limit * 4).split())[:limit].rstrip()


def _mime(value: object) -> str:
    if not isinstance(value, str):
        return ""
    return value.split(";", 1)[0].strip().lower()[:_MIME_MAX]


def _coordinate(value: object, bound: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not -bound <= value <= bound:  # before float(): float(10**400) would raise
        return None
    return float(value) if math.isfinite(value) else None


# --------------------------------------------------------------------- one parser a type


def _parse_text(message: dict[str, Any]) -> _Content | None:
    body = _dict(message.get("text"))
    if body is None or not isinstance(body.get("body"), str):
        return None
    return _Content("text", _clean(body["body"]))


def _parse_interactive(message: dict[str, Any]) -> _Content | None:
    interactive = _dict(message.get("interactive"))
    if interactive is None:
        return None
    reply_type = interactive.get("type")
    if reply_type not in ("button_reply", "list_reply"):
        return _Content("unsupported")  # nfm_reply (Flows) and anything newer
    reply = _dict(interactive.get(reply_type))
    if reply is None:
        return None
    reply_id = _ident(reply.get("id"))
    if reply_id is None:
        return None
    return _Content("reply", _clean_line(reply.get("title"), _NAME_MAX), reply_id)


def _parse_button(message: dict[str, Any]) -> _Content | None:
    """Quick-reply button of a template: ``button{payload, text}``."""
    button = _dict(message.get("button"))
    if button is None:
        return None
    text = _clean_line(button.get("text"), _NAME_MAX)
    payload = _ident(button.get("payload"))
    if payload is not None:
        return _Content("reply", text, payload)
    return _Content("text", text) if text else None


def _parse_media(message: dict[str, Any], media_type: str) -> _Content | None:
    raw = _dict(message.get(media_type))
    if raw is None:
        return None
    media_id = _ident(raw.get("id"))
    if media_id is None:
        return None
    media: Media = {
        "type": media_type,
        "id": media_id,
        "mime_type": _mime(raw.get("mime_type")),
        "sha256": _ident(raw.get("sha256"), 128),
    }
    caption = _clean(raw.get("caption"))
    if caption:
        media["caption"] = caption
    if media_type == "document":
        filename = _clean_line(raw.get("filename"), _FILENAME_MAX)
        if filename:
            media["filename"] = filename
    return _Content("media", caption, media=media)


def _parse_image(message: dict[str, Any]) -> _Content | None:
    return _parse_media(message, "image")


def _parse_document(message: dict[str, Any]) -> _Content | None:
    return _parse_media(message, "document")


def _parse_audio(message: dict[str, Any]) -> _Content | None:
    """A voice note (``voice: true``) or a forwarded audio file: the channel transcribes
    it when a speech-to-text service is configured (``connectors/asr.py``)."""
    content = _parse_media(message, "audio")
    if content is None or content.media is None:
        return content
    voice = (_dict(message.get("audio")) or {}).get("voice") is True
    audio: Media = {**content.media, "voice": voice}
    return _Content("audio", media=audio)


def _parse_location(message: dict[str, Any]) -> _Content | None:
    raw = _dict(message.get("location"))
    if raw is None:
        return None
    latitude = _coordinate(raw.get("latitude"), 90.0)
    longitude = _coordinate(raw.get("longitude"), 180.0)
    if latitude is None or longitude is None:
        return None
    location: Location = {"latitude": latitude, "longitude": longitude}
    name = _clean_line(raw.get("name"), _NAME_MAX)
    if name:
        location["name"] = name
    address = _clean_line(raw.get("address"), _ADDRESS_MAX)
    if address:
        location["address"] = address
    return _Content("location", location=location)


_PARSERS: dict[str, Callable[[dict[str, Any]], _Content | None]] = {
    "text": _parse_text,
    "interactive": _parse_interactive,
    "button": _parse_button,
    "image": _parse_image,
    "document": _parse_document,
    "audio": _parse_audio,
    "location": _parse_location,
}


def _log_type(message_type: object) -> str:
    return (
        message_type if isinstance(message_type, str) and message_type in _KNOWN_TYPES else "other"
    )


def _parse_message(
    raw: object, metadata: tuple[str, str], profiles: dict[str, str]
) -> Inbound | None:
    message = _dict(raw)
    if message is None:
        logger.debug("whatsapp webhook: skipped a message that is not an object")
        return None
    message_type = message.get("type")
    message_id = _ident(message.get("id"))
    wa_id = _ident(message.get("from"))
    timestamp = _timestamp(message.get("timestamp"))
    if (
        not isinstance(message_type, str)
        or not message_type
        or message_id is None
        or wa_id is None
        or timestamp is None
    ):
        logger.debug(
            "whatsapp webhook: skipped a %s message without id/from/timestamp/type",
            _log_type(message_type),
        )
        return None
    parser = _PARSERS.get(message_type)
    content = parser(message) if parser is not None else _Content("unsupported")
    if content is None:
        logger.debug("whatsapp webhook: skipped a malformed %s message", _log_type(message_type))
        return None
    context = _dict(message.get("context"))
    phone_number_id, display_phone_number = metadata
    return Inbound(
        message_id=message_id,
        wa_id=wa_id,
        phone_number_id=phone_number_id,
        display_phone_number=display_phone_number,
        timestamp=timestamp,
        kind=content.kind,
        text=content.text,
        reply_id=content.reply_id,
        media=content.media,
        location=content.location,
        original_type=_clean_line(message_type, 64),
        profile_name=profiles.get(wa_id),
        context_id=_ident(context.get("id")) if context is not None else None,
    )


def _status_error(raw: object) -> dict[str, Any] | None:
    """The readable parts of one ``errors[]`` item (code, title, message, details)."""
    error = _dict(raw)
    if error is None:
        return None
    out: dict[str, Any] = {}
    code = error.get("code")
    if isinstance(code, int) and not isinstance(code, bool) and abs(code) < 10**12:
        out["code"] = code
    for key in ("title", "message", "href"):
        text = _clean_line(error.get(key), _NAME_MAX * 2)
        if text:
            out[key] = text
    error_data = _dict(error.get("error_data"))
    if error_data is not None:
        details = _clean_line(error_data.get("details"), _NAME_MAX * 2)
        if details:
            out["error_data"] = {"details": details}
    return out or None


def _parse_status(raw: object, phone_number_id: str) -> StatusUpdate | None:
    status = _dict(raw)
    if status is None:
        logger.debug("whatsapp webhook: skipped a status that is not an object")
        return None
    message_id = _ident(status.get("id"))
    recipient_id = _ident(status.get("recipient_id"))
    value = status.get("status")
    timestamp = _timestamp(status.get("timestamp"))
    if message_id is None or recipient_id is None or timestamp is None:
        logger.debug("whatsapp webhook: skipped a status without id/recipient/timestamp")
        return None
    if not isinstance(value, str) or value not in STATUS_ORDER:
        logger.debug("whatsapp webhook: skipped a status of an unknown kind")
        return None
    errors = (_status_error(e) for e in _list(status.get("errors")))
    return StatusUpdate(
        message_id=message_id,
        recipient_id=recipient_id,
        status=value,
        timestamp=timestamp,
        phone_number_id=phone_number_id,
        errors=tuple(e for e in errors if e is not None),
    )


def _profiles(contacts: object) -> dict[str, str]:
    names: dict[str, str] = {}
    for raw in _list(contacts):
        contact = _dict(raw)
        if contact is None:
            continue
        wa_id = _ident(contact.get("wa_id"))
        profile = _dict(contact.get("profile"))
        name = _clean_line(profile.get("name"), _NAME_MAX) if profile is not None else ""
        if wa_id is not None and name:
            names[wa_id] = name
    return names


def _bug(what: str, exc: BaseException) -> None:
    # A defect in this module, not bad input: loud, but without the data that caused it.
    logger.error("whatsapp webhook: parser bug on a %s (%s)", what, type(exc).__name__)


def _parse_value(
    value: dict[str, Any], inbound: list[Inbound], statuses: list[StatusUpdate]
) -> None:
    metadata = _dict(value.get("metadata")) or {}
    phone_number_id = _ident(metadata.get("phone_number_id"))
    if phone_number_id is None:
        logger.debug("whatsapp webhook: skipped a change without metadata.phone_number_id")
        return
    display = _ident(metadata.get("display_phone_number"), 64) or ""
    profiles = _profiles(value.get("contacts"))
    for raw in _list(value.get("messages")):
        try:
            message = _parse_message(raw, (phone_number_id, display), profiles)
        except Exception as exc:  # noqa: BLE001 - one bad message must not drop the batch
            _bug("message", exc)
            continue
        if message is not None:
            inbound.append(message)
    for raw in _list(value.get("statuses")):
        try:
            status = _parse_status(raw, phone_number_id)
        except Exception as exc:  # noqa: BLE001 - one bad status must not drop the batch
            _bug("status", exc)
            continue
        if status is not None:
            statuses.append(status)


def parse_webhook(payload: object) -> tuple[list[Inbound], list[StatusUpdate]]:
    """Messages and statuses of a webhook body (already JSON-decoded); never raises.

    Walks ``object == "whatsapp_business_account"`` → ``entry[]`` → ``changes[]`` with
    ``field == "messages"`` → ``value``. Order of appearance is kept; duplicates (Meta
    retries) are the caller's to drop by ``message_id``.
    """
    inbound: list[Inbound] = []
    statuses: list[StatusUpdate] = []
    envelope = _dict(payload)
    if envelope is None or envelope.get("object") != WABA_OBJECT:
        logger.debug("whatsapp webhook: not a whatsapp_business_account payload")
        return inbound, statuses
    try:
        for raw_entry in _list(envelope.get("entry")):
            entry = _dict(raw_entry) or {}
            for raw_change in _list(entry.get("changes")):
                change = _dict(raw_change) or {}
                field, value = change.get("field"), _dict(change.get("value"))
                if not isinstance(field, str) or field != "messages" or value is None:
                    continue
                _parse_value(value, inbound, statuses)
    except Exception as exc:  # noqa: BLE001 - return what was read rather than nothing
        _bug("payload", exc)
    return inbound, statuses


# =========================================================================== split_text

_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n")
_SENTENCE_ENDS = frozenset(".।?!॥")
_JOINERS = frozenset("\u200c\u200d\ufe0e\ufe0f")
_VIRAMA = "\u094d"


def _inside_cluster(text: str, cut: int) -> bool:
    """True if cutting ``text`` before index ``cut`` would tear a character cluster apart
    (a Devanagari vowel sign or conjunct, an emoji with a modifier or a ZWJ sequence)."""
    after, before = text[cut], text[cut - 1]
    return (
        unicodedata.category(after) in ("Mn", "Mc", "Me")
        or after in _JOINERS
        or "\U0001f3fb" <= after <= "\U0001f3ff"
        or before in _JOINERS
        or before == _VIRAMA
    )


def _cut_point(rest: str, limit: int) -> int:
    """Where to cut ``rest`` (longer than ``limit``, no leading whitespace): 1..limit."""
    window = rest[: limit + 1]
    paragraph = 0
    for match in _PARAGRAPH_BREAK.finditer(window):
        paragraph = match.start()
    if paragraph >= 1:
        return paragraph
    line = window.rfind("\n")
    if line >= 1:
        return line
    for i in range(limit - 1, 0, -1):  # head keeps the full stop, so i + 1 <= limit
        if window[i] in _SENTENCE_ENDS and window[i + 1].isspace():
            return i + 1
    for i in range(limit, 0, -1):
        if window[i].isspace():
            return i
    cut, floor = limit, max(1, limit // 2)
    while cut > floor and _inside_cluster(rest, cut):
        cut -= 1
    return cut if cut > floor or not _inside_cluster(rest, cut) else limit


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """``text`` in chunks of at most ``limit`` characters, none empty.

    Cuts at the last paragraph break that fits, else the last line break, else after the
    last sentence end (``. । ? !`` followed by a space), else at the last space, else
    hard (never inside a Devanagari cluster or an emoji sequence when it can avoid it).
    Only the whitespace at a cut and around the text is dropped: joining the chunks
    keeps every other character, in order.
    """
    if not isinstance(text, str):
        return []
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        limit = MAX_TEXT
    rest = text.strip()
    chunks: list[str] = []
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


# =========================================================================== outbound

_Button = tuple[str, str]  # (title, payload)


def _labels(language: object) -> dict[str, str]:
    if isinstance(language, str) and re.split(r"[-_]", language.strip().lower())[0] == "hi":
        return _LABELS["hi"]
    return _LABELS["en"]


def _base(to: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}


def _shorten(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, ending in "…" when it had to be cut: after a
    word when one ends in the second half, else never inside a character cluster."""
    if len(text) <= limit:
        return text
    cut = limit - 1
    if not text[cut].isspace():  # the cut falls inside a word
        space = text.rfind(" ", 0, cut)
        if space >= limit // 2:
            cut = space
        else:
            while cut > 1 and _inside_cluster(text, cut):
                cut -= 1
    return (text[:cut].rstrip() or text[: limit - 1]) + _ELLIPSIS


def _one_line(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _text_payloads(to: str, text: str) -> list[dict[str, Any]]:
    return [
        {**_base(to), "type": "text", "text": {"preview_url": False, "body": chunk}}
        for chunk in split_text(text, MAX_TEXT)
    ]


def _buttons(value: object) -> list[_Button]:
    """Valid ``{"title", "payload"}`` buttons, each payload once, in order."""
    buttons: list[_Button] = []
    seen: set[str] = set()
    for raw in _list(value):
        item = _dict(raw)
        if item is None:
            continue
        title, payload = _one_line(item.get("title")), item.get("payload")
        if not title or not isinstance(payload, str) or not payload or payload in seen:
            continue
        seen.add(payload)
        buttons.append((title, payload))
    if len(buttons) != len(_list(value)):
        logger.info(
            "whatsapp: dropped %d invalid or repeated buttons", len(_list(value)) - len(buttons)
        )
    return buttons


def _issue(issue_id: Callable[[str], str], payload: str, max_len: int) -> str | None:
    try:
        issued = issue_id(payload)
    except Exception as exc:  # noqa: BLE001 - a button is dropped, the reply still goes out
        logger.error("whatsapp: issue_id failed (%s); button dropped", type(exc).__name__)
        return None
    if not isinstance(issued, str) or not issued or len(issued) > max_len:
        logger.error("whatsapp: issue_id returned an unusable id; button dropped")
        return None
    return issued


def _tail_cut(text: str, start: int, limit: int) -> int:
    """Where the tail of ``text`` should start: the first paragraph, line, sentence or word
    boundary at or after ``start`` (tried in that order), else a hard cut near ``start``."""
    match = _PARAGRAPH_BREAK.search(text, start - 1)
    if match:
        return match.end()
    line = text.find("\n", start - 1)
    if line >= 0:
        return line + 1
    for i in range(start - 1, len(text) - 1):
        if text[i] in _SENTENCE_ENDS and text[i + 1].isspace():
            return i + 1
    for i in range(start - 1, len(text)):
        if text[i].isspace():
            return i
    cut, ceiling = start, start + limit // 2
    while cut < ceiling and _inside_cluster(text, cut):
        cut += 1
    return start if _inside_cluster(text, cut) else cut


def _head_and_tail(text: str, limit: int) -> tuple[str, str]:
    """``text`` (stripped, non-empty) as a head and the longest tail of at most ``limit``
    characters that starts at a boundary; the head is empty when everything fits."""
    if len(text) <= limit:
        return "", text
    cut = _tail_cut(text, len(text) - limit, limit)
    return text[:cut].rstrip(), text[cut:].lstrip()


def _body(to: str, text: str, labels: dict[str, str]) -> tuple[list[dict[str, Any]], str]:
    """Text messages to send first, and the interactive body (the last ≤ 1,024 chars)."""
    text = text.strip()
    if not text:
        return [], labels["body"]
    head, body = _head_and_tail(text, MAX_BODY)
    return _text_payloads(to, head), body


def _interactive(to: str, body: str, kind: str, action: dict[str, Any]) -> dict[str, Any]:
    return {
        **_base(to),
        "type": "interactive",
        "interactive": {"type": kind, "body": {"text": body}, "action": action},
    }


def _reply_buttons(
    to: str, body: str, buttons: list[_Button], issue_id: Callable[[str], str]
) -> dict[str, Any] | None:
    replies = []
    for title, payload in buttons:
        button_id = _issue(issue_id, payload, BUTTON_ID_MAX)
        if button_id is not None:
            replies.append(
                {
                    "type": "reply",
                    "reply": {"id": button_id, "title": _shorten(title, BUTTON_TITLE_MAX)},
                }
            )
    if not replies:
        return None
    return _interactive(to, body, "button", {"buttons": replies})


def _list_message(
    to: str,
    body: str,
    buttons: list[_Button],
    issue_id: Callable[[str], str],
    labels: dict[str, str],
) -> dict[str, Any] | None:
    paged = len(buttons) > MAX_LIST_ROWS
    shown = buttons[: MAX_LIST_ROWS - 1] if paged else buttons
    rows: list[dict[str, Any]] = []
    for title, payload in shown:
        row_id = _issue(issue_id, payload, ROW_ID_MAX)
        if row_id is None:
            continue
        row = {"id": row_id, "title": _shorten(title, ROW_TITLE_MAX)}
        if len(title) > ROW_TITLE_MAX:
            row["description"] = _shorten(title, ROW_DESCRIPTION_MAX)
        rows.append(row)
    if paged:
        remaining = [{"title": t, "payload": p} for t, p in buttons[MAX_LIST_ROWS - 1 :]]
        page = json.dumps(remaining, ensure_ascii=False, separators=(",", ":"))
        page_id = _issue(issue_id, PAGE_PREFIX + page, ROW_ID_MAX)
        if page_id is not None:
            rows.append({"id": page_id, "title": _shorten(labels["more"], ROW_TITLE_MAX)})
    if not rows:
        return None
    action = {
        "button": _shorten(labels["list_button"], LIST_BUTTON_MAX),
        "sections": [{"title": _shorten(labels["section"], SECTION_TITLE_MAX), "rows": rows}],
    }
    return _interactive(to, body, "list", action)


def _choice_payloads(
    to: str,
    text: str,
    buttons: list[_Button],
    issue_id: Callable[[str], str],
    labels: dict[str, str],
) -> list[dict[str, Any]]:
    """Text with choices: reply buttons (≤ 3, distinct titles), else a (paged) list."""
    if not buttons:
        return _text_payloads(to, text)
    head, body = _body(to, text, labels)
    titles = {_shorten(title, BUTTON_TITLE_MAX) for title, _ in buttons}
    if len(buttons) <= MAX_REPLY_BUTTONS and len(titles) == len(buttons):
        choice = _reply_buttons(to, body, buttons, issue_id)
    else:  # 4+ choices, or titles that only differ after 20 characters
        choice = _list_message(to, body, buttons, issue_id, labels)
    if choice is None:  # no id could be issued: at least say what we had to say
        return _text_payloads(to, text)
    return [*head, choice]


def _media_payload(
    to: str, media_type: str, url: object, filename: object = None, caption: object = None
) -> dict[str, Any] | None:
    if not isinstance(url, str) or not url.strip():
        logger.info("whatsapp: %s without a url skipped", media_type)
        return None
    media: dict[str, Any] = {"link": url.strip()}
    if media_type == "document":
        name = _clean_line(filename, _FILENAME_MAX) or _filename_from_url(url) or "document"
        media["filename"] = name
    if isinstance(caption, str) and caption.strip():
        media["caption"] = _shorten(caption.strip(), MAX_CAPTION)
    return {**_base(to), "type": media_type, media_type: media}


def _filename_from_url(url: str) -> str:
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return ""
    return _clean_line(unquote(path.rsplit("/", 1)[-1]), _FILENAME_MAX)


_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def _guess_media_type(url: str) -> str:
    """A plain attachment url: an image if it names a JPEG/PNG, else a document."""
    return "image" if _filename_from_url(url).lower().endswith(_IMAGE_SUFFIXES) else "document"


def _attachment_payload(to: str, attachment: object) -> dict[str, Any] | None:
    if isinstance(attachment, str):
        return _media_payload(to, _guess_media_type(attachment), attachment)
    raw = _dict(attachment)
    if raw is None:
        logger.info("whatsapp: attachment of an unknown shape skipped")
        return None
    url, declared = raw.get("url"), raw.get("type")
    if declared is None and isinstance(url, str):
        declared = _guess_media_type(url)
    if declared not in ("image", "document"):
        logger.info("whatsapp: attachment of type %s skipped", _log_type(declared))
        return None
    return _media_payload(to, str(declared), url, raw.get("filename"), raw.get("caption"))


def _custom_payload(to: str, custom: object) -> dict[str, Any] | None:
    raw = _dict(custom)
    if raw is None or not isinstance(raw.get("type"), str) or not raw["type"]:
        # Never stringify it to the citizen: a custom payload is for channels that know it.
        logger.info("whatsapp: custom message without a Cloud API type skipped")
        return None
    own = {k: v for k, v in raw.items() if k not in ("messaging_product", "recipient_type", "to")}
    return {**_base(to), **own}


def _outbound(
    to: str, message: dict[str, Any], issue_id: Callable[[str], str], language: str
) -> list[dict[str, Any]]:
    labels = _labels(language)
    raw_text = message.get("text")
    text = raw_text if isinstance(raw_text, str) else ""
    payloads: list[dict[str, Any]] = []
    # Same order as rasa.core.channels.OutputChannel.send_response.
    choices = message.get("quick_replies") or message.get("buttons")
    if choices:
        payloads += _choice_payloads(to, text, _buttons(choices), issue_id, labels)
    elif text:
        payloads += _text_payloads(to, text)
    extras = (
        _custom_payload(to, message["custom"]) if message.get("custom") else None,
        _media_payload(to, "image", message["image"]) if message.get("image") else None,
        _attachment_payload(to, message["attachment"]) if message.get("attachment") else None,
    )
    payloads += [payload for payload in extras if payload is not None]
    if message.get("elements"):
        logger.info("whatsapp: elements (carousel) are not supported and were skipped")
    return payloads


def outbound_payloads(
    to: str, message: dict[str, Any], issue_id: Callable[[str], str], language: str
) -> list[dict[str, Any]]:
    """Cloud API message bodies for one Rasa bot message, to be POSTed in order.

    ``issue_id(payload)`` must return a short opaque id (≤ 200 characters) that the
    caller maps back to ``payload`` when the citizen taps the button; a ``More…`` row
    carries ``issue_id(PAGE_PREFIX + json)`` and the caller answers it with
    :func:`more_page_payloads`. Never raises; nothing sendable gives ``[]``.
    """
    if not isinstance(to, str) or not to or not isinstance(message, dict):
        logger.info("whatsapp: nothing to send (no recipient or no message)")
        return []
    try:
        return _outbound(to, message, issue_id, language)
    except Exception as exc:  # noqa: BLE001 - a bug must not crash the output channel
        logger.error("whatsapp: formatting bug (%s); message not sent", type(exc).__name__)
        return []


def more_page_payloads(
    to: str,
    remaining_buttons_json: str,
    issue_id: Callable[[str], str],
    language: str,
    body: str = "",
) -> list[dict[str, Any]]:
    """The next page of a long list: the buttons a ``More…`` row stood for.

    ``remaining_buttons_json`` is the JSON after :data:`PAGE_PREFIX` (the prefix itself
    is tolerated). Pages hold 9 choices and a further ``More…`` row while more than 10
    remain, so paging always ends. Never raises; unreadable JSON gives ``[]``.
    """
    if not isinstance(to, str) or not to or not isinstance(remaining_buttons_json, str):
        return []
    data = remaining_buttons_json
    if data.startswith(PAGE_PREFIX):
        data = data[len(PAGE_PREFIX) :]
    try:
        buttons = _buttons(json.loads(data))
    except (ValueError, RecursionError):
        logger.info("whatsapp: unreadable list page skipped")
        return []
    if not buttons:
        return []
    try:
        text = body if isinstance(body, str) else ""
        return _choice_payloads(to, text, buttons, issue_id, _labels(language))
    except Exception as exc:  # noqa: BLE001 - a bug must not crash the output channel
        logger.error("whatsapp: formatting bug (%s); list page not sent", type(exc).__name__)
        return []
