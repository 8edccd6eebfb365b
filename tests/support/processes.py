"""One way to run a service of this project as a child process in tests and benchmarks.

The backends, the emulator, the dashboard and the whole stack are all started the same
way: output to a log file, ready when an HTTP URL answers (or the process dies, which
fails at once with the end of its log), terminated — then killed — on exit.
"""

from __future__ import annotations

import contextlib
import http.server
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(
    url: str, process: subprocess.Popen, log: Path, name: str = "", seconds: float = 180
) -> None:
    """Return once ``url`` answers 2xx; raise with the log's end if ``process`` exits or
    ``seconds`` pass first (a loaded CI machine starts Rasa slowly)."""
    name = name or url
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{name} exited with {process.returncode}:\n"
                f"{log.read_text(errors='replace')[-4000:]}"
            )
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not start:\n{log.read_text(errors='replace')[-4000:]}")


@contextlib.contextmanager
def child_process(
    command: list[str],
    env: Mapping[str, str],
    log: Path,
    ready_url: str | None,
    name: str = "",
    seconds: float = 180,
) -> Iterator[subprocess.Popen]:
    """``command`` running from the project root, ready when ``ready_url`` answers
    (None: the caller waits); stopped with SIGTERM, then SIGKILL, on exit."""
    with open(log, "wb") as out:
        process = subprocess.Popen(  # noqa: S603 - fixed commands of this project
            command, cwd=ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        if ready_url is not None:
            wait_ready(ready_url, process, log, name, seconds)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextlib.contextmanager
def serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` on a free loopback port, in a thread of its own; yields the base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
