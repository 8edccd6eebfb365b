"""Calls to Meta's Graph API (or the local emulator, which speaks the same API).

Sending is paced per phone number (WhatsApp allows 80 messages/s by default), throttling
(130429) backs off and retries, a per-citizen pair-rate error (131056) waits and
retries, and a message refused for being outside the 24-hour window (131047) is
reported to the caller, which sends a template instead.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

from connectors.media import sha256_matches
from ops.pacing import Pacer

logger = logging.getLogger(__name__)

THROTTLED = 130429
OUTSIDE_WINDOW = 131047
PAIR_RATE = 131056


DOWNLOAD_CHUNK = 64 * 1024


class DownloadError(ValueError):
    """A file that could not be fetched whole. ``code`` says why, in the words the
    dialogue answers (``connectors.media.ERRORS`` plus ``truncated``/``download_failed``):
    ``too_large``, ``truncated`` (fewer or more bytes than announced), ``hash_mismatch``
    or ``download_failed`` (HTTP error, timeout, dropped connection)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail

    def __str__(self) -> str:
        return self.code


def _announced_size(value: Any) -> int | None:
    try:
        size = int(value)
    except (TypeError, ValueError):
        return None
    return size if size >= 0 else None


async def read_capped(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """The whole body, refused as ``too_large`` as soon as it passes ``max_bytes``.

    ``response.content.read(n)`` is not "read n bytes": it returns what has arrived so
    far (often one 64 KiB chunk), which cut every real photo short. aiohttp itself raises
    ``ClientPayloadError`` when a body ends before its Content-Length.
    """
    declared = response.content_length
    if declared is not None and declared > max_bytes:
        raise DownloadError("too_large", f"Content-Length {declared} > {max_bytes}")
    body = bytearray()
    async for chunk in response.content.iter_chunked(DOWNLOAD_CHUNK):
        body += chunk
        if len(body) > max_bytes:
            raise DownloadError("too_large", f"more than {max_bytes} bytes")
    return bytes(body)


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


class GraphClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        rate_per_number: float = 80.0,
        timeout_seconds: float = 10.0,
        max_retries: int = 4,
        pair_rate_wait_seconds: float = 6.0,
        download_timeout_seconds: float = 120.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._rate = rate_per_number
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        # a file of several MB over a phone-grade link may take longer than a message
        # send; a stalled one still fails after ``timeout_seconds`` without a byte
        self._download_timeout = aiohttp.ClientTimeout(
            total=download_timeout_seconds, sock_connect=timeout_seconds, sock_read=timeout_seconds
        )
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
            async with self._pacer(phone_number_id).slot():
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
        """A citizen's file: its metadata and all of its bytes, or :class:`DownloadError`.

        The body is read to its end with a running cap of ``max_bytes`` (over it: refused
        as ``too_large`` without reading on); then its length must equal the metadata's
        ``file_size`` and its sha256 the metadata's ``sha256`` (``truncated`` /
        ``hash_mismatch``: the file was damaged on the way).
        """
        try:
            session = await self.session()
            async with session.get(f"{self.base_url}/{media_id}") as response:
                if response.status != 200:
                    raise DownloadError("download_failed", f"metadata HTTP {response.status}")
                info = await response.json(content_type=None)
            if not isinstance(info, dict) or not info.get("url"):
                raise DownloadError("download_failed", "metadata without a url")
            announced = _announced_size(info.get("file_size"))
            if announced is not None and announced > max_bytes:
                raise DownloadError("too_large", f"announced {announced} > {max_bytes}")
            async with session.get(str(info["url"]), timeout=self._download_timeout) as response:
                if response.status != 200:
                    raise DownloadError("download_failed", f"media HTTP {response.status}")
                data = await read_capped(response, max_bytes)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            if isinstance(error, DownloadError):
                raise
            raise DownloadError("download_failed", type(error).__name__) from error
        if announced is not None and len(data) != announced:
            raise DownloadError("truncated", f"got {len(data)} of {announced} bytes")
        expected = info.get("sha256")
        if expected and not sha256_matches(data, str(expected)):
            raise DownloadError("hash_mismatch", f"{len(data)} bytes, sha256 differs")
        return info, data

    async def fetch_url(self, url: str, max_bytes: int) -> bytes:
        """A file the bot sends (e.g. a certificate from the backend's signed link), read
        whole with a running cap; :class:`DownloadError` if it cannot be."""
        try:
            async with aiohttp.ClientSession(timeout=self._download_timeout) as plain:
                async with plain.get(url) as response:
                    if response.status != 200:
                        raise DownloadError("download_failed", f"HTTP {response.status}")
                    return await read_capped(response, max_bytes)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            if isinstance(error, DownloadError):
                raise
            raise DownloadError("download_failed", type(error).__name__) from error

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
