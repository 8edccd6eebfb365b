"""Trainers' annotations as Rasa NLU training data, and the check that keeps an
unreviewed export out of ``data/nlu/``.

The trainer's inbox (``dashboard/trainer.py``) exports one file per language
(:func:`render_export`): valid Rasa 3 NLU YAML, one ``- intent:`` block per intent,
``service``/``department``/``language`` annotated with their canonical value, ids as
``[APP-2026-000123](application_id)``; Aadhaar and phone numbers masked
(:func:`privacy.mask_personal_numbers`); without the sentences ``data/nlu/`` already has
(in any language) or ``bench/heldout/`` tests with (training on a test sentence would
make ``make nlu-compare`` lie), and each sentence once.

An export is not training data until a trainer has read it (docs/nlu-guide.md, steps
4-5): it carries the top-level key :data:`MARKER` (Rasa's schema allows extra keys, so
the file stays valid NLU YAML). ``make validate`` and ``make train`` run

    python -m dashboard.nlu_export check data

first, which refuses any file under ``data/`` that still has the key, with one message
naming it, instead of training on it (or drowning the mistake in Rasa's warnings).

Standard library, PyYAML and :mod:`privacy` only: the Makefile runs this module before
anything else is started.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from privacy import mask_personal_numbers

#: The top-level key that marks a file as an unreviewed trainer export.
MARKER = "unreviewed_export"
LANGUAGES = ("hi", "en", "hinglish")
#: Entities annotated with a canonical value (``{"entity": .., "value": ..}``).
VALUED_ENTITIES = frozenset({"service", "department", "language"})
#: Entities annotated by their span alone (the regex finds them).
ID_ENTITIES = frozenset({"application_id", "grievance_id"})
ANNOTATED_ENTITIES = VALUED_ENTITIES | ID_ENTITIES

# [span](entity) / [span](entity:value) / [span]{"entity": ..} in an example line
_MARKUP = re.compile(r"\[([^\]]+?)\](?:\([^)]*\)|\{[^}]*\})")
_PUNCTUATION = re.compile(r"[?.!,।॥;:'\"“”‘’()\[\]{}…]+")


def normalize(text: str) -> str:
    """What two sentences must share to count as the same example: case, spacing and
    punctuation do not matter (``"Bijli ka bill?"`` == ``"bijli  ka bill"``)."""
    text = unicodedata.normalize("NFC", text).casefold()
    return " ".join(_PUNCTUATION.sub(" ", text).split())


def plain(example: str) -> str:
    """An example line's text without its entity markup."""
    return _MARKUP.sub(lambda m: m.group(1), example)


def mask(text: str) -> str:
    """A citizen's sentence as it may leave the dashboard: one line, Aadhaar and phone
    numbers masked, no square brackets (Rasa would read ``[..](..)`` as an annotation)."""
    text = " ".join(text.split())
    return mask_personal_numbers(text).replace("[", "(").replace("]", ")")


# --------------------------------------------------------------------------- reading


