"""The emulator's memory: conversations, media, the shifted clock, settings and counters.

Everything lives in one process and one event loop, so no locks are needed. Media bytes
are kept as files in a directory; their metadata and everything else is in memory.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import json
import secrets
import shutil
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any, Literal

from whatsapp_emulator.config import Settings

Direction = Literal["in", "out"]

#: How far a status has come; a status never goes back (``failed`` always wins).
STATUS_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}
#: Media ids from the business last 30 days, those from webhooks 7 days (Meta's figures).
MEDIA_LIFETIME = {"business": 30 * 86400.0, "citizen": 7 * 86400.0}
#: Meta's size limits per media kind, bytes.
MEDIA_LIMITS = {
    "image": 5 * 2**20,
    "audio": 16 * 2**20,
    "video": 16 * 2**20,
    "document": 100 * 2**20,
    "sticker": 500 * 2**10,
}
#: Accepted mime types per kind (documents: anything a phone can open).
MEDIA_TYPES = {
    "image": {"image/jpeg", "image/png"},
    "audio": {
        "audio/aac",
        "audio/amr",
        "audio/mpeg",
        "audio/mp4",
        "audio/ogg",
        "audio/ogg; codecs=opus",
    },
    "video": {"video/mp4", "video/3gpp"},
    "sticker": {"image/webp"},
}


def media_kind(mime_type: str) -> str:
    """The WhatsApp message type a file of this mime type is sent as."""
    base = mime_type.split(";")[0].strip().lower()
    if base == "image/webp":
        return "sticker"
    for kind in ("image", "audio", "video"):
        if base in {t.split(";")[0] for t in MEDIA_TYPES[kind]}:
            return kind
    return "document"


def sha256_b64(data: bytes) -> str:
    """The file hash as Meta writes it in webhooks and media metadata: base64 of SHA-256."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def new_wamid() -> str:
    """A message id shaped like Meta's: ``wamid.`` and base64 (``+``, ``/``, ``=`` included)."""
    return "wamid.HBgM" + base64.b64encode(secrets.token_bytes(30)).decode("ascii")


def new_numeric_id(digits: int = 16) -> str:
    return str(secrets.randbelow(9 * 10 ** (digits - 1)) + 10 ** (digits - 1))


@dataclasses.dataclass
class RuntimeConfig:
    """What the control API can change while the emulator runs."""

    duplicates: int = 1
    batch_ms: int = 0
    shuffle: bool = False
    shuffle_window_ms: int = 300
    read_receipts: bool = True
    throttle_rate: float = 0.0
    pair_rate_limit: int = 0
    pair_rate_window_seconds: float = 6.0
    clock_offset_seconds: float = 0.0
    retry_max_attempts: int = 8
    retry_base_ms: float = 500.0
    retry_cap_ms: float = 30000.0
    status_delay_ms: float = 150.0
    delivery_concurrency: int = 1
    webhook_url: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> RuntimeConfig:
        return cls(
            retry_max_attempts=settings.webhook_max_attempts,
            retry_base_ms=settings.webhook_retry_base_ms,
            retry_cap_ms=settings.webhook_retry_cap_ms,
            status_delay_ms=settings.status_delay_ms,
            webhook_url=settings.webhook_url,
        )

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def update(self, changes: Any) -> list[str]:
        """Apply ``changes`` (a JSON object) if all are valid; else return the problems."""
        if not isinstance(changes, dict):
            return ["the body must be a JSON object"]
        problems: list[str] = []
        valid: dict[str, Any] = {}
        fields = {f.name: f for f in dataclasses.fields(self)}
        for name, value in changes.items():
            if name not in fields:
                problems.append(f"unknown setting {name!r}")
                continue
            problem = _check(name, value)
            if problem:
                problems.append(f"{name}: {problem}")
            else:
                valid[name] = float(value) if isinstance(getattr(self, name), float) else value
        if not problems:
            for name, value in valid.items():
                setattr(self, name, value)
        return problems


