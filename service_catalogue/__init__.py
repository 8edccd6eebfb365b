"""Service catalogue of the Delhi government WhatsApp assistant.

``services.yml`` beside this module is the single source of truth for departments and
services: names and synonyms (used by the ``service`` / ``department`` entity
extractor), fees, SLAs, eligibility, documents and the form asked in chat.

    >>> from service_catalogue import load
    >>> cat = load()
    >>> cat.services["driving_licence"].title("hi")
    'ड्राइविंग लाइसेंस'

:func:`load` validates the file with :func:`validate` and raises :class:`CatalogueError`
listing every problem, so a broken catalogue fails at start-up (and in the tests),
never in the middle of a citizen's conversation. The loaded objects are shared
(the default catalogue is cached): treat them as read-only.

The model (the frozen dataclasses) is :mod:`service_catalogue.model`, the schema check
:mod:`service_catalogue.schema`; every name is importable from here as well.

Only PyYAML and the standard library are used.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from service_catalogue.model import (
    SYNONYM_LANGS,
    TEXT_LANGS,
    Catalogue,
    Choice,
    Department,
    Document,
    Field,
    ReminderSettings,
    Service,
    normalise_synonym,
    pick,
)
from service_catalogue.schema import (
    CHOICE_TITLE_MAX,
    FIELD_TYPES,
    KINDS,
    LABEL_MAX,
    MAX_CHOICES,
    MAX_FIELDS,
    MIN_CHOICES,
    MIN_FIELDS,
    MIN_SYNONYMS,
    validate,
)

__all__ = [
    "CHOICE_TITLE_MAX",
    "LABEL_MAX",
    "MAX_CHOICES",
    "MAX_FIELDS",
    "MIN_CHOICES",
    "MIN_FIELDS",
    "MIN_SYNONYMS",
    "DEFAULT_PATH",
    "FIELD_TYPES",
    "KINDS",
    "Catalogue",
    "CatalogueError",
    "Choice",
    "Department",
    "Document",
    "Field",
    "ReminderSettings",
    "Service",
    "load",
    "normalise_synonym",
    "pick",
    "validate",
]

DEFAULT_PATH = Path(__file__).with_name("services.yml")


class CatalogueError(ValueError):
    """The catalogue file cannot be read or breaks the schema; ``errors`` lists why."""

    def __init__(self, errors: Sequence[str], path: Path | None = None) -> None:
        self.errors: list[str] = list(errors)
        self.path = path
        where = f" {path}" if path is not None else ""
        head = f"invalid service catalogue{where} ({len(self.errors)} error(s)):"
        super().__init__("\n  - ".join([head, *self.errors]))


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe loader that rejects duplicate mapping keys instead of keeping the last."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def load(path: Path | None = None) -> Catalogue:
    """Load and validate the catalogue (default: ``services.yml`` beside this module).

    The default catalogue is cached; raises :class:`CatalogueError` listing every
    schema error.
    """
    if path is None:
        return _load_default()
    return _load(Path(path))


@functools.lru_cache(maxsize=1)
def _load_default() -> Catalogue:
    return _load(DEFAULT_PATH)


def _load(path: Path) -> Catalogue:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogueError([f"cannot read the file: {exc}"], path) from exc
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise CatalogueError([f"YAML error: {exc}"], path) from exc
    if not isinstance(raw, dict):
        raise CatalogueError(
            ["the file must contain a mapping with version, departments, services"], path
        )
    errors = validate(raw)
    if errors:
        raise CatalogueError(errors, path)
    return _build(raw)


def _build(raw: Mapping[str, Any]) -> Catalogue:
    departments = {
        did: Department(
            id=did,
            name=dict(d["name"]),
            synonyms={lang: list(d["synonyms"][lang]) for lang in SYNONYM_LANGS},
        )
        for did, d in raw["departments"].items()
    }
    defaults = dataclasses.replace(ReminderSettings(), **raw.get("reminders", {}))
    services: dict[str, Service] = {}
    for s in raw["services"]:
        services[s["id"]] = Service(
            id=s["id"],
            department=s["department"],
            kind=s["kind"],
            issues_document=s["issues_document"],
            name=dict(s["name"]),
            synonyms={lang: list(s["synonyms"][lang]) for lang in SYNONYM_LANGS},
            fee=s["fee"],
            sla_days=s["sla_days"],
            eligibility=dict(s["eligibility"]),
            documents=[
                Document(id=d["id"], name=dict(d["name"]), required=d["required"])
                for d in s["documents"]
            ],
            fields=[_build_field(f) for f in s["fields"]],
            reminders=dataclasses.replace(defaults, **s.get("reminders", {})),
        )
    return Catalogue(version=raw["version"], departments=departments, services=services)


def _build_field(f: Mapping[str, Any]) -> Field:
    return Field(
        id=f["id"],
        type=f["type"],
        question=dict(f["question"]),
        labels=dict(f["label"]),
        choices=[
            Choice(id=c["id"], titles={lang: c[lang] for lang in TEXT_LANGS})
            for c in f.get("choices", [])
        ],
        min=f.get("min"),
        max=f.get("max"),
        past_only=f.get("past_only", False),
        future_only=f.get("future_only", False),
        max_length=f.get("max_length"),
        pattern=f.get("pattern"),
        optional=f.get("optional", False),
    )
