"""The schema of ``services.yml``: :func:`validate` lists every problem of a parsed file.

Never raises, whatever the input; :func:`service_catalogue.load` refuses a catalogue with
any problem (:class:`service_catalogue.CatalogueError`), so a broken catalogue fails at
start-up and in the tests, never in the middle of a citizen's conversation.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any, TypeGuard

from service_catalogue.model import SYNONYM_LANGS, TEXT_LANGS, ReminderSettings, normalise_synonym

KINDS = frozenset({"certificate", "licence", "registration", "scheme", "bill", "request"})
FIELD_TYPES = frozenset(
    {"name", "date", "address", "pin", "mobile", "aadhaar", "amount", "choice", "text", "number"}
)

MIN_SYNONYMS = 3
MIN_FIELDS, MAX_FIELDS = 3, 7
MIN_CHOICES, MAX_CHOICES = 2, 10
#: WhatsApp reply-button titles are limited to 20 characters.
CHOICE_TITLE_MAX = 20
#: A field's label heads its line in the application summary and on the certificate: a
#: few words, never the question. "7. " and the label make one WhatsApp list row (24
#: characters) when the citizen chooses which answer to change.
LABEL_MAX = 21

_SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_DEVANAGARI = re.compile(r"[\u0900-\u097F]")
_LATIN = re.compile(r"[A-Za-z]")

_TOP_KEYS = {"version", "departments", "services", "reminders"}
_DEPARTMENT_KEYS = {"name", "synonyms"}
_SERVICE_KEYS = {
    "id",
    "department",
    "kind",
    "issues_document",
    "name",
    "synonyms",
    "fee",
    "sla_days",
    "eligibility",
    "documents",
    "fields",
    "reminders",
}
_DOCUMENT_KEYS = {"id", "name", "required"}
_CHOICE_KEYS = {"id", "en", "hi"}
_FIELD_COMMON_KEYS = {"id", "type", "question", "label", "optional"}
_FIELD_TYPE_KEYS: dict[str, set[str]] = {
    "choice": {"choices"},
    "date": {"past_only", "future_only"},
    "text": {"max_length", "pattern"},
    "amount": {"min", "max"},
    "number": {"min", "max"},
}
_FIELD_ALL_KEYS = _FIELD_COMMON_KEYS.union(*_FIELD_TYPE_KEYS.values())

_REMINDER_KEYS = {f.name for f in dataclasses.fields(ReminderSettings)}


def validate(raw: Mapping[str, Any]) -> list[str]:
    """Human-readable schema errors of a parsed catalogue; empty when it is valid.

    Never raises, whatever the input. Each message starts with where the problem is,
    e.g. ``service 'birth_certificate': field 'gender': ...``.
    """
    v = _Validator()
    v.catalogue(raw)
    return v.errors


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _Validator:
    def __init__(self) -> None:
        self.errors: list[str] = []
        # normalised synonym -> (owner, original text, language)
        self._synonyms: dict[str, tuple[str, str, str]] = {}
        # field id -> (type, service id) where first seen
        self._field_types: dict[str, tuple[str, str]] = {}

    def err(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    # ---- top level

    def catalogue(self, raw: object) -> None:
        if not isinstance(raw, Mapping):
            self.err("catalogue", "top level must be a mapping")
            return
        for key in sorted(set(raw) - _TOP_KEYS, key=str):
            self.err("catalogue", f"unknown top-level key '{key}'")
        if raw.get("version") != 1:
            self.err("catalogue", f"version must be 1, got {raw.get('version')!r}")

        departments = raw.get("departments")
        dept_ids: set[str] = set()
        if not isinstance(departments, Mapping) or not departments:
            self.err("catalogue", "'departments' must be a non-empty mapping of id -> department")
        else:
            for did, dept in departments.items():
                self.department(did, dept)
                if isinstance(did, str):
                    dept_ids.add(did)

        if "reminders" in raw:
            self.reminders("catalogue", raw["reminders"])
        services = raw.get("services")
        if not isinstance(services, list) or not services:
            self.err("catalogue", "'services' must be a non-empty list")
            return
        seen: set[str] = set()
        used_departments: set[str] = set()
        for index, service in enumerate(services):
            sid = service.get("id") if isinstance(service, Mapping) else None
            if isinstance(sid, str) and sid in seen:
                self.err(f"service '{sid}'", "duplicate service id")
                continue
            self.service(index, service, dept_ids)
            if isinstance(sid, str):
                seen.add(sid)
            if isinstance(service, Mapping) and isinstance(service.get("department"), str):
                used_departments.add(service["department"])
        for did in sorted(dept_ids - used_departments):
            self.err(f"department '{did}'", "has no services")

    # ---- departments

    def department(self, did: object, dept: object) -> None:
        where = f"department '{did}'"
        if not isinstance(did, str) or not _SNAKE.match(did):
            self.err(where, "id must be snake_case")
        if not isinstance(dept, Mapping):
            self.err(where, "must be a mapping with name and synonyms")
            return
        for key in sorted(set(dept) - _DEPARTMENT_KEYS, key=str):
            self.err(where, f"unknown key '{key}'")
        self.text(where, "name", dept.get("name"))
        self.synonym_lists(where, dept.get("synonyms"), dept.get("name"))

    # ---- services

    def service(self, index: int, s: object, dept_ids: set[str]) -> None:
        if not isinstance(s, Mapping):
            self.err(f"services[{index}]", "must be a mapping")
            return
        sid = s.get("id")
        if isinstance(sid, str) and sid:
            where = f"service '{sid}'"
            if not _SNAKE.match(sid):
                self.err(where, "id must be snake_case")
        else:
            where = f"services[{index}]"
            self.err(where, "missing or non-string 'id'")
            sid = where

        for key in sorted(_SERVICE_KEYS - set(s)):
            if key not in ("id", "reminders"):  # reminders: optional
                self.err(where, f"missing required key '{key}'")
        for key in sorted(set(s) - _SERVICE_KEYS, key=str):
            self.err(where, f"unknown key '{key}'")

        dept = s.get("department")
        if "department" in s and not (isinstance(dept, str) and dept in dept_ids):
            self.err(where, f"unknown department '{dept}' (known: {', '.join(sorted(dept_ids))})")
        kind = s.get("kind")
        if "kind" in s and not (isinstance(kind, str) and kind in KINDS):
            self.err(where, f"unknown kind '{kind}' (expected one of {', '.join(sorted(KINDS))})")
        if "issues_document" in s and not isinstance(s["issues_document"], bool):
            self.err(where, "issues_document must be true or false")

        fee = s.get("fee")
        if "fee" in s:
            if not _is_int(fee):
                self.err(where, f"fee must be a whole number of rupees, got {fee!r}")
            elif fee < 0:
                self.err(where, f"fee must not be negative, got {fee}")
            elif kind == "bill" and fee != 0:
                self.err(
                    where,
                    f"bill services must have fee 0 (the amount comes from the bill), got {fee}",
                )
        sla = s.get("sla_days")
        if "sla_days" in s and (not _is_int(sla) or sla < 1):
            self.err(where, f"sla_days must be a whole number of days >= 1, got {sla!r}")

        if "name" in s:
            self.text(where, "name", s["name"])
        if "eligibility" in s:
            self.text(where, "eligibility", s["eligibility"])
        if "synonyms" in s:
            self.synonym_lists(where, s["synonyms"], s.get("name"))
        if "reminders" in s:
            self.reminders(where, s["reminders"])
        if "documents" in s:
            self.documents(where, s["documents"])
        if "fields" in s:
            self.fields(where, sid, s["fields"])
            if kind == "bill" and isinstance(s["fields"], list):
                has_id_field = any(
                    isinstance(f, Mapping) and f.get("type") == "text" and f.get("pattern")
                    for f in s["fields"]
                )
                if not has_id_field:
                    self.err(
                        where,
                        "bill services must ask for the bill/property number "
                        "in a text field with a pattern",
                    )

    def reminders(self, where: str, value: object) -> None:
        if not isinstance(value, Mapping):
            self.err(where, "reminders must be a mapping")
            return
        for key in sorted(set(value) - _REMINDER_KEYS, key=str):
            self.err(where, f"reminders: unknown key '{key}'")
        for key, number in value.items():
            if key in _REMINDER_KEYS and not (_is_number(number) and number > 0):
                self.err(where, f"reminders: {key} must be a positive number, got {number!r}")
        count = value.get("max_per_subject")
        if count is not None and not _is_int(count):
            self.err(where, f"reminders: max_per_subject must be a whole number, got {count!r}")

    # ---- texts and synonyms

    def text(self, where: str, what: str, value: object) -> None:
        """A {en, hi} text: both present, non-empty, in the right script."""
        if not isinstance(value, Mapping):
            self.err(where, f"{what} must be a mapping with 'en' and 'hi' text")
            return
        for lang in TEXT_LANGS:
            text = value.get(lang)
            if not isinstance(text, str) or not text.strip():
                self.err(where, f"{what} is missing '{lang}' text")
            elif lang == "hi" and not _DEVANAGARI.search(text):
                self.err(where, f"{what} 'hi' text must be in Devanagari: {text!r}")
            elif lang == "en" and _DEVANAGARI.search(text):
                self.err(where, f"{what} 'en' text must not contain Devanagari: {text!r}")
        for lang in sorted(set(value) - set(TEXT_LANGS), key=str):
            self.err(where, f"{what} has unknown language '{lang}' (expected en, hi)")

    def synonym_lists(self, where: str, value: object, name: object) -> None:
        if not isinstance(value, Mapping):
            self.err(where, "synonyms must be a mapping with en, hi and hinglish lists")
            return
        for lang in sorted(set(value) - set(SYNONYM_LANGS), key=str):
            self.err(where, f"synonyms have unknown language '{lang}' (expected en, hi, hinglish)")
        for lang in SYNONYM_LANGS:
            items = value.get(lang)
            if not isinstance(items, list):
                self.err(where, f"synonyms are missing the '{lang}' list")
                continue
            texts = [t for t in items if isinstance(t, str) and t.strip()]
            if len(texts) != len(items):
                self.err(where, f"synonyms ({lang}) must be non-empty strings, got {items!r}")
            if len(texts) < MIN_SYNONYMS:
                self.err(
                    where, f"needs at least {MIN_SYNONYMS} '{lang}' synonyms, has {len(texts)}"
                )
            for text in texts:
                if lang == "hi" and (_LATIN.search(text) or not _DEVANAGARI.search(text)):
                    self.err(where, f"synonym {text!r} (hi) must be written in Devanagari only")
                elif lang != "hi" and _DEVANAGARI.search(text):
                    self.err(where, f"synonym {text!r} ({lang}) must be written in Roman letters")
                self.claim(where, text, lang)
        # The displayed names are surface forms too: no other owner may use them.
        if isinstance(name, Mapping):
            for lang in TEXT_LANGS:
                title = name.get(lang)
                if isinstance(title, str) and title.strip():
                    self.claim(where, title, f"name {lang}")

    def claim(self, owner: str, text: str, lang: str) -> None:
        key = normalise_synonym(text)
        if not key:
            return
        previous = self._synonyms.get(key)
        if previous is None:
            self._synonyms[key] = (owner, text, lang)
        elif previous[0] != owner:
            self.err(
                owner,
                f"synonym {text!r} ({lang}) is already used by {previous[0]} "
                f"({previous[1]!r}, {previous[2]}); a synonym must belong to one service",
            )

    # ---- documents

    def documents(self, where: str, docs: object) -> None:
        if not isinstance(docs, list):
            self.err(where, "documents must be a list (may be empty)")
            return
        seen: set[str] = set()
        for index, doc in enumerate(docs):
            if not isinstance(doc, Mapping):
                self.err(where, f"documents[{index}] must be a mapping")
                continue
            did = doc.get("id")
            dwhere = (
                f"{where}: document '{did}'"
                if isinstance(did, str)
                else f"{where}: documents[{index}]"
            )
            if not isinstance(did, str) or not _SNAKE.match(did):
                self.err(dwhere, "id must be snake_case")
            elif did in seen:
                self.err(dwhere, "duplicate document id")
            else:
                seen.add(did)
            for key in sorted(set(doc) - _DOCUMENT_KEYS, key=str):
                self.err(dwhere, f"unknown key '{key}'")
            self.text(dwhere, "name", doc.get("name"))
            if not isinstance(doc.get("required"), bool):
                self.err(dwhere, "required must be true or false")

    # ---- fields

    def fields(self, where: str, sid: str, fields: object) -> None:
        if not isinstance(fields, list):
            self.err(where, "fields must be a list")
            return
        if not MIN_FIELDS <= len(fields) <= MAX_FIELDS:
            self.err(where, f"must have {MIN_FIELDS} to {MAX_FIELDS} fields, has {len(fields)}")
        seen: set[str] = set()
        for index, f in enumerate(fields):
            if not isinstance(f, Mapping):
                self.err(where, f"fields[{index}] must be a mapping")
                continue
            fid = f.get("id")
            fwhere = (
                f"{where}: field '{fid}'" if isinstance(fid, str) else f"{where}: fields[{index}]"
            )
            if not isinstance(fid, str) or not _SNAKE.match(fid):
                self.err(fwhere, "id must be snake_case")
            elif fid in seen:
                self.err(fwhere, "duplicate field id")
            else:
                seen.add(fid)
            self.field(fwhere, sid, f)

    def field(self, where: str, sid: str, f: Mapping[str, Any]) -> None:
        ftype = f.get("type")
        fid = f.get("id")
        if not isinstance(ftype, str) or ftype not in FIELD_TYPES:
            self.err(
                where,
                f"unknown field type '{ftype}' (expected one of {', '.join(sorted(FIELD_TYPES))})",
            )
            allowed = _FIELD_ALL_KEYS
        else:
            allowed = _FIELD_COMMON_KEYS | _FIELD_TYPE_KEYS.get(ftype, set())
        for key in sorted(set(f) - allowed, key=str):
            if key in _FIELD_ALL_KEYS:
                self.err(where, f"key '{key}' is not allowed for type '{ftype}'")
            else:
                self.err(where, f"unknown key '{key}'")
        self.text(where, "question", f.get("question"))
        self.label(where, f.get("label"), f.get("question"))
        if "optional" in f and not isinstance(f["optional"], bool):
            self.err(where, "optional must be true or false")

        if isinstance(fid, str) and isinstance(ftype, str) and ftype in FIELD_TYPES:
            if (ftype == "aadhaar") != (fid == "aadhaar"):
                self.err(where, "Aadhaar must be asked as field id 'aadhaar' of type 'aadhaar'")
            first = self._field_types.setdefault(fid, (ftype, sid))
            if first[0] != ftype:
                self.err(
                    where,
                    f"type '{ftype}' differs from type '{first[0]}' of field '{fid}' in "
                    f"service '{first[1]}' (the same id must mean the same thing)",
                )

        if ftype == "choice":
            self.choices(where, f.get("choices"))
        elif ftype == "date":
            for key in ("past_only", "future_only"):
                if key in f and not isinstance(f[key], bool):
                    self.err(where, f"{key} must be true or false")
            if f.get("past_only") is True and f.get("future_only") is True:
                self.err(where, "past_only and future_only cannot both be true")
        elif ftype == "text":
            max_length = f.get("max_length")
            if "max_length" in f and (not _is_int(max_length) or max_length < 1):
                self.err(where, f"max_length must be a whole number >= 1, got {max_length!r}")
            if "pattern" in f:
                pattern = f["pattern"]
                if not isinstance(pattern, str) or not pattern:
                    self.err(where, f"pattern must be a non-empty regex string, got {pattern!r}")
                else:
                    try:
                        re.compile(pattern)
                    except re.error as exc:
                        self.err(where, f"bad regex pattern {pattern!r}: {exc}")
        elif ftype in ("amount", "number"):
            lo, hi = f.get("min"), f.get("max")
            for key, value in (("min", lo), ("max", hi)):
                if key in f and not _is_number(value):
                    self.err(where, f"{key} must be a number, got {value!r}")
            if _is_number(lo) and _is_number(hi) and lo > hi:
                self.err(where, f"min ({lo}) is greater than max ({hi})")
            if ftype == "amount" and _is_number(lo) and lo < 0:
                self.err(where, f"amount min must not be negative, got {lo}")

    def label(self, where: str, label: object, question: object) -> None:
        """A field's short {en, hi} label: required, a few words, not the question."""
        if label is None:
            self.err(where, "missing 'label' (a short {en, hi} name for summaries)")
            return
        self.text(where, "label", label)
        if not isinstance(label, Mapping):
            return
        for lang in TEXT_LANGS:
            text = label.get(lang)
            if not isinstance(text, str):
                continue
            if len(text) > LABEL_MAX:
                self.err(where, f"label '{lang}' {text!r} is longer than {LABEL_MAX} characters")
            if "?" in text or (isinstance(question, Mapping) and text == question.get(lang)):
                self.err(where, f"label '{lang}' {text!r} must name the answer, not ask for it")

    def choices(self, where: str, choices: object) -> None:
        if not isinstance(choices, list):
            self.err(where, "choice fields need a 'choices' list")
            return
        if not MIN_CHOICES <= len(choices) <= MAX_CHOICES:
            self.err(where, f"must have {MIN_CHOICES} to {MAX_CHOICES} choices, has {len(choices)}")
        seen: set[str] = set()
        for index, c in enumerate(choices):
            if not isinstance(c, Mapping):
                self.err(where, f"choices[{index}] must be a mapping with id, en, hi")
                continue
            cid = c.get("id")
            cwhere = (
                f"{where}: choice '{cid}'" if isinstance(cid, str) else f"{where}: choices[{index}]"
            )
            if not isinstance(cid, str) or not _SNAKE.match(cid):
                # yes/no/on/off unquoted in YAML arrive here as booleans
                self.err(
                    cwhere, f"id must be a snake_case string, got {cid!r} (quote yes/no/on/off)"
                )
            elif cid in seen:
                self.err(cwhere, "duplicate choice id")
            else:
                seen.add(cid)
            for key in sorted(set(c) - _CHOICE_KEYS, key=str):
                self.err(cwhere, f"unknown key '{key}'")
            for lang in TEXT_LANGS:
                title = c.get(lang)
                if not isinstance(title, str) or not title.strip():
                    self.err(cwhere, f"missing '{lang}' title (got {title!r})")
                elif len(title) > CHOICE_TITLE_MAX:
                    self.err(
                        cwhere,
                        f"'{lang}' title {title!r} is {len(title)} characters, "
                        f"max {CHOICE_TITLE_MAX} (WhatsApp button limit)",
                    )
                elif lang == "hi" and not _DEVANAGARI.search(title):
                    self.err(cwhere, f"'hi' title must be in Devanagari: {title!r}")
                elif lang == "en" and _DEVANAGARI.search(title):
                    self.err(cwhere, f"'en' title must not contain Devanagari: {title!r}")
