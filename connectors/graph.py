"""Calls to Meta's Graph API (or the local emulator, which speaks the same API).

Sending is paced per phone number (WhatsApp allows 80 messages/s by default), throttling
(130429) backs off and retries, a per-citizen pair-rate error (131056) waits and
retries, and a message refused for being outside the 24-hour window (131047) is
reported to the caller, which sends a template instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

logger = logging.getLogger(__name__)

THROTTLED = 130429
OUTSIDE_WINDOW = 131047
PAIR_RATE = 131056


@dataclass
class SendResult:
    ok: bool
    message_id: str | None = None
    error_code: int | None = None
    status: int = 0

    @property
    def retryable(self) -> bool:
        """WhatsApp is down, throttling or pacing this citizen: the same send may work later."""
        return self.error_code in (THROTTLED, PAIR_RATE) or self.status == 0 or self.status >= 500

    @property
    def retry_after(self) -> int:
        """Seconds a caller should wait before trying again."""
        return 6 if self.error_code == PAIR_RATE else 5 if self.error_code == THROTTLED else 10


@dataclass
class Pacer:
    """A token bucket: at most ``rate`` sends per second, in order of arrival."""

    rate: float
    _next_slot: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + 1.0 / self.rate
        delay = slot - now
        if delay > 0:
            await asyncio.sleep(delay)


class GraphClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        rate_per_number: float = 80.0,
        timeout_seconds: float = 10.0,
        max_retries: int = 4,
        pair_rate_wait_seconds: float = 6.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._rate = rate_per_number
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._max_retries = max_retries
        self._pair_wait = pair_rate_wait_seconds
        self._pacers: dict[str, Pacer] = {}
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:  # never shows the token
        return f"GraphClient({self.base_url!r})"

    async def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, headers={"Authorization": f"Bearer {self._token}"}
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _pacer(self, phone_number_id: str) -> Pacer:
        if phone_number_id not in self._pacers:
            self._pacers[phone_number_id] = Pacer(self._rate)
        return self._pacers[phone_number_id]

    async def send(
        self, phone_number_id: str, body: dict[str, Any], max_retries: int | None = None
    ) -> SendResult:
        """Sends one message; ``max_retries`` overrides the client's (0: one attempt)."""
        url = f"{self.base_url}/{phone_number_id}/messages"
        backoff = 1.0
        result = SendResult(False)
        retries = self._max_retries if max_retries is None else max_retries
        for attempt in range(retries + 1):
            if attempt:
                logger.info("graph.send.retry attempt=%s code=%s", attempt, result.error_code)
            await self._pacer(phone_number_id).wait()
            result = await self._post_json(url, body)
            if result.ok or result.error_code == OUTSIDE_WINDOW:
                return result
            if not result.retryable:
                return result  # a refusal that a retry cannot fix (bad request)
            if attempt == retries:
                break
            if result.error_code == PAIR_RATE:
                await asyncio.sleep(self._pair_wait)
            else:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
        return result

    async def _post_json(self, url: str, body: dict[str, Any]) -> SendResult:
        try:
            session = await self.session()
            async with session.post(url, json=body) as response:
                data = await response.json(content_type=None)
                if 200 <= response.status < 300:
                    messages = (data or {}).get("messages") or [{}]
                    return SendResult(True, messages[0].get("id"), None, response.status)
                code = ((data or {}).get("error") or {}).get("code")
                logger.warning("graph.send.refused status=%s code=%s", response.status, code)
                return SendResult(False, None, int(code) if code else None, response.status)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            logger.warning("graph.send.failed error=%s", type(error).__name__)
            return SendResult(False)

    async def mark_read(self, phone_number_id: str, message_id: str) -> None:
        body = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
        await self._post_json(f"{self.base_url}/{phone_number_id}/messages", body)

    async def download_media(self, media_id: str, max_bytes: int) -> tuple[dict[str, Any], bytes]:
        """Media metadata and bytes; raises ValueError when it cannot be fetched."""
        session = await self.session()
        try:
            async with session.get(f"{self.base_url}/{media_id}") as response:
                if response.status != 200:
                    raise ValueError(f"media metadata: HTTP {response.status}")
                info = await response.json(content_type=None)
            if int(info.get("file_size") or 0) > max_bytes:
                raise ValueError("too_large")
            async with session.get(str(info["url"])) as response:
                if response.status != 200:
                    raise ValueError(f"media download: HTTP {response.status}")
                data = await response.content.read(max_bytes + 1)
        except (aiohttp.ClientError, asyncio.TimeoutError, KeyError) as error:
            raise ValueError(type(error).__name__) from error
        return info, data

    async def fetch_url(self, url: str, max_bytes: int) -> bytes:
        """A file the bot sends (e.g. a certificate from the backend's signed link)."""
        async with aiohttp.ClientSession(timeout=self._timeout) as plain:
            async with plain.get(url) as response:
                if response.status != 200:
                    raise ValueError(f"HTTP {response.status}")
                return await response.content.read(max_bytes + 1)

    async def upload_media(
        self, phone_number_id: str, data: bytes, mime_type: str, filename: str
    ) -> str:
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime_type)
        form.add_field("file", data, filename=filename, content_type=mime_type)
        session = await self.session()
        async with session.post(f"{self.base_url}/{phone_number_id}/media", data=form) as response:
            answer = await response.json(content_type=None)
            if response.status != 200 or "id" not in (answer or {}):
                raise ValueError(f"media upload: HTTP {response.status}")
            return str(answer["id"])
