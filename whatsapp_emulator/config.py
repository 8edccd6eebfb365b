"""Every setting of the emulator, read from the environment in one place.

| variable | default |
| --- | --- |
| ``EMULATOR_HOST`` / ``EMULATOR_PORT`` | ``127.0.0.1`` / ``9000`` |
| ``EMULATOR_PUBLIC_URL`` | ``http://<host>:<port>`` (base of media download urls) |
| ``WHATSAPP_TOKEN`` | ``emulator-access-token``: the bearer the connector must send |
| ``WHATSAPP_APP_SECRET`` | ``emulator-app-secret``: HMAC key of ``X-Hub-Signature-256`` |
| ``WHATSAPP_VERIFY_TOKEN`` | ``emulator-verify-token``: sent in the GET verification |
| ``WEBHOOK_URL`` | ``http://127.0.0.1:5005/webhooks/whatsapp/webhook`` |
| ``PHONE_NUMBERS`` | ``100001:+911140001000:Delhi Sewa,100002:+911140002000:Transport`` |
| ``WHATSAPP_WABA_ID`` | ``900001`` |
| ``TEMPLATES_FILE`` | unset: the registry ``service_catalogue/whatsapp_templates.yml`` |
| ``MEDIA_DIR`` | a new temporary directory (removed on exit) |
| ``WEBHOOK_TIMEOUT_SECONDS`` | ``10`` |
| ``WEBHOOK_MAX_ATTEMPTS`` | ``8``: first try included |
| ``WEBHOOK_RETRY_BASE_MS`` / ``WEBHOOK_RETRY_CAP_MS`` | ``500`` / ``30000``: back-off |
| ``STATUS_DELAY_MS`` | ``150``: between the sent, delivered and read statuses |
| ``MEDIA_URL_SECONDS`` | ``300``: lifetime of a media download url |

The development defaults of the three secrets are refused on a non-loopback host.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from pathlib import Path

DEFAULT_TOKEN = "emulator-access-token"  # noqa: S105 - a local development default
DEFAULT_APP_SECRET = "emulator-app-secret"  # noqa: S105
DEFAULT_VERIFY_TOKEN = "emulator-verify-token"  # noqa: S105
DEFAULT_PHONE_NUMBERS = "100001:+911140001000:Delhi Sewa,100002:+911140002000:Transport"
DEFAULT_WEBHOOK_URL = "http://127.0.0.1:5005/webhooks/whatsapp/webhook"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class ConfigError(RuntimeError):
    """The environment does not describe a usable emulator; the message says why."""


@dataclasses.dataclass(frozen=True)
class PhoneNumber:
    """One of the business's numbers: Graph id, display number (``+91…``) and a label."""

    id: str
    display: str
    label: str

    @property
    def display_digits(self) -> str:
        """The number as Meta writes it in ``metadata.display_phone_number``: digits only."""
        return re.sub(r"\D", "", self.display)

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "display": self.display, "label": self.label}


@dataclasses.dataclass(frozen=True)
class Settings:
    host: str
    port: int
    public_url: str
    token: str
    app_secret: str
    verify_token: str
    webhook_url: str
    phone_numbers: tuple[PhoneNumber, ...]
    waba_id: str
    templates_file: Path | None
    media_dir: Path | None
    webhook_timeout_seconds: float
    webhook_max_attempts: int
    webhook_retry_base_ms: float
    webhook_retry_cap_ms: float
    status_delay_ms: float
    media_url_seconds: float

    def phone_number(self, phone_number_id: str) -> PhoneNumber | None:
        for number in self.phone_numbers:
            if number.id == phone_number_id:
                return number
        return None


