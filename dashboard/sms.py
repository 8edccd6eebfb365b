"""SMS gateways: how the dashboard sends a text message to a mobile number (the CSC
counter code for a citizen without WhatsApp).

One interface, :class:`SmsGateway` (``await gateway.send(to, text)`` returns an
:class:`SmsResult`, never raises), chosen by ``SMS_GATEWAY`` (``dashboard/config.py``):

- ``console`` (default, ``make run``): the message is written to the dashboard's log,
  so whoever runs it locally can read the code;
- ``file``: one JSON line per message appended to ``SMS_FILE`` (tests read it);
- ``http``: ``POST SMS_URL`` with ``{"to": "+91…", "text": "…", "sender": SMS_SENDER}``,
  ``Authorization: Bearer SMS_TOKEN``, 5 s timeout; a 2xx answer means accepted and
  its JSON ``id`` (if any) is kept. This is the shape to put in front of a real
  provider (a DLT-registered sender and template are needed in India): a small adapter
  that speaks the provider's API behind this request.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from pathlib import Path
from typing import Protocol

import aiohttp

from backends.db import utcnow
from privacy import mask_personal_numbers as mask_phone

log = logging.getLogger(__name__)

GATEWAYS = ("console", "file", "http")
TIMEOUT_SECONDS = 5.0


@dataclasses.dataclass(frozen=True)
class SmsResult:
    ok: bool
    id: str | None = None
    error: str | None = None


class SmsGateway(Protocol):
    name: str

    async def send(self, to: str, text: str) -> SmsResult: ...


class ConsoleGateway:
    name = "console"

    async def send(self, to: str, text: str) -> SmsResult:
        log.warning("SMS (console gateway) to %s: %s", to, text)
        return SmsResult(True, id=f"console-{utcnow():%H%M%S%f}")


class FileGateway:
    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    async def send(self, to: str, text: str) -> SmsResult:
        line = json.dumps({"to": to, "text": text, "at": utcnow().isoformat()}, ensure_ascii=False)

        def append() -> None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")

        try:
            await asyncio.to_thread(append)
        except OSError as error:
            log.error("SMS file gateway cannot write %s: %s", self.path, error)
            return SmsResult(False, error="unavailable")
        return SmsResult(True, id=f"file-{utcnow():%H%M%S%f}")


class HttpGateway:
    name = "http"

    def __init__(self, url: str, token: str, sender: str) -> None:
        self.url, self.token, self.sender = url, token, sender

    async def send(self, to: str, text: str) -> SmsResult:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = {"to": to, "text": text, "sender": self.sender}
        try:
            timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
            async with aiohttp.ClientSession(timeout=timeout) as http:
                async with http.post(self.url, json=body, headers=headers) as answer:
                    if not 200 <= answer.status < 300:
                        log.warning("SMS gateway answered %d for %s", answer.status, mask_phone(to))
                        return SmsResult(False, error="refused")
                    data = await answer.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            log.warning("SMS gateway unreachable for %s: %s", mask_phone(to), type(error).__name__)
            return SmsResult(False, error="unavailable")
        message_id = data.get("id") if isinstance(data, dict) else None
        return SmsResult(True, id=str(message_id) if message_id else None)


def gateway(kind: str, file: Path, url: str, token: str, sender: str) -> SmsGateway:
    """The gateway ``SMS_GATEWAY`` names (settings checked in ``dashboard/config.py``)."""
    if kind == "file":
        return FileGateway(file)
    if kind == "http":
        return HttpGateway(url, token, sender)
    return ConsoleGateway()
