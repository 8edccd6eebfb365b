"""Real voice notes and a stand-in speech-to-text service, for the voice-note tests.

:func:`voice_note` speaks a sentence with ``espeak-ng`` (Hindi ``hi``, English ``en``)
and encodes it with ``ffmpeg`` exactly as WhatsApp sends a voice note: OGG/Opus, mono,
16 kHz, 16 kbit/s. :class:`StandInAsr` speaks the OpenAI-compatible
``POST /v1/audio/transcriptions`` API on a free local port: it refuses (400) anything
that is not a valid OGG/Opus file (``OggS`` + ``OpusHead`` magic, and ``ffprobe`` must
read an Opus stream), and answers ``{"text": ...}`` with the transcript registered for
the file's sha256 (a real model's output for the same audio is not fixed).
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


def voice_note(text: str, voice: str = "hi") -> bytes:
    """``text`` spoken by espeak-ng's ``voice``, as a WhatsApp voice note (OGG/Opus)."""
    if not (shutil.which("espeak-ng") and shutil.which("ffmpeg")):  # a skip would hide it
        pytest.fail("espeak-ng and ffmpeg are missing: run scripts/system_packages.sh")
    with tempfile.TemporaryDirectory() as folder:
        wav, ogg = Path(folder) / "speech.wav", Path(folder) / "voice.ogg"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav), text], check=True)
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav)]
            + ["-c:a", "libopus", "-b:a", "16k", "-ac", "1", "-ar", "16000", str(ogg)],
            check=True,
        )
        return ogg.read_bytes()


def opus_problem(data: bytes) -> str | None:
    """Why ``data`` is not an OGG/Opus file, or None when it is one."""
    if not data.startswith(b"OggS") or b"OpusHead" not in data[:512]:
        return "not OGG/Opus (magic bytes)"
    if shutil.which("ffprobe"):
        with tempfile.NamedTemporaryFile(suffix=".ogg") as handle:
            handle.write(data)
            handle.flush()
            probe = subprocess.run(
                ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name"]
                + ["-of", "json", handle.name],
                capture_output=True,
                text=True,
            )
        streams = json.loads(probe.stdout or "{}").get("streams") or []
        if probe.returncode != 0 or [s.get("codec_name") for s in streams] != ["opus"]:
            return f"ffprobe cannot read an Opus stream: {probe.stderr.strip()[:200]}"
    return None


@dataclass
class StandInAsr:
    """``transcripts``: sha256 hex of the audio → what the service says it heard.
    ``delay`` seconds before answering, ``status`` other than 200 to fail."""

    transcripts: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def knows(self, audio: bytes, transcript: str) -> bytes:
        self.transcripts[hashlib.sha256(audio).hexdigest()] = transcript
        return audio

    def start(self) -> StandInAsr:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = service.answer(self.path, dict(self.headers), raw)
                time.sleep(service.delay)
                data = json.dumps(answer, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def answer(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        if path != "/v1/audio/transcriptions":
            return 404, {"error": {"message": f"no route {path}"}}
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        )
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            payload = payload if isinstance(payload, bytes) else b""
            if part.get_filename():
                fields[str(name)] = payload
                fields["filename"] = part.get_filename()
                fields["file_type"] = part.get_content_type()
            else:
                fields[str(name)] = payload.decode()
        audio = fields.pop("file", b"")
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        self.requests.append({**fields, "auth": auth, "bytes": len(audio)})
        if not fields.get("model"):
            return 400, {"error": {"message": "model is required"}}
        problem = opus_problem(audio)
        if problem:
            return 400, {"error": {"message": problem}}
        if self.status != 200:
            return self.status, {"error": {"message": "the stand-in is told to fail"}}
        transcript = self.transcripts.get(hashlib.sha256(audio).hexdigest())
        if transcript is None:
            return 200, {"text": ""}  # heard nothing it knows
        return 200, {"text": transcript}
