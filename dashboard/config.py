"""Every setting of the dashboard, read from the environment in one place.

Secrets have no defaults: :func:`Settings.from_env` raises :class:`ConfigError` naming
every missing or unusable one, and ``python -m dashboard`` refuses to start with it.

| variable | default |
| --- | --- |
| ``DASHBOARD_DB_URL`` | ``sqlite:///var/dashboard.db`` (users, sessions, audit log, CSC filings) |
| ``DASHBOARD_HOST`` / ``DASHBOARD_PORT`` | ``127.0.0.1`` / ``8100`` |
| ``DASHBOARD_SECRET_KEY`` | secret: keys the CSRF tokens |
| ``DASHBOARD_SECURE_COOKIES`` | ``0``; ``1`` marks the session cookie ``Secure`` (HTTPS) |
| ``METRICS_TOKEN`` | secret, required in production (``DELHI_SEWA_PROFILE=production`` or |
| | ``DASHBOARD_SECURE_COOKIES=1``): |
| | ``/metrics`` answers only ``Authorization: Bearer <it>``; open when unset (``make run``) |
| ``DASHBOARD_TRUSTED_PROXY`` | empty; set (to anything) when behind a reverse proxy, so the |
| | client address is taken from ``X-Forwarded-For`` |
| ``DASHBOARD_SESSION_IDLE_MINUTES`` | ``30``: a session unused this long ends |
| ``DASHBOARD_SESSION_MAX_HOURS`` | ``10``: a session ends this long after sign-in |
| ``DASHBOARD_LOGIN_MAX_FAILURES`` | ``5`` failed sign-ins per username+address ... |
| ``DASHBOARD_LOGIN_WINDOW_MINUTES`` | ``15`` ... within this window lock that pair for the window |
| ``DASHBOARD_LOGIN_ACCOUNT_MAX_FAILURES`` | ``10`` failed sign-ins for one username from any |
| | address within a day lock the account, whatever the address ... |
| ``DASHBOARD_LOGIN_BACKOFF_SECONDS`` | ``30`` ... for this long, doubled with each further |
| | failure ... |
| ``DASHBOARD_LOGIN_BACKOFF_MAX_MINUTES`` | ``60`` ... up to this long |
| ``DASHBOARD_URL_PREFIX`` | empty; ``/dashboard`` when nginx mounts the dashboard there: every |
| | link, form, redirect and static path the dashboard emits starts with it |
| ``BACKENDS_URL`` | ``http://127.0.0.1:8000`` |
| ``BACKENDS_OFFICER_TOKEN`` | secret: signs the officer credentials sent to the backends |
| ``BACKENDS_SERVICE_TOKEN`` | secret: CSC filings, made for the citizen (``X-Citizen-Id``) |
| ``BACKENDS_TIMEOUT_SECONDS`` | ``10`` |
| ``CHANNEL_URL`` | ``http://127.0.0.1:5005/webhooks/whatsapp/internal`` |
| ``WHATSAPP_INTERNAL_TOKEN`` | secret: the channel's internal API |
| ``EVENTS_DB_URL`` | ``sqlite:///var/events.db`` (Rasa's SQL event broker) |
| ``WHATSAPP_MEDIA_DIR`` | ``var/media``: the channel's media store, where documents' |
| | ``storage_ref`` (``media/<sha256>.<ext>``) live; CSC uploads are stored there too |
| ``DASHBOARD_HANDOFF_STALE_MINUTES`` | ``15``: handoffs held this long are flagged to |
| | supervisors (0: every one); the channel ends a silent one itself after |
| | ``WHATSAPP_HANDOFF_TIMEOUT_MINUTES`` |
| ``DASHBOARD_NLU_DOMAIN`` | ``domain.yml``: the intents trainers choose from |
| ``DASHBOARD_NLU_DATA`` | ``data/nlu``: the training data exports are de-duplicated against |
| ``DASHBOARD_NLU_HELDOUT`` | ``bench/heldout``: test sentences exports never include |
| ``SMS_GATEWAY`` | ``console``: how CSC counter codes are texted (``dashboard/sms.py``): |
| | ``console`` (the log), ``file`` (JSON lines in ``SMS_FILE``, default |
| | ``var/sms.jsonl``) or ``http`` (``SMS_URL``, ``SMS_TOKEN``, ``SMS_SENDER``) |
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

from backends.config import project_db_url, project_path

#: Shorter secrets are refused: they could be guessed.
MIN_SECRET_LENGTH = 16


class ConfigError(RuntimeError):
    """The environment does not describe a usable dashboard; the message says why."""


DEFAULT_DB_URL = "sqlite:///var/dashboard.db"


def db_url(env: Mapping[str, str] | None = None) -> str:
    """``DASHBOARD_DB_URL`` alone (the users CLI needs nothing else)."""
    env = os.environ if env is None else env
    return project_db_url(env.get("DASHBOARD_DB_URL", DEFAULT_DB_URL))


def url_prefix(raw: str, problems: list[str]) -> str:
    """``DASHBOARD_URL_PREFIX`` as ``/dashboard`` (leading slash, no trailing one), or ``""``."""
    prefix = raw.strip().rstrip("/")
    if not prefix:
        return ""
    if (
        not prefix.startswith("/")
        or prefix.startswith("//")
        or any(c in prefix for c in "?#\\\"'<> ")
    ):
        problems.append(f"DASHBOARD_URL_PREFIX must be a path such as /dashboard, got {raw!r}")
        return ""
    return prefix


@dataclasses.dataclass(frozen=True)
class Settings:
    db_url: str
    host: str
    port: int
    secret_key: str
    secure_cookies: bool
    trusted_proxy: bool
    session_idle_seconds: float
    session_max_seconds: float
    login_max_failures: int
    login_window_seconds: float
    backends_url: str
    backends_officer_token: str
    backends_service_token: str
    backends_timeout_seconds: float
    channel_url: str
    whatsapp_internal_token: str
    events_db_url: str
    media_dir: Path
    handoff_stale_seconds: float = 15 * 60
    login_account_max_failures: int = 10
    login_backoff_seconds: float = 30
    login_backoff_max_seconds: float = 3600
    url_prefix: str = ""
    nlu_domain: Path = project_path("domain.yml")
    nlu_data: Path = project_path("data/nlu")
    nlu_heldout: Path = project_path("bench/heldout")
    sms_gateway: str = "console"
    sms_file: Path = project_path("var/sms.jsonl")
    sms_url: str = ""
    sms_token: str = ""
    sms_sender: str = "DLSEWA"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
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

        def number(name: str, default: float) -> float:
            raw = env.get(name, "")
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError:
                problems.append(f"{name} must be a number, got {raw!r}")
                return default
            if value <= 0:
                problems.append(f"{name} must be greater than 0, got {raw!r}")
            return value

        def minutes(name: str, default: float) -> float:
            raw = env.get(name, "")
            try:
                value = float(raw) if raw else default
            except ValueError:
                problems.append(f"{name} must be a number, got {raw!r}")
                return default
            if value < 0:
                problems.append(f"{name} must not be negative, got {raw!r}")
            return value

        port = int(number("DASHBOARD_PORT", 8100))
        if not 0 < port < 65536:
            problems.append(f"DASHBOARD_PORT must be a TCP port, got {port}")
        settings = cls(
            db_url=db_url(env),
            host=env.get("DASHBOARD_HOST", "127.0.0.1"),
            port=port,
            secret_key=secret("DASHBOARD_SECRET_KEY"),
            secure_cookies=env.get("DASHBOARD_SECURE_COOKIES", "0") == "1",
            trusted_proxy=bool(env.get("DASHBOARD_TRUSTED_PROXY", "")),
            session_idle_seconds=number("DASHBOARD_SESSION_IDLE_MINUTES", 30) * 60,
            session_max_seconds=number("DASHBOARD_SESSION_MAX_HOURS", 10) * 3600,
            login_max_failures=int(number("DASHBOARD_LOGIN_MAX_FAILURES", 5)),
            login_window_seconds=number("DASHBOARD_LOGIN_WINDOW_MINUTES", 15) * 60,
            backends_url=env.get("BACKENDS_URL", "http://127.0.0.1:8000").rstrip("/"),
            backends_officer_token=secret("BACKENDS_OFFICER_TOKEN"),
            backends_service_token=secret("BACKENDS_SERVICE_TOKEN"),
            backends_timeout_seconds=number("BACKENDS_TIMEOUT_SECONDS", 10),
            channel_url=env.get(
                "CHANNEL_URL", "http://127.0.0.1:5005/webhooks/whatsapp/internal"
            ).rstrip("/"),
            whatsapp_internal_token=secret("WHATSAPP_INTERNAL_TOKEN"),
            events_db_url=project_db_url(env.get("EVENTS_DB_URL", "sqlite:///var/events.db")),
            media_dir=project_path(env.get("WHATSAPP_MEDIA_DIR", "var/media")),
            handoff_stale_seconds=minutes("DASHBOARD_HANDOFF_STALE_MINUTES", 15) * 60,
            login_account_max_failures=int(number("DASHBOARD_LOGIN_ACCOUNT_MAX_FAILURES", 10)),
            login_backoff_seconds=number("DASHBOARD_LOGIN_BACKOFF_SECONDS", 30),
            login_backoff_max_seconds=number("DASHBOARD_LOGIN_BACKOFF_MAX_MINUTES", 60) * 60,
            url_prefix=url_prefix(env.get("DASHBOARD_URL_PREFIX", ""), problems),
            nlu_domain=project_path(env.get("DASHBOARD_NLU_DOMAIN", "domain.yml")),
            nlu_data=project_path(env.get("DASHBOARD_NLU_DATA", "data/nlu")),
            nlu_heldout=project_path(env.get("DASHBOARD_NLU_HELDOUT", "bench/heldout")),
            sms_gateway=env.get("SMS_GATEWAY", "console"),
            sms_file=project_path(env.get("SMS_FILE", "var/sms.jsonl")),
            sms_url=env.get("SMS_URL", ""),
            sms_token=env.get("SMS_TOKEN", ""),
            sms_sender=env.get("SMS_SENDER", "DLSEWA"),
        )
        if settings.sms_gateway not in ("console", "file", "http"):
            problems.append(
                f"SMS_GATEWAY must be console, file or http, got {settings.sms_gateway!r}"
            )
        elif settings.sms_gateway == "http" and not settings.sms_url.startswith(
            ("http://", "https://")
        ):
            problems.append("SMS_GATEWAY=http needs SMS_URL (http:// or https://)")
        production = env.get("DELHI_SEWA_PROFILE") == "production" or settings.secure_cookies
        if production and settings.sms_gateway != "http":
            # console and file keep the counter codes where operators can read them
            problems.append(
                f"SMS_GATEWAY={settings.sms_gateway} is for a local run: production texts "
                "counter codes through SMS_GATEWAY=http (SMS_URL, SMS_TOKEN)"
            )
        if production or env.get("METRICS_TOKEN"):
            # production: /metrics only with the token (ops.install checks it)
            secret("METRICS_TOKEN")
        if problems:
            raise ConfigError("the dashboard cannot start:\n  - " + "\n  - ".join(problems))
        return settings
