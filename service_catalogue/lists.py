"""The catalogue's two small lists: Delhi's districts and the grievance categories.

``districts.yml`` (citizens' preferences, broadcasts, CSC answers) and ``grievances.yml``
(the chat's category list, the backend's routing and SLA, the dashboard's titles) are
read here and only here, validated like ``services.yml``: a broken file raises
:class:`~service_catalogue.CatalogueError` listing every problem, at start-up.

    >>> districts()["shahdara"]["hi"]
    'शाहदरा'
    >>> grievance_categories()["water"]["sla_days"]
    3

The loaded mappings are shared (cached): treat them as read-only.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from service_catalogue import DEFAULT_PATH, CatalogueError, load

DISTRICTS_PATH = DEFAULT_PATH.with_name("districts.yml")
GRIEVANCES_PATH = DEFAULT_PATH.with_name("grievances.yml")
#: A WhatsApp list row's title holds 24 characters (the category list of the chat).
TITLE_MAX = 24

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")


def districts(path: Path | None = None) -> dict[str, dict[str, str]]:
    """Delhi's districts: id -> ``{"en": name, "hi": name}`` (``districts.yml``)."""
    return _districts(DISTRICTS_PATH if path is None else Path(path))


def grievance_categories(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """Grievance categories: id -> ``{"department", "sla_days", "title": {en, hi}}``
    (``grievances.yml``); every department is one of the service catalogue's."""
    return _categories(GRIEVANCES_PATH if path is None else Path(path))


@functools.lru_cache(maxsize=4)
def _districts(path: Path) -> dict[str, dict[str, str]]:
    items = _read(path, "districts")
    errors: list[str] = []
    for district_id, names in items.items():
        errors += _titles(f"districts.{district_id}", names)
    if errors:
        raise CatalogueError(errors, path)
    return {str(k): {"en": v["en"], "hi": v["hi"]} for k, v in items.items()}


@functools.lru_cache(maxsize=4)
def _categories(path: Path) -> dict[str, dict[str, Any]]:
    items = _read(path, "categories")
    departments = load().departments
    errors: list[str] = []
    for category_id, category in items.items():
        where = f"categories.{category_id}"
        if not isinstance(category, Mapping):
            errors.append(f"{where}: must be a mapping with department, sla_days, title")
            continue
        unknown = set(category) - {"department", "sla_days", "title"}
        if unknown:
            errors.append(f"{where}: unknown keys {sorted(unknown)}")
        if category.get("department") not in departments:
            errors.append(f"{where}.department: not a catalogue department")
        sla = category.get("sla_days")
        if isinstance(sla, bool) or not isinstance(sla, (int, float)) or sla <= 0:
            errors.append(f"{where}.sla_days: must be a positive number of days")
        errors += _titles(f"{where}.title", category.get("title"), TITLE_MAX)
    if errors:
        raise CatalogueError(errors, path)
    return {str(k): dict(v) for k, v in items.items()}


def _read(path: Path, key: str) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError([f"cannot read the file: {exc}"], path) from exc
    if not isinstance(raw, dict) or raw.get("version") != 1:
        raise CatalogueError([f"the file must be a mapping with version: 1 and {key}"], path)
    items = raw.get(key)
    if not isinstance(items, dict) or not items:
        raise CatalogueError([f"{key}: must be a non-empty mapping"], path)
    bad_ids = [f"{key}.{k}: ids are lowercase snake_case" for k in items if not _ID.match(str(k))]
    if bad_ids:
        raise CatalogueError(bad_ids, path)
    return items


def _titles(where: str, titles: object, most: int | None = None) -> list[str]:
    """Problems of an ``{en, hi}`` pair of names."""
    if not isinstance(titles, Mapping) or set(titles) != {"en", "hi"}:
        return [f"{where}: must have exactly the names en and hi"]
    errors = []
    for lang in ("en", "hi"):
        text = titles[lang]
        if not isinstance(text, str) or not text.strip():
            errors.append(f"{where}.{lang}: must be a non-empty text")
        elif (lang == "hi") != bool(_DEVANAGARI.search(text)):
            script = "Devanagari" if lang == "hi" else "Roman letters"
            errors.append(f"{where}.{lang}: must be written in {script}")
        elif most is not None and len(text) > most:
            errors.append(f"{where}.{lang}: longer than {most} characters")
    return errors
