"""Every answer the tests get from the backends is checked against backends/openapi.py.

``running_backend`` (tests/support/backends.py) wraps its service in :func:`checking`: while it
runs, every ``requests`` call from the test process to that service's URL has its
answer matched to the documented operation (method, path template, status) and its JSON
body validated, with ``jsonschema``, against the documented response schema. An
undocumented route, an undocumented status, a content type the document does not give
or a body that does not fit fails the test (``ContractError``, an ``AssertionError``).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import requests

from backends.openapi import document


class ContractError(AssertionError):
    pass


def _json_schema(schema: Any) -> Any:
    """OpenAPI 3.0's dialect made JSON Schema: ``nullable: true`` allows null."""
    if isinstance(schema, list):
        return [_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: _json_schema(value) for key, value in schema.items()}
    if converted.pop("nullable", False):
        converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


class Contract:
    """The backends' OpenAPI document, as a checker of answers."""

    def __init__(self, doc: dict[str, Any] | None = None) -> None:
        doc = doc or document("http://backends.test")
        self.components = _json_schema(doc["components"])
        self.seen: set[tuple[str, str, int]] = set()  # (method, path template, status) checked
        routes = []
        for template, operations in doc["paths"].items():
            for method, operation in operations.items():
                routes.append((template.count("{"), method.upper(), template, operation))
        # a literal segment beats a parameter: /payments/refunds before /payments/{id}
        self.routes = sorted(routes, key=lambda route: route[0])
        self.patterns = {
            t: re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(t)) + "$")
            for _, _, t, _ in routes
        }

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        for _, documented, template, operation in self.routes:
            if documented == method and self.patterns[template].match(path):
                return template, operation
        raise ContractError(f"{method} {path}: no such operation in backends/openapi.py")

    def check(
        self, method: str, path: str, status: int, content_type: str, body: bytes | None
    ) -> None:
        """Raise ContractError unless the answer is documented; ``body`` None: not read.

        A path the document does not have may only answer 404 (no such route)."""
        if status == 404 and not any(p.match(path) for p in self.patterns.values()):
            return
        template, operation = self.operation(method, path)
        self.seen.add((method, template, status))
        where = f"{method} {template} -> {status}"
        answer = operation["responses"].get(str(status))
        if answer is None:
            documented = ", ".join(sorted(operation["responses"]))
            raise ContractError(f"{where}: status not in backends/openapi.py ({documented})")
        content = answer.get("content", {})
        media = content_type.split(";")[0].strip().lower()
        if not content:
            return
        if media not in content:
            raise ContractError(f"{where}: answered {media!r}, documented {sorted(content)}")
        schema = content[media].get("schema")
        if media != "application/json" or schema is None or body is None:
            return
        try:
            instance = json.loads(body)
        except ValueError as error:
            raise ContractError(f"{where}: body is not JSON: {body[:200]!r}") from error
        try:
            jsonschema.validate(
                instance,
                {**_json_schema(schema), "components": self.components},
                cls=jsonschema.Draft7Validator,
            )
        except jsonschema.ValidationError as error:
            at = "/".join(str(p) for p in error.absolute_path) or "(body)"
            raise ContractError(f"{where}: {at}: {error.message}") from None


_CONTRACT: Contract | None = None
_CHECKED: dict[str, int] = {}  # base URL -> how many running_backend contexts hold it
_LOCK = threading.Lock()
_original_send = requests.Session.send


def _checked_send(
    self: requests.Session, request: requests.PreparedRequest, **kwargs: Any
) -> requests.Response:
    answer = _original_send(self, request, **kwargs)
    url = request.url or ""
    base = next((b for b in _CHECKED if url.startswith(b + "/") or url == b), None)
    if base is not None and _CONTRACT is not None and request.method:
        path = urlsplit(url).path or "/"
        content_type = answer.headers.get("Content-Type", "")
        body = None if kwargs.get("stream") else answer.content  # a stream is the test's to read
        _CONTRACT.check(request.method, path, answer.status_code, content_type, body)
    return answer


@contextlib.contextmanager
def checking(base_url: str) -> Iterator[None]:
    """Check every answer from ``base_url`` while inside (see the module's docstring)."""
    global _CONTRACT
    with _LOCK:
        if _CONTRACT is None:
            _CONTRACT = Contract()
        _CHECKED[base_url] = _CHECKED.get(base_url, 0) + 1
        requests.Session.send = _checked_send  # type: ignore[method-assign]
    try:
        yield
    finally:
        with _LOCK:
            _CHECKED[base_url] -= 1
            if not _CHECKED[base_url]:
                del _CHECKED[base_url]
            if not _CHECKED:
                requests.Session.send = _original_send  # type: ignore[method-assign]
