"""Test data must not repeat the training data (issue 14, item 12).

A test story whose user turns are copied from data/nlu/ only proves the model remembers
its training set, and so does a held-out benchmark that shares sentences with it. This
check compares every user turn of tests/stories/*.yml and every example of
bench/heldout/*.yml with every training example of data/nlu/**, normalised for case,
whitespace and punctuation. Payload turns ("/affirm", '/csc_confirm{"csc_code": ...}')
are what a tapped button sends, not typed text, and are exempt, and so is a turn that is
exactly the title of a button the bot offers (domain.yml), which is what a tap shows.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
NLU_DIR = ROOT / "data" / "nlu"
STORIES_DIR = ROOT / "tests" / "stories"
HELDOUT_DIR = ROOT / "bench" / "heldout"
DOMAIN = ROOT / "domain.yml"

# [text]{"entity": ...} and [text](entity) annotations keep only their text.
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\{[^}]*\}|\([^)]*\))")


def normalise(text: str) -> str:
    """Case, whitespace and punctuation do not make a sentence new."""
    text = _ANNOTATION.sub(r"\1", text)
    text = unicodedata.normalize("NFC", text).casefold()
    # Drop punctuation and symbols (including the danda "।"), keep letters, digits and
    # combining marks, which Devanagari words are made of.
    kept = "".join(
        ch if not unicodedata.category(ch).startswith(("P", "S")) else " " for ch in text
    )
    return " ".join(kept.split())


def _examples(block: object) -> list[str]:
    if not isinstance(block, str):
        return []
    return [
        line.strip()[2:].strip() for line in block.splitlines() if line.strip().startswith("- ")
    ]


def nlu_examples(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found: list[str] = []
    for item in data.get("nlu") or []:
        if isinstance(item, dict) and "intent" in item:
            found.extend(_examples(item.get("examples")))
    return found


def story_user_turns(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    turns: list[str] = []
    for story in data.get("stories") or []:
        for step in story.get("steps") or []:
            if isinstance(step, dict) and "user" in step:
                text = str(step["user"]).strip()
                if not text.startswith("/"):  # a tapped button's payload
                    turns.append(text)
    return turns


def button_titles() -> set[str]:
    domain = yaml.safe_load(DOMAIN.read_text(encoding="utf-8")) or {}
    titles: set[str] = set()
    for variations in (domain.get("responses") or {}).values():
        for variation in variations or []:
            for button in (variation or {}).get("buttons") or []:
                if isinstance(button, dict) and button.get("title"):
                    titles.add(normalise(str(button["title"])))
    return titles


def training_sentences() -> dict[str, str]:
    sentences: dict[str, str] = {}
    for path in sorted(NLU_DIR.rglob("*.yml")):
        for example in nlu_examples(path):
            sentences.setdefault(normalise(example), str(path.relative_to(ROOT)))
    sentences.pop("", None)
    return sentences


def test_normalise_ignores_case_spacing_punctuation_and_annotations():
    assert normalise('I want a [Birth Certificate]{"entity": "service"}!') == (
        normalise("i  want a birth certificate")
    )
    assert normalise("मुझे  शिकायत दर्ज करनी है।") == normalise("मुझे शिकायत दर्ज करनी है")
    assert normalise("नमस्ते") != normalise("नमस्त")  # the vowel sign is part of the word


def test_there_is_data_to_compare():
    assert len(training_sentences()) > 500
    assert sum(len(story_user_turns(p)) for p in STORIES_DIR.glob("*.yml")) > 100
    assert sum(len(nlu_examples(p)) for p in HELDOUT_DIR.glob("*.yml")) > 100


def test_test_stories_share_no_sentence_with_training_data():
    training = training_sentences()
    tapped = button_titles()
    copied = [
        f"{path.name}: {turn!r} (in {training[normalise(turn)]})"
        for path in sorted(STORIES_DIR.glob("*.yml"))
        for turn in story_user_turns(path)
        if normalise(turn) in training and normalise(turn) not in tapped
    ]
    assert not copied, "user turns copied from data/nlu/:\n" + "\n".join(copied)


def heldout_copies(directory: Path = HELDOUT_DIR) -> list[str]:
    """The held-out examples of ``directory`` that data/nlu/ already contains."""
    training = training_sentences()
    return [
        f"{path.name}: {example!r} (in {training[normalise(example)]})"
        for path in sorted(directory.glob("*.yml"))
        for example in nlu_examples(path)
        if normalise(example) in training
    ]


def test_heldout_benchmark_shares_no_sentence_with_training_data():
    """`make test-nlu` measures understanding of new sentences, not memory of old ones."""
    copied = heldout_copies()
    assert not copied, "held-out sentences found in data/nlu/:\n" + "\n".join(copied)


def test_a_training_sentence_copied_into_heldout_is_caught(tmp_path):
    for path in HELDOUT_DIR.glob("*.yml"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    hindi = tmp_path / "hi.yml"
    # One training sentence, with punctuation added, under the first intent.
    text = hindi.read_text(encoding="utf-8")
    first = text.index("  examples: |\n") + len("  examples: |\n")
    hindi.write_text(text[:first] + "    - नमस्ते!\n" + text[first:], encoding="utf-8")
    assert "नमस्ते" in training_sentences()
    [copied] = set(heldout_copies(tmp_path)) - set(heldout_copies())
    assert copied.startswith("hi.yml: 'नमस्ते!' (in data/nlu/")
