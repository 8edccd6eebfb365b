"""Journeys: whole conversations against the whole system, wired exactly as `make run`
wires it (emulator → our WhatsApp connector → Rasa → action server → backends), with
real-sized files. One system for the whole suite; each test is a new phone number.

At the end, ``results/journeys.md`` tabulates, per journey that declared its minimum,
the citizen's messages against the minimum the task needs, the questions the bot had to
repeat, and the reply latency.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.journeys.phone import Citizen, summary
from tests.support.stack import Stack, running_stack

ROOT = Path(__file__).resolve().parents[2]
_numbers = itertools.count(1)
_recorded: list[tuple[str, Citizen, int]] = []

pytestmark = pytest.mark.stack


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("journeys")) as running:
        yield running


@pytest.fixture
def citizen(system: Stack, request: pytest.FixtureRequest) -> Callable[..., Citizen]:
    """``citizen(number="100001", minimum=None)``: a new phone; with ``minimum`` (the
    fewest messages the journey can take) it is reported in results/journeys.md."""

    def make(number: str = "100001", minimum: int | None = None, name: str = "") -> Citizen:
        phone = Citizen(system, wa_id=f"91977{next(_numbers):07d}", number=number)
        phone.name = name or "Asha Devi"
        if minimum is not None:
            _recorded.append((name or request.node.name, phone, minimum))
        return phone

    return make


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _recorded:
        out = ROOT / "results" / "journeys.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("# Journeys\n\n" + summary(_recorded) + "\n", encoding="utf-8")
