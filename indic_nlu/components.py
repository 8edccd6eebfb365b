"""Rasa graph components for Hindi, English and Hinglish.

Pipeline order (see config.yml): IndicNormalizer -> IndicTokenizer -> LanguageDetector
-> featurizers (which read each token's ``lemma``, the cross-script phonetic key)
-> classifier -> CatalogueEntityExtractor.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from pathlib import Path
from typing import Any

import spacy
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME as NLU_FALLBACK
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    METADATA,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
    TEXT_TOKENS,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from indic_nlu.gazetteer import Gazetteer
from indic_nlu.text import Normalized, detect_language, normalize, phonetic_key

NORMALIZED = "text_normalized"
LANGUAGE = "language"


def _normalized(message: Message, attribute: str) -> Normalized:
    if attribute == TEXT and isinstance(message.get(NORMALIZED), Normalized):
        return message.get(NORMALIZED)
    return normalize(message.get(attribute) or "")


class _MessageProcessor(GraphComponent):
    """A component without configuration or trained state that only processes messages."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> _MessageProcessor:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


# Set by our channels (connectors/) on a message that is a button or list payload the
# bot itself issued; everything else is free text typed by a citizen.
TRUSTED_PAYLOAD = "trusted_payload"
# "/" and the characters that look like it (fullwidth, division, fraction, big solidus,
# box-drawing and mathematical diagonals): a font, a keyboard or a normaliser (NFKC
# turns ／ into /) must not turn typed text into a payload.
_SLASHES = frozenset("/\uff0f\u2215\u2044\u29f8\u2571\u27cb")