def _yaml_files(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml"))
        elif path.is_file():
            found.append(path)
    return found


def _load(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None


def known_examples(paths: Iterable[Path]) -> dict[str, str]:
    """Every example sentence in the NLU files under ``paths``: normalized text -> intent."""
    known: dict[str, str] = {}
    for path in _yaml_files(paths):
        content = _load(path)
        if not isinstance(content, dict) or not isinstance(content.get("nlu"), list):
            continue
        for block in content["nlu"]:
            if not isinstance(block, dict) or "intent" not in block:
                continue
            examples = block.get("examples")
            lines: list[str] = []
            if isinstance(examples, str):
                lines = [ln.strip()[1:].strip() for ln in examples.splitlines() if ln.strip()]
            elif isinstance(examples, list):
                lines = [str(e.get("text", "")) for e in examples if isinstance(e, dict)]
            for line in lines:
                key = normalize(plain(line))
                if key:
                    known.setdefault(key, str(block["intent"]))
    return known


def unreviewed(paths: Iterable[Path]) -> list[Path]:
    """The files under ``paths`` that are trainer exports nobody has reviewed yet."""
    found = []
    for path in _yaml_files(paths):
        content = _load(path)
        if isinstance(content, dict) and MARKER in content:
            found.append(path)
    return found


def check(paths: Sequence[Path]) -> str | None:
    """None if no unreviewed export is among ``paths``, else the one message to show."""
    found = unreviewed(paths)
    if not found:
        return None
    names = "\n".join(f"  {p}" for p in found)
    return (
        f"Unreviewed NLU export in the training data:\n{names}\n"
        "A trainer export is not training data yet. Review it as docs/nlu-guide.md says "
        "(step 5), move its examples into data/nlu/<language>/<feature>.yml "
        "(python -m bench.nlu_merge does it), and delete the export."
    )


# --------------------------------------------------------------------------- writing


@dataclasses.dataclass(frozen=True)
class Example:
    """One annotated sentence: ``entities`` are dicts with entity, value, start, end
    (character offsets into ``text``)."""

    text: str
    intent: str
    entities: tuple[Mapping[str, Any], ...] = ()


def _span_markup(text: str, entity: Mapping[str, Any]) -> str:
    name = str(entity["entity"])
    if name in ID_ENTITIES:
        return f"[{text}]({name})"
    value = json.dumps(str(entity["value"]), ensure_ascii=False)
    return f'[{text}]{{"entity": "{name}", "value": {value}}}'


def annotate(example: Example) -> str:
    """``example`` as one line of Rasa's YAML format (entity markup inline)."""
    text = example.text
    spans = sorted(
        (
            e
            for e in example.entities
            if e.get("entity") in ANNOTATED_ENTITIES
            and isinstance(e.get("start"), int)
            and isinstance(e.get("end"), int)
            and 0 <= int(e["start"]) < int(e["end"]) <= len(text)
        ),
        key=lambda e: (int(e["start"]), -int(e["end"])),
    )
    out, at = [], 0
    for entity in spans:
        start, end = int(entity["start"]), int(entity["end"])
        if start < at:  # overlaps the previous annotation
            continue
        out += [text[at:start], _span_markup(text[start:end], entity)]
        at = end
    out.append(text[at:])
    return "".join(out)


@dataclasses.dataclass
class ExportResult:
    yaml: str
    written: int
    in_training: int  # left out: already in data/nlu/
    in_heldout: int  # left out: a test sentence of bench/heldout/
    repeated: int  # left out: the same sentence twice in this export


def render_export(
    language: str,
    examples: Iterable[Example],
    training: Mapping[str, str],
    heldout: Mapping[str, str],
    exported_at: datetime,
    exported_by: str,
) -> ExportResult:
    """The export of one language (see the module docstring)."""
    by_intent: dict[str, list[str]] = {}
    seen: set[str] = set()
    in_training = in_heldout = repeated = 0
    for example in examples:
        masked = Example(mask(example.text), example.intent, example.entities)
        if masked.text != " ".join(example.text.split()):
            # masking moved characters: keep only the annotations whose words survived
            masked = Example(masked.text, example.intent, _moved(example, masked.text))
        key = normalize(masked.text)
        if not key:
            continue
        if key in training:
            in_training += 1
        elif key in heldout:
            in_heldout += 1
        elif key in seen:
            repeated += 1
        else:
            seen.add(key)
            by_intent.setdefault(masked.intent, []).append(annotate(masked))
    written = sum(len(v) for v in by_intent.values())
    stamp = f"{exported_at:%Y-%m-%d %H:%M} UTC"
    lines = [
        f"# Delhi Sewa trainer export: {language}, {written} example(s), {stamp},",
        f"# by {exported_by}.",
        "# NOT training data yet: read every line (docs/nlu-guide.md, step 5), then move the",
        f"# examples into data/nlu/{language}/<feature>.yml (python -m bench.nlu_merge) and",
        "# delete this file. Left out: "
        f"{in_training} already in data/nlu/, {in_heldout} test sentence(s) of bench/heldout/, "
        f"{repeated} repeated.",
        'version: "3.1"',
        f"{MARKER}: {json.dumps(f'{language}, {stamp}, by {exported_by}', ensure_ascii=False)}",
    ]
    if not by_intent:
        lines.append("nlu: []")
    else:
        lines.append("nlu:")
        for intent in sorted(by_intent):
            lines += [f"- intent: {intent}", "  examples: |"]
            lines += [f"    - {line}" for line in by_intent[intent]]
    return ExportResult("\n".join(lines) + "\n", written, in_training, in_heldout, repeated)


def _moved(example: Example, masked: str) -> tuple[Mapping[str, Any], ...]:
    """Annotations re-anchored in the masked text (dropped where a mask covers them)."""
    kept = []
    for entity in example.entities:
        start, end = entity.get("start"), entity.get("end")
        if not (isinstance(start, int) and isinstance(end, int)):
            continue
        words = " ".join(example.text[start:end].split())
        found = masked.find(words) if words else -1
        if found >= 0:
            kept.append({**entity, "start": found, "end": found + len(words)})
    return tuple(kept)


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "check":
        print("usage: python -m dashboard.nlu_export check PATH [PATH ...]", file=sys.stderr)
        return 2
    message = check([Path(p) for p in args[1:] or ["data"]])
    if message:
        print(message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
