"""The assistant's knowledge base and the retrieval that answers free questions.

The knowledge base is the catalogue (``services.yml``: fees, SLAs, eligibility,
documents, department) plus ``faq.yml`` (corrections, duplicates, appeals, office
hours, CSC charges and locations, payments and refunds). :func:`load` validates
``faq.yml`` against the catalogue and ``districts.yml`` and raises
:class:`KnowledgeError` listing every problem, as the catalogue does.

:class:`Retriever` answers a question typed in Devanagari, Roman Hindi or English.
Every word becomes its phonetic key (``indic_nlu.text.phonetic_key``: "शादी" and
"shaadi" are both ``sd``), so one index serves all three scripts:

* the service the question names: every key of one of its synonyms is in the question
  (the longest synonym wins), else the service in context (a follow-up);
* the parts of a service it asks about (fee, time, documents, eligibility, where);
* the best FAQ entry: the share of the question's informative keys (idf-weighted) that
  the entry's question and keywords contain. Keys no entry knows weigh the most, so a
  question about something the knowledge base does not hold scores low.

:meth:`Retriever.answer` decides between them and returns an :class:`Answer`; below
:data:`THRESHOLD` nothing is answered (``kind == "unknown"``): never a guess. The texts
the citizen reads are the knowledge base's own (FAQ answers) or domain.yml responses
filled with catalogue facts (actions/answers.py).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from indic_nlu.text import normalize, phonetic_key
from service_catalogue import TEXT_LANGS, Catalogue, Service
from service_catalogue import load as load_catalogue
from service_catalogue.lists import districts as load_districts

__all__ = [
    "DEFAULT_PATH",
    "THRESHOLD",
    "Answer",
    "Entry",
    "KnowledgeBase",
    "KnowledgeError",
    "Retriever",
    "keys",
    "load",
    "retriever",
    "validate",
]

DEFAULT_PATH = Path(__file__).with_name("faq.yml")

#: Share of a question's informative keys an FAQ entry must hold to be the answer
#: (calibrated on bench/answers/: see bench/answers/README.md).
THRESHOLD = 0.55
#: ... and that share must weigh at least this much (idf): one rare word, or two common
#: ones, never one word most entries share ("card", "milega")
MIN_EVIDENCE = 1.5

KEYWORD_LANGS = ("en", "hi", "hinglish")
_ENTRY_KEYS = {
    "id",
    "department",
    "services",
    "district",
    "indicative",
    "question",
    "answer",
    "keywords",
}
_REQUIRED = ("id", "department", "question", "answer", "keywords")
_SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_DEVANAGARI = re.compile(r"[\u0900-\u097F]")
_WORD_BREAKS = re.compile(r"[^\w\u0900-\u097f]+")

# Words that carry no topic, in the three ways of writing (compared by phonetic key).
_STOP_WORDS = """
    a an the i me my mine you your is are am was were be been do does did can could will
    would should shall of to in on at for from by with and or but if it its this that
    these those there here what how when which who whom whose why please tell want need
    get got have has had any some about kindly sir madam ji hello hi dear know there also
    just much many now then so than too very still again one only
    kya kaise kaisa kaisi kyun kyon kab kaun kitna kitni kitne hai hain ho hoga hogi hota
    hoti hote tha thi the ka ki ke ko se me mein mai main par pe aur ya bhi to toh hi na
    nahi mera meri mere mujhe muje mujhko hum hamara hamare hame humko aap apka apki apke
    aapka aapki aapke ye yeh wo woh is us iska uska karna karni karne karu karun kare
    karein karen kar karta karti liye lie wala wali wale sakta sakti sakte chahiye chahie
    jana jaana padega padta batao bataiye bataye btao bolo koi kuch abhi ab gaya gayi gaye
    hua hui hue raha rahi rahe hu hoon hun diya di liya li milega milegi milta milti milenge
    banega banegi banta banti banenge lagega lagegi lagta lagti lagenge lagte rehta rahta
    aata aati hota dena dene deni tak take takes taken jankari information details detail
    क्या कैसे कैसा कैसी क्यों कब कौन कितना कितनी कितने है हैं हो होगा होगी होता होती
    होते था थी थे का की के को से में मैं पर और या भी तो ही न नहीं मेरा मेरी मेरे मुझे हम
    हमारा आप आपका आपकी आपके यह ये वह वो इस उस इसका उसका करना करनी करने करूँ करूं करें
    कर करता करती लिए वाला वाली वाले सकता सकती सकते चाहिए जाना पड़ेगा पड़ता बताइए बताएं
    बताओ बताएँ कोई कुछ अब अभी जी गया गई गए हुआ हुई हुए रहा रही रहे हूँ हूं दिया लिया
    मिलेगा मिलेगी मिलता मिलती मिलेंगे बनेगा बनेगी बनता बनती लगेगा लगेगी लगता लगती लगेंगे
    रहता रहती आता आती तक जानकारी