def parse_phone_numbers(raw: str) -> tuple[PhoneNumber, ...]:
    """``id:+display:label`` items separated by commas; raises ValueError when malformed."""
    numbers: list[PhoneNumber] = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        parts = item.split(":", 2)
        if len(parts) < 2 or not parts[0].strip().isdigit():
            raise ValueError(f"bad entry {item!r} (want phone_number_id:+display:label)")
        number_id, display = parts[0].strip(), parts[1].strip()
        if not re.fullmatch(r"\+?[0-9 ]{6,20}", display):
            raise ValueError(f"bad display number in {item!r}")
        label = parts[2].strip() if len(parts) == 3 and parts[2].strip() else display
        numbers.append(PhoneNumber(number_id, display, label))
    if not numbers:
        raise ValueError("no phone numbers")
    if len({n.id for n in numbers}) != len(numbers):
        raise ValueError("phone_number_id values must be unique")
    return tuple(numbers)


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``env`` (default ``os.environ``); :class:`ConfigError` lists problems."""
    env = os.environ if env is None else env
    problems: list[str] = []

    def number(name: str, default: float, minimum: float = 0.0) -> float:
        raw = env.get(name, "").strip()
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            problems.append(f"{name} must be a number, got {raw!r}")
            return default
        if value < minimum:
            problems.append(f"{name} must be at least {minimum:g}, got {raw!r}")
        return value

    host = env.get("EMULATOR_HOST", "").strip() or "127.0.0.1"
    port = int(number("EMULATOR_PORT", 9000, 1))
    if not 0 < port < 65536:
        problems.append(f"EMULATOR_PORT must be a TCP port, got {port}")
    try:
        phone_numbers = parse_phone_numbers(env.get("PHONE_NUMBERS", "") or DEFAULT_PHONE_NUMBERS)
    except ValueError as exc:
        problems.append(f"PHONE_NUMBERS: {exc}")
        phone_numbers = parse_phone_numbers(DEFAULT_PHONE_NUMBERS)
    token = env.get("WHATSAPP_TOKEN", "") or DEFAULT_TOKEN
    app_secret = env.get("WHATSAPP_APP_SECRET", "") or DEFAULT_APP_SECRET
    verify_token = env.get("WHATSAPP_VERIFY_TOKEN", "") or DEFAULT_VERIFY_TOKEN
    if host not in LOOPBACK:
        for name, value, default in (
            ("WHATSAPP_TOKEN", token, DEFAULT_TOKEN),
            ("WHATSAPP_APP_SECRET", app_secret, DEFAULT_APP_SECRET),
            ("WHATSAPP_VERIFY_TOKEN", verify_token, DEFAULT_VERIFY_TOKEN),
        ):
            if value == default:
                problems.append(f"{name} must be set when EMULATOR_HOST is not loopback")
    waba_id = env.get("WHATSAPP_WABA_ID", "").strip() or "900001"
    if not waba_id.isdigit():
        problems.append(f"WHATSAPP_WABA_ID must be digits, got {waba_id!r}")
    templates = env.get("TEMPLATES_FILE", "").strip()
    templates_file = Path(templates) if templates else None
    if templates_file is not None and not templates_file.is_file():
        problems.append(f"TEMPLATES_FILE {templates!r} is not a file")
    media = env.get("MEDIA_DIR", "").strip()
    settings = Settings(
        host=host,
        port=port,
        public_url=(env.get("EMULATOR_PUBLIC_URL", "").strip() or f"http://{host}:{port}").rstrip(
            "/"
        ),
        token=token,
        app_secret=app_secret,
        verify_token=verify_token,
        webhook_url=env.get("WEBHOOK_URL", "").strip() or DEFAULT_WEBHOOK_URL,
        phone_numbers=phone_numbers,
        waba_id=waba_id,
        templates_file=templates_file,
        media_dir=Path(media) if media else None,
        webhook_timeout_seconds=number("WEBHOOK_TIMEOUT_SECONDS", 10, 0.1),
        webhook_max_attempts=int(number("WEBHOOK_MAX_ATTEMPTS", 8, 1)),
        webhook_retry_base_ms=number("WEBHOOK_RETRY_BASE_MS", 500),
        webhook_retry_cap_ms=number("WEBHOOK_RETRY_CAP_MS", 30000),
        status_delay_ms=number("STATUS_DELAY_MS", 150),
        media_url_seconds=number("MEDIA_URL_SECONDS", 300, 1),
    )
    if problems:
        raise ConfigError("the WhatsApp emulator cannot start:\n  - " + "\n  - ".join(problems))
    return settings
