"""Speech to text for citizens' voice notes, through a pluggable service (issue 15, item 4).

Off unless ``ASR_URL`` is set. Then the WhatsApp channel sends each voice note it
downloads (OGG/Opus, as WhatsApp records them) to an OpenAI-compatible
``POST {ASR_URL}/v1/audio/transcriptions`` — faster-whisper-server, whisper.cpp's server,
a Bhashini-backed service run by the state — as ``multipart/form-data``: ``file``,
``model`` (``ASR_MODEL``, default ``whisper-1``) and, when ``ASR_LANGUAGE`` is set, the
``language`` hint (ISO-639-1, e.g. ``hi``); the answer is ``{"text": "..."}``.
``ASR_API_KEY`` goes as a bearer token; ``ASR_TIMEOUT`` (seconds, default 15) bounds the
whole call. Nothing here raises but :class:`TranscriptionError`, whose ``code`` says why.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from connectors.media import sha256_matches

logger = logging.getLogger(__name__)

#: WhatsApp's own limit for audio
MAX_AUDIO_BYTES = 16 * 2**20
#: a transcript longer than this is cut (it is shown back in one WhatsApp message)
MAX_TRANSCRIPT_CHARS = 900
#: audio types the transcription API takes, with the bytes each file starts with
AUDIO_TYPES: dict[str, tuple[bytes, ...]] = {
    "audio/ogg": (b"OggS",),
    "audio/mpeg": (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"),
    "audio/mp4": (b"",),  # ftyp box at offset 4: checked below
}
_FILENAMES = {"audio/ogg": "voice.ogg", "audio/mpeg": "audio.mp3", "audio/mp4": "audio.m4a"}


class TranscriptionError(Exception):
    """``code``: ``not_audio`` (type, size, magic or hash wrong), ``timeout``, ``failed``
    (HTTP error, dropped connection, unreadable answer) or ``empty`` (nothing heard)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class AsrSettings:
    url: str
    model: str = "whisper-1"
    api_key: str = ""
    language: str = ""
    timeout: float = 15.0

    def __repr__(self) -> str:  # never shows the key
        return f"AsrSettings(url={self.url!r}, model={self.model!r})"

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> AsrSettings | None:
        """The configured service, or None when ``ASR_URL`` is not set."""
        env = os.environ if env is None else env
        url = (env.get("ASR_URL") or "").strip()
        if not url:
            return None
        timeout = float(env.get("ASR_TIMEOUT") or 15)
        if timeout <= 0:
            raise ValueError(f"ASR_TIMEOUT must be a positive number of seconds, got {timeout}")
        return cls(
            url=url.rstrip("/"),
            model=(env.get("ASR_MODEL") or "whisper-1").strip(),
            api_key=(env.get("ASR_API_KEY") or "").strip(),
            language=(env.get("ASR_LANGUAGE") or "").strip(),
            timeout=timeout,
        )


def check_audio(data: bytes, mime_type: str, declared_sha256: str | None) -> str:
    """The audio type of ``data`` if it is one the service takes; else raises ``not_audio``.

    The declared type is checked against the bytes (an OGG file starts ``OggS``), the size
    against WhatsApp's limit and the webhook's sha256 (when given) against the bytes.
    """
    mime = mime_type.split(";", 1)[0].strip().lower()
    if mime not in AUDIO_TYPES:
        raise TranscriptionError("not_audio", f"type {mime!r}")
    if not data or len(data) > MAX_AUDIO_BYTES:
        raise TranscriptionError("not_audio", f"{len(data)} bytes")
    if mime == "audio/mp4":
        if data[4:8] != b"ftyp":
            raise TranscriptionError("not_audio", "no ftyp box")
    elif not data.startswith(AUDIO_TYPES[mime]):
        raise TranscriptionError("not_audio", "magic bytes")
    if declared_sha256 is not None and not sha256_matches(data, declared_sha256):
        raise TranscriptionError("not_audio", "sha256 mismatch")
    return mime


def clean_transcript(text: str) -> str:
    """One line of plain text a citizen could have typed: no leading ``/`` (which Rasa
    would read as an intent), whitespace folded, at most :data:`MAX_TRANSCRIPT_CHARS`."""
    text = " ".join(text.split()).lstrip("/").strip()
    return text[:MAX_TRANSCRIPT_CHARS].rstrip()


async def transcribe(settings: AsrSettings, data: bytes, mime_type: str) -> str:
    """What was said in the audio ``data`` (checked with :func:`check_audio` first)."""
    form = aiohttp.FormData()
    filename = _FILENAMES.get(mime_type, "voice.ogg")
    form.add_field("file", data, filename=filename, content_type=mime_type)
    form.add_field("model", settings.model)
    if settings.language:
        form.add_field("language", settings.language)
    form.add_field("response_format", "json")
    headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
    try:
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=settings.timeout)
        ) as session:
            async with session.post(
                f"{settings.url}/v1/audio/transcriptions", data=form, headers=headers
            ) as response:
                if response.status >= 300:
                    raise TranscriptionError("failed", f"HTTP {response.status}")
                answer = await response.json(content_type=None)
    except asyncio.TimeoutError:
        raise TranscriptionError("timeout", f"no answer within {settings.timeout:.1f} s") from None
    except (aiohttp.ClientError, ValueError) as error:
        raise TranscriptionError("failed", type(error).__name__) from None
    text = answer.get("text") if isinstance(answer, dict) else None
    if not isinstance(text, str):
        raise TranscriptionError("failed", "no text in the answer")
    text = clean_transcript(text)
    if not text:
        raise TranscriptionError("empty")
    return text
