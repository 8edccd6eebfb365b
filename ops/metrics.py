"""A minimal Prometheus text-format registry: request counters, latency, process memory.

Each service process has one :data:`REGISTRY`; ``/metrics`` renders it (format 0.0.4).
Services add their own readings with :meth:`Registry.gauge_callback`, e.g. the
channel's inbox depth.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from collections import defaultdict
from collections.abc import Callable

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, float("inf"))
Labels = tuple[tuple[str, str], ...]


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in labels
    )
    return "{" + inner + "}"


def _rss_bytes() -> int:
    try:
        with open(f"/proc/{os.getpid()}/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize()
    except OSError:
        return 0


class Registry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[Labels, int] = defaultdict(int)
        self._buckets: dict[str, list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self._sums: dict[str, float] = defaultdict(float)
        self._counts: dict[str, int] = defaultdict(int)
        self._gauges: dict[str, tuple[str, Callable[[], float]]] = {}
        self.started = time.time()
        self.service = "unknown"

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self._requests[(("method", method), ("route", route), ("status", str(status)))] += 1
            buckets = self._buckets[route]
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    buckets[i] += 1
            self._sums[route] += seconds
            self._counts[route] += 1

    def gauge_callback(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        self._gauges[name] = (help_text, read)

    def render(self) -> str:
        service = (("service", self.service),)
        lines = [
            "# HELP http_requests_total HTTP requests answered, by route and status.",
            "# TYPE http_requests_total counter",
        ]
        with self._lock:
            for labels, value in sorted(self._requests.items()):
                lines.append(f"http_requests_total{_labels(service + labels)} {value}")
            lines += [
                "# HELP http_request_duration_seconds Time to answer, by route.",
                "# TYPE http_request_duration_seconds histogram",
            ]
            for route, buckets in sorted(self._buckets.items()):
                base = service + (("route", route),)
                for bound, count in zip(BUCKETS, buckets):
                    le = "+Inf" if bound == float("inf") else repr(bound)
                    bucket = _labels(base + (("le", le),))
                    lines.append(f"http_request_duration_seconds_bucket{bucket} {count}")
                lines.append(
                    f"http_request_duration_seconds_sum{_labels(base)} {self._sums[route]}"
                )
                lines.append(
                    f"http_request_duration_seconds_count{_labels(base)} {self._counts[route]}"
                )
        readings: dict[str, tuple[str, Callable[[], float]]] = {
            "process_resident_memory_bytes": ("Resident memory.", lambda: float(_rss_bytes())),
            "process_start_time_seconds": ("Start time, Unix seconds.", lambda: self.started),
            **self._gauges,
        }
        for name, (help_text, read) in readings.items():
            try:
                reading = float(read())
            except Exception:  # noqa: BLE001 - a failing reading must not hide the others
                reading = float("nan")
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
            lines.append(f"{name}{_labels(service)} {reading}")
        return "\n".join(lines) + "\n"


REGISTRY = Registry()
