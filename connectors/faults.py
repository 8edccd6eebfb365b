"""Kill points for the fault-injection test (tests/test_exactly_once.py); inert unless set.

``WHATSAPP_KILL_AT`` names one point of a turn, ``WHATSAPP_KILL_SWITCH`` a file. When
the Rasa process reaches that point while the file exists, it takes one kill from the
file (its text is how many are left, 1 when empty) and SIGKILLs itself: no clean-up, no
flush, as the kernel's out-of-memory killer or a node failure would. The test creates
the file just before the message whose turn it wants cut, so every other turn, and the
restarted process, run normally. With neither variable set nothing here is installed.

A switch file saying ``pause`` stops the process there instead (the whole process, as a
stalled machine would) until the test deletes ``<switch>.paused``, which the process
creates when it stops: the test restarts PostgreSQL or Redis in between.

Points, in the order a turn reaches them:

- ``after_store``: the webhook's messages are stored, before it is acknowledged;
- ``after_parse``: Rasa has parsed the message (NLU), before any action runs;
- ``after_action:<name>``: the action server ran ``<name>`` (its side effects, e.g. a
  payment order, are made), before Rasa applies its events or sends its replies;
- ``after_send``: the first reply of the turn is sent (and recorded);
- ``before_save``: every reply is sent, before the tracker is saved;
- ``after_save``: the tracker is saved, before the channel marks the message done.

The Rasa hooks wrap ``MessageProcessor.parse_message``/``save_tracker`` and
``RemoteAction.run`` (Rasa 3.6); the channel calls :func:`kill_point` for the others.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

POINTS = ("after_store", "after_parse", "after_action", "after_send", "before_save", "after_save")


def _armed(point: str, action: str = "") -> str | None:
    """ "kill" or "pause" if the test armed ``point``, else None."""
    wanted = os.environ.get("WHATSAPP_KILL_AT", "")
    name, _, wanted_action = wanted.partition(":")
    if name != point or (wanted_action and wanted_action != action):
        return None
    switch = Path(os.environ.get("WHATSAPP_KILL_SWITCH", ""))
    if not switch.name:
        return None
    try:
        text = switch.read_text().strip()
    except OSError:
        return None
    if text == "pause":
        switch.unlink(missing_ok=True)
        return "pause"
    left = int(text) if text.isdigit() else 1
    if left <= 1:
        switch.unlink(missing_ok=True)
    else:
        switch.write_text(str(left - 1))
    return "kill"


def kill_point(point: str, action: str = "") -> None:
    """SIGKILLs (or stops) this process if the test armed ``point`` (see the docstring)."""
    if "WHATSAPP_KILL_AT" not in os.environ:
        return
    armed = _armed(point, action)
    if armed == "kill":
        logger.warning("faults.kill point=%s", point)
        os.kill(os.getpid(), signal.SIGKILL)
    elif armed == "pause":
        paused = Path(os.environ["WHATSAPP_KILL_SWITCH"] + ".paused")
        paused.touch()
        logger.warning("faults.pause point=%s", point)
        while paused.exists():
            time.sleep(0.05)  # the whole process stops, on purpose
        logger.warning("faults.resume point=%s", point)


def _after(
    method: Callable[..., Awaitable[Any]], point: str, with_action: bool = False
) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = await method(self, *args, **kwargs)
        kill_point(point, self.name() if with_action else "")
        return result

    return wrapper


def _around_save(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        kill_point("before_save")
        result = await method(self, *args, **kwargs)
        kill_point("after_save")
        return result

    return wrapper


def install_from_environment() -> bool:
    """Installs the Rasa hooks if ``WHATSAPP_KILL_AT`` is set; True if it did."""
    if not os.environ.get("WHATSAPP_KILL_AT"):
        return False
    import rasa
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor

    if not str(rasa.__version__).startswith("3.6."):
        raise RuntimeError(f"connectors.faults is written for Rasa 3.6, not {rasa.__version__}")
    if getattr(MessageProcessor.save_tracker, "__wrapped__", None) is None:
        MessageProcessor.parse_message = _after(MessageProcessor.parse_message, "after_parse")
        MessageProcessor.save_tracker = _around_save(MessageProcessor.save_tracker)
        RemoteAction.run = _after(RemoteAction.run, "after_action", with_action=True)
    logger.warning("faults.installed point=%s", os.environ["WHATSAPP_KILL_AT"])
    return True
