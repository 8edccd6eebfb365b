"""Before/after of an annotation round: two NLU models, one held-out test.

    make nlu-compare                                  # HEAD's data/nlu vs the working copy
    python -m bench.nlu_compare --before /tmp/nlu-before --after /tmp/nlu-after

Trains our pipeline (``config.yml``) on the *before* training data (default: the
committed ``data/nlu/``, taken with ``git archive HEAD``) and on the *after* data
(default: ``data/nlu/`` as it is in the working copy, i.e. with the examples a trainer
merged), scores both on ``bench/heldout/`` (sentences never trained on) and prints, per
language: intent accuracy before, after and the change, the ``service`` value F1, the
share sent to a clarifying question (fallback) and the share answered wrongly above the
fallback threshold; then every held-out sentence whose intent flipped (right → wrong or
wrong → right). The report is also written to ``<out>/report.md`` and ``report.json``.

The *after* data is checked first (:func:`dashboard.nlu_export.check`): an unreviewed
trainer export in it stops the comparison with one message, as ``make validate`` does.
Models and Rasa's cache go to ``--out`` (default ``results/nlu-compare``), never to
``models/``. docs/nlu-guide.md describes the whole round.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.nlu import HELDOUT, LANGUAGES, ROOT, Example, Prediction, load_examples, predict, score
from dashboard.nlu_export import check

CONFIG = ROOT / "config.yml"


@dataclass
class Side:
    label: str
    data: Path | str
    examples: int
    seconds: float
    predictions: dict[str, list[Prediction]]
    scores: dict[str, dict[str, float]]


@contextlib.contextmanager
def committed_data(ref: str = "HEAD") -> Iterator[Path]:
    """``data/nlu`` as committed at ``ref``, unpacked into a temporary folder."""
    archive = subprocess.run(
        ["git", "archive", ref, "data/nlu"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tempfile.TemporaryDirectory(prefix="nlu-before-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp) / "data" / "nlu"


def quiet() -> None:
    """Only warnings from Rasa: its structlog debug line per parsed sentence would bury
    the report."""
    import structlog

    logging.getLogger("rasa").setLevel(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def count_examples(data: Path) -> int:
    from rasa.shared.nlu.training_data.loading import load_data

    return len(load_data(str(data)).intent_examples)


def train(data: Path, out: Path, name: str) -> tuple[Path, float]:
    """``rasa train nlu`` on ``data`` into ``out/<name>.tar.gz``; (model, seconds)."""
    from bench.nlu import train as train_nlu

    env = os.environ
    env.setdefault("RASA_CACHE_DIRECTORY", str(out / "cache"))
    run = train_nlu(CONFIG, data, out, name)
    return run.model, run.seconds


def evaluate(label: str, data: Path, out: Path, heldout: dict[str, list[Example]]) -> Side:
    print(f"training {label} ({data}) ...", flush=True)
    model, seconds = train(data, out, label)
    predictions = {
        lang: predict(model, [e.text for e in examples]) for lang, examples in heldout.items()
    }
    scores = {lang: score(heldout[lang], predictions[lang]) for lang in heldout}
    return Side(label, data, count_examples(data), seconds, predictions, scores)


@dataclass(frozen=True)
class Flip:
    language: str
    text: str
    gold: str
    before: str
    after: str

    @property
    def fixed(self) -> bool:
        return self.after == self.gold


def flips(before: Side, after: Side, heldout: dict[str, list[Example]]) -> list[Flip]:
    found = []
    for lang, examples in heldout.items():
        for example, b, a in zip(examples, before.predictions[lang], after.predictions[lang]):
            if (b.intent == example.intent) != (a.intent == example.intent):
                found.append(Flip(lang, example.text, example.intent, b.intent, a.intent))
    return found


def report(
    before: Side, after: Side, flipped: list[Flip], heldout: dict[str, list[Example]]
) -> str:
    sizes = ", ".join(f"{k} {len(v)}" for k, v in heldout.items())
    added = after.examples - before.examples
    lines = [
        f"NLU compare on bench/heldout/ ({sizes} sentences)",
        f"before: {before.data} ({before.examples} training examples)",
        f"after:  {after.data} ({after.examples} training examples, {added:+d})",
        "",
        f"{'lang':<10}{'n':>5}{'acc before':>12}{'acc after':>11}{'change':>9}"
        f"{'service F1':>15}{'fallback':>15}{'wrong+sure':>15}",
    ]
    totals: dict[str, float] = {"n": 0, "before": 0.0, "after": 0.0}
    for lang in heldout:
        b, a = before.scores[lang], after.scores[lang]
        n = int(b["n"])
        totals["n"] += n
        totals["before"] += b["accuracy"] * n
        totals["after"] += a["accuracy"] * n
        lines.append(
            f"{lang:<10}{n:>5}{b['accuracy']:>12.3f}{a['accuracy']:>11.3f}"
            f"{a['accuracy'] - b['accuracy']:>+9.3f}"
            f"{b['service_f1']:>9.3f}→{a['service_f1']:.3f}"
            f"{b['fallback']:>9.3f}→{a['fallback']:.3f}"
            f"{b['confident_errors']:>9.3f}→{a['confident_errors']:.3f}"
        )
    count = totals["n"]
    lines.append(
        f"{'all':<10}{int(count):>5}{totals['before'] / count:>12.3f}"
        f"{totals['after'] / count:>11.3f}{(totals['after'] - totals['before']) / count:>+9.3f}"
    )
    fixed = [f for f in flipped if f.fixed]
    broken = [f for f in flipped if not f.fixed]
    lines += ["", f"flipped: {len(fixed)} wrong → right, {len(broken)} right → wrong"]
    for flip in fixed + broken:
        mark = "+" if flip.fixed else "-"
        lines.append(
            f"  {mark} {flip.language:<9}{flip.text!r}  gold {flip.gold}: "
            f"{flip.before} → {flip.after}"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--before", help="a folder of NLU data, or a git ref (default HEAD)")
    parser.add_argument("--after", default=str(ROOT / "data" / "nlu"), help="a folder of NLU data")
    parser.add_argument("--heldout", default=str(HELDOUT))
    parser.add_argument("--out", default=str(ROOT / "results" / "nlu-compare"))
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    quiet()
    after_data, out = Path(args.after), Path(args.out)
    problem = check([after_data])
    if problem:
        print(problem, file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    heldout = {lang: load_examples(Path(args.heldout) / f"{lang}.yml") for lang in LANGUAGES}
    with contextlib.ExitStack() as stack:
        if args.before and Path(args.before).is_dir():
            before_data = Path(args.before)
        else:
            before_data = stack.enter_context(committed_data(args.before or "HEAD"))
        before = evaluate("before", before_data, out, heldout)
        if not (args.before and Path(args.before).is_dir()):
            before.data = f"{args.before or 'HEAD'}:data/nlu (git)"
        after = evaluate("after", after_data, out, heldout)
    flipped = flips(before, after, heldout)
    text = report(before, after, flipped, heldout)
    print()
    print(text, end="")
    (out / "report.md").write_text(text, encoding="utf-8")
    (out / "report.json").write_text(
        json.dumps(
            {
                side.label: {
                    "data": str(side.data),
                    "examples": side.examples,
                    "scores": side.scores,
                }
                for side in (before, after)
            }
            | {"flipped": [f.__dict__ | {"fixed": f.fixed} for f in flipped]},
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    print(f"\n(report: {out / 'report.md'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
