"""`python -m scripts.rasa_cli ...`: Rasa's command line without its expected warnings.

``rasa train`` and ``rasa data validate`` warn "The utterance 'utter_x' is not used in any
story or rule." for every response that no story or rule names: here 140-odd yellow
lines on a newcomer's first ``make run``. Those responses are used, only not by stories:

- the actions send them by name (``response="utter_x"``) or build the name from a state
  or an error code (``f"utter_status_{status}"``), and the WhatsApp channel sends a few
  itself (``connectors/``);
- a form asks for each of its slots with ``utter_ask_<slot>``;
- Rasa's default fallback sends ``utter_default``.

:func:`sent_outside_stories` computes that list from the code and the domain at start-up,
and :func:`install` drops exactly those warnings: every other warning, including one
about a response nothing sends, is shown as before. It wraps ``warnings.showwarning``
(the warnings module's hook for how a warning is shown), because Rasa puts its own
filters in front of any ``warnings.filterwarnings`` made before its CLI starts.
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

import yaml

ROOT = Path(__file__).resolve().parent.parent
#: the Python packages whose code sends responses by name
SENDERS = ("actions", "connectors")
#: sent by Rasa itself (``action_default_fallback``)
RASA_SENDS = frozenset({"utter_default"})

_NAME = re.compile(r"""["'](utter_[a-z0-9_]+)["']""")
_PREFIX = re.compile(r"""f["'](utter_[a-z0-9_]*)\{""")
UNUSED = re.compile(r"^The utterance '(utter_[a-z0-9_]+)' is not used in any story or rule\.$")


def sent_outside_stories(
    root: Path = ROOT, domain_path: Path | None = None, senders: Iterable[str] = SENDERS
) -> frozenset[str]:
    """The domain's responses that code, forms or Rasa send without a story or rule."""
    domain = yaml.safe_load((domain_path or root / "domain.yml").read_text(encoding="utf-8"))
    responses = set(domain.get("responses") or {})
    source = "\n".join(
        path.read_text(encoding="utf-8")
        for package in senders
        for path in sorted((root / package).rglob("*.py"))
    )
    named = set(_NAME.findall(source))
    prefixes = tuple(set(_PREFIX.findall(source)))
    asked = {
        f"utter_ask_{slot}"
        for form in (domain.get("forms") or {}).values()
        for slot in (form or {}).get("required_slots") or ()
    }
    return frozenset(
        name
        for name in responses
        if name in named or name in asked or name in RASA_SENDS or name.startswith(prefixes)
    )


def expected(message: object, known: frozenset[str]) -> bool:
    """Whether ``message`` is Rasa's "not used in any story or rule" about a known one."""
    match = UNUSED.match(str(message))
    return match is not None and match.group(1) in known


def install(known: frozenset[str]) -> None:
    """Show every warning but Rasa's "not used" ones about the ``known`` responses."""
    show = warnings.showwarning

    def showwarning(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if issubclass(category, UserWarning) and expected(message, known):
            return
        show(message, category, filename, lineno, file, line)

    warnings.showwarning = showwarning


def main() -> None:
    install(sent_outside_stories())
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