_RANGES: dict[str, tuple[float, float]] = {
    "duplicates": (1, 10),
    "batch_ms": (0, 60000),
    "shuffle_window_ms": (0, 60000),
    "throttle_rate": (0, 1),
    "pair_rate_limit": (0, 100000),
    "pair_rate_window_seconds": (0.001, 86400),
    "clock_offset_seconds": (-(10**9), 10**9),
    "retry_max_attempts": (1, 100),
    "retry_base_ms": (0, 86400000),
    "retry_cap_ms": (0, 86400000),
    "status_delay_ms": (0, 600000),
    "delivery_concurrency": (1, 256),
}
_INTEGERS = {
    "duplicates",
    "batch_ms",
    "shuffle_window_ms",
    "pair_rate_limit",
    "retry_max_attempts",
    "delivery_concurrency",
}


def _check(name: str, value: Any) -> str | None:
    if name in {"shuffle", "read_receipts"}:
        return None if isinstance(value, bool) else "must be true or false"
    if name == "webhook_url":
        ok = isinstance(value, str) and value.startswith(("http://", "https://"))
        return None if ok else "must be an http(s) url"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "must be a number"
    if name in _INTEGERS and not isinstance(value, int):
        return "must be a whole number"
    low, high = _RANGES[name]
    if not low <= value <= high:
        return f"must be between {low:g} and {high:g}"
    return None


@dataclasses.dataclass
class Media:
    id: str
    mime_type: str
    sha256: str
    file_size: int
    filename: str | None
    path: Path
    created_at: float
    origin: str  # "business" (uploaded through the Graph API) or "citizen"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "mime_type": self.mime_type,
            "sha256": self.sha256,
            "file_size": self.file_size,
            "filename": self.filename,
        }


@dataclasses.dataclass
class Entry:
    """One message of a conversation, either way, as the page and the tests see it."""

    seq: int
    direction: Direction
    id: str
    phone_number_id: str
    wa_id: str
    timestamp: int
    type: str
    #: inbound: the webhook message object; outbound: the connector's request body
    payload: dict[str, Any]
    status: str
    statuses: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    #: a local copy of the media, for the page (outbound ``link`` media is fetched)
    media_id: str | None = None
    #: outbound templates: header/body/footer/buttons with the parameters filled in
    rendered: dict[str, Any] | None = None
    errors: list[dict[str, Any]] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "direction": self.direction,
            "id": self.id,
            "phone_number_id": self.phone_number_id,
            "wa_id": self.wa_id,
            "timestamp": self.timestamp,
            "type": self.type,
            "payload": self.payload,
            "status": self.status,
            "statuses": self.statuses,
            "media_id": self.media_id,
            "rendered": self.rendered,
            "errors": self.errors,
        }


class Stats:
    def __init__(self) -> None:
        self.counters: Counter[str] = Counter()
        self.inbound_per_citizen: Counter[str] = Counter()
        self.outbound_per_citizen: Counter[str] = Counter()
        self.graph_errors: Counter[str] = Counter()
        self.reply_latency_ms: deque[float] = deque(maxlen=10000)
        self.webhook_latency_ms: deque[float] = deque(maxlen=10000)

    def to_json(self) -> dict[str, Any]:
        keys = (
            "webhook_events",
            "webhooks_built",
            "webhook_posts",
            "webhooks_delivered",
            "deliveries_failed",
            "deliveries_retried",
            "deliveries_abandoned",
            "messages_inbound",
            "messages_outbound",
            "statuses_sent",
        )
        return {
            **{key: self.counters[key] for key in keys},
            "inbound_per_citizen": dict(self.inbound_per_citizen),
            "outbound_per_citizen": dict(self.outbound_per_citizen),
            "graph_errors": dict(self.graph_errors),
            "reply_latency_ms": _summary(self.reply_latency_ms),
            "webhook_latency_ms": _summary(self.webhook_latency_ms),
        }


def _summary(values: deque[float]) -> dict[str, float | int]:
    ordered = sorted(values)
    if not ordered:
        return {"count": 0}

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {
        "count": len(ordered),
        "mean": round(sum(ordered) / len(ordered), 2),
        "p50": pick(0.5),
        "p95": pick(0.95),
        "max": round(ordered[-1], 2),
    }


Key = tuple[str, str]  # (phone_number_id, wa_id)


