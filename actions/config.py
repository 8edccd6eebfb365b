"""Every setting of the action server, read from the environment in one place."""

from __future__ import annotations

import os

# Version of the DPDP privacy notice shown by utter_consent_notice; change it whenever
# that text changes, so each recorded consent says which notice it was given to.
CONSENT_NOTICE_VERSION = os.environ.get("CONSENT_NOTICE_VERSION", "2026-11")

# A message whose language is only weakly indicated (one word such as "ok" or "yes")
# does not switch an established reply language.
LANGUAGE_SWITCH_MIN_EVIDENCE = int(os.environ.get("LANGUAGE_SWITCH_MIN_EVIDENCE", "2"))

# Consecutive misunderstood messages before the assistant offers an officer.
FALLBACKS_BEFORE_HUMAN = int(os.environ.get("FALLBACKS_BEFORE_HUMAN", "2"))


def _seconds(name: str, default: str) -> float:
    value = float(os.environ.get(name, default))
    if value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value}")
    return value


# Backends (docs/backends-api.md). Each may point at a department's real portal; the
# project's own `backends/` service answers all three paths on one port by default.
EDISTRICT_URL = os.environ.get("EDISTRICT_URL", "http://127.0.0.1:8000")
PAYMENTS_URL = os.environ.get("PAYMENTS_URL", "http://127.0.0.1:8000")
# Also serves POST /feedback.
GRIEVANCE_URL = os.environ.get("GRIEVANCE_URL", "http://127.0.0.1:8000")

# The WhatsApp channel's internal API (docs/internal-apis.md §2): erasure of the chat.
CHANNEL_URL = os.environ.get("CHANNEL_URL", "http://127.0.0.1:5005/webhooks/whatsapp/internal")
# Secret: bearer token for that API. No default, like BACKENDS_SERVICE_TOKEN.
WHATSAPP_INTERNAL_TOKEN = os.environ.get("WHATSAPP_INTERNAL_TOKEN", "")

# Secret: bearer token the action server presents to every backend (it acts for the
# citizen named in X-Citizen-Id). No default on purpose: set it in the environment or a
# secret store, never in a file; left empty, every backend call is refused with 401.
BACKENDS_SERVICE_TOKEN = os.environ.get("BACKENDS_SERVICE_TOKEN", "")

# Seconds to open a connection and to wait for an answer. Kept short: a citizen is waiting.
API_CONNECT_TIMEOUT = _seconds("API_CONNECT_TIMEOUT", "2")
API_READ_TIMEOUT = _seconds("API_READ_TIMEOUT", "5")
# Extra attempts after a timeout, connection error or 5xx, only for calls that are safe
# to repeat (GET, and POST with an Idempotency-Key); the back-off doubles each time.
API_RETRIES = max(0, int(os.environ.get("API_RETRIES", "2")))
API_RETRY_BACKOFF = float(os.environ.get("API_RETRY_BACKOFF", "0.3"))


def _hour(name: str, default: str) -> int:
    value = int(os.environ.get(name, default))
    if not 0 <= value <= 24:
        raise ValueError(f"{name} must be an hour from 0 to 24, got {value}")
    return value


# When department officers answer chats (IST): Monday to Saturday, 10:00 to 18:00.
OFFICE_OPENS = _hour("OFFICE_OPENS", "10")
OFFICE_CLOSES = _hour("OFFICE_CLOSES", "18")
if OFFICE_OPENS >= OFFICE_CLOSES:
    raise ValueError("OFFICE_OPENS must be before OFFICE_CLOSES")
