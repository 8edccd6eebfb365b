"""Text functions behind the Indic NLU components: pure, fast, no Rasa imports.

Hindi typed in Devanagari, Hindi typed in Roman letters (Hinglish) and English all end
up in one key space here, so that what the classifier learns from one script carries
over to the other:

* ``normalize`` rewrites a message (NFC, indic-nlp-library's Devanagari normaliser with
  nukta removal, chandrabindu to anusvara, zero-width characters dropped, Devanagari
  digits to ASCII, case folding) and keeps, for every normalised character, the index
  of the character it came from, so tokens and entities still point into what the
  citizen typed.
* ``phonetic_key`` folds one word of either script to a consonant skeleton:
  "जन्म" and "janam" both become ``jnm``, "प्रमाणपत्र" and "pramanpatra" ``prmnptr``,
  "सर्टिफिकेट" and "certificate" ``srtpkt``.
* ``detect_language`` tells Hindi (Devanagari or Roman) from English, and marks
  Hinglish.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from indicnlp.normalize.indic_normalize import DevanagariNormalizer

from indic_nlu.lexicon import ENGLISH_MARKERS, HINDI_MARKERS

_DEVANAGARI_NORMALIZER = DevanagariNormalizer(lang="hi", remove_nuktas=True)

_ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}
_CHANDRABINDU, _ANUSVARA = "\u0901", "\u0902"


def ascii_digits(text: str) -> str:
    """Every decimal digit of any script (Devanagari "११०", Gurmukhi, ...) as ASCII.

    The one digit folder of the project: the NLU, the form validators and the actions.
    """
    if text.isascii():
        return text
    return "".join(_ascii_digit(char) for char in text)


def _ascii_digit(char: str) -> str:
    value = None if char.isascii() else unicodedata.decimal(char, None)
    return char if value is None else str(value)


def is_devanagari(char: str) -> bool:
    return "\u0900" <= char <= "\u097f" or "\ua8e0" <= char <= "\ua8ff"


@dataclass(frozen=True)
class Normalized:
    """A normalised text and, for each of its characters, the source index."""

    text: str
    source: tuple[int, ...]  # source[i] = index in the original of text[i]
    original_length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Maps a [start, end) span of the normalised text back to the original."""
        if start >= len(self.text):
            return self.original_length, self.original_length
        original_start = self.source[start]
        if end >= len(self.text):
            return original_start, self.original_length
        return original_start, max(original_start + 1, self.source[end])


@functools.lru_cache(maxsize=4096)
def _normalize_cluster(cluster: str) -> str:
    """Normalises one base character with its combining marks."""
    cluster = unicodedata.normalize("NFC", cluster)
    if any(is_devanagari(c) for c in cluster):
        cluster = _DEVANAGARI_NORMALIZER.normalize(cluster)
        cluster = cluster.replace(_CHANDRABINDU, _ANUSVARA)
    out = []
    for char in cluster:
        if char in _ZERO_WIDTH:
            continue
        out.append(_ascii_digit(char))
    return "".join(out).casefold()


def _clusters(text: str) -> list[tuple[int, str]]:
    """Splits text into (index, base + combining marks) clusters."""
    clusters: list[tuple[int, str]] = []
    for index, char in enumerate(text):
        if clusters and unicodedata.combining(char):
            start, previous = clusters[-1]
            clusters[-1] = (start, previous + char)
        else:
            clusters.append((index, char))
    return clusters


def normalize(text: str) -> Normalized:
    """Normalises a message, keeping the way back to the original characters."""
    chars: list[str] = []
    source: list[int] = []
    for index, cluster in _clusters(text):
        normalized = _normalize_cluster(cluster) if not cluster.isascii() else cluster.lower()
        chars.extend(normalized)
        source.extend([index] * len(normalized))
    return Normalized("".join(chars), tuple(source), len(text))


# --- Devanagari to Roman ---------------------------------------------------------------

_CONSONANTS = {
    "क": "k",
    "ख": "kh",
    "ग": "g",
    "घ": "gh",
    "ङ": "n",
    "च": "ch",
    "छ": "chh",
    "ज": "j",
    "झ": "jh",
    "ञ": "n",
    "ट": "t",
    "ठ": "th",
    "ड": "d",
    "ढ": "dh",
    "ण": "n",
    "त": "t",
    "थ": "th",
    "द": "d",
    "ध": "dh",
    "न": "n",
    "प": "p",
    "फ": "ph",
    "ब": "b",
    "भ": "bh",
    "म": "m",
    "य": "y",
    "र": "r",
    "ल": "l",
    "ळ": "l",
    "व": "v",
    "श": "sh",
    "ष": "sh",
    "स": "s",
    "ह": "h",
}
_VOWELS = {
    "अ": "a",
    "आ": "aa",
    "इ": "i",
    "ई": "ii",
    "उ": "u",
    "ऊ": "uu",
    "ऋ": "ri",
    "ए": "e",
    "ऐ": "ai",
    "ओ": "o",
    "औ": "au",
    "ऑ": "o",
    "ऍ": "e",
    "ऎ": "e",
    "ऒ": "o",
}
_MATRAS = {
    "ा": "aa",
    "ि": "i",
    "ी": "ii",
    "ु": "u",
    "ू": "uu",
    "ृ": "ri",
    "ॄ": "ri",
    "े": "e",
    "ै": "ai",
    "ो": "o",
    "ौ": "au",
    "ॉ": "o",
    "ॅ": "e",
    "ॆ": "e",
    "ॊ": "o",
}
_VIRAMA = "्"
_SIGNS = {_ANUSVARA: "n", _CHANDRABINDU: "n", "ः": "h", "ऽ": ""}