"""


class KnowledgeError(ValueError):
    """``faq.yml`` cannot be read or breaks the schema; ``errors`` lists why."""

    def __init__(self, errors: Iterable[str], path: Path | None = None) -> None:
        self.errors: list[str] = list(errors)
        self.path = path
        where = f" {path}" if path is not None else ""
        head = f"invalid knowledge base{where} ({len(self.errors)} error(s)):"
        super().__init__("\n  - ".join([head, *self.errors]))


@dataclasses.dataclass(frozen=True)
class Entry:
    """One question and its answer (``faq.yml``)."""

    id: str
    department: str
    question: dict[str, str]
    answer: dict[str, str]
    keywords: dict[str, list[str]]
    services: tuple[str, ...] = ()
    district: str | None = None
    #: a fact the department has still to sign off
    indicative: bool = False

    def text(self, lang: str) -> str:
        return self.answer.get(lang) or self.answer["en"]


@dataclasses.dataclass(frozen=True)
class KnowledgeBase:
    catalogue: Catalogue
    entries: dict[str, Entry]
    districts: dict[str, dict[str, str]]


# --------------------------------------------------------------------------- loading


def load(
    path: Path | None = None,
    catalogue: Catalogue | None = None,
    districts_path: Path | None = None,
) -> KnowledgeBase:
    """Load and validate ``faq.yml`` (default: beside this module) with the catalogue.

    The default knowledge base is cached; raises :class:`KnowledgeError` listing every
    problem.
    """
    if path is None and catalogue is None and districts_path is None:
        return _load_default()
    return _load(Path(path or DEFAULT_PATH), catalogue or load_catalogue(), districts_path)


@functools.lru_cache(maxsize=1)
def _load_default() -> KnowledgeBase:
    return _load(DEFAULT_PATH, load_catalogue(), None)


def _load(path: Path, catalogue: Catalogue, districts_path: Path | None) -> KnowledgeBase:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeError([f"cannot read the file: {exc}"], path) from exc
    districts = load_districts(districts_path)
    errors = validate(raw, catalogue, districts)
    if errors:
        raise KnowledgeError(errors, path)
    entries = {
        e["id"]: Entry(
            id=e["id"],
            department=e["department"],
            question=dict(e["question"]),
            answer=dict(e["answer"]),
            keywords={lang: list(e["keywords"].get(lang) or []) for lang in KEYWORD_LANGS},
            services=tuple(e.get("services") or ()),
            district=e.get("district"),
            indicative=bool(e.get("indicative", False)),
        )
        for e in raw["entries"]
    }
    return KnowledgeBase(catalogue=catalogue, entries=entries, districts=districts)


def _bilingual(value: Any, where: str, errors: list[str]) -> None:
    if not isinstance(value, Mapping) or set(value) != set(TEXT_LANGS):
        errors.append(f"{where}: must have exactly the languages {list(TEXT_LANGS)}")
        return
    for lang in TEXT_LANGS:
        text = value[lang]
        if not isinstance(text, str) or not text.strip():
            errors.append(f"{where}.{lang}: must be a non-empty text")
        elif lang == "hi" and not _DEVANAGARI.search(text):
            errors.append(f"{where}.hi: must be written in Devanagari")


def validate(
    raw: Any, catalogue: Catalogue, districts: Mapping[str, Any] | None = None
) -> list[str]:
    """Every problem of a parsed ``faq.yml``: schema, both languages, references."""
    errors: list[str] = []
    if not isinstance(raw, Mapping) or set(raw) != {"version", "entries"}:
        return ["the file must be a mapping with exactly version and entries"]
    if raw["version"] != 1:
        errors.append("version: must be 1")
    entries = raw["entries"]
    if not isinstance(entries, list) or not entries:
        return [*errors, "entries: must be a non-empty list"]
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"entries[{index}]"
        if not isinstance(entry, Mapping):
            errors.append(f"{where}: must be a mapping")
            continue
        where = f"entry {entry.get('id', index)!s}"
        missing = [k for k in _REQUIRED if k not in entry]
        unknown = sorted(set(entry) - _ENTRY_KEYS)
        if missing:
            errors.append(f"{where}: missing {missing}")
        if unknown:
            errors.append(f"{where}: unknown keys {unknown}")
        if missing:
            continue
        entry_id = entry["id"]
        if not isinstance(entry_id, str) or not _SNAKE.match(entry_id):
            errors.append(f"{where}: id must be snake_case")
        elif entry_id in seen:
            errors.append(f"{where}: duplicate id")
        seen.add(str(entry_id))
        if entry["department"] not in catalogue.departments:
            errors.append(f"{where}: unknown department {entry['department']!r}")
        services = entry.get("services", [])
        if not isinstance(services, list):
            errors.append(f"{where}: services must be a list")
        else:
            for service in services:
                if service not in catalogue.services:
                    errors.append(f"{where}: unknown service {service!r}")
        if "district" in entry and entry["district"] not in (districts or {}):
            errors.append(f"{where}: unknown district {entry['district']!r}")
        if not isinstance(entry.get("indicative", False), bool):
            errors.append(f"{where}: indicative must be true or false")
        _bilingual(entry["question"], f"{where}.question", errors)
        _bilingual(entry["answer"], f"{where}.answer", errors)
        keywords = entry["keywords"]
        if not isinstance(keywords, Mapping) or set(keywords) != set(KEYWORD_LANGS):
            errors.append(f"{where}.keywords: must have exactly {list(KEYWORD_LANGS)}")
            continue
        for lang in KEYWORD_LANGS:
            words = keywords[lang]
            if not isinstance(words, list) or not words:
                errors.append(f"{where}.keywords.{lang}: must be a non-empty list")
                continue
            for word in words:
                devanagari = bool(_DEVANAGARI.search(str(word)))
                if (lang == "hi") != devanagari:
                    script = "Devanagari" if lang == "hi" else "Roman letters"
                    errors.append(f"{where}.keywords.{lang}: {word!r} must be in {script}")
    return errors


# --------------------------------------------------------------------------- retrieval


def _words(text: str) -> list[str]:
    return [w for w in _WORD_BREAKS.split(normalize(text).text) if w]


STOP_WORDS = frozenset(_words(_STOP_WORDS))


def _singular(word: str) -> str:
    """An English plural's singular, roughly ("charges", "refunds"); other words as they are."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss") and word.isascii():
        return word[:-1]
    return word


