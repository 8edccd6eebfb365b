"""Readable test figures: what `rasa test` measured, in a few lines.

    python -m bench.test_report nlu [--model M] [--out results/test-nlu]   # make test-nlu
    python -m bench.test_report stories results/stories                    # make stories

``nlu`` runs ``rasa test nlu`` on ``bench/heldout/`` (the held-out sentences, never the
training data) and prints, from the files it writes:

- intent accuracy per language (``bench/heldout/<lang>.yml``) and overall, and the most
  frequent confusions;
- per entity, scored only against the extractor that finds it. Rasa scores every
  extractor against every annotated entity, so ``RegexEntityExtractor`` (which finds
  only ``application_id`` and ``grievance_id``) reports 0.0 F1 for ``service`` and
  ``department``: that figure measures nothing and is left out here. Rasa also scores
  tokens, so a right value over a slightly different span ("food and supplies" vs
  "food and supplies department") counts as wrong; here such a prediction counts as
  *span only*, apart from *wrong value*, *missed* and *spurious*. The value F1 is what
  the assistant acts on (slots take the value, not the span).

``stories`` summarises ``rasa test core``'s ``story_report.json`` and
``failed_test_stories.yml``: conversations right, action accuracy and F1, and the
failed stories by name (``make stories`` runs Rasa with ``--quiet``, which hides them).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "bench" / "heldout"
LANGUAGES = ("hi", "en", "hinglish")
#: Which extractor finds which entity (config.yml); each is scored on its own only.
EXTRACTORS = {
    "CatalogueEntityExtractor": ("service", "department", "language"),
    "RegexEntityExtractor": ("application_id", "grievance_id"),
}


# --------------------------------------------------------------------------- rasa test nlu


def heldout_languages(directory: Path = HELDOUT) -> dict[str, list[str]]:
    """Text -> the languages of the held-out files it is in (usually one)."""
    from rasa.shared.nlu.training_data.loading import load_data

    found: dict[str, list[str]] = collections.defaultdict(list)
    for lang in LANGUAGES:
        for message in load_data(str(directory / f"{lang}.yml")).intent_examples:
            found[str(message.get("text"))].append(lang)
    return found


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


@dataclass
class EntityCount:
    gold: int = 0
    exact: int = 0
    span_only: int = 0
    wrong_value: int = 0
    missed: int = 0
    spurious: int = 0

    @property
    def value_right(self) -> int:
        return self.exact + self.span_only

    @property
    def predicted(self) -> int:
        return self.value_right + self.wrong_value + self.spurious

    def f1(self) -> float:
        precision = self.value_right / self.predicted if self.predicted else 0.0
        recall = self.value_right / self.gold if self.gold else 0.0
        return 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    def token_f1(self) -> float:
        """What Rasa's report would say if spans had to match exactly."""
        predicted = self.predicted
        precision = self.exact / predicted if predicted else 0.0
        recall = self.exact / self.gold if self.gold else 0.0
        return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


@dataclass
class NluSummary:
    intents: dict[str, list[bool]] = field(default_factory=lambda: collections.defaultdict(list))
    confusions: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    entities: dict[str, EntityCount] = field(default_factory=dict)
    unknown_texts: int = 0


def _overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return int(a["start"]) < int(b["end"]) and int(b["start"]) < int(a["end"])


def compare_entities(
    gold: list[dict[str, Any]], predicted: list[dict[str, Any]], entity: str, count: EntityCount
) -> None:
    """Count one example's annotations of ``entity`` against the predictions."""
    wanted = [g for g in gold if g.get("entity") == entity]
    found = [p for p in predicted if p.get("entity") == entity]
    count.gold += len(wanted)
    left = list(found)
    for g in wanted:
        exact = next(
            (
                p
                for p in left
                if (p["start"], p["end"], str(p.get("value")))
                == (g["start"], g["end"], str(g.get("value")))
            ),  # fmt: skip
            None,
        )
        if exact is not None:
            count.exact += 1
            left.remove(exact)
            continue
        same_value = next((p for p in left if str(p.get("value")) == str(g.get("value"))), None)
        if same_value is not None:
            count.span_only += 1
            left.remove(same_value)
            continue
        other = next((p for p in left if _overlaps(p, g)), None)
        if other is not None:
            count.wrong_value += 1
            left.remove(other)
        else:
            count.missed += 1
    count.spurious += len(left)


def summarise_nlu(out: Path, languages: dict[str, list[str]]) -> NluSummary:
    summary = NluSummary()
    for name, right in (("intent_successes.json", True), ("intent_errors.json", False)):
        for item in _load(out / name):
            langs = languages.get(str(item["text"])) or []
            if not langs:
                summary.unknown_texts += 1
            for lang in langs[:1]:
                summary.intents[lang].append(right)
            if not right:
                predicted = (item.get("intent_prediction") or {}).get("name") or "?"
                summary.confusions[(str(item["intent"]), str(predicted))] += 1
    for extractor, entities in EXTRACTORS.items():
        rows = _load(out / f"{extractor}_successes.json") + _load(out / f"{extractor}_errors.json")
        for entity in entities:
            count = summary.entities.setdefault(entity, EntityCount())
            for row in rows:
                predicted = [
                    p
                    for p in row.get("predicted_entities") or []
                    if p.get("extractor") in (None, extractor)
                ]
                compare_entities(row.get("entities") or [], predicted, entity, count)
    return summary