def _typed_intent_stripped(text: str) -> str | None:
    """``text`` without its leading run of slashes, spaces and invisible characters
    (zero-width spaces and joiners, word joiner, BOM, bidi marks: Unicode category Cf),
    or None when that run holds no slash (nothing to neutralise)."""
    start, slash = 0, False
    while start < len(text):
        char = text[start]
        if char in _SLASHES:
            slash = True
        elif not (char.isspace() or unicodedata.category(char) == "Cf"):
            break
        start += 1
    return text[start:] if slash else None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class FreeTextGuard(_MessageProcessor):
    """Stops typed text such as ``/apply_service{"service":"x"}`` acting as a payload.

    Rasa reads any text starting with "/" as an intent with confidence 1.0. Only a
    payload our channel vouches for (metadata ``trusted_payload``) keeps that power;
    typed text loses every leading slash (and look-alike), space, newline and invisible
    character, so "/ /affirm", "／affirm" or "\\u200b/affirm" go through the classifier
    like any other message.
    """

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str):
                continue
            metadata = message.get(METADATA) or {}
            if isinstance(metadata, dict) and metadata.get(TRUSTED_PAYLOAD) is True:
                continue
            stripped = _typed_intent_stripped(text)
            if stripped is not None:
                message.set(TEXT, stripped)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class IndicNormalizer(_MessageProcessor):
    """Normalises Devanagari and Roman text (see ``indic_nlu.text.normalize``).

    The citizen's text is kept as typed (names in a form must not be case-folded);
    the normalised form goes beside it with a map back to the typed characters.
    """

    def _process(self, message: Message) -> None:
        text = message.get(TEXT)
        if isinstance(text, str):
            message.set(NORMALIZED, normalize(text))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._process(example)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._process(message)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class IndicTokenizer(Tokenizer):
    """spaCy blank ``hi``/``en`` tokenisation of the normalised text.

    Splits "।", punctuation and digits from words, keeps ids such as APP-2026-000123
    apart from the words around them; token offsets point into the typed text and each
    token's ``lemma`` is its phonetic key, so featurizers see one key space for both
    scripts.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["spacy"]

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self._nlp = {"hi": spacy.blank("hi"), "en": spacy.blank("en")}

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        normalized = _normalized(message, attribute)
        text = message.get(attribute) or ""
        return tokenize(normalized, text, self._nlp)


def tokenize(normalized: Normalized, original: str, nlp: dict[str, Any]) -> list[Token]:
    devanagari = sum(1 for c in normalized.text if "\u0900" <= c <= "\u097f")
    language = "hi" if devanagari * 2 >= len(normalized.text.strip() or " ") else "en"
    tokens = []
    for spacy_token in nlp[language].make_doc(normalized.text):
        if spacy_token.is_space or not spacy_token.text.strip():
            continue
        start, end = normalized.span(spacy_token.idx, spacy_token.idx + len(spacy_token))
        token = Token(original[start:end], start, end, lemma=phonetic_key(spacy_token.text))
        token.set("norm", spacy_token.text)
        tokens.append(token)
    return tokens


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class LanguageDetector(_MessageProcessor):
    """Adds ``language`` = {code: hi|en|None, script, hinglish, evidence} to the parse.

    The action server reads it to set the ``language`` slot; it is a message property,
    not an entity, so it never disturbs entity evaluation.
    """

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            guess = detect_language(_normalized(message, TEXT).text)
            message.set(LANGUAGE, guess.as_dict(), add_to_output=True)
        return messages


GREET = "greet"
# waving hand, folded hands (namaste), person raising hand; skin-tone and gender
# modifiers follow them as separate code points and change nothing here
_HELLO_EMOJI = frozenset("\U0001f44b\U0001f64f\U0001f64b")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class WordlessMessageClassifier(_MessageProcessor):
    """A message with no letters or digits (empty, emoji, punctuation) is not guessed.

    Without this, a classifier still picks its likeliest intent for "😀😀" (often
    ``affirm``), and an emoji would count as consent. Such messages get ``nlu_fallback``
    with full confidence, and the assistant asks the citizen to write in words.

    One exception: a wave 👋 or folded hands 🙏 (🙋 too, in any skin tone, alone or
    with other emoji) is how many citizens say hello on WhatsApp, so it is ``greet``.
    It is never ``affirm``: an emoji still cannot give consent.
    """

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if any(c.isalnum() for c in text):
                continue
            name = GREET if any(c in _HELLO_EMOJI for c in text) else NLU_FALLBACK
            intent = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class CatalogueEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Finds ``service``, ``department`` and ``language`` by the service catalogue.

    Names and synonyms of service_catalogue/services.yml are matched on phonetic keys, so
    "janm pramanpatra", "जन्म प्रमाण पत्र" and "birth certificate" all give
    ``birth_certificate``; the longest match wins. Training copies the gazetteer into
    the model, so a model does not depend on where it is loaded; the catalogue's
    content is part of the model fingerprint, so editing it retrains.
    """

    _FILE = "gazetteer.json"

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"catalogue": "service_catalogue/services.yml"}

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        path = Path(config.get("catalogue") or cls.get_default_config()["catalogue"])
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        gazetteer: Gazetteer | None = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._gazetteer = gazetteer or Gazetteer()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CatalogueEntityExtractor:
        return cls({**cls.get_default_config(), **config}, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        self._gazetteer = Gazetteer.from_catalogue(Path(self._config["catalogue"]))
        with self._model_storage.write_to(self._resource) as directory:
            (directory / self._FILE).write_text(
                json.dumps(self._gazetteer.by_key, ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CatalogueEntityExtractor:
        with model_storage.read_from(resource) as directory:
            raw = json.loads((directory / cls._FILE).read_text(encoding="utf-8"))
        gazetteer = Gazetteer({key: [tuple(e) for e in entries] for key, entries in raw.items()})
        return cls({**cls.get_default_config(), **config}, model_storage, resource, gazetteer)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            tokens: list[Token] = message.get(TEXT_TOKENS) or []
            entities = self.add_extractor_name(
                [
                    {
                        "entity": entity,
                        "value": value,
                        "start": tokens[first].start,
                        "end": tokens[last].end,
                        "confidence_entity": 1.0,
                    }
                    for entity, value, first, last in self._gazetteer.find(_keys(tokens))
                ]
            )
            message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)
        return messages


def _keys(tokens: list[Token]) -> list[tuple[str, str]]:
    return [(str(t.get("norm") or t.text.lower()), str(t.lemma)) for t in tokens]
