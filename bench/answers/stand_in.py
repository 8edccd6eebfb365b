"""A local stand-in for an OpenAI-compatible chat-completions service (tests and
``make bench-answers``): ``reply(body) -> (status, payload, delay_seconds)``."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = Callable[[dict[str, Any]], tuple[int, Any, float]]


def completion(text: str) -> dict[str, Any]:
    return {"choices": [{"message": {"role": "assistant", "content": text}}]}


def facts_in(body: dict[str, Any]) -> str:
    """The facts part of the prompt actions/generative.py sends."""
    prompt = str(body["messages"][-1]["content"])
    return prompt.split("Facts:\n", 1)[-1].split("\n\nQuestion:", 1)[0]


def echo(body: dict[str, Any]) -> tuple[int, Any, float]:
    """An honest model: says the facts back."""
    return 200, completion(facts_in(body)), 0.0


def inventor(body: dict[str, Any]) -> tuple[int, Any, float]:
    """A model that makes things up: the facts and a fee and a duration nobody said."""
    return 200, completion(facts_in(body) + " It costs ₹999 and takes 99 days."), 0.0


def start(reply: Reply) -> tuple[ThreadingHTTPServer, list[dict[str, Any]]]:
    """Serves ``reply`` on a free local port (daemon thread); returns the server and the
    requests it received (path, Authorization header and JSON body)."""
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
            status, payload, delay = reply(body)
            time.sleep(delay)
            data = json.dumps(payload).encode()
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

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen
