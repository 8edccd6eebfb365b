"""Move the examples of a reviewed trainer export into the training data, by feature.

    python -m bench.nlu_merge nlu-export-hinglish-20261207-1030.yml [--data data/nlu]

Each example goes to the end of its intent's block in ``<data>/<language>/<feature>.yml``
(the file that already holds the intent in that language, else the file holding it in
another language; docs/nlu-guide.md lists the features), keeping its entity markup.
Left out, and said so: sentences the training data already has (any language) or
``bench/heldout/`` tests with, and examples in the wrong script for the language (Hindi
in Devanagari; English and Hinglish in Roman letters). An intent the domain does not
know stops the merge before anything is written.

An export that still carries the ``unreviewed_export`` key is refused: read every example
first (docs/nlu-guide.md, step 5), then delete that line. The language comes from the
export's file name (``nlu-export-<language>-...``) or ``--language``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

import yaml

from dashboard.nlu_export import LANGUAGES, MARKER, known_examples, normalize, plain

ROOT = Path(__file__).resolve().parent.parent
_BLOCK = re.compile(r"^- intent: *(\S+) *$")


class MergeError(Exception):
    """The export cannot be merged; the message says why."""


def read_export(path: Path) -> dict[str, list[str]]:
    """intent -> example lines (with markup) of a reviewed export."""
    content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if MARKER in content:
        raise MergeError(
            f"{path} has not been reviewed: read every example (docs/nlu-guide.md, step 5), "
            f"correct or delete lines, then delete its '{MARKER}:' line and run this again."
        )
    found: dict[str, list[str]] = {}
    for block in content.get("nlu") or []:
        if isinstance(block, dict) and isinstance(block.get("examples"), str):
            lines = [ln.strip()[1:].strip() for ln in block["examples"].splitlines()]
            found.setdefault(str(block["intent"]), []).extend(ln for ln in lines if ln)
    return found


def language_of(path: Path, given: str | None) -> str:
    if given:
        return given
    match = re.match(r"nlu-export-(hi|en|hinglish)-", path.name)
    if not match:
        raise MergeError(f"say the language of {path.name}: --language hi|en|hinglish")
    return match.group(1)


def domain_intents(domain: Path) -> set[str]:
    content = yaml.safe_load(domain.read_text(encoding="utf-8")) or {}
    return {i if isinstance(i, str) else next(iter(i)) for i in content.get("intents") or []}


def feature_file(data: Path, language: str, intent: str) -> Path:
    """The file of ``intent`` in ``language``, else the same feature file name another
    language keeps it in."""
    for lang in (language, *LANGUAGES):
        for path in sorted((data / lang).glob("*.yml")):
            lines = path.read_text(encoding="utf-8").splitlines()
            if any((m := _BLOCK.match(ln)) and m.group(1) == intent for ln in lines):
                return data / language / path.name
    raise MergeError(f"no training file holds intent {intent!r}: add its block by hand first")


def right_script(example: str, language: str) -> bool:
    devanagari = any("\u0900" <= c <= "\u097f" for c in plain(example))
    return devanagari if language == "hi" else not devanagari


def insert(path: Path, intent: str, examples: list[str]) -> None:
    """Append ``examples`` at the end of ``intent``'s block of ``path`` (a new block at the
    end of the file if it has none)."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    new = [f"    - {e}" for e in examples]
    start = next(
        (i for i, ln in enumerate(lines) if (m := _BLOCK.match(ln)) and m.group(1) == intent),
        None,
    )
    if start is None:
        if not lines:
            lines = ['version: "3.1"', "nlu:"]
        lines += [f"- intent: {intent}", "  examples: |", *new]
    else:
        end = start + 1
        while end < len(lines) and (lines[end].startswith("  ") or not lines[end].strip()):
            end += 1
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1  # keep blank lines after the block where they are
        lines[end:end] = new
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def merge(
    export: Path, data: Path, heldout: Path, domain: Path, language: str | None = None
) -> list[str]:
    """Merge ``export`` into ``data``; the lines of the report."""
    lang = language_of(export, language)
    if lang not in LANGUAGES:
        raise MergeError(f"unknown language {lang!r}")
    by_intent = read_export(export)
    unknown = sorted(set(by_intent) - domain_intents(domain))
    if unknown:
        raise MergeError(f"intents not in {domain.name}: {', '.join(unknown)}")
    training, tested = known_examples([data]), known_examples([heldout])
    skipped: Counter[str] = Counter()
    added: dict[Path, Counter[str]] = {}
    plan: list[tuple[Path, str, list[str]]] = []
    for intent, examples in sorted(by_intent.items()):
        kept = []
        for example in examples:
            key = normalize(plain(example))
            if key in training:
                skipped["already in the training data"] += 1
            elif key in tested:
                skipped["a held-out test sentence"] += 1
            elif not right_script(example, lang):
                skipped[f"not in the script of {lang}"] += 1
            else:
                training[key] = intent
                kept.append(example)
        if kept:
            path = feature_file(data, lang, intent)
            plan.append((path, intent, kept))
            added.setdefault(path, Counter())[intent] += len(kept)
    for path, intent, kept in plan:
        insert(path, intent, kept)
    report = [
        f"{path.relative_to(data.parent) if data.parent in path.parents else path}: "
        + ", ".join(f"{intent} +{n}" for intent, n in sorted(counts.items()))
        for path, counts in added.items()
    ]
    total = sum(sum(c.values()) for c in added.values())
    left_out = "".join(f"; left out {n}: {why}" for why, n in skipped.items())
    report.append(f"added {total} example(s){left_out}")
    report.append(f"now delete {export}, then run `make nlu-compare`")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export", type=Path)
    parser.add_argument("--language", choices=LANGUAGES)
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "nlu")
    parser.add_argument("--heldout", type=Path, default=ROOT / "bench" / "heldout")
    parser.add_argument("--domain", type=Path, default=ROOT / "domain.yml")
    args = parser.parse_args(argv)
    try:
        lines = merge(args.export, args.data, args.heldout, args.domain, args.language)
    except MergeError as error:
        print(error, file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
