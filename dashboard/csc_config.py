"""``dashboard/csc.yml``: the CSC assisted-service charge and the counter code's rules,
checked when loaded (a wrong file stops the dashboard at start, not at the counter)."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

import yaml

PATH = Path(__file__).resolve().with_name("csc.yml")


@dataclasses.dataclass(frozen=True)
class CscConfig:
    default_charge: int
    per_service: dict[str, int]
    code_valid_minutes: int
    code_max_attempts: int
    code_max_sends: int
    sms: dict[str, str]  # language -> text with {code} {application_id} {service} ...

    def charge(self, service_id: str) -> int:
        """The assisted-service charge (rupees) for filing ``service_id``."""
        return self.per_service.get(service_id, self.default_charge)


def _amount(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{PATH.name}: {where} must be a whole number of rupees ≥ 0")
    return value


def parse(raw: dict[str, Any]) -> CscConfig:
    charge = raw.get("charge") or {}
    code = raw.get("counter_code") or {}
    sms = raw.get("sms") or {}
    if set(sms) != {"hi", "en"} or not all("{code}" in str(v) for v in sms.values()):
        raise ValueError(f"{PATH.name}: sms needs hi and en texts, each with {{code}}")
    numbers = {
        k: _amount(code.get(k), f"counter_code.{k}")
        for k in ("valid_minutes", "max_attempts", "max_sends")
    }
    if not all(numbers.values()):
        raise ValueError(f"{PATH.name}: counter_code values must be greater than 0")
    return CscConfig(
        default_charge=_amount(charge.get("default"), "charge.default"),
        per_service={
            str(k): _amount(v, f"charge.per_service.{k}")
            for k, v in (charge.get("per_service") or {}).items()
        },
        code_valid_minutes=numbers["valid_minutes"],
        code_max_attempts=numbers["max_attempts"],
        code_max_sends=numbers["max_sends"],
        sms={str(k): str(v) for k, v in sms.items()},
    )


@functools.lru_cache(maxsize=1)
def load() -> CscConfig:
    return parse(yaml.safe_load(PATH.read_text(encoding="utf-8")) or {})
