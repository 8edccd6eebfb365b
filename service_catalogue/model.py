"""The catalogue's model: frozen dataclasses of departments, services and their forms.

Built by :func:`service_catalogue.load` from ``services.yml`` once it has passed
:func:`service_catalogue.schema.validate`; treat the objects as read-only (shared).
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Mapping

#: Languages of every text shown to citizens.
TEXT_LANGS = ("en", "hi")
#: Languages of synonym lists (``hinglish`` = Hindi typed in Roman letters).
SYNONYM_LANGS = ("en", "hi", "hinglish")

_SYNONYM_PUNCT = re.compile(r"[\s\-_/.,;:'\u2019\"&()!?\u0964]+")


def pick(texts: Mapping[str, str], lang: str) -> str:
    """The text in ``lang``, falling back to English."""
    return texts.get(lang) or texts["en"]


def normalise_synonym(text: str) -> str:
    """Form used to compare synonyms: case, punctuation, spacing and nukta ignored."""
    folded = unicodedata.normalize("NFC", text).casefold().replace("\u093c", "")
    return _SYNONYM_PUNCT.sub(" ", folded).strip()


@dataclasses.dataclass(frozen=True)
class Department:
    id: str
    name: dict[str, str]
    synonyms: dict[str, list[str]]

    def title(self, lang: str) -> str:
        return pick(self.name, lang)


@dataclasses.dataclass(frozen=True)
class Choice:
    id: str
    titles: dict[str, str]

    def title(self, lang: str) -> str:
        return pick(self.titles, lang)


@dataclasses.dataclass(frozen=True)
class Field:
    """One question of a service form, asked in order."""

    id: str
    type: str
    question: dict[str, str]
    #: Short name of the answer ({en, hi}) for summaries and certificates.
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    choices: list[Choice] = dataclasses.field(default_factory=list)
    min: float | None = None
    max: float | None = None
    past_only: bool = False
    future_only: bool = False
    max_length: int | None = None
    #: Regex the whole (trimmed) answer must match; text fields only.
    pattern: str | None = None
    optional: bool = False

    def ask(self, lang: str) -> str:
        return pick(self.question, lang)

    def label(self, lang: str) -> str:
        """Short name of this field in ``lang`` (``en`` or ``hi``), e.g. "Father's name"."""
        return pick(self.labels, lang)

    def choice(self, choice_id: str) -> Choice | None:
        return next((c for c in self.choices if c.id == choice_id), None)


@dataclasses.dataclass(frozen=True)
class Document:
    id: str
    name: dict[str, str]
    required: bool

    def title(self, lang: str) -> str:
        return pick(self.name, lang)


@dataclasses.dataclass(frozen=True)
class ReminderSettings:
    """When the citizen is reminded about an application (top-level ``reminders`` in
    ``services.yml``, overridable per service)."""

    fee_unpaid_hours: float = 24
    documents_missing_days: float = 3
    certificate_ready_days: float = 3
    #: reminders of one kind about one application, at most
    max_per_subject: int = 2
    #: between two reminders of one kind about one application
    repeat_hours: float = 48


@dataclasses.dataclass(frozen=True)
class Service:
    id: str
    department: str
    kind: str
    issues_document: bool
    name: dict[str, str]
    synonyms: dict[str, list[str]]
    fee: int
    sla_days: int
    eligibility: dict[str, str]
    documents: list[Document]
    fields: list[Field]
    reminders: ReminderSettings = ReminderSettings()

    def title(self, lang: str) -> str:
        """Service name in ``lang`` (``en`` or ``hi``), falling back to English."""
        return pick(self.name, lang)

    def field(self, field_id: str) -> Field | None:
        return next((f for f in self.fields if f.id == field_id), None)


@dataclasses.dataclass(frozen=True)
class Catalogue:
    version: int
    departments: dict[str, Department]
    services: dict[str, Service]

    def by_department(self, dept_id: str) -> list[Service]:
        """Services of a department in catalogue order; ``KeyError`` if unknown."""
        if dept_id not in self.departments:
            raise KeyError(dept_id)
        return [s for s in self.services.values() if s.department == dept_id]
