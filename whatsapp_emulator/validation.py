"""Checks a Graph API send request the way Meta does, limits named in the error message.

Meta's documented limits (see ``shared/reference/whatsapp-cloud-api.md``): text body
4,096 characters; reply buttons 1-3, title 20, id 256; list button 20, at most 10 rows
in at most 10 sections, row title 24, description 72, id 200, section title 24;
interactive header 60, body 1,024, footer 60.
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

TEXT_MAX = 4096
BODY_MAX = 1024
HEADER_MAX = 60
FOOTER_MAX = 60
CAPTION_MAX = 1024
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
LIST_BUTTON_MAX = 20
LIST_ROWS_MAX = 10
LIST_SECTIONS_MAX = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200
SECTION_TITLE_MAX = 24
MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
MESSAGE_TYPES = (
    "text",
    "interactive",
    "template",
    "location",
    "reaction",
    "contacts",
    *MEDIA_TYPES,
)
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


class GraphError(Exception):
    """A Graph API error answer: ``{"error": {message, type, code, error_data, ...}}``."""

    def __init__(
        self,
        code: int,
        message: str,
        details: str | None = None,
        http_status: int = 400,
        subcode: int | None = None,
        prefix: bool = True,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = f"(#{code}) {message}" if prefix else message
        self.details = details
        self.http_status = http_status
        self.subcode = subcode

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": "OAuthException"}
        error["code"] = self.code
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)
        return {"error": error}


def invalid(detail: str) -> GraphError:
    """Error 100 whose message names the parameter and the limit it broke."""
    return GraphError(100, f"Invalid parameter: {detail}", detail)


def unauthorized() -> GraphError:
    return GraphError(
        190,
        "Invalid OAuth access token - Cannot parse access token",
        http_status=401,
        prefix=False,
    )


def unknown_object(object_id: str, verb: str = "get") -> GraphError:
    return GraphError(
        100,
        f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        http_status=400,
        subcode=33,
    )


# templates -----------------------------------------------------------------------------
class Templates:
    """Message templates as Meta's ``message_templates`` edge returns them."""

    def __init__(self, templates: list[dict[str, Any]] | None = None) -> None:
        self.items = templates or []

    @classmethod
    def load(cls, path: Path | None) -> Templates:
        """The templates of ``path``; without a file, the project's template registry
        (``service_catalogue/whatsapp_templates.yml``), every one approved in hi and en."""
        if path is None:
            return cls.from_registry()
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) if path.suffix in {".yml", ".yaml"} else json.loads(text)
        if isinstance(data, dict):
            data = data.get("data", data.get("templates", []))
        if not isinstance(data, list) or not all(isinstance(t, dict) for t in data):
            raise ValueError(f"{path}: want a list of templates or {{'data': [...]}}")
        items: list[dict[str, Any]] = []
        for index, template in enumerate(data):
            if not template.get("name") or not template.get("language"):
                raise ValueError(f"{path}: template {index} needs a name and a language")
            items.append(
                {
                    "id": str(template.get("id") or 10**15 + index),
                    "status": "APPROVED",
                    "category": "UTILITY",
                    "components": [],
                    **template,
                }
            )
        return cls(items)

    @classmethod
    def from_registry(cls) -> Templates:
        from service_catalogue.templates import load_templates, meta_definitions

        return cls(
            [
                {"id": str(10**15 + index), **definition}
                for index, definition in enumerate(meta_definitions(load_templates()))
            ]
        )

    def find(self, name: str, language: str) -> dict[str, Any] | None:
        for template in self.items:
            if template["name"] == name and template["language"] == language:
                return template
        return None

    def names(self) -> set[str]:
        return {t["name"] for t in self.items}


