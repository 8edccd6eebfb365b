"""A tiny round-robin HTTP proxy, as a load balancer in front of several Rasa processes.

    with round_robin(["http://127.0.0.1:5005", "http://127.0.0.1:5006"]) as url: ...

Each request goes to the next upstream in turn, so one citizen's consecutive webhooks
land on different processes; an upstream that refuses the connection is skipped (as a
load balancer's health check would), and when every upstream fails the answer is 502,
which makes the WhatsApp side retry. Bodies and the signature header pass unchanged.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


class RoundRobin:
    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = [urlparse(u) for u in upstreams]
        self.forwarded = [0] * len(upstreams)
        self._turn = itertools.count()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                with proxy._lock:
                    start = next(proxy._turn)
                for i in range(len(proxy.upstreams)):
                    index = (start + i) % len(proxy.upstreams)
                    target = proxy.upstreams[index]
                    connection = http.client.HTTPConnection(
                        str(target.hostname), target.port, timeout=30
                    )
                    try:
                        connection.request(self.command, self.path, body or None, headers)
                        answer = connection.getresponse()
                        data = answer.read()
                    except OSError:
                        continue  # refused or cut: the next upstream
                    finally:
                        connection.close()
                    with proxy._lock:
                        proxy.forwarded[index] += 1
                    with contextlib.suppress(OSError):  # the caller gave up waiting
                        self.send_response(answer.status)
                        for key, value in answer.getheaders():
                            if key.lower() not in HOP_BY_HOP:
                                self.send_header(key, value)
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(data)
                    return
                self.send_response(502)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = _forward  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)


@contextlib.contextmanager
def round_robin(upstreams: list[str]) -> Iterator[RoundRobin]:
    proxy = RoundRobin(upstreams)
    proxy._thread.start()
    try:
        yield proxy
    finally:
        proxy._server.shutdown()
        proxy._server.server_close()
