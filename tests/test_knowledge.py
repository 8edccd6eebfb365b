"""The knowledge base (service_catalogue/faq.yml + the catalogue) and its retrieval."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from service_catalogue import load as load_catalogue
from service_catalogue.knowledge import (
    DEFAULT_PATH,
    THRESHOLD,
    KnowledgeError,
    Retriever,
    keys,
    load,
    retriever,
    validate,
)

DISTRICTS = yaml.safe_load((DEFAULT_PATH.parent / "districts.yml").read_text(encoding="utf-8"))[
    "districts"
]


def _raw() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    return raw


def _errors(change: Any) -> list[str]:
    raw = copy.deepcopy(_raw())
    change(raw["entries"][0], raw)
    return validate(raw, load_catalogue(), DISTRICTS)


# --- loading and validation -------------------------------------------------------------


def test_the_shipped_knowledge_base_is_valid_and_covers_the_topics() -> None:
    kb = load()
    assert validate(_raw(), load_catalogue(), DISTRICTS) == []
    ids = set(kb.entries)
    for topic in (
        "certificate_correction",
        "lost_certificate",
        "appeal_rejection",
        "office_hours",
        "csc_charges",
        "payment_failed",
        "refund",
    ):
        assert topic in ids
    # a CSC entry for every district of districts.yml
    assert {e.district for e in kb.entries.values() if e.district} == set(DISTRICTS)
    assert "₹50" in kb.entries["csc_charges"].text("en")
    assert "₹50" in kb.entries["csc_charges"].text("hi")
    assert kb.entries["csc_charges"].indicative


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e, r: e["answer"].pop("hi"), "answer: must have exactly the languages"),
        (lambda e, r: e["question"].update(hi="Wrong name"), "question.hi: must be written in"),
        (lambda e, r: e.update(department="railways"), "unknown department 'railways'"),
        (lambda e, r: e.update(services=["passport"]), "unknown service 'passport'"),
        (lambda e, r: e.update(district="gurgaon"), "unknown district 'gurgaon'"),
        (lambda e, r: e.update(indicative="yes"), "indicative must be true or false"),
        (lambda e, r: e.update(colour="red"), "unknown keys ['colour']"),
        (lambda e, r: e.pop("answer"), "missing ['answer']"),
        (lambda e, r: e["keywords"]["hi"].append("galti"), "must be in Devanagari"),
        (lambda e, r: e["keywords"]["hinglish"].append("गलती"), "must be in Roman letters"),
        (lambda e, r: r["entries"].append(copy.deepcopy(e)), "duplicate id"),
    ],
)
def test_a_broken_entry_is_refused_with_the_reason(change: Any, message: str) -> None:
    errors = _errors(change)
    assert any(message in error for error in errors), errors


def test_loading_a_broken_file_raises_listing_every_error(tmp_path: Path) -> None:
    raw = _raw()
    raw["entries"][0]["department"] = "railways"
    raw["entries"][1]["answer"] = {"en": "only English"}
    path = tmp_path / "faq.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeError) as error:
        load(path)
    assert len(error.value.errors) == 2


# --- retrieval --------------------------------------------------------------------------


def test_keys_are_shared_across_scripts() -> None:
    assert keys("शादी का रजिस्ट्रेशन") == keys("shaadi registration")
    assert keys("सीलमपुर") == keys("seelampur")
    assert keys("what is the fee") == keys("fee")  # stop words dropped


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("my certificate has a spelling mistake, what do I do?", "certificate_correction"),
        ("मेरे सर्टिफिकेट में नाम गलत छप गया है", "certificate_correction"),
        ("pension ke liye income limit kitni hai?", "pension_income_limit"),
        ("CSC centre near Seelampur?", "csc_north_east"),
        ("सीलमपुर के पास सीएससी", "csc_north_east"),
        ("driving licence kho gaya", "lost_driving_licence"),
        ("paise kat gaye payment fail ho gaya", "payment_failed"),
        ("मेरा आवेदन रद्द हो गया", "appeal_rejection"),
    ],
)
def test_a_question_finds_its_entry_in_any_script(question: str, entry: str) -> None:
    answer = retriever().answer(question)
    assert answer.kind == "faq"
    assert answer.entry is not None and answer.entry.id == entry
    assert answer.score >= THRESHOLD


def test_a_question_about_a_service_gets_the_parts_asked() -> None:
    answer = retriever().answer("शादी का रजिस्ट्रेशन कितने दिन में होता है और कहाँ जाना पड़ेगा?")
    assert answer.kind == "facts"
    assert answer.service is not None and answer.service.id == "marriage_certificate"
    assert answer.parts == ("time", "where")
    assert answer.named


def test_a_follow_up_keeps_the_service_in_context() -> None:
    answer = retriever().answer("how long will it take?", context="marriage_certificate")
    assert answer.kind == "facts" and answer.parts == ("time",)
    assert answer.service is not None and answer.service.id == "marriage_certificate"
    assert not answer.named
    # an FAQ answer about the service in context names it (and so offers to apply)
    lost = retriever().answer("it got lost, what now?", context="driving_licence")
    assert lost.entry is not None and lost.entry.id == "lost_driving_licence"


@pytest.mark.parametrize(
    "question",
    [
        "what is the weather today",
        "passport kaise banwaye",
        "when is the next election",
        "मेट्रो कार्ड कैसे रिचार्ज करें",
        "asdf qwer",
    ],
)
def test_nothing_relevant_is_unknown_never_a_guess(question: str) -> None:
    assert retriever().answer(question).kind == "unknown"


def test_the_threshold_decides() -> None:
    strict = Retriever(load(), threshold=1.01)
    assert strict.answer("CSC centre near Seelampur?").kind == "unknown"
