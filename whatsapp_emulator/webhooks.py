"""Meta's side of the webhook: envelopes, signatures and delivery with retries.

Each event (a citizen's message or a status of a message the connector sent) becomes a
Cloud API webhook envelope POSTed to the connector with ``X-Hub-Signature-256``.
Delivery is in order by default; the control API can switch on duplicates (each body
delivered k times, concurrently), batching (events collected for ``batch_ms`` and sent
as several entries/changes in one POST) and shuffling (events collected for a short
window and delivered in random order). A non-200 answer or a connection failure is
retried with exponential back-off until ``retry_max_attempts``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from whatsapp_emulator.config import Settings
from whatsapp_emulator.state import Store

log = logging.getLogger("whatsapp_emulator.webhooks")
USER_AGENT = "facebookexternalua"
MAX_BATCH = 100


@dataclasses.dataclass
class Event:
    phone_number_id: str
    kind: str  # "messages" or "statuses"
    item: dict[str, Any]
    contact: dict[str, Any] | None = None
    #: called when a POST carrying this event was answered 200
    on_delivered: Callable[[], None] | None = None


def sign(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` header value for ``body``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def serialise(envelope: dict[str, Any]) -> bytes:
    """Compact JSON with non-ASCII text as UTF-8 and ``/`` escaped as ``\\/``, as Meta sends.

    Both choices make a body that a connector re-serialises differ from the bytes that
    were signed, so only a signature check over the raw body passes.
    """
    text = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
    return text.replace("/", "\\/").encode("utf-8")


def envelope(settings: Settings, events: list[Event]) -> dict[str, Any]:
    """One webhook body: an entry per phone number, a change per kind of event."""
    groups: dict[str, list[Event]] = {}
    for event in events:
        groups.setdefault(event.phone_number_id, []).append(event)
    entries = []
    for phone_number_id, group in groups.items():
        number = settings.phone_number(phone_number_id)
        metadata = {
            "display_phone_number": number.display_digits if number else phone_number_id,
            "phone_number_id": phone_number_id,
        }
        changes = []
        kinds = [k for k in ("messages", "statuses") if any(e.kind == k for e in group)]
        if group[0].kind == "statuses":
            kinds.reverse()
        for kind in kinds:
            value: dict[str, Any] = {"messaging_product": "whatsapp", "metadata": metadata}
            items = [e for e in group if e.kind == kind]
            if kind == "messages":
                contacts: dict[str, dict[str, Any]] = {}
                for e in items:
                    if e.contact is not None:
                        contacts.setdefault(str(e.contact.get("wa_id")), e.contact)
                value["contacts"] = list(contacts.values())
            value[kind] = [e.item for e in items]
            changes.append({"value": value, "field": "messages"})
        entries.append({"id": settings.waba_id, "changes": changes})
    return {"object": "whatsapp_business_account", "entry": entries}


class Dispatcher:
    """Queues events and delivers them to the connector's webhook."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self._session: aiohttp.ClientSession | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._generation = 0

    # lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.settings.webhook_timeout_seconds),
            headers={"User-Agent": USER_AGENT},
        )
        self._ensure_workers()

    async def stop(self) -> None:
        for task in [*self._workers, *self._tasks]:
            task.cancel()
        await asyncio.gather(*self._workers, *self._tasks, return_exceptions=True)
        self._workers.clear()
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()

    def reset(self) -> None:
        """Forget queued events and pending retries (``POST /emulator/reset``)."""
        self._generation += 1
        while not self.queue.empty():
            self.queue.get_nowait()
        for task in [*self._tasks, *self._workers]:
            task.cancel()
        self._workers.clear()  # new ones start with the next event, at the new concurrency

    def _ensure_workers(self) -> None:
        self._workers = [w for w in self._workers if not w.done()]
        while len(self._workers) < self.store.config.delivery_concurrency:
            self._workers.append(asyncio.create_task(self._worker()))

    def spawn(self, coroutine: Any) -> asyncio.Task[Any]:
        """Run a background task and keep a reference until it ends."""
        task: asyncio.Task[Any] = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # queueing ----------------------------------------------------------------------
    def enqueue(self, event: Event) -> None:
        self.store.stats.counters["webhook_events"] += 1
        if event.kind == "statuses":
            self.store.stats.counters["statuses_sent"] += 1
        self._ensure_workers()
        self.queue.put_nowait(event)

    async def _worker(self) -> None:
        while True:
            first = await self.queue.get()
            generation = self._generation
            config = self.store.config
            events = [first]
            window = config.batch_ms if config.batch_ms > 0 else 0
            if not window and config.shuffle:
                window = config.shuffle_window_ms
            if window:
                deadline = time.monotonic() + window / 1000
                while len(events) < MAX_BATCH:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    try:
                        events.append(await asyncio.wait_for(self.queue.get(), remaining))
                    except asyncio.TimeoutError:
                        break
            if generation != self._generation:
                continue  # reset while collecting
            if config.shuffle:
                random.shuffle(events)
            groups = [events] if config.batch_ms > 0 else [[e] for e in events]
            for group in groups:
                try:
                    await self.deliver(group)
                except Exception:  # noqa: BLE001 - one bad delivery must not stop the worker
                    log.exception("webhook delivery crashed")

    # delivery ----------------------------------------------------------------------
    async def deliver(self, events: list[Event]) -> None:
        """POST one envelope (``duplicates`` times, concurrently); failures are retried."""
        body = serialise(envelope(self.settings, events))
        self.store.stats.counters["webhooks_built"] += 1
        copies = self.store.config.duplicates
        await asyncio.gather(*(self._attempt(body, events, 1) for _ in range(copies)))

    async def _attempt(self, body: bytes, events: list[Event], attempt: int) -> None:
        ok = await self.post(body)
        if ok:
            for event in events:
                if event.on_delivered is not None:
                    event.on_delivered()
            return
        config = self.store.config
        if attempt >= config.retry_max_attempts:
            self.store.stats.counters["deliveries_abandoned"] += 1
            log.warning("webhook abandoned after %s attempts", attempt)
            return
        delay = min(config.retry_cap_ms, config.retry_base_ms * 2 ** (attempt - 1)) / 1000
        self.store.stats.counters["deliveries_retried"] += 1
        self.spawn(self._retry(body, events, attempt + 1, delay))

    async def _retry(self, body: bytes, events: list[Event], attempt: int, delay: float) -> None:
        await asyncio.sleep(delay)
        await self._attempt(body, events, attempt)

    async def post(self, body: bytes) -> bool:
        """One POST of ``body``; True when the connector answered 200."""
        assert self._session is not None, "Dispatcher.start() was not awaited"
        stats = self.store.stats
        stats.counters["webhook_posts"] += 1
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(self.settings.app_secret, body),
        }
        started = time.monotonic()
        try:
            async with self._session.post(
                self.store.config.webhook_url, data=body, headers=headers
            ) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            stats.counters["deliveries_failed"] += 1
            log.info("webhook POST failed: %s", type(exc).__name__)
            return False
        stats.webhook_latency_ms.append((time.monotonic() - started) * 1000)
        if status != 200:
            stats.counters["deliveries_failed"] += 1
            log.info("webhook POST answered %s", status)
            return False
        stats.counters["webhooks_delivered"] += 1
        return True

    async def verify(self, verify_token: str, url: str) -> dict[str, Any]:
        """Meta's subscription check: GET the webhook with hub.* parameters."""
        assert self._session is not None
        challenge = str(random.randint(10**8, 10**9))  # noqa: S311 - not a secret
        params = {
            "hub.mode": "subscribe",
            "hub.verify_token": verify_token,
            "hub.challenge": challenge,
        }
        try:
            async with self._session.get(url, params=params) as response:
                text = await response.text(errors="replace")
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            return {"ok": False, "url": url, "error": f"{type(exc).__name__}: {exc}"}
        return {
            "ok": status == 200 and text.strip() == challenge,
            "url": url,
            "status": status,
            "challenge": challenge,
            "body": text[:1000],
        }
