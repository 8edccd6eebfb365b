"""Pacing sends to WhatsApp: Meta allows a number so many messages per second.

One pacer for every sender of the project: the channel's Graph client (replies,
officers' messages, notifications) and the backends' broadcasts.

    pacer = Pacer(80)
    async with pacer.slot():
        await post(...)  # counted from its start until its answer
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import AsyncIterator

#: Meta's limit is messages per second per number: the pacer's window (from a send's
#: answer to the start of the send ``rate`` later), and how far behind its even schedule
#: the pacer catches up
PACING_WINDOW = 1.0
CATCH_UP = 0.1


class _Send:
    """One paced send: when it started and, once known, when its answer came back."""

    __slots__ = ("started", "answered", "done")

    def __init__(self, started: float) -> None:
        self.started = started
        self.answered: float | None = None
        self.done = asyncio.Event()


class Pacer:
    """At most ``rate`` messages reach the channel, and WhatsApp, in any second; FIFO.

    A send counts from the moment it starts until its answer arrives: the channel gets
    the request, and WhatsApp gets the channel's, somewhere in between. So send
    ``n + rate`` starts only :data:`PACING_WINDOW` after send ``n`` was answered, and no
    delay between us and Meta (a busy machine, a slow request, a late wake-up) can put
    ``rate + 1`` of them in one second. Counting start times alone, as a token bucket
    does, is not enough: a request held up on its way lands next to the ones sent
    after it.

    Sends are also spread over the second, ``1/rate`` apart on a fixed schedule, so
    a late wake-up is caught up (up to :data:`CATCH_UP` behind) instead of slowing the
    whole broadcast.
    """

    def __init__(self, rate: float, concurrent_requests: int = 16) -> None:
        self.rate = max(1, int(rate))
        self.spacing = 1.0 / self.rate
        self.next_slot = 0.0
        self.sends: collections.deque[_Send] = collections.deque(maxlen=self.rate)
        self.lock = asyncio.Lock()
        self.senders = asyncio.Semaphore(concurrent_requests)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for a slot, then hold it while the body of the ``async with`` sends."""
        send = await self._take()
        try:
            yield
        finally:
            send.answered = time.monotonic()
            send.done.set()

    async def _take(self) -> _Send:
        async with self.lock:  # FIFO: waiters queue on the lock
            while True:
                free_at = 0.0
                if len(self.sends) == self.rate:
                    oldest = self.sends[0]
                    if oldest.answered is None:
                        await oldest.done.wait()
                        continue
                    free_at = oldest.answered + PACING_WINDOW
                now = time.monotonic()
                self.next_slot = max(self.next_slot, now - CATCH_UP)
                delay = max(self.next_slot, free_at) - now
                if delay <= 0:
                    send = _Send(now)
                    self.sends.append(send)  # the oldest leaves the window
                    self.next_slot += self.spacing
                    return send
                await asyncio.sleep(delay)