def devanagari_to_roman(word: str) -> str:
    """A plain phonetic romanisation of a normalised (nukta-free) Devanagari word."""
    out: list[str] = []
    pending_schwa = False
    for char in word:
        if char in _CONSONANTS:
            if pending_schwa:
                out.append("a")
            out.append(_CONSONANTS[char])
            pending_schwa = True
            continue
        if char in _MATRAS:
            out.append(_MATRAS[char])
        elif char == _VIRAMA:
            pass
        elif char in _VOWELS:
            if pending_schwa:
                out.append("a")
            out.append(_VOWELS[char])
        elif char in _SIGNS:
            if pending_schwa:
                out.append("a")
            out.append(_SIGNS[char])
        else:
            if pending_schwa:
                out.append("a")
            out.append(char)
        pending_schwa = False
    return "".join(out)  # the word-final schwa is dropped, as Hindi speakers do


# --- the phonetic key --------------------------------------------------------------------

_FOLDS = [
    (re.compile(r"[ts]ion"), "sn"),  # application, pension
    (re.compile(r"chh|ch"), "C"),
    (re.compile(r"c(?=[eiy])"), "s"),
    (re.compile(r"ck|c|q"), "k"),
    (re.compile(r"ph|f"), "p"),
    (re.compile(r"([kgjtdbsr])h"), r"\1"),
    (re.compile(r"x"), "ks"),
    (re.compile(r"z"), "j"),
    (re.compile(r"w"), "v"),
    (re.compile(r"C"), "c"),
    (re.compile(r"([a-z])\1+"), r"\1"),
]
_VOWEL_RUN = re.compile(r"[aeiou]+")
_NOT_LETTER = re.compile(r"[^a-z]")


@functools.lru_cache(maxsize=65536)
def phonetic_key(word: str) -> str:
    """Folds a normalised word of either script to its consonant skeleton.

    Digits become a shape (``num6`` for a PIN code); a word starting with a vowel keeps
    one ``a`` in front; a word of vowels only becomes ``a``; other scripts and symbols
    are returned unchanged so that they still make a feature.
    """
    if word.isdigit():
        return f"num{len(word)}"
    if any(is_devanagari(c) for c in word):
        word = devanagari_to_roman(word)
    roman = _NOT_LETTER.sub("", word.lower())
    if not roman:
        return word
    for pattern, replacement in _FOLDS:
        roman = pattern.sub(replacement, roman)
    starts_with_vowel = roman[0] in "aeiou"
    skeleton = _VOWEL_RUN.sub("", roman)
    return ("a" + skeleton) if starts_with_vowel else (skeleton or "a")


# --- language --------------------------------------------------------------------------

_WORD = re.compile(r"[a-z]+|[\u0900-\u097f]+")


@dataclass(frozen=True)
class LanguageGuess:
    """The language a message is written in.

    ``code`` is ``hi`` or ``en``, or None when nothing in the message tells (emoji,
    numbers, a bare name); ``hinglish`` marks Hindi in Roman letters or mixed scripts.
    """

    code: str | None
    script: str  # "deva", "latn", "mixed" or "none"
    hinglish: bool
    evidence: int = 0  # words that point to ``code``: a one-word "yes" is weak evidence

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "script": self.script,
            "hinglish": self.hinglish,
            "evidence": self.evidence,
        }


def detect_language(normalized_text: str) -> LanguageGuess:
    """Guesses the language of a normalised (case-folded) message."""
    words = _WORD.findall(normalized_text)
    deva = sum(1 for w in words if is_devanagari(w[0]))
    latin = len(words) - deva
    if deva and latin:
        return LanguageGuess("hi", "mixed", True, deva)
    if deva:
        return LanguageGuess("hi", "deva", False, deva)
    if not latin:
        return LanguageGuess(None, "none", False)
    hindi = sum(1 for w in words if w in HINDI_MARKERS)
    english = sum(1 for w in words if w in ENGLISH_MARKERS)
    if hindi and hindi >= 0.5 * english:
        return LanguageGuess("hi", "latn", True, hindi)
    if english:
        return LanguageGuess("en", "latn", False, english)
    return LanguageGuess(None, "latn", False)
