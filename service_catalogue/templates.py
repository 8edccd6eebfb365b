"""Registry of the WhatsApp message templates (``whatsapp_templates.yml`` beside this module).

    >>> from service_catalogue.templates import load_templates
    >>> registry = load_templates()
    >>> registry.check("application_approved", ["Income certificate", "APP-1"]).render(
    ...     "en", ["Income certificate", "APP-1"]
    ... ).text
    'Your application APP-1 (Income certificate) has been approved.'

:func:`load_templates` validates the file and raises :class:`TemplateError` listing
every problem, so a broken registry fails at start-up and in the tests. Sending code
calls :meth:`Templates.check` (unknown name → ``unknown_template``, wrong parameter count
→ ``parameter_count``) before anything reaches the Graph API; :meth:`Template.render`
gives the text and buttons sent as a free-form message inside the 24-hour window, and
:meth:`Template.graph_template` the ``template`` object sent outside it.
:func:`meta_definitions` describes the registry as Meta's ``message_templates`` edge
does (what the emulator approves).

Parameters are passed positionally (a list, in ``{{1}}, {{2}}`` order) or by name (a
mapping with exactly the template's parameter names).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "BUTTON_TITLE_MAX",
    "CATEGORIES",
    "DEFAULT_PATH",
    "LANGUAGES",
    "Button",
    "Rendered",
    "Template",
    "TemplateError",
    "Templates",
    "load_templates",
    "meta_definitions",
]

DEFAULT_PATH = Path(__file__).with_name("whatsapp_templates.yml")
LANGUAGES = ("hi", "en")
CATEGORIES = frozenset({"utility", "marketing", "authentication"})
#: WhatsApp limits: template body 1,024 characters, at most 3 quick replies (our choice
#: for both free-form reply buttons and templates), button titles 20 characters.
BODY_MAX = 1024
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
PARAMETER_MAX = 1024

_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,511}$")
_TEMPLATE_KEYS = {"category", "parameters", "body", "buttons"}

Parameters = Sequence[Any] | Mapping[str, Any]


class TemplateError(ValueError):
    """A registry problem, or a message that does not fit its template.

    ``code`` is ``unknown_template``, ``parameter_count`` or ``invalid_registry``.
    """

    def __init__(self, code: str, message: str, errors: Sequence[str] = ()) -> None:
        self.code = code
        self.errors = list(errors)
        super().__init__(message)


@dataclasses.dataclass(frozen=True)
class Button:
    payload: str
    title: dict[str, str]


@dataclasses.dataclass(frozen=True)
class Rendered:
    """A template filled in for one language: the free-form message inside the window."""

    text: str
    #: ``{"payload", "title"}`` per quick reply, payloads with parameters filled in
    buttons: list[dict[str, str]]


def _single_line(value: Any) -> str:
    """A parameter as Meta accepts it: one line, no runs of spaces, at most 1,024 chars."""
    return " ".join(str(value).split())[:PARAMETER_MAX]


def _fill(text: str, values: Sequence[str], escape: bool = False) -> str:
    def replace(match: re.Match[str]) -> str:
        value = values[int(match.group(1)) - 1]
        return json.dumps(value, ensure_ascii=False)[1:-1] if escape else value

    return _PLACEHOLDER.sub(replace, text)


@dataclasses.dataclass(frozen=True)
class Template:
    name: str
    category: str
    parameters: tuple[str, ...]
    body: dict[str, str]
    buttons: tuple[Button, ...] = ()

    def values(self, parameters: Parameters) -> list[str]:
        """The parameters in ``{{n}}`` order as single-line text; raises on a wrong count."""
        if isinstance(parameters, Mapping):
            if set(parameters) != set(self.parameters):
                raise TemplateError(
                    "parameter_count",
                    f"template {self.name} takes parameters {list(self.parameters)}, "
                    f"got {sorted(parameters)}",
                )
            ordered = [parameters[name] for name in self.parameters]
        elif isinstance(parameters, str) or not isinstance(parameters, Sequence):
            raise TemplateError("parameter_count", "parameters must be a list or an object")
        else:
            ordered = list(parameters)
        if len(ordered) != len(self.parameters):
            raise TemplateError(
                "parameter_count",
                f"template {self.name} takes {len(self.parameters)} parameter(s), "
                f"got {len(ordered)}",
            )
        return [_single_line(value) for value in ordered]

    def check(self, parameters: Parameters) -> list[str]:
        """Same as :meth:`values`: raises :class:`TemplateError` unless the count fits."""
        return self.values(parameters)

    def render(self, language: str, parameters: Parameters) -> Rendered:
        values = self.values(parameters)
        lang = language if language in self.body else "hi"
        buttons = [
            {"payload": _fill(b.payload, values, escape=True), "title": b.title[lang]}
            for b in self.buttons
        ]
        return Rendered(_fill(self.body[lang], values), buttons)

    def graph_template(
        self,
        language: str,
        parameters: Parameters,
        button_payloads: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """The ``template`` object of a Cloud API message.

        ``button_payloads`` (one per quick reply) is what WhatsApp echoes back when the
        citizen taps it; by default the rendered payloads.
        """
        values = self.values(parameters)
        lang = language if language in self.body else "hi"
        if button_payloads is None:
            button_payloads = [b["payload"] for b in self.render(lang, values).buttons]
        if len(button_payloads) != len(self.buttons):
            raise ValueError(f"template {self.name} has {len(self.buttons)} button(s)")
        components: list[dict[str, Any]] = []
        if values:
            components.append(
                {"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}
            )
        for index, payload in enumerate(button_payloads):
            components.append(
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": str(index),
                    "parameters": [{"type": "payload", "payload": payload}],
                }
            )
        return {"name": self.name, "language": {"code": lang}, "components": components}


class Templates(Mapping[str, Template]):
    """The registry: template name → :class:`Template`."""

    def __init__(self, templates: Mapping[str, Template]) -> None:
        self._templates = dict(templates)

    def __getitem__(self, name: str) -> Template:
        return self._templates[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._templates)

    def __len__(self) -> int:
        return len(self._templates)

    def check(self, name: str, parameters: Parameters) -> Template:
        """The template, if ``name`` is registered and ``parameters`` fit it; else raises."""
        template = self._templates.get(name)
        if template is None:
            raise TemplateError("unknown_template", f"template {name!r} is not registered")
        template.check(parameters)
        return template


def _validate(name: str, raw: Any) -> tuple[Template | None, list[str]]:
    where = f"templates.{name}"
    if not isinstance(raw, dict):
        return None, [f"{where}: must be a mapping"]
    errors = [f"{where}: unknown key {key!r}" for key in sorted(set(raw) - _TEMPLATE_KEYS)]
    if not _NAME.match(name):
        errors.append(f"{where}: name must be lower_snake_case")
    category = raw.get("category")
    if category not in CATEGORIES:
        errors.append(f"{where}.category: must be one of {sorted(CATEGORIES)}")
    parameters = raw.get("parameters")
    if not isinstance(parameters, list) or not all(
        isinstance(p, str) and _NAME.match(p) for p in parameters
    ):
        errors.append(f"{where}.parameters: must be a list of lower_snake_case names")
        parameters = []
    elif len(set(parameters)) != len(parameters):
        errors.append(f"{where}.parameters: names must be unique")
    expected = {str(n) for n in range(1, len(parameters) + 1)}
    body = raw.get("body")
    if not isinstance(body, dict) or set(body) != set(LANGUAGES):
        errors.append(f"{where}.body: needs exactly the languages {list(LANGUAGES)}")
        body = {}
    for lang, text in body.items():
        if not isinstance(text, str) or not text.strip():
            errors.append(f"{where}.body.{lang}: must be a non-empty text")
            continue
        if len(text) > BODY_MAX:
            errors.append(f"{where}.body.{lang}: longer than {BODY_MAX} characters")
        used = set(_PLACEHOLDER.findall(text))
        if used != expected:
            errors.append(
                f"{where}.body.{lang}: uses placeholders {sorted(used, key=int)} but the "
                f"template has {len(parameters)} parameter(s)"
            )
    buttons_raw = raw.get("buttons") or []
    buttons: list[Button] = []
    if not isinstance(buttons_raw, list) or len(buttons_raw) > BUTTONS_MAX:
        errors.append(f"{where}.buttons: at most {BUTTONS_MAX} buttons")
        buttons_raw = []
    for index, button in enumerate(buttons_raw):
        at = f"{where}.buttons[{index}]"
        if not isinstance(button, dict) or set(button) != {"payload", "title"}:
            errors.append(f"{at}: needs exactly payload and title")
            continue
        payload, title = button["payload"], button["title"]
        if not isinstance(payload, str) or not payload.startswith("/"):
            errors.append(f"{at}.payload: must be a dialogue payload starting with /")
        elif not set(_PLACEHOLDER.findall(payload)) <= expected:
            errors.append(f"{at}.payload: uses a placeholder the template does not have")
        if not isinstance(title, dict) or set(title) != set(LANGUAGES):
            errors.append(f"{at}.title: needs exactly the languages {list(LANGUAGES)}")
            continue
        for lang, text in title.items():
            if not isinstance(text, str) or not 0 < len(text) <= BUTTON_TITLE_MAX:
                errors.append(f"{at}.title.{lang}: 1 to {BUTTON_TITLE_MAX} characters")
        buttons.append(Button(str(payload), dict(title)))
    if errors:
        return None, errors
    return (
        Template(name, str(category), tuple(parameters), dict(body), tuple(buttons)),
        [],
    )


def parse(data: Any) -> Templates:
    """Validates a loaded registry document; raises :class:`TemplateError` listing problems."""
    if not isinstance(data, dict) or not isinstance(data.get("templates"), dict):
        raise TemplateError("invalid_registry", "the registry needs a 'templates' mapping")
    templates: dict[str, Template] = {}
    errors: list[str] = []
    for name, raw in data["templates"].items():
        template, problems = _validate(str(name), raw)
        errors.extend(problems)
        if template is not None:
            templates[template.name] = template
    if errors:
        raise TemplateError(
            "invalid_registry",
            "\n  - ".join([f"invalid template registry ({len(errors)} error(s)):", *errors]),
            errors,
        )
    return Templates(templates)


def load_templates(path: Path | None = None) -> Templates:
    """The registry; the default file is read once and cached."""
    if path is None or Path(path) == DEFAULT_PATH:
        return _default()
    return _read(Path(path))


@functools.cache
def _default() -> Templates:
    return _read(DEFAULT_PATH)


def _read(path: Path) -> Templates:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError("invalid_registry", f"cannot read {path}: {exc}") from exc
    return parse(data)


def meta_definitions(templates: Templates) -> list[dict[str, Any]]:
    """The registry as Meta's ``message_templates`` edge lists approved templates."""
    items: list[dict[str, Any]] = []
    for template in templates.values():
        for lang in LANGUAGES:
            components: list[dict[str, Any]] = [{"type": "BODY", "text": template.body[lang]}]
            if template.buttons:
                components.append(
                    {
                        "type": "BUTTONS",
                        "buttons": [
                            {"type": "QUICK_REPLY", "text": b.title[lang]} for b in template.buttons
                        ],
                    }
                )
            items.append(
                {
                    "name": template.name,
                    "language": lang,
                    "status": "APPROVED",
                    "category": template.category.upper(),
                    "components": components,
                }
            )
    return items
