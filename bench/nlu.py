"""NLU benchmark: our Indic pipeline against Rasa's default pipeline.

Both are trained on data/nlu and scored on bench/heldout/<lang>.yml, test sentences
written independently of the training data. Per language: intent accuracy, intent
macro-F1 and F1 of the ``service`` entity's canonical value; per pipeline: NLU training
time and the peak memory of the training process.

    make bench-nlu                       # both pipelines (the default one takes minutes)
    python -m bench.nlu --only ours      # just ours
    python -m bench.nlu --hinglish-top   # also train/score on the external Hinglish-TOP set
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "bench" / "heldout"
LANGUAGES = ("hi", "en", "hinglish")
PIPELINES = {
    "ours": ROOT / "config.yml",
    "rasa-default": ROOT / "bench" / "configs" / "rasa_default.yml",
}
HINGLISH_TOP = ROOT.parent / "shared" / "benchmarks" / "hinglish-top"
FALLBACK = "nlu_fallback"

# Runs one `rasa train nlu` in a fresh interpreter and prints its wall time and the
# peak resident memory of the training process tree.
_TRAIN_WRAPPER = """
import json, resource, subprocess, sys, time
start = time.monotonic()
code = subprocess.call(sys.argv[1:])
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": code, "seconds": time.monotonic() - start, "peak_mb": peak_kib / 1024}))
"""


@dataclass
class Example:
    text: str
    intent: str
    services: set[str]


@dataclass
class TrainRun:
    model: Path
    seconds: float
    peak_mb: float


def load_examples(path: Path) -> list[Example]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    examples = []
    for message in data.intent_examples:
        services = {
            str(e.get("value"))
            for e in message.get("entities") or []
            if e.get("entity") == "service"
        }
        examples.append(Example(message.get("text"), message.get("intent"), services))
    return examples


def train(config: Path, nlu: Path, out: Path, name: str) -> TrainRun:
    rasa = str(Path(sys.executable).parent / "rasa")
    command = [
        sys.executable,
        "-c",
        _TRAIN_WRAPPER,
        rasa,
        "train",
        "nlu",
        "--config",
        str(config),
        "--nlu",
        str(nlu),
        "--out",
        str(out),
        "--fixed-model-name",
        name,
        "--quiet",
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    stats = json.loads(result.stdout.strip().splitlines()[-1])
    if stats["code"] != 0:
        raise SystemExit(f"training {name} failed:\n{result.stderr[-3000:]}")
    return TrainRun(out / f"{name}.tar.gz", stats["seconds"], stats["peak_mb"])


@dataclass
class Prediction:
    intent: str  # the classifier's best intent, whether or not the fallback fired
    services: set[str]
    fallback: bool  # FallbackClassifier said "not sure": the citizen is asked to clarify


def predict(model: Path, texts: list[str], label: str = "parsing") -> list[Prediction]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def parse_all() -> list[Prediction]:
        out = []
        # a progress bar on a terminal only (disable=None), on stderr: stdout is the report
        for text in tqdm(texts, desc=label, unit="sentence", leave=False, disable=None):
            parsed = await agent.parse_message(text)
            services = {
                str(e.get("value"))
                for e in parsed.get("entities", [])
                if e.get("entity") == "service"
            }
            ranking = [r.get("name") for r in parsed.get("intent_ranking") or []]
            top = (parsed.get("intent") or {}).get("name") or ""
            best = next((name for name in ranking if name != FALLBACK), top)
            out.append(Prediction(best, services, top == FALLBACK))
        return out

    return asyncio.run(parse_all())


def score(examples: list[Example], predictions: list[Prediction]) -> dict[str, float]:
    from sklearn.metrics import f1_score

    gold = [e.intent for e in examples]
    predicted = [p.intent for p in predictions]
    fallback = [p.fallback for p in predictions]
    true_pos = sum(len(e.services & p.services) for e, p in zip(examples, predictions))
    n_pred = sum(len(p.services) for p in predictions)
    n_gold = sum(len(e.services) for e in examples)
    precision = true_pos / n_pred if n_pred else 0.0
    recall = true_pos / n_gold if n_gold else 0.0
    return {
        "n": len(examples),
        "accuracy": sum(g == p for g, p in zip(gold, predicted)) / len(gold),
        "fallback": sum(fallback) / len(gold),
        # wrong and confident: the assistant acts on a misunderstanding
        "confident_errors": sum(g != p and not f for g, p, f in zip(gold, predicted, fallback))
        / len(gold),
        "macro_f1": float(f1_score(gold, predicted, labels=sorted(set(gold)), average="macro")),
        "service_f1": 2 * precision * recall / (precision + recall) if true_pos else 0.0,
    }


def hinglish_top_files(workdir: Path) -> tuple[Path, list[Example]]:
    """Writes Hinglish-TOP's train split as Rasa NLU data; returns it and the validation."""

    def rows(name: str) -> list[tuple[str, str]]:
        with open(HINGLISH_TOP / name, encoding="utf-8") as handle:
            reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            return [
                (r["cs_query"].strip(), r["cs_parse"].split()[0].removeprefix("[IN:"))
                for r in reader
                if r["cs_query"].strip()
            ]

    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    train_data = TrainingData(
        [Message(data={"text": t, "intent": i}) for t, i in rows("train.tsv")]
    )
    path = workdir / "hinglish_top_train.yml"
    train_data.persist_nlu(str(path))
    return path, [Example(t, i, set()) for t, i in rows("validation.tsv")]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--only", choices=sorted(PIPELINES), action="append")
    parser.add_argument("--hinglish-top", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    pipelines = {k: v for k, v in PIPELINES.items() if not args.only or k in args.only}
    heldout = {lang: load_examples(HELDOUT / f"{lang}.yml") for lang in LANGUAGES}

    results: dict[str, dict[str, dict[str, float]]] = {}
    runs: dict[str, TrainRun] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, config in pipelines.items():
            print(f"training {name} (about a minute) ...", flush=True)
            runs[name] = run = train(config, ROOT / "data" / "nlu", Path(tmp), name)
            results[name] = {}
            for lang, examples in heldout.items():
                predictions = predict(run.model, [e.text for e in examples], f"{name} {lang}")
                results[name][lang] = score(examples, predictions)
        top: dict[str, tuple[TrainRun, dict[str, float]]] = {}
        if args.hinglish_top:
            top_train, top_validation = hinglish_top_files(Path(tmp))
            for name, config in pipelines.items():
                print(f"training {name} on Hinglish-TOP ...", flush=True)
                run = train(config, top_train, Path(tmp), f"{name}-top")
                predictions = predict(run.model, [e.text for e in top_validation], f"{name} TOP")
                top[name] = (run, score(top_validation, predictions))

    print()
    print(f"NLU benchmark: held-out sets {', '.join(f'{k}={len(v)}' for k, v in heldout.items())}")
    print("intent acc/macro-F1: the classifier's best intent; fallback: share sent to a")
    print("clarifying question; wrong+sure: share answered with a wrong intent above the threshold")
    print(
        f"{'pipeline':<14}{'lang':<10}{'n':>5}{'intent acc':>12}{'macro-F1':>10}"
        f"{'service F1':>12}{'fallback':>10}{'wrong+sure':>12}"
    )
    for name in results:
        for lang, m in results[name].items():
            print(
                f"{name:<14}{lang:<10}{m['n']:>5}{m['accuracy']:>12.3f}{m['macro_f1']:>10.3f}"
                f"{m['service_f1']:>12.3f}{m['fallback']:>10.3f}{m['confident_errors']:>12.3f}"
            )
    print()
    print(f"{'pipeline':<14}{'train s':>10}{'peak MB':>10}")
    for name, run in runs.items():
        print(f"{name:<14}{run.seconds:>10.1f}{run.peak_mb:>10.0f}")
    if "ours" in results and "rasa-default" in results:
        print()
        for lang in LANGUAGES:
            ours, default = results["ours"][lang], results["rasa-default"][lang]
            print(
                f"{lang:<10} accuracy ours/default = {ours['accuracy'] / default['accuracy']:.3f}"
            )
        ratio = runs["rasa-default"].seconds / runs["ours"].seconds
        print(f"training time default/ours = {ratio:.1f}x")
    if top:
        print()
        print("Hinglish-TOP (external, human-typed Hinglish; train -> validation)")
        print(
            f"{'pipeline':<14}{'n':>6}{'intent acc':>12}{'macro-F1':>10}"
            f"{'train s':>10}{'peak MB':>10}"
        )
        for name, (run, m) in top.items():
            print(
                f"{name:<14}{m['n']:>6}{m['accuracy']:>12.3f}{m['macro_f1']:>10.3f}"
                f"{run.seconds:>10.1f}{run.peak_mb:>10.0f}"
            )


if __name__ == "__main__":
    main()