def print_nlu(summary: NluSummary, out: Path) -> None:
    print(f"rasa test nlu on bench/heldout/ (never trained on); files in {out}")
    print(f"{'intent':<10}{'n':>6}{'accuracy':>10}")
    everything: list[bool] = []
    for lang in LANGUAGES:
        results = summary.intents.get(lang, [])
        everything += results
        if results:
            print(f"{lang:<10}{len(results):>6}{sum(results) / len(results):>10.3f}")
    if everything:
        print(f"{'all':<10}{len(everything):>6}{sum(everything) / len(everything):>10.3f}")
    if summary.confusions:
        top = ", ".join(f"{g}→{p} {n}" for (g, p), n in summary.confusions.most_common(5))
        print(f"most confused (gold→predicted): {top}")
    print()
    print("entities, each scored against the extractor that finds it; value F1 counts the")
    print("right value over another span as right (slots take the value, not the span)")
    print(
        f"{'entity':<16}{'gold':>6}{'exact':>7}{'span only':>11}{'wrong value':>13}"
        f"{'missed':>8}{'spurious':>10}{'value F1':>10}{'span F1':>9}"
    )
    for entities in EXTRACTORS.values():
        for entity in entities:
            c = summary.entities[entity]
            print(
                f"{entity:<16}{c.gold:>6}{c.exact:>7}{c.span_only:>11}{c.wrong_value:>13}"
                f"{c.missed:>8}{c.spurious:>10}{c.f1():>10.3f}{c.token_f1():>9.3f}"
            )
    print(
        "RegexEntityExtractor finds only application_id and grievance_id: Rasa's own report\n"
        "(RegexEntityExtractor_report.json) also scores it on service and department, which it\n"
        "never extracts (the catalogue extractor does), hence its meaningless 0.0 F1 there."
    )


def run_nlu(model: Path, out: Path, heldout: Path = HELDOUT) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.json"):
        stale.unlink()
    rasa = str(Path(sys.executable).parent / "rasa")
    command = [
        rasa, "test", "nlu", "--nlu", str(heldout), "--model", str(model), "--out", str(out),
        "--successes", "--no-plot",
    ]  # fmt: skip
    log = out / "rasa-test-nlu.log"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    with log.open("w", encoding="utf-8") as handle:
        code = subprocess.call(command, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    if code != 0:
        print(log.read_text(encoding="utf-8")[-3000:], file=sys.stderr)
        print(f"rasa test nlu failed (exit {code}); its log: {log}", file=sys.stderr)
        return code
    print_nlu(summarise_nlu(out, heldout_languages(heldout)), out)
    return 0


# --------------------------------------------------------------------------- rasa test core


def summarise_stories(out: Path, started: float | None = None) -> list[str]:
    report_path = out / "story_report.json"
    if not report_path.exists() or (started and report_path.stat().st_mtime < started):
        return [
            "rasa test core wrote no report: it stopped at the first wrong prediction "
            "(--fail-on-prediction-errors; the story is printed above) or did not run."
        ]
    report = json.loads(report_path.read_text(encoding="utf-8"))
    lines = []
    conversations = report.get("conversation_accuracy") or {}
    if conversations:
        lines.append(
            f"conversations: {conversations['correct']}/{conversations['total']} right "
            f"({100 * conversations['accuracy']:.1f} %), "
            f"{conversations.get('with_warnings', 0)} with warnings"
        )
    weighted = report.get("weighted avg") or {}
    actions = int(weighted.get("support") or 0)
    accuracy = report.get("accuracy")
    if accuracy is None:  # sklearn leaves it out when every label has support
        accuracy = (report.get("micro avg") or {}).get("f1-score")
    lines.append(
        f"actions: {actions} predicted, accuracy {float(accuracy or 0):.3f}, "
        f"weighted F1 {float(weighted.get('f1-score') or 0):.3f}"
    )
    wrong = sorted(
        (name, figures)
        for name, figures in report.items()
        if isinstance(figures, dict) and "f1-score" in figures and " avg" not in name
        and name not in ("conversation_accuracy",) and figures["f1-score"] < 1.0
    )  # fmt: skip
    if wrong:
        shown = [f"{n} (F1 {f['f1-score']:.2f}, n={int(f['support'])})" for n, f in wrong[:10]]
        lines.append("actions not always right: " + ", ".join(shown))
    failed_path = out / "failed_test_stories.yml"
    failed = []
    if failed_path.exists():
        content = yaml.safe_load(failed_path.read_text(encoding="utf-8")) or {}
        failed = [str(s.get("story")) for s in content.get("stories") or [] if isinstance(s, dict)]
    lines.append("failed stories: " + (", ".join(failed) if failed else "none"))
    if failed:
        lines.append(f"  (each with its wrong predictions marked: {failed_path})")
    return lines


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    nlu = sub.add_parser("nlu", help="rasa test nlu on bench/heldout/, summarised")
    nlu.add_argument(
        "--model", default=os.environ.get("DELHI_SEWA_MODEL") or "models/delhi-sewa.tar.gz"
    )
    nlu.add_argument("--out", default="results/test-nlu")
    nlu.add_argument("--heldout", default=str(HELDOUT))
    stories = sub.add_parser("stories", help="summary of rasa test core's results")
    stories.add_argument("out", nargs="?", default="results/stories")
    stories.add_argument("--since", type=float, default=None, help="unix time the run started")
    args = parser.parse_args(argv)
    if args.command == "nlu":
        return run_nlu(Path(args.model), Path(args.out), Path(args.heldout))
    print(f"rasa test core: tests/stories ({args.out})")
    for line in summarise_stories(Path(args.out), args.since):
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
