"""Rasa's structlog events in our JSON logs: one flat object, not JSON inside ``event``."""

import json
import logging

import pytest
import structlog

from ops.logs import configure_logging


@pytest.fixture
def rasa_structlog(monkeypatch):
    """Rasa's own structlog set-up, as ``rasa run`` makes it outside a terminal (JSON)."""
    from rasa.utils import log_utils

    monkeypatch.setattr(log_utils, "FORCE_JSON_LOGGING", "1")
    factory = logging.getLogRecordFactory()
    formatters = {h: h.formatter for h in logging.getLogger().handlers}
    log_utils.configure_structlog(logging.DEBUG)
    yield
    structlog.reset_defaults()
    logging.setLogRecordFactory(factory)
    for handler, formatter in formatters.items():
        handler.setFormatter(formatter)


def test_a_rasa_event_is_one_flat_masked_json_line(rasa_structlog, tmp_path, monkeypatch):
    monkeypatch.setenv("LOG_DIR", str(tmp_path))
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        configure_logging("rasa")
        structlog.get_logger().info(
            "processor.actions.log",
            action_name="action_application_status",
            sender_id="919812345678",
            rasa_events=[{"event": "slot", "name": "mobile", "value": 9812345678}],
        )
        for handler in root.handlers:
            handler.flush()
        lines = (tmp_path / "rasa.log").read_text(encoding="utf-8").splitlines()
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
                handler.close()
    entry = json.loads(lines[-1])
    assert entry["event"] == "processor.actions.log"
    assert entry["level"] == "INFO" and entry["service"] == "rasa"
    assert entry["action_name"] == "action_application_status"
    assert entry["sender_id"] == "91XXXXXX5678"
    assert entry["rasa_events"] == [{"event": "slot", "name": "mobile", "value": "XXXXXX5678"}]
    assert "919812345678" not in lines[-1] and "9812345678" not in lines[-1]


def test_text_that_only_looks_like_json_stays_text(tmp_path, monkeypatch):
    monkeypatch.setenv("LOG_DIR", str(tmp_path))
    root = logging.getLogger()
    before = list(root.handlers)
    factory = logging.getLogRecordFactory()
    try:
        configure_logging("backends")
        logging.getLogger("backends.web").info('{"no event key": 1}')
        for handler in root.handlers:
            handler.flush()
        lines = (tmp_path / "backends.log").read_text(encoding="utf-8").splitlines()
    finally:
        logging.setLogRecordFactory(factory)
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
                handler.close()
    assert json.loads(lines[-1])["event"] == '{"no event key": 1}'
