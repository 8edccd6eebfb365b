"""Operations: what lands in the logs and on /health and /metrics."""

import contextlib
import json
import logging
import re

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sanic import Sanic, response

import ops
from ops.logs import JsonFormatter, configure_logging, mask, retention_days
from tests.support.services import free_port


@contextlib.asynccontextmanager
async def serving(app):
    """The app on a free loopback port, in this event loop; yields a GET helper."""
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.before_start()
    await server.after_start()

    async def get(path, **kwargs):
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}{path}", **kwargs) as answer:
                return answer.status, answer.headers.get("Content-Type", ""), await answer.text()

    try:
        yield get
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("from 919812345678 at 10:02", "from 91XXXXXX5678 at 10:02"),
        ("aadhaar 2345 6789 0123", "aadhaar XXXX-XXXX-0123"),
        ("aadhaar 2345-6789-0123.", "aadhaar XXXX-XXXX-0123."),
        ("uid=234567890123", "uid=XXXX-XXXX-0123"),
        ("mobile 9812345678", "mobile XXXXXX5678"),
        ("wa_id 447700900123456", "wa_id XXXXXXX3456"),
        ("APP-2026-000001 paid 1500 at 1733312345", "APP-2026-000001 paid 1500 at 1733312345"),
        # issue 13: what the log masker used to miss (privacy.mask_personal_numbers now)
        ("uid 2345.6789.0124 ok", "uid XXXX-XXXX-0124 ok"),
        ("uid 2345  6789  0124", "uid XXXX-XXXX-0124"),
        ("uid 2345\u00a06789\u00a00124", "uid XXXX-XXXX-0124"),
        ("uid २३४५ ६७८९ ०१२४", "uid XXXX-XXXX-0124"),
        ("file Aadhaar_2345_6789_0124.pdf", "file Aadhaar_XXXX-XXXX-0124.pdf"),
        ("mobile 98123 45678", "mobile XXXXXX5678"),
    ],
)
def test_personal_numbers_keep_only_their_last_four_digits(text, expected):
    assert mask(text) == expected


@pytest.fixture(autouse=True)
def logging_restored():
    """configure_logging changes process-wide logging: put it back for the other tests."""
    factory = logging.getLogRecordFactory()
    formatters = {h: h.formatter for h in logging.getLogger().handlers}
    yield
    logging.setLogRecordFactory(factory)
    for handler, formatter in formatters.items():
        handler.setFormatter(formatter)


def test_every_handler_writes_masked_json_in_utc(tmp_path, monkeypatch):
    monkeypatch.setenv("LOG_DIR", str(tmp_path))
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        configure_logging("test-service")
        logging.getLogger("rasa.core.processor").warning(
            "message from %s with aadhaar %s", "919812345678", "2345 6789 0123"
        )
        try:
            raise ValueError("bad number 919812345678")
        except ValueError:
            logging.getLogger("sanic.error").exception("failed for 919812345678")
        for handler in root.handlers:
            handler.flush()
        lines = (tmp_path / "test-service.log").read_text(encoding="utf-8").splitlines()
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
                handler.close()
    first, second = (json.loads(line) for line in lines[-2:])
    assert first["event"] == "message from 91XXXXXX5678 with aadhaar XXXX-XXXX-0123"
    assert first["level"] == "WARNING" and first["service"] == "test-service"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["ts"])
    assert "919812345678" not in "\n".join(lines)
    assert "ValueError: bad number 91XXXXXX5678" in second["exception"]


def test_retention_is_180_days_unless_configured(monkeypatch):
    monkeypatch.delenv("LOG_RETENTION_DAYS", raising=False)
    assert retention_days() == 180
    monkeypatch.setenv("LOG_RETENTION_DAYS", "365")
    assert retention_days() == 365
    monkeypatch.setenv("LOG_RETENTION_DAYS", "0")
    with pytest.raises(ValueError):
        retention_days()


def test_formatter_timestamps_are_utc():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    record.created, record.msecs = 0.0, 0
    assert json.loads(JsonFormatter("s").format(record))["ts"] == "1970-01-01T00:00:00.000Z"


def _app(name):
    app = Sanic(name, configure_logging=False, register=False)

    @app.get("/citizens/<wa_id>")
    async def citizen(_, wa_id):
        return response.json({"ok": True})

    return app


async def test_health_and_metrics_on_an_app(monkeypatch):
    monkeypatch.delenv("METRICS_TOKEN", raising=False)
    app = _app("ops_app")
    database_up = {"value": True}
    ops.install(app, "backends", checks={"database": lambda: database_up["value"]})
    async with serving(app) as get:
        status, _, _ = await get("/citizens/919812345678")
        assert status == 200
        status, _, body = await get("/health")
        assert status == 200 and json.loads(body) == {"status": "ok", "service": "backends"}
        database_up["value"] = False
        status, _, body = await get("/health")
        assert status == 503 and json.loads(body)["failing"] == ["database"]
        _, content_type, text = await get("/metrics")
        monkeypatch.setenv("METRICS_TOKEN", "metrics-token-0123456789")
        refused, _, _ = await get("/metrics")
        bearer = {"Authorization": "Bearer metrics-token-0123456789"}
        allowed, _, _ = await get("/metrics", headers=bearer)
    assert (refused, allowed) == (401, 200)
    assert content_type.startswith("text/plain; version=0.0.4")
    # counted by route pattern: no citizen's number in a label
    requests = {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "http_requests_total"
    }
    labels = {"service": "backends", "method": "GET", "route": "/citizens/<wa_id:str>"}
    assert requests[tuple(sorted({**labels, "status": "200"}.items()))] == 1
    assert "919812345678" not in text
    assert re.search(r'process_resident_memory_bytes\{service="backends"\} [1-9]', text)
