"""Every setting of the backends service, read from the environment in one place.

Secrets have no defaults: :func:`from_env` raises :class:`ConfigError` naming every
missing or unusable one, and ``python -m backends`` refuses to start with that message.

| variable | default |
| --- | --- |
| ``BACKENDS_DB_URL`` | ``sqlite:///var/backends.db`` (relative paths: from the repo root) |
| ``BACKENDS_HOST`` / ``BACKENDS_PORT`` | ``127.0.0.1`` / ``8000`` |
| ``PUBLIC_URL`` | ``http://127.0.0.1:8000`` (base of payment, download and QR links) |
| ``BACKENDS_SERVICE_TOKEN`` | secret: the action server's bearer token |
| ``BACKENDS_OFFICER_TOKEN`` | secret: key of the officer credentials (``ops.tokens``) |
| ``PAYMENT_WEBHOOK_SECRET`` | secret: HMAC key of the payment webhooks |
| ``CERTIFICATE_SIGNING_KEY`` | secret: HMAC key of certificate tokens and download links |
| ``CERTIFICATE_SIGNING_KID`` | ``k1``: the key id printed in new certificates' QR tokens |
| ``CERTIFICATE_RETIRED_KEYS`` | empty; ``kid=key,...``: earlier signing keys, still accepted |
| | for the certificates they signed (rotate: move the key here, give the new one a new kid) |
| ``PAYMENT_WEBHOOK_URL`` | ``<PUBLIC_URL>/payments/webhook`` (where the sandbox gateway posts) |
| ``DELHI_SEWA_PROFILE`` | empty (``make run``, tests); ``production`` (``deploy/``) refuses the |
| | sandbox payment gateway and needs ``PAYMENT_GATEWAY`` set |
| ``PAYMENT_GATEWAY`` | ``sandbox`` (the default outside production only) or ``razorpay`` |
| ``RAZORPAY_KEY_ID`` / ``RAZORPAY_KEY_SECRET`` | razorpay: API key id and secret (secret) |
| ``RAZORPAY_API_URL`` | ``https://api.razorpay.com/v1`` (orders and status API) |
| ``RAZORPAY_CHECKOUT_URL`` | ``https://api.razorpay.com/v1/checkout/embedded`` (hosted checkout) |
| ``PAYMENT_PENDING_SECONDS`` | ``30``: a pending UPI payment is settled after this |
| ``RECONCILE_INTERVAL_SECONDS`` | ``5``: how often the payment reconciler runs |
| ``GRIEVANCE_SLA_DAYS`` | ``7``: grievance SLA for categories without their own SLA in |
| | ``service_catalogue/grievances.yml`` (may be fractional) |
| ``GRIEVANCE_SLA_DAYS_BY_DEPARTMENT`` | empty; e.g. ``djb=3,mcd=5``: overrides both |
| ``ESCALATION_INTERVAL_SECONDS`` | ``300``: how often overdue grievances are escalated |
| ``STORAGE_DIR`` | ``var/storage`` (certificate PDFs; never served directly) |
| ``WHATSAPP_MEDIA_DIR`` | ``var/media``: the channel's media store (shared with the channel and |
| | the dashboard), where documents' ``storage_ref`` ``media/<sha256>.<ext>`` live; the |
| | backends record which applications and grievances hold each file and erase them |
| ``CHANNEL_URL`` | ``http://127.0.0.1:5005/webhooks/whatsapp/internal`` (the channel's |
| | internal API: ``/notify``, ``/statuses``; docs/internal-apis.md §2) |
| ``WHATSAPP_INTERNAL_TOKEN`` | secret of the channel's internal API; unset: notifications |
| | are queued but not sent (a warning at start) |
| ``BACKENDS_BACKGROUND_TASKS`` | ``1``; ``0`` starts no notification, reminder or status task |
| ``BACKENDS_JOBS`` | ``all``; ``none`` or names of jobs (``backends/jobs.py``) run in-process |
| ``OUTBOX_INTERVAL_SECONDS`` | ``1``: how often new events become notifications and due ones |
| | are sent |
| ``STATUS_SYNC_INTERVAL_SECONDS`` | ``60``: how often delivery/read statuses are pulled |
| ``REMINDER_INTERVAL_SECONDS`` | ``60``: how often due reminders are looked at |
| ``NOTIFY_RETRY_BASE_SECONDS`` / ``NOTIFY_RETRY_MAX_SECONDS`` | ``5`` / ``900``: back-off |
| | (doubling, with jitter) while the channel or WhatsApp is down |
| ``BROADCAST_RATE_PER_SECOND`` | ``80``: messages per second per department number |
| ``REMINDERS_PER_CITIZEN_PER_DAY`` | ``2`` |
| ``BACKENDS_CLOCK_OFFSET_FILE`` | tests only: a file holding seconds added to the clock |
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SECRETS = (
    "BACKENDS_SERVICE_TOKEN",
    "BACKENDS_OFFICER_TOKEN",
    "PAYMENT_WEBHOOK_SECRET",
    "CERTIFICATE_SIGNING_KEY",
)
#: Shorter secrets are refused: they could be guessed.
MIN_SECRET_LENGTH = 16
#: Lifetime of a signed certificate download link.
CERTIFICATE_LINK_SECONDS = 15 * 60
DEFAULT_CHANNEL_URL = "http://127.0.0.1:5005/webhooks/whatsapp/internal"
PAYMENT_GATEWAYS = ("sandbox", "razorpay")
RAZORPAY_API_URL = "https://api.razorpay.com/v1"
RAZORPAY_CHECKOUT_URL = "https://api.razorpay.com/v1/checkout/embedded"
#: A signing key's id, as printed in certificate tokens.
KID = re.compile(r"[A-Za-z0-9_-]{1,16}")


class ConfigError(RuntimeError):
    """The environment does not describe a usable service; the message says why."""


@dataclasses.dataclass(frozen=True)
class Settings:
    db_url: str
    host: str
    port: int
    public_url: str
    service_token: str
    officer_token: str
    webhook_secret: str
    signing_key: str
    payment_webhook_url: str
    payment_pending_seconds: float
    reconcile_interval_seconds: float
    grievance_sla_days: float
    grievance_sla_by_department: dict[str, float]
    escalation_interval_seconds: float
    storage_dir: Path
    channel_url: str = ""
    internal_token: str = ""
    background_tasks: bool = True
    jobs: str = "all"
    outbox_interval_seconds: float = 1.0
    status_sync_interval_seconds: float = 60.0
    reminder_interval_seconds: float = 60.0
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 900.0
    broadcast_rate: float = 80.0
    reminders_per_day: int = 2
    clock_offset_file: Path | None = None
    signing_kid: str = "k1"
    retired_signing_keys: dict[str, str] = dataclasses.field(default_factory=dict)
    media_dir: Path = ROOT / "var" / "media"
    production: bool = False
    payment_gateway: str = "sandbox"
    razorpay_key_id: str = ""
    razorpay_key_secret: str = ""
    razorpay_api_url: str = RAZORPAY_API_URL
    razorpay_checkout_url: str = RAZORPAY_CHECKOUT_URL


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``env`` (default ``os.environ``); :class:`ConfigError` lists problems."""
    env = os.environ if env is None else env
    problems: list[str] = []

    def secret(name: str) -> str:
        value = env.get(name, "")
        if not value:
            problems.append(f"{name} is not set")
        elif len(value) < MIN_SECRET_LENGTH:
            problems.append(f"{name} must be at least {MIN_SECRET_LENGTH} characters")
        return value

    def number(name: str, default: float, minimum: float = 0.0) -> float:
        raw = env.get(name, "")
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            problems.append(f"{name} must be a number, got {raw!r}")
            return default
        if value <= minimum:
            problems.append(f"{name} must be greater than {minimum:g}, got {raw!r}")
        return value

    service_token, officer_token, webhook_secret, signing_key = (secret(n) for n in SECRETS)
    if service_token and service_token == officer_token:
        problems.append("BACKENDS_SERVICE_TOKEN and BACKENDS_OFFICER_TOKEN must differ")

    port = int(number("BACKENDS_PORT", 8000))
    if not 0 < port < 65536:
        problems.append(f"BACKENDS_PORT must be a TCP port, got {port}")

    by_department: dict[str, float] = {}
    for item in filter(None, env.get("GRIEVANCE_SLA_DAYS_BY_DEPARTMENT", "").split(",")):
        department, _, days = item.partition("=")
        try:
            by_department[department.strip()] = float(days)
        except ValueError:
            problems.append(
                f"GRIEVANCE_SLA_DAYS_BY_DEPARTMENT: bad entry {item!r} (want dept=days)"
            )

    public_url = env.get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
    internal_token = env.get("WHATSAPP_INTERNAL_TOKEN", "")
    if internal_token and len(internal_token) < MIN_SECRET_LENGTH:
        problems.append(f"WHATSAPP_INTERNAL_TOKEN must be at least {MIN_SECRET_LENGTH} characters")
    clock_file = env.get("BACKENDS_CLOCK_OFFSET_FILE", "")

    # the same test as ops.profile.production(), on this mapping
    production = env.get("DELHI_SEWA_PROFILE", "").strip().lower() == "production"
    gateway = env.get("PAYMENT_GATEWAY", "") or ("" if production else "sandbox")
    key_id = key_secret = ""
    if gateway not in PAYMENT_GATEWAYS:
        problems.append(f"PAYMENT_GATEWAY must be razorpay (or sandbox for tests), got {gateway!r}")
    elif production and gateway == "sandbox":
        problems.append(
            "PAYMENT_GATEWAY=sandbox in the production profile: its test page lets anyone with "
            "the link mark an order paid; use razorpay"
        )
    elif gateway == "razorpay":
        key_id = env.get("RAZORPAY_KEY_ID", "")
        if not key_id:
            problems.append("RAZORPAY_KEY_ID is not set")
        key_secret = secret("RAZORPAY_KEY_SECRET")
    razorpay_api_url = env.get("RAZORPAY_API_URL", RAZORPAY_API_URL).rstrip("/")
    razorpay_checkout_url = env.get("RAZORPAY_CHECKOUT_URL", RAZORPAY_CHECKOUT_URL)
    if production and not all(
        url.startswith(("https://", "http://127.0.0.1:"))  # or a stand-in on loopback
        for url in (razorpay_api_url, razorpay_checkout_url)
    ):
        problems.append("RAZORPAY_API_URL and RAZORPAY_CHECKOUT_URL must be https in production")
    signing_kid = env.get("CERTIFICATE_SIGNING_KID", "").strip() or "k1"
    if not KID.fullmatch(signing_kid):
        problems.append(f"CERTIFICATE_SIGNING_KID must match {KID.pattern}, got {signing_kid!r}")
    retired: dict[str, str] = {}
    for item in filter(None, env.get("CERTIFICATE_RETIRED_KEYS", "").split(",")):
        kid, _, key = item.strip().partition("=")
        if not KID.fullmatch(kid) or len(key) < MIN_SECRET_LENGTH or kid == signing_kid:
            problems.append(
                "CERTIFICATE_RETIRED_KEYS: bad entry (want kid=key, a key of at least "
                f"{MIN_SECRET_LENGTH} characters, a kid other than the current one)"
            )
        else:
            retired[kid] = key
    settings = Settings(
        db_url=project_db_url(env.get("BACKENDS_DB_URL", "sqlite:///var/backends.db")),
        host=env.get("BACKENDS_HOST", "127.0.0.1"),
        port=port,
        public_url=public_url,
        service_token=service_token,
        officer_token=officer_token,
        webhook_secret=webhook_secret,
        signing_key=signing_key,
        payment_webhook_url=env.get("PAYMENT_WEBHOOK_URL", f"{public_url}/payments/webhook"),
        payment_pending_seconds=number("PAYMENT_PENDING_SECONDS", 30),
        reconcile_interval_seconds=number("RECONCILE_INTERVAL_SECONDS", 5),
        grievance_sla_days=number("GRIEVANCE_SLA_DAYS", 7),
        grievance_sla_by_department=by_department,
        escalation_interval_seconds=number("ESCALATION_INTERVAL_SECONDS", 300),
        storage_dir=project_path(env.get("STORAGE_DIR", "var/storage")),
        channel_url=env.get("CHANNEL_URL", DEFAULT_CHANNEL_URL).rstrip("/"),
        internal_token=internal_token,
        background_tasks=env.get("BACKENDS_BACKGROUND_TASKS", "1") != "0",
        jobs=env.get("BACKENDS_JOBS", "all"),
        outbox_interval_seconds=number("OUTBOX_INTERVAL_SECONDS", 1),
        status_sync_interval_seconds=number("STATUS_SYNC_INTERVAL_SECONDS", 60),
        reminder_interval_seconds=number("REMINDER_INTERVAL_SECONDS", 60),
        retry_base_seconds=number("NOTIFY_RETRY_BASE_SECONDS", 5),
        retry_max_seconds=number("NOTIFY_RETRY_MAX_SECONDS", 900),
        broadcast_rate=number("BROADCAST_RATE_PER_SECOND", 80),
        reminders_per_day=int(number("REMINDERS_PER_CITIZEN_PER_DAY", 2)),
        clock_offset_file=project_path(clock_file) if clock_file else None,
        signing_kid=signing_kid,
        retired_signing_keys=retired,
        media_dir=project_path(env.get("WHATSAPP_MEDIA_DIR", "var/media")),
        production=production,
        payment_gateway=gateway,
        razorpay_key_id=key_id,
        razorpay_key_secret=key_secret,
        razorpay_api_url=razorpay_api_url,
        razorpay_checkout_url=razorpay_checkout_url,
    )
    if problems:
        raise ConfigError("the backends service cannot start:\n  - " + "\n  - ".join(problems))
    return settings


def project_path(value: str) -> Path:
    """A configured path; relative ones are taken from the repository root."""
    path = Path(value)
    return path if path.is_absolute() else ROOT / path


def project_db_url(url: str) -> str:
    """SQLite file paths are taken relative to the repository root, not the cwd."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != "sqlite:///:memory:":
        path = url[len(prefix) :]
        if path and not path.startswith("/"):
            return prefix + str(ROOT / path)
    return url