def key(word: str) -> str:
    """A word's phonetic key, with g and j folded too ("registration", "रजिस्ट्रेशन"),
    and an English plural as its singular."""
    return phonetic_key(_singular(word)).replace("g", "j")


def _token(word: str) -> str:
    """How a word is compared with the words that ask for a part of a service: by key
    in Devanagari, as written (singular) in Roman letters ("cost" is not "caste")."""
    return key(word) if _DEVANAGARI.match(word) else _singular(word)


def keys(text: str) -> list[str]:
    """The phonetic keys of a text's informative words, in order (stop words dropped).

    Stop words are compared as written (normalised), not by key: "kho" (lost) and "ko"
    share a key, and only the second is a stop word.
    """
    return [key(w) for w in _words(text) if _informative(w)]


def word_keys(text: str) -> list[tuple[str, str]]:
    """(word, key) of a text's informative words."""
    return [(w, key(w)) for w in _words(text) if _informative(w)]


def _informative(word: str) -> bool:
    """Not a stop word, nor a number ("300 rupees": the amount is not the topic)."""
    return word not in STOP_WORDS and not word.isdigit() and bool(key(word))


@dataclasses.dataclass(frozen=True)
class _Doc:
    entry: Entry
    keys: frozenset[str]
    deva_keys: frozenset[str]  # keys of its Devanagari words
    words: frozenset[str]  # its Roman words


