"""Structured JSON logs in UTC with personal data masked, kept for a configurable time.

Every record of every logger (ours, Rasa's, sanic's, SQLAlchemy's) is masked when it is
created (``logging.setLogRecordFactory``), so no handler, whoever installed it, can
write a phone number or an Aadhaar number; every handler on the root logger and on
sanic's loggers then formats it as one JSON object per line:

    {"ts": "2026-12-04T14:07:20.123Z", "level": "INFO", "service": "backends",
     "logger": "backends.web", "event": "POST /edistrict/applications 201 12ms"}

Masking (``privacy.mask_personal_numbers``, the one masker of the project): Indian mobile
numbers and WhatsApp ids keep their last four digits (``91XXXXXX1234``, ``XXXXXX1234``),
Aadhaar numbers too (``XXXX-XXXX-1234``, however they are typed: dots, double or no-break
spaces, Devanagari digits), and any other run of 11-15 digits is treated as an
international wa_id.

Retention (CERT-In: 180 days): with ``LOG_DIR`` set, logs also go to
``$LOG_DIR/<service>.log``, rotated at midnight UTC and kept ``LOG_RETENTION_DAYS``
(default 180) days. Without it they go to stdout only, for journald / the container
runtime, whose retention docs/operations.md configures.

Rasa's own events come through structlog, which renders each as a JSON object string
(``{"event": "processor.actions.policy_prediction", "level": "debug", "action": ...}``)
handed to a standard logger. Such a record is unpacked rather than nested as a string: its
``event`` becomes ours and its other fields join the line, masked like the rest.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import sys
import time
from pathlib import Path
from typing import Any

from privacy import mask_personal_numbers

DEFAULT_RETENTION_DAYS = 180
SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access", "sanic.server")


def mask(text: str) -> str:
    """``text`` with phone numbers, wa_ids and Aadhaar numbers reduced to their last 4
    (``privacy.mask_personal_numbers``: the masker the channel and the backends share)."""
    return mask_personal_numbers(text)


def retention_days() -> int:
    value = os.environ.get("LOG_RETENTION_DAYS", "")
    days = int(value) if value.strip() else DEFAULT_RETENTION_DAYS
    if days < 1:
        raise ValueError("LOG_RETENTION_DAYS must be at least 1")
    return days


class JsonFormatter(logging.Formatter):
    """One JSON object per line; UTC timestamps; exception text masked too."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "event": mask(record.getMessage()),
        }
        for key, value in getattr(record, "structured", {}).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


_base_factory = logging.getLogRecordFactory()


def _masked(value: Any) -> Any:
    """``value`` (a structlog field) with personal numbers masked, JSON types kept."""
    if isinstance(value, str):
        return mask(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        text = str(value)
        return value if mask(text) == text else mask(text)
    if isinstance(value, list):
        return [_masked(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _masked(item) for key, item in value.items()}
    return mask(str(value))


def _structlog_event(message: str) -> dict[str, Any] | None:
    """The fields of a structlog JSON rendering (Rasa's events), or None for other text."""
    if not (message.startswith("{") and message.endswith("}")):
        return None
    try:
        fields = json.loads(message)
    except ValueError:
        return None
    if not isinstance(fields, dict) or not isinstance(fields.get("event"), str):
        return None
    return fields


def _masking_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        return record  # a broken format string: left for logging's own error report
    fields = _structlog_event(message)
    if fields is not None:
        message = fields.pop("event")
        fields.pop("level", None)  # the record's level says it
        record.structured = _masked(fields)
    record.msg, record.args = mask(message), None
    return record


def configure_logging(service: str, level: int | None = None) -> None:
    """JSON, masked, UTC logs for this process; safe to call again (e.g. per worker)."""
    if logging.getLogRecordFactory() is not _masking_factory:
        logging.setLogRecordFactory(_masking_factory)
    formatter = JsonFormatter(service)
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stdout))
    if level is not None:
        root.setLevel(level)
    elif root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    log_dir = os.environ.get("LOG_DIR")
    if log_dir and not any(getattr(h, "ops_retention", False) for h in root.handlers):
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        rotating = logging.handlers.TimedRotatingFileHandler(
            Path(log_dir) / f"{service}.log",
            when="midnight",
            utc=True,
            backupCount=retention_days(),
            encoding="utf-8",
        )
        rotating.ops_retention = True  # type: ignore[attr-defined]
        root.addHandler(rotating)
    handlers = list(root.handlers)
    for name in SANIC_LOGGERS:
        handlers.extend(logging.getLogger(name).handlers)
    for handler in handlers:
        handler.setFormatter(formatter)
