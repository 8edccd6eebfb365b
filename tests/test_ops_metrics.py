"""/metrics with several workers: prometheus_client's multiprocess mode sums them."""

import os
import subprocess
import sys
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.processes import child_process, free_port

ROOT = Path(__file__).resolve().parents[1]

WORKER = """
import sys
from ops.metrics import REGISTRY
REGISTRY.service = "backends"
for _ in range(int(sys.argv[1])):
    REGISTRY.observe_request("POST", "/edistrict/applications", 201, 0.2)
REGISTRY.observe_request("GET", "/citizens/<wa_id:str>", 404, 3.0)
if sys.argv[2] == "render":
    print(REGISTRY.render())
"""


def _worker(count: int, then: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(count), then],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_two_workers_report_the_sum_of_their_requests(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    _worker(3, "exit", env)  # one worker answered 3 applications (and has since stopped)
    text = _worker(2, "render", env)  # the other answered 2, and answers the scrape
    samples = _samples(text)
    created = (("method", "POST"), ("route", "/edistrict/applications"))
    created += (("service", "backends"), ("status", "201"))
    assert samples[("http_requests_total", created)] == 5
    missing = (("method", "GET"), ("route", "/citizens/<wa_id:str>"))
    missing += (("service", "backends"), ("status", "404"))
    assert samples[("http_requests_total", missing)] == 2
    slow = (("le", "2.5"), ("route", "/citizens/<wa_id:str>"), ("service", "backends"))
    assert samples[("http_request_duration_seconds_bucket", slow)] == 0
    every = (("le", "+Inf"), ("route", "/citizens/<wa_id:str>"), ("service", "backends"))
    assert samples[("http_request_duration_seconds_bucket", every)] == 2
    assert samples[("process_resident_memory_bytes", (("service", "backends"),))] > 0


def test_one_process_without_the_directory_counts_for_itself(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    text = _worker(4, "render", env)
    assert text.startswith("# HELP http_requests_total ")
    created = (("method", "POST"), ("route", "/edistrict/applications"))
    created += (("service", "backends"), ("status", "201"))
    assert _samples(text)[("http_requests_total", created)] == 4
    assert "_created" not in text


TWO_WORKERS = """
import sys
from sanic import Sanic, response
import ops

app = Sanic("two_workers")


@app.get("/ping")
async def ping(_):
    return response.text("pong")


ops.install(app, "backends")
app.run(host="127.0.0.1", port=int(sys.argv[1]), workers=2, access_log=False)
"""


def test_a_sanic_service_with_two_workers_counts_every_request_on_any_scrape(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}  # made
    command = [sys.executable, "-c", TWO_WORKERS, str(port)]
    with child_process(command, env, tmp_path / "log", f"{url}/health", "two workers", 60):
        for _ in range(30):  # a new connection each: the workers share them out
            requests.get(f"{url}/ping", headers={"Connection": "close"}, timeout=5)
        counts = set()
        for _ in range(8):  # whichever worker answers the scrape
            text = requests.get(f"{url}/metrics", headers={"Connection": "close"}, timeout=5).text
            counts.add(
                sum(
                    value
                    for (name, labels), value in _samples(text).items()
                    if name == "http_requests_total" and ("route", "/ping") in labels
                )
            )
    assert counts == {30}
