"""Benchmarks show a progress bar on a terminal (issue 16, item 7), on stderr: their
report on stdout stays as it was, and a log (not a terminal) gets no bar."""

import io
import sys

import yaml

from bench.answers.__main__ import QUESTIONS, evaluate


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_answers_benchmark_shows_its_progress_on_a_terminal(monkeypatch, capsys):
    monkeypatch.delenv("LLM_URL", raising=False)
    questions = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"][:3]
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    evaluate(questions, show=False, label="retrieval")
    assert "retrieval:   0%|          | 0/3 [" in terminal.getvalue()  # the bar, then updates
    assert capsys.readouterr().out == ""


def test_no_progress_bar_in_a_log(monkeypatch):
    monkeypatch.delenv("LLM_URL", raising=False)
    questions = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"][:2]
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    evaluate(questions, show=False, label="retrieval")
    assert "/2 [" not in log.getvalue()
