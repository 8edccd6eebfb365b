"""Fixtures several test modules share, registered for every test by tests/conftest.py.

A module that wants one applies it with ``pytestmark = pytest.mark.usefixtures(...)``
(or names it as an argument); none runs on its own.

- ``receiver``, ``wa`` (module scope): a webhook receiver and the WhatsApp emulator
  delivering to it; ``fresh_emulator``: both emptied before a test.
- ``fresh_clients``: the actions' HTTP clients to the backends dropped before and after
  a test (they cache the base URL and session of the backends a test points them at).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from actions.api import reset_clients
from tests.support.emulator import running_emulator, webhook_receiver


@pytest.fixture(scope="module")
def receiver() -> Iterator[Any]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture(scope="module")
def wa(receiver: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running_emulator(tmp_path_factory.mktemp("emulator"), WEBHOOK_URL=receiver.url) as em:
        yield em


@pytest.fixture
def fresh_emulator(wa: Any, receiver: Any) -> None:
    wa.reset()
    wa.configure(webhook_url=receiver.url)
    receiver.clear()


@pytest.fixture
def fresh_clients() -> Iterator[None]:
    reset_clients()
    yield
    reset_clients()
