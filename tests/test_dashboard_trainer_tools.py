"""The tools of an annotation round and of readable test figures (issue 14, items 11
and 13): merging a reviewed export into data/nlu/ by feature (bench/nlu_merge.py), the
before/after report of `make nlu-compare` (bench/nlu_compare.py), and the summaries of
`make test-nlu` and `make stories` (bench/test_report.py)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.loading import load_data

from bench import nlu_compare, nlu_merge, test_report
from bench.nlu import Example as Heldout
from bench.nlu import Prediction
from dashboard.nlu_export import Example, render_export

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 7, 10, 30, tzinfo=timezone.utc)


# --------------------------------------------------------------------------- nlu_merge


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small data/nlu and bench/heldout in the project's layout."""
    for lang, greet, fee in (
        ("hinglish", "namaste ji", "fees kaise bharu"),
        ("hi", "नमस्ते जी", "शुल्क कैसे भरूँ"),
    ):
        folder = tmp_path / "data" / "nlu" / lang
        folder.mkdir(parents=True)
        (folder / "core.yml").write_text(
            f'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - {greet}\n\n'
            "- intent: out_of_scope\n  examples: |\n    - cricket score\n",
            encoding="utf-8",
        )
        (folder / "services.yml").write_text(
            f'version: "3.1"\nnlu:\n- intent: pay_fee\n  examples: |\n    - {fee}\n',
            encoding="utf-8",
        )
    (tmp_path / "data" / "nlu" / "en").mkdir()
    (tmp_path / "data" / "nlu" / "en" / "grievance.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: file_grievance\n  examples: |\n    - complaint\n',
        encoding="utf-8",
    )
    heldout = tmp_path / "heldout"
    heldout.mkdir()
    (heldout / "hinglish.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - ram ram bhai\n'
    )
    return tmp_path


def export_file(project: Path, examples: list[Example], reviewed: bool = True) -> Path:
    export = render_export("hinglish", examples, {}, {}, NOW, "asha").yaml
    if reviewed:
        export = "".join(
            ln for ln in export.splitlines(keepends=True) if not ln.startswith("unreviewed_export")
        )
    path = project / "nlu-export-hinglish-20261207-1030.yml"
    path.write_text(export, encoding="utf-8")
    return path


def merge(project: Path, path: Path) -> list[str]:
    return nlu_merge.merge(path, project / "data" / "nlu", project / "heldout", ROOT / "domain.yml")


def test_a_reviewed_export_is_merged_into_its_feature_files(project: Path) -> None:
    service = {"entity": "service", "value": "water_bill", "start": 0, "end": 10}
    path = export_file(
        project,
        [
            Example("bijli ka bill kaise bharu", "out_of_scope"),
            Example("paani ka bill kaise bharu", "pay_fee", (service,)),
            Example("naam galat chapa hai certificate pe", "file_grievance"),
            Example("namaste ji", "greet"),  # already training data
            Example("ram ram bhai", "greet"),  # a held-out test sentence
            Example("बिजली का बिल", "out_of_scope"),  # Devanagari is Hindi, not Hinglish
        ],
    )
    report = merge(project, path)
    data = project / "data" / "nlu" / "hinglish"
    core = (data / "core.yml").read_text(encoding="utf-8")
    assert core.index("cricket score") < core.index("bijli ka bill kaise bharu")
    assert core.count("- intent: out_of_scope") == 1  # appended to the block, not a new one
    services = (data / "services.yml").read_text(encoding="utf-8")
    assert '[paani ka b]{"entity": "service", "value": "water_bill"}' in services
    # file_grievance lives in grievance.yml (in English so far): the same file name here
    assert "naam galat chapa hai" in (data / "grievance.yml").read_text(encoding="utf-8")
    loaded = {(m.get("text"), m.get("intent")) for m in load_data(str(data)).intent_examples}
    assert ("bijli ka bill kaise bharu", "out_of_scope") in loaded
    assert ("paani ka bill kaise bharu", "pay_fee") in loaded
    assert "ram ram bhai" not in core and "बिजली" not in core
    summary = "\n".join(report)
    assert "added 3 example(s)" in summary
    assert "left out 1: already in the training data" in summary
    assert "left out 1: a held-out test sentence" in summary
    assert "left out 1: not in the script of hinglish" in summary


def test_an_unreviewed_export_or_an_unknown_intent_is_refused(project: Path) -> None:
    before = {p: p.read_text() for p in (project / "data").rglob("*.yml")}
    unreviewed = export_file(project, [Example("bijli ka bill", "out_of_scope")], reviewed=False)
    with pytest.raises(nlu_merge.MergeError, match="has not been reviewed"):
        merge(project, unreviewed)
    unknown = export_file(project, [Example("bijli ka bill", "electricity_bill")])
    with pytest.raises(nlu_merge.MergeError, match="electricity_bill"):
        merge(project, unknown)
    assert {p: p.read_text() for p in (project / "data").rglob("*.yml")} == before


# --------------------------------------------------------------------------- nlu_compare


def side(label: str, right: list[bool], intents: list[str]) -> nlu_compare.Side:
    predictions = [Prediction(i, set(), False) for i in intents]
    examples = [Heldout(f"s{i}", "pay_fee", set()) for i in range(len(intents))]
    scores = {"hinglish": nlu_compare.score(examples, predictions)}
    return nlu_compare.Side(label, Path(label), 100, 1.0, {"hinglish": predictions}, scores)