def _component(template: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for component in template.get("components") or []:
        if str(component.get("type", "")).upper() == kind:
            return dict(component)
    return None


def _placeholders(text: str) -> list[str]:
    seen: list[str] = []
    for name in PLACEHOLDER.findall(text):
        if name not in seen:
            seen.append(name)
    return seen


def _parameter_text(parameter: dict[str, Any]) -> str:
    kind = parameter.get("type")
    if kind == "text":
        return str(parameter.get("text", ""))
    if kind in {"currency", "date_time"}:
        return str((parameter.get(kind) or {}).get("fallback_value", ""))
    if kind == "payload":
        return str(parameter.get("payload", ""))
    return f"[{kind}]"


def _fill(text: str, parameters: list[dict[str, Any]]) -> str:
    by_name = {str(p["parameter_name"]): p for p in parameters if p.get("parameter_name")}
    positional = [p for p in parameters if not p.get("parameter_name")]

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key in by_name:
            return _parameter_text(by_name[key])
        if key.isdigit() and 0 < int(key) <= len(positional):
            return _parameter_text(positional[int(key) - 1])
        return match.group(0)

    return PLACEHOLDER.sub(replace, text)


def check_template(message: dict[str, Any], templates: Templates) -> dict[str, Any]:
    """Validate a ``template`` object; return its rendering for the page."""
    template = _object(message, "template", "template")
    name = _string(template, "name", "template.name", 512)
    language = _object(template, "language", "template.language")
    code = _string(language, "code", "template.language.code", 15)
    components = template.get("components", [])
    if not isinstance(components, list):
        raise invalid("template.components must be a list")
    sent: dict[str, list[dict[str, Any]]] = {}
    buttons_sent: dict[int, dict[str, Any]] = {}
    for index, component in enumerate(components):
        where = f"template.components[{index}]"
        if not isinstance(component, dict):
            raise invalid(f"{where} must be an object")
        kind = str(component.get("type", "")).lower()
        if kind not in {"header", "body", "button", "footer"}:
            raise invalid(f"{where}.type must be header, body, button or footer")
        parameters = component.get("parameters", [])
        if not isinstance(parameters, list) or not all(isinstance(p, dict) for p in parameters):
            raise invalid(f"{where}.parameters must be a list of objects")
        for p_index, parameter in enumerate(parameters):
            if parameter.get("type") not in {
                "text",
                "currency",
                "date_time",
                "image",
                "document",
                "video",
                "location",
                "payload",
                "coupon_code",
                "action",
            }:
                raise invalid(f"{where}.parameters[{p_index}].type is not a parameter type")
            if parameter.get("type") == "text" and not isinstance(parameter.get("text"), str):
                raise invalid(f"{where}.parameters[{p_index}].text is required")
        if kind == "button":
            sub_index = component.get("index")
            try:
                buttons_sent[int(str(sub_index))] = component
            except (TypeError, ValueError):
                raise invalid(f"{where}.index is required for a button component") from None
        else:
            sent[kind] = parameters

    if not templates.items:  # no template file: any template is accepted, shown as sent
        return {
            "name": name,
            "language": code,
            "category": "UTILITY",
            "parameters": [_parameter_text(p) for p in sent.get("body", [])],
        }
    definition = templates.find(name, code)
    if definition is None:
        detail = (
            f"template name ({name}) does not exist in {code}"
            if name in templates.names()
            else f"template name ({name}) does not exist"
        )
        raise GraphError(132001, "Template name does not exist in the translation", detail)
    if str(definition.get("status", "APPROVED")).upper() != "APPROVED":
        raise GraphError(
            132001,
            "Template name does not exist in the translation",
            f"template {name} ({code}) is {definition.get('status')}, not APPROVED",
        )
    rendered: dict[str, Any] = {
        "name": name,
        "language": code,
        "category": str(definition.get("category", "UTILITY")).upper(),
    }
    for kind in ("header", "body", "footer"):
        part = _component(definition, kind.upper())
        if part is None:
            if sent.get(kind):
                raise GraphError(
                    132000,
                    "Number of parameters does not match the expected number of params",
                    f"{kind}: the template has no {kind}",
                )
            continue
        text = str(part.get("text", ""))
        fmt = str(part.get("format", "TEXT")).upper()
        params = sent.get(kind, [])
        if kind == "header" and fmt != "TEXT":
            rendered["header"] = {"format": fmt, "parameters": params}
            continue
        expected = len(_placeholders(text))
        if expected != len(params):
            raise GraphError(
                132000,
                "Number of parameters does not match the expected number of params",
                f"{kind}: number of localizable_params ({len(params)}) does not match the "
                f"expected number of params ({expected})",
            )
        rendered[kind] = _fill(text, params)
    buttons = (_component(definition, "BUTTONS") or {}).get("buttons") or []
    rendered_buttons = []
    for index, button in enumerate(buttons):
        item = {"type": str(button.get("type", "")).upper(), "text": button.get("text", "")}
        sent_button = buttons_sent.get(index)
        if item["type"] == "QUICK_REPLY":
            payload = item["text"]
            if sent_button and sent_button.get("parameters"):
                payload = _parameter_text(sent_button["parameters"][0])
            item["payload"] = payload
        elif item["type"] == "URL":
            url = str(button.get("url", ""))
            if sent_button and sent_button.get("parameters"):
                url = _fill(url, sent_button["parameters"])
            item["url"] = url
        rendered_buttons.append(item)
    if rendered_buttons:
        rendered["buttons"] = rendered_buttons
    return rendered


# messages ------------------------------------------------------------------------------
@dataclasses.dataclass
class SendRequest:
    to: str
    wa_id: str
    type: str
    rendered: dict[str, Any] | None = None  # templates
    media_id: str | None = None  # media sent by id
    link: str | None = None  # media sent by link (fetched in the background)


def _object(parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise invalid(f"{where} is required and must be an object")
    return value


def _string(
    parent: dict[str, Any], key: str, where: str, max_len: int, required: bool = True
) -> str:
    value = parent.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise invalid(f"{where} is required and must be a non-empty string")
    if len(value) > max_len:
        raise invalid(f"{where} must be at most {max_len} characters, got {len(value)}")
    return value


def _url(value: str, where: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise invalid(f"{where} must be an http(s) URL")
    return value


def check_media(
    message: dict[str, Any], kind: str, media_exists: Callable[[str], bool], where: str = ""
) -> tuple[str | None, str | None]:
    where = where or kind
    media = _object(message, kind, where)
    media_id, link = media.get("id"), media.get("link")
    if (media_id is None) == (link is None):
        raise invalid(f"{where} needs exactly one of id (an uploaded media id) or link")
    if "caption" in media:
        if kind in {"audio", "sticker"}:
            raise invalid(f"{where}.caption is not allowed for {kind}")
        _string(media, "caption", f"{where}.caption", CAPTION_MAX, required=False)
    if "filename" in media:
        if kind != "document":
            raise invalid(f"{where}.filename is only allowed for documents")
        _string(media, "filename", f"{where}.filename", 240)
    if media_id is not None:
        if not isinstance(media_id, str) or not media_exists(media_id):
            raise GraphError(
                131053,
                "Media upload error",
                f"{where}.id {media_id!r} is not an uploaded media id (expired or deleted?)",
            )
        return media_id, None
    if not isinstance(link, str):
        raise invalid(f"{where}.link must be a string")
    return None, _url(link, f"{where}.link")


def _check_buttons(action: dict[str, Any]) -> None:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= BUTTONS_MAX:
        count = len(buttons) if isinstance(buttons, list) else 0
        raise invalid(
            f"interactive.action.buttons must have 1 to {BUTTONS_MAX} buttons, got {count}"
        )
    ids: set[str] = set()
    titles: set[str] = set()
    for index, button in enumerate(buttons):
        where = f"interactive.action.buttons[{index}]"
        if not isinstance(button, dict) or button.get("type") != "reply":
            raise invalid(f"{where}.type must be 'reply'")
        reply = _object(button, "reply", f"{where}.reply")
        button_id = _string(reply, "id", f"{where}.reply.id", BUTTON_ID_MAX)
        title = _string(reply, "title", f"{where}.reply.title", BUTTON_TITLE_MAX)
        if button_id in ids or title in titles:
            raise invalid(f"{where}: button ids and titles must be unique")
        ids.add(button_id)
        titles.add(title)


def _check_list(action: dict[str, Any]) -> None:
    _string(action, "button", "interactive.action.button", LIST_BUTTON_MAX)
    sections = action.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= LIST_SECTIONS_MAX:
        count = len(sections) if isinstance(sections, list) else 0
        raise invalid(
            f"interactive.action.sections must have 1 to {LIST_SECTIONS_MAX} sections, got {count}"
        )
    total = 0
    ids: set[str] = set()
    for s_index, section in enumerate(sections):
        where = f"interactive.action.sections[{s_index}]"
        if not isinstance(section, dict):
            raise invalid(f"{where} must be an object")
        _string(section, "title", f"{where}.title", SECTION_TITLE_MAX, required=len(sections) > 1)
        rows = section.get("rows")
        if not isinstance(rows, list) or not rows:
            raise invalid(f"{where}.rows must have at least 1 row")
        total += len(rows)
        if total > LIST_ROWS_MAX:
            count = sum(len(s.get("rows") or []) for s in sections if isinstance(s, dict))
            raise invalid(
                f"interactive.action.sections must have at most {LIST_ROWS_MAX} rows in "
                f"total, got {count}"
            )
        for r_index, row in enumerate(rows):
            where_row = f"{where}.rows[{r_index}]"
            if not isinstance(row, dict):
                raise invalid(f"{where_row} must be an object")
            row_id = _string(row, "id", f"{where_row}.id", ROW_ID_MAX)
            _string(row, "title", f"{where_row}.title", ROW_TITLE_MAX)
            _string(row, "description", f"{where_row}.description", ROW_DESCRIPTION_MAX, False)
            if row_id in ids:
                raise invalid(f"{where_row}.id {row_id!r}: row ids must be unique")
            ids.add(row_id)


def check_interactive(
    message: dict[str, Any], media_exists: Callable[[str], bool]
) -> tuple[str | None, str | None]:
    interactive = _object(message, "interactive", "interactive")
    kind = interactive.get("type")
    if kind not in {"button", "list", "cta_url", "location_request_message", "flow"}:
        raise invalid(
            "interactive.type must be button, list, cta_url, location_request_message or flow"
        )
    body = interactive.get("body")
    if body is not None or kind != "cta_url":
        _string(
            _object(interactive, "body", "interactive.body"),
            "text",
            "interactive.body.text",
            BODY_MAX,
        )
    if interactive.get("footer") is not None:
        footer = _object(interactive, "footer", "interactive.footer")
        _string(footer, "text", "interactive.footer.text", FOOTER_MAX)
    media: tuple[str | None, str | None] = (None, None)
    if interactive.get("header") is not None:
        header = _object(interactive, "header", "interactive.header")
        header_type = header.get("type")
        if header_type == "text":
            _string(header, "text", "interactive.header.text", HEADER_MAX)
        elif header_type in {"image", "video", "document"} and kind in {"button", "cta_url"}:
            media = check_media(header, str(header_type), media_exists, "interactive.header")
        else:
            allowed = "text" if kind == "list" else "text, image, video or document"
            raise invalid(f"interactive.header.type must be {allowed}")
    action = _object(interactive, "action", "interactive.action")
    if kind == "button":
        _check_buttons(action)
    elif kind == "list":
        _check_list(action)
    elif kind == "cta_url":
        if action.get("name") != "cta_url":
            raise invalid("interactive.action.name must be 'cta_url'")
        parameters = _object(action, "parameters", "interactive.action.parameters")
        _string(parameters, "display_text", "interactive.action.parameters.display_text", 20)
        _url(
            _string(parameters, "url", "interactive.action.parameters.url", 2000),
            "interactive.action.parameters.url",
        )
    elif kind == "location_request_message":
        if action.get("name") != "send_location":
            raise invalid("interactive.action.name must be 'send_location'")
    elif action.get("name") != "flow":
        raise invalid("interactive.action.name must be 'flow'")
    return media


def check_send(body: Any, media_exists: Callable[[str], bool], templates: Templates) -> SendRequest:
    """Validate a ``POST /{phone_number_id}/messages`` body (not a mark-as-read)."""
    if not isinstance(body, dict):
        raise invalid("the request body must be a JSON object")
    if body.get("messaging_product") != "whatsapp":
        raise invalid("messaging_product is required and must be 'whatsapp'")
    if body.get("recipient_type", "individual") != "individual":
        raise invalid("recipient_type must be 'individual'")
    to = body.get("to")
    digits = re.sub(r"\D", "", to) if isinstance(to, str) else ""
    if (
        not isinstance(to, str)
        or not re.fullmatch(r"\+?[0-9 ()-]+", to)
        or not 7 <= len(digits) <= 15
    ):
        raise invalid("to is required and must be a phone number (7 to 15 digits)")
    kind = body.get("type", "text")  # Meta's default type is text
    if kind not in MESSAGE_TYPES:
        raise invalid(f"type must be one of {', '.join(MESSAGE_TYPES)}, got {kind!r}")
    if "context" in body:
        context = _object(body, "context", "context")
        _string(context, "message_id", "context.message_id", 256)
    request = SendRequest(to=to, wa_id=digits, type=kind)
    if kind == "text":
        text = _object(body, "text", "text")
        _string(text, "body", "text.body", TEXT_MAX)
        if "preview_url" in text and not isinstance(text["preview_url"], bool):
            raise invalid("text.preview_url must be true or false")
    elif kind == "interactive":
        request.media_id, request.link = check_interactive(body, media_exists)
    elif kind in MEDIA_TYPES:
        request.media_id, request.link = check_media(body, kind, media_exists)
    elif kind == "template":
        request.rendered = check_template(body, templates)
    elif kind == "location":
        location = _object(body, "location", "location")
        for key, limit in (("latitude", 90), ("longitude", 180)):
            value = location.get(key)
            try:
                number = float(str(value))
            except (TypeError, ValueError):
                raise invalid(f"location.{key} is required and must be a number") from None
            if not -limit <= number <= limit:
                raise invalid(f"location.{key} must be between -{limit} and {limit}")
        for key in ("name", "address"):
            _string(location, key, f"location.{key}", 1000, required=False)
    elif kind == "reaction":
        reaction = _object(body, "reaction", "reaction")
        _string(reaction, "message_id", "reaction.message_id", 256)
        emoji = reaction.get("emoji")
        if not isinstance(emoji, str) or len(emoji) > 10:
            raise invalid("reaction.emoji must be one emoji (or empty to remove)")
    elif kind == "contacts":
        contacts = body.get("contacts")
        if not isinstance(contacts, list) or not contacts:
            raise invalid("contacts must be a non-empty list")
    return request