def _key_set(*phrases: str) -> frozenset[str]:
    return frozenset(k for p in phrases for k in keys(p))


# What a question asks about a service, in the three ways of writing it ("|" between
# phrases).
PARTS: dict[str, str] = {
    "time": (
        "how long|how many days|days|time|kitne din|din|dino|samay|kab tak|दिन|"
        "दिनों|समय|टाइम|duration|soon"
    ),
    "fee": (
        "fee|fees|cost|charge|charges|price|paisa|paise|kharcha|muft|free|फीस|"
        "फ़ीस|शुल्क|पैसा|पैसे|खर्च|खर्चा|मुफ्त|rupees|rupaye|रुपये|how much|pay|"
        "kitne paise|कितने पैसे"
    ),
    "documents": (
        "document|documents|docs|papers|proof|kagaz|kagzat|dastavej|दस्तावेज|"
        "दस्तावेज़|कागज|कागजात|डॉक्यूमेंट|required"
    ),
    "eligibility": (
        "eligible|eligibility|criteria|age|who can|patrata|umar|umr|पात्रता|"
        "उम्र|आयु|योग्यता|condition|conditions"
    ),
    "where": ("where|kahan|kahaan|kaha|office|कहां|कहाँ|दफ्तर|ऑफिस|apply|आवेदन"),
}
PART_PHRASES: dict[str, frozenset[tuple[str, ...]]] = {
    part: frozenset(tuple(_token(w) for w in _words(p)) for p in phrases.split("|"))
    for part, phrases in PARTS.items()
}


@dataclasses.dataclass(frozen=True)
class Answer:
    """What the retrieval found for a question.

    ``kind``: ``faq`` (``entry``), ``facts`` (``parts`` of ``service``), ``card`` (the
    whole of ``service``) or ``unknown``. ``named``: the question named the service
    (not a follow-up). ``score``: the FAQ entry's share of the question's keys.
    """

    kind: str
    service: Service | None = None
    entry: Entry | None = None
    parts: tuple[str, ...] = ()
    score: float = 0.0
    named: bool = False