def test_the_comparison_prints_the_change_and_every_flipped_example() -> None:
    heldout = {"hinglish": [Heldout(f"s{i}", "pay_fee", set()) for i in range(4)]}
    before = side("before", [], ["pay_fee", "pay_fee", "greet", "greet"])
    after = side("after", [], ["pay_fee", "inform", "pay_fee", "greet"])
    after.examples = 103
    flipped = nlu_compare.flips(before, after, heldout)
    assert [(f.text, f.fixed) for f in flipped] == [("s1", False), ("s2", True)]
    text = nlu_compare.report(before, after, flipped, heldout)
    assert "after:  after (103 training examples, +3)" in text
    row = next(ln for ln in text.splitlines() if ln.startswith("hinglish"))
    assert row.split()[:5] == ["hinglish", "4", "0.500", "0.500", "+0.000"]
    assert "flipped: 1 wrong → right, 1 right → wrong" in text
    assert "+ hinglish 's2'  gold pay_fee: greet → pay_fee" in text
    assert "- hinglish 's1'  gold pay_fee: pay_fee → inform" in text


# --------------------------------------------------------------------------- test_report


def test_entities_are_scored_per_extractor_with_span_differences_apart(tmp_path: Path) -> None:
    def row(text: str, gold: list[tuple], predicted: list[tuple]) -> dict:  # type: ignore[type-arg]
        def entity(e: tuple, extractor: str | None = None) -> dict:  # type: ignore[type-arg]
            found = {"entity": e[0], "value": e[1], "start": e[2], "end": e[3]}
            return found | ({"extractor": extractor} if extractor else {})

        return {
            "text": text,
            "entities": [entity(g) for g in gold],
            "predicted_entities": [entity(p, "CatalogueEntityExtractor") for p in predicted],
        }

    catalogue = [
        row("food and supplies department", [("department", "food_supplies", 0, 28)],
            [("department", "food_supplies", 0, 17)]),  # span only
        row("DL renewal", [("service", "driving_licence_renewal", 0, 10)],
            [("service", "driving_licence", 0, 2)]),  # wrong value
        row("income certificate", [("service", "income_certificate", 0, 18)],
            [("service", "income_certificate", 0, 18)]),  # exact
        row("birth", [("service", "birth_certificate", 0, 5)], []),  # missed
        row("transport ki services", [], [("department", "transport", 0, 9)]),  # spurious
    ]  # fmt: skip
    regex = [
        {
            "text": "status APP-2026-000001",
            "entities": [
                {"entity": "application_id", "value": "APP-2026-000001", "start": 7, "end": 22},
                {"entity": "service", "value": "x", "start": 0, "end": 6},
            ],
            "predicted_entities": [
                {"entity": "application_id", "value": "APP-2026-000001", "start": 7, "end": 22,
                 "extractor": "RegexEntityExtractor"}
            ],
        }
    ]  # fmt: skip
    (tmp_path / "CatalogueEntityExtractor_errors.json").write_text(json.dumps(catalogue))
    (tmp_path / "RegexEntityExtractor_successes.json").write_text(json.dumps(regex))
    (tmp_path / "intent_successes.json").write_text(
        json.dumps([{"text": "namaste", "intent": "greet"}, {"text": "hello", "intent": "greet"}])
    )
    (tmp_path / "intent_errors.json").write_text(
        json.dumps([{"text": "नमस्ते", "intent": "greet", "intent_prediction": {"name": "thank"}}])
    )
    languages = {"namaste": ["hinglish"], "hello": ["en"], "नमस्ते": ["hi"]}
    summary = test_report.summarise_nlu(tmp_path, languages)
    assert {k: (sum(v), len(v)) for k, v in summary.intents.items()} == {
        "hinglish": (1, 1),
        "en": (1, 1),
        "hi": (0, 1),
    }
    assert summary.confusions == {("greet", "thank"): 1}
    service, department = summary.entities["service"], summary.entities["department"]
    assert (service.gold, service.exact, service.wrong_value, service.missed) == (3, 1, 1, 1)
    assert (department.gold, department.span_only, department.spurious) == (1, 1, 1)
    # the regex extractor is scored on ids only: the service it never extracts is not
    # counted against it (nor for the catalogue: that row is not in its files)
    ids = summary.entities["application_id"]
    assert (ids.gold, ids.exact, ids.f1()) == (1, 1, 1.0)
    assert service.gold == 3
    assert department.f1() == pytest.approx(2 * 0.5 * 1.0 / 1.5)  # span-only counts as right


def test_the_story_summary_names_the_figures_and_the_failed_stories(tmp_path: Path) -> None:
    report = {
        "utter_greet": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 40},
        "action_apply": {"precision": 0.9, "recall": 0.8, "f1-score": 0.85, "support": 10},
        "accuracy": 0.96,
        "weighted avg": {"precision": 0.97, "recall": 0.96, "f1-score": 0.965, "support": 50},
        "conversation_accuracy": {"accuracy": 0.9, "correct": 9, "with_warnings": 0, "total": 10},
    }
    (tmp_path / "story_report.json").write_text(json.dumps(report))
    (tmp_path / "failed_test_stories.yml").write_text(
        'version: "3.1"\nstories:\n'
        "- story: apply in Hinglish (./tests/stories/a.yml)\n  steps: []\n"
    )
    lines = test_report.summarise_stories(tmp_path)
    assert lines[0] == "conversations: 9/10 right (90.0 %), 0 with warnings"
    assert lines[1] == "actions: 50 predicted, accuracy 0.960, weighted F1 0.965"
    assert "action_apply (F1 0.85, n=10)" in lines[2]
    assert lines[3] == "failed stories: apply in Hinglish (./tests/stories/a.yml)"
    (tmp_path / "story_report.json").unlink()
    assert "wrote no report" in test_report.summarise_stories(tmp_path)[0]
