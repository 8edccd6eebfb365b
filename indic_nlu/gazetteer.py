"""Phonetic gazetteer: finds catalogue names in a token sequence."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import spacy
import yaml

from indic_nlu.text import normalize, phonetic_key

# (normalised token text, phonetic key) for each token of a message
TokenKeys = Sequence[tuple[str, str]]

# Names of the two reply languages as citizens type them.
LANGUAGE_NAMES: dict[str, list[str]] = {
    "hi": ["hindi", "hindee", "hindi language", "हिंदी", "हिन्दी", "हिंदी भाषा"],
    "en": [
        "english",
        "inglish",
        "angrezi",
        "angreji",
        "angrezee",
        "english language",
        "अंग्रेज़ी",
        "अंग्रेजी",
        "इंग्लिश",
        "इंगलिश",
    ],
}

# A phrase whose key is this short matches only as typed (after normalisation):
# "dl" must not match "dil", nor "aay" the verb "aaye".
_MIN_FUZZY_KEY = 4
_MAX_WINDOW = 7


@dataclass
class Gazetteer:
    # joined phonetic key -> [(entity, value, normalised text)]
    by_key: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)

    def add(self, entity: str, value: str, phrase: str) -> None:
        keys = _phrase_keys(phrase)
        if not keys:
            return
        joined = "".join(k for _, k in keys)
        text = " ".join(t for t, _ in keys)
        entries = self.by_key.setdefault(joined, [])
        if (entity, value, text) not in entries:
            entries.append((entity, value, text))

    @classmethod
    def from_catalogue(cls, path: Path) -> Gazetteer:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        gazetteer = cls()
        for code, names in LANGUAGE_NAMES.items():
            for name in names:
                gazetteer.add("language", code, name)
        for dept_id, dept in (raw.get("departments") or {}).items():
            for phrase in _phrases(dept):
                gazetteer.add("department", dept_id, phrase)
        for service in raw.get("services") or []:
            for phrase in _phrases(service):
                gazetteer.add("service", service["id"], phrase)
        return gazetteer

    def find(self, tokens: TokenKeys) -> list[tuple[str, str, int, int]]:
        """Returns (entity, value, first token, last token), longest match first."""
        found = []
        i = 0
        while i < len(tokens):
            match = self._longest_at(tokens, i)
            if match is None:
                i += 1
                continue
            entity, value, n = match
            found.append((entity, value, i, i + n - 1))
            i += n
        return found

    def _longest_at(self, tokens: TokenKeys, i: int) -> tuple[str, str, int] | None:
        for n in range(min(_MAX_WINDOW, len(tokens) - i), 0, -1):
            window = tokens[i : i + n]
            joined = "".join(k for _, k in window)
            entries = self.by_key.get(joined)
            if not entries:
                continue
            text = " ".join(t for t, _ in window)
            for entity, value, phrase_text in _prefer_services(entries):
                if len(joined) >= _MIN_FUZZY_KEY or phrase_text.replace(" ", "") == text.replace(
                    " ", ""
                ):
                    return entity, value, n
        return None


def _prefer_services(entries: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    order = {"service": 0, "department": 1, "language": 2}
    return sorted(entries, key=lambda e: order.get(e[0], 3))


def _phrases(item: dict) -> list[str]:
    phrases = list((item.get("name") or {}).values())
    for values in (item.get("synonyms") or {}).values():
        phrases.extend(values or [])
    return [str(p) for p in phrases if str(p).strip()]


_NLP = {"hi": spacy.blank("hi"), "en": spacy.blank("en")}


def _phrase_keys(phrase: str) -> list[tuple[str, str]]:
    text = normalize(phrase).text
    nlp = _NLP["hi"] if any("\u0900" <= c <= "\u097f" for c in text) else _NLP["en"]
    return [
        (t.text, phonetic_key(t.text))
        for t in nlp.make_doc(text)
        if t.text.strip() and not t.is_punct
    ]