class Retriever:
    """Cross-script retrieval over a :class:`KnowledgeBase` (pure, no I/O after init)."""

    def __init__(self, kb: KnowledgeBase, threshold: float = THRESHOLD) -> None:
        self.kb = kb
        self.threshold = threshold
        self._docs: list[_Doc] = []
        for entry in kb.entries.values():
            texts = [*entry.question.values()]
            for lang in KEYWORD_LANGS:
                texts.extend(entry.keywords[lang])
            pairs = [p for t in texts for p in word_keys(t)]
            self._docs.append(
                _Doc(
                    entry,
                    frozenset(k for _, k in pairs),
                    frozenset(k for w, k in pairs if _DEVANAGARI.match(w)),
                    frozenset(w for w, _ in pairs if not _DEVANAGARI.match(w)),
                )
            )
        counts: dict[str, int] = {}
        for doc in self._docs:
            for key in doc.keys:
                counts[key] = counts.get(key, 0) + 1
        n = len(self._docs)
        self._idf = {k: math.log(1 + n / c) for k, c in counts.items()}
        self._unknown_idf = math.log(1 + n)  # a key no entry holds weighs the most
        # service synonyms (and names) as key sets; longest first
        synonyms: list[tuple[frozenset[str], Service]] = []
        for service in kb.catalogue.services.values():
            phrases = [*service.name.values()]
            for lang_synonyms in service.synonyms.values():
                phrases.extend(lang_synonyms)
            for phrase in phrases:
                found = frozenset(keys(phrase))
                if found:
                    synonyms.append((found, service))
        self._synonyms = sorted(synonyms, key=lambda s: -len(s[0]))

    # --- the parts of an answer ---------------------------------------------------------
    def service_in(self, question_keys: set[str]) -> tuple[Service | None, frozenset[str]]:
        """The service whose longest synonym the question holds, and that synonym's keys."""
        for synonym, service in self._synonyms:
            if synonym <= question_keys:
                return service, synonym
        return None, frozenset()

    @staticmethod
    def parts_in(words: list[str]) -> tuple[tuple[str, ...], set[int]]:
        """The parts of a service the words ask about, and which words say so."""
        tokens = [_token(w) for w in words]
        parts: list[str] = []
        used: set[int] = set()
        for part, phrases in PART_PHRASES.items():
            for phrase in phrases:
                for start in range(len(tokens) - len(phrase) + 1):
                    if tuple(tokens[start : start + len(phrase)]) == phrase:
                        used.update(range(start, start + len(phrase)))
                        if part not in parts:
                            parts.append(part)
        return tuple(parts), used

    def search(self, question: Iterable[tuple[str, str]]) -> list[tuple[float, float, Entry]]:
        """FAQ entries by the idf-weighted share of the question's keys they hold.

        ``question`` is (word, key) pairs. A Roman word earns its key's full weight when
        the entry has the same word, or the key from a Devanagari word ("seelampur" and
        "सीलमपुर"); another Roman word with the same key ("weather" for "water") earns
        half: a spelling variant, or a different word.
        """
        wanted: dict[str, str] = {}
        for word, k in question:
            wanted.setdefault(k, word)
        if not wanted:
            return []
        total = sum(self._idf.get(k, self._unknown_idf) for k in wanted)
        scored = []
        for doc in self._docs:
            held = 0.0
            for k, word in wanted.items():
                if k not in doc.keys:
                    continue
                same = _DEVANAGARI.match(word) or word in doc.words or k in doc.deva_keys
                held += self._idf[k] * (1.0 if same else 0.5)
            scored.append((held / total, held, doc.entry))
        scored.sort(key=lambda s: -s[0])
        return scored

    @staticmethod
    def _closeness(entry: Entry, service: Service | None) -> int:
        """Among equally good entries: the one about the service asked about, else one
        of its department."""
        if service is None:
            return 0
        return 2 if service.id in entry.services else int(entry.department == service.department)

    # --- the answer ---------------------------------------------------------------------
    def answer(self, text: str, context: str | None = None) -> Answer:
        """The answer to ``text``; ``context`` is the id of the service in context."""
        words = _words(text)
        pairs = [(i, w, key(w)) for i, w in enumerate(words) if _informative(w)]
        service, synonym = self.service_in({k for _, _, k in pairs})
        named = service is not None
        if service is None and context:
            service = self.kb.catalogue.services.get(context)
        parts, part_words = self.parts_in(words)
        # what the question asks beyond the service's name (and, with a service, the
        # parts of it the catalogue answers)
        rest = [
            (w, k)
            for i, w, k in pairs
            if k not in synonym and (service is None or i not in part_words)
        ]
        hits = [h for h in self.search(rest) if self._fits(h[2], service if named else None)]
        # an entry about the service asked about (or its department) goes first
        hits.sort(key=lambda h: -(h[0] + 0.25 * self._closeness(h[2], service)))
        best_score, held, best = hits[0] if hits else (0.0, 0.0, None)
        if best is not None and best_score >= self.threshold and held >= MIN_EVIDENCE:
            about = self._entry_service(best, service)
            return Answer("faq", about, best, (), best_score, named)
        if service is not None and parts:
            return Answer("facts", service, None, parts, best_score, named)
        if named and not rest:
            return Answer("card", service, None, (), best_score, named)
        return Answer("unknown", None, None, (), best_score, named)

    @staticmethod
    def _fits(entry: Entry, named: Service | None) -> bool:
        """An entry about other services of another department is not about the one
        the question names (the pension income limit is no answer about marriage)."""
        if named is None or not entry.services or named.id in entry.services:
            return True
        return entry.department == named.department

    def _entry_service(self, entry: Entry, service: Service | None) -> Service | None:
        """The service an FAQ answer is about: the one asked about if the entry covers
        it, else the entry's first."""
        if service is not None and service.id in entry.services:
            return service
        return self.kb.catalogue.services.get(entry.services[0]) if entry.services else None


@functools.lru_cache(maxsize=1)
def retriever() -> Retriever:
    """The default knowledge base's retriever (built once per process)."""
    return Retriever(load())