class Store:
    def __init__(self, settings: Settings, media_dir: Path) -> None:
        self.settings = settings
        self.media_dir = media_dir
        self.media_dir.mkdir(parents=True, exist_ok=True)
        self.url_key = secrets.token_bytes(32)
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._event_id = 0
        self.clear()

    def clear(self) -> None:
        self.config = RuntimeConfig.from_settings(self.settings)
        self.stats = Stats()
        self._seq = 0
        self.entries: list[Entry] = []
        self.by_id: dict[str, Entry] = {}
        self.conversations: dict[Key, list[Entry]] = {}
        self.last_inbound: dict[Key, float] = {}
        self.names: dict[str, str] = {}
        self.recent_sends: dict[Key, deque[float]] = {}
        self.awaiting_reply: dict[Key, float] = {}
        for media in getattr(self, "media", {}).values():
            media.path.unlink(missing_ok=True)
        self.media: dict[str, Media] = {}

    # clock -------------------------------------------------------------------------
    def now(self) -> float:
        """The emulator's clock: real time shifted by ``clock_offset_seconds``."""
        return time.time() + self.config.clock_offset_seconds

    # conversations -----------------------------------------------------------------
    def add(self, entry: Entry) -> Entry:
        self.entries.append(entry)
        self.by_id[entry.id] = entry
        self.conversations.setdefault((entry.phone_number_id, entry.wa_id), []).append(entry)
        self.publish({"event": "message", "entry": entry.to_json()})
        return entry

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def set_status(
        self, entry: Entry, status: str, errors: list[dict[str, Any]] | None = None
    ) -> bool:
        """Move ``entry`` forward to ``status``; False (and nothing done) if it is behind."""
        if STATUS_RANK[status] <= STATUS_RANK.get(entry.status, 0) and status != "failed":
            return False
        entry.status = status
        entry.statuses.append({"status": status, "timestamp": int(self.now())})
        if errors:
            entry.errors = errors
        self.publish(
            {
                "event": "status",
                "id": entry.id,
                "seq": entry.seq,
                "phone_number_id": entry.phone_number_id,
                "wa_id": entry.wa_id,
                "status": status,
                "errors": errors,
            }
        )
        return True

    def conversation(
        self, wa_id: str | None, phone_number_id: str | None, after: int
    ) -> list[Entry]:
        if wa_id and phone_number_id:
            pool = self.conversations.get((phone_number_id, wa_id), [])
        else:
            pool = [
                e
                for e in self.entries
                if (not wa_id or e.wa_id == wa_id)
                and (not phone_number_id or e.phone_number_id == phone_number_id)
            ]
        return [e for e in pool if e.seq > after]

    def window_open(self, phone_number_id: str, wa_id: str) -> bool:
        last = self.last_inbound.get((phone_number_id, wa_id))
        return last is not None and self.now() - last <= 24 * 3600

    # live events -------------------------------------------------------------------
    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=10000)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._subscribers.discard(queue)

    def publish(self, event: dict[str, Any]) -> None:
        self._event_id += 1
        event["eid"] = self._event_id
        for queue in list(self._subscribers):
            if queue.full():  # a stalled page: drop it rather than grow without bound
                self._subscribers.discard(queue)
            else:
                queue.put_nowait(event)

    # media -------------------------------------------------------------------------
    def add_media(self, data: bytes, mime_type: str, filename: str | None, origin: str) -> Media:
        media_id = new_numeric_id()
        path = self.media_dir / media_id
        path.write_bytes(data)
        media = Media(
            id=media_id,
            mime_type=mime_type,
            sha256=sha256_b64(data),
            file_size=len(data),
            filename=filename,
            path=path,
            created_at=self.now(),
            origin=origin,
        )
        self.media[media_id] = media
        return media

    def get_media(self, media_id: str) -> Media | None:
        media = self.media.get(media_id)
        if media is None:
            return None
        if self.now() - media.created_at > MEDIA_LIFETIME[media.origin]:
            return None
        return media

    def delete_media(self, media_id: str) -> bool:
        media = self.media.pop(media_id, None)
        if media is None:
            return False
        media.path.unlink(missing_ok=True)
        return True

    def remove_media_dir(self) -> None:
        shutil.rmtree(self.media_dir, ignore_errors=True)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
