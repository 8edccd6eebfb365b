"""Small helpers shared by the actions: language, catalogue, uploads, backend calls."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from rasa_sdk import Tracker

from service_catalogue import Catalogue, load

T = TypeVar("T")
SKIP_WORDS = frozenset({"skip", "छोड़ें", "छोड़े", "chhodo", "chodo", "chhodein", "nahi", "no", "-"})


def lang(tracker: Tracker) -> str:
    """The citizen's reply language: Hindi or English (English until known)."""
    return "hi" if tracker.get_slot("language") == "hi" else "en"


def catalogue() -> Catalogue:
    return load()


def intent_of(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def latest_user_metadata(tracker: Tracker) -> dict[str, Any]:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            metadata = event.get("metadata") or {}
            return metadata if isinstance(metadata, dict) else {}
    return {}


def latest_attachment(tracker: Tracker) -> dict[str, Any] | None:
    """The file the citizen sent with their last message, as stored by our channel."""
    attachment = latest_user_metadata(tracker).get("attachment")
    if isinstance(attachment, dict) and attachment.get("storage_ref"):
        return attachment
    return None


def upload_error(tracker: Tracker) -> str | None:
    """Why our channel refused the file the citizen just sent (None: no file was refused).

    The channel sends a refused file as the trusted payload ``/upload_rejected`` with the
    reason as entity ``upload_error``; a reason this dialogue has no words for is told as
    ``download_failed`` ("I could not receive the file, please send it again").
    """
    if intent_of(tracker) != "upload_rejected":
        return None
    from actions.channel import UPLOAD_ERRORS  # actions.channel imports this module

    error = next(tracker.get_latest_entity_values("upload_error"), None)
    return error if error in UPLOAD_ERRORS else "download_failed"


def sent_a_file(tracker: Tracker) -> bool:
    """Whether the citizen's last message was a file: stored, or refused by the channel.
    Its words, if any, are the file's caption: they describe the file."""
    return latest_attachment(tracker) is not None or upload_error(tracker) is not None


def is_skip(text: str | None) -> bool:
    return (text or "").strip().casefold() in SKIP_WORDS


def new_key() -> str:
    """An idempotency key: the same submission retried never creates a second record."""
    return uuid.uuid4().hex


def show_date(iso: str | None) -> str:
    """dd-mm-yyyy, the way dates are written on Indian government papers."""
    if not iso:
        return "-"
    try:
        return date.fromisoformat(str(iso)[:10]).strftime("%d-%m-%Y")
    except ValueError:
        return str(iso)


async def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Runs a blocking backend client call without blocking the action server."""
    return await asyncio.to_thread(function, *args, **kwargs)
