"""Request counters, latency and process readings through ``prometheus_client``.

Each service process has one :data:`REGISTRY`; ``/metrics`` renders it (Prometheus text,
format 0.0.4). Services add their own readings with :meth:`Registry.gauge_callback`,
e.g. the channel's inbox depth.

Several workers (``sanic --workers N``, Rasa's workers): set ``PROMETHEUS_MULTIPROC_DIR``
to an empty directory shared by the service's processes *before they start* (the
client reads it when it is imported, and the directory must be emptied on each
deployment). Every process then writes its counters and histograms to that directory,
and ``/metrics``, whichever worker answers, reports the sum over all of them. Without
the variable each process counts for itself, in its own registry (one worker, tests).

``process_resident_memory_bytes``, ``process_start_time_seconds`` and the readings added
with :meth:`Registry.gauge_callback` are read, when ``/metrics`` is asked, in the process
that answers.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.metrics import disable_created_metrics
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, float("inf"))

# the old registry had no *_created series; keep /metrics as it was
disable_created_metrics()


def _rss_bytes() -> int:
    try:
        with open(f"/proc/{os.getpid()}/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize()
    except OSError:
        return 0


class _ProcessReadings(Collector):
    """A collector of this process's readings, taken when ``/metrics`` is asked."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        registry = self.registry
        readings: dict[str, tuple[str, Callable[[], float]]] = {
            "process_resident_memory_bytes": ("Resident memory.", lambda: float(_rss_bytes())),
            "process_start_time_seconds": ("Start time, Unix seconds.", lambda: registry.started),
            **registry._gauges,
        }
        for name, (help_text, read) in readings.items():
            try:
                reading = float(read())
            except Exception:  # noqa: BLE001 - a failing reading must not hide the others
                reading = float("nan")
            family = GaugeMetricFamily(name, help_text, labels=["service"])
            family.add_metric([registry.service], reading)
            yield family


class Registry:
    """The service's metrics; multiprocess when ``PROMETHEUS_MULTIPROC_DIR`` is set."""

    def __init__(self) -> None:
        self.multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
        if self.multiprocess_dir is not None:
            os.makedirs(self.multiprocess_dir, exist_ok=True)
        self.started = time.time()
        self.service = "unknown"
        self._own = CollectorRegistry(auto_describe=True)
        self._requests = Counter(
            "http_requests",
            "HTTP requests answered, by route and status.",
            ["service", "method", "route", "status"],
            registry=self._own,
        )
        self._duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer, by route.",
            ["service", "route"],
            buckets=BUCKETS,
            registry=self._own,
        )
        self._gauges: dict[str, tuple[str, Callable[[], float]]] = {}
        self._readings = _ProcessReadings(self)
        self._own.register(self._readings)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self._requests.labels(self.service, method, route, str(status)).inc()
        self._duration.labels(self.service, route).observe(seconds)

    def gauge_callback(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        self._gauges[name] = (help_text, read)

    def render(self) -> str:
        if self.multiprocess_dir is None:
            return generate_latest(self._own).decode()
        # every worker's files in the shared directory, summed; this process's readings
        merged = CollectorRegistry(auto_describe=True)
        MultiProcessCollector(merged, path=self.multiprocess_dir)
        merged.register(self._readings)
        return generate_latest(merged).decode()


REGISTRY = Registry()
