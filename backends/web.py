"""HTTP plumbing shared by every route: errors, auth, JSON bodies, input checks,
idempotency and the Aadhaar guard."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, cast

from sanic import Request
from sanic.response import HTTPResponse, html
from sanic.response import json as json_response
from sqlalchemy.orm import Session

import privacy
from backends.config import Settings
from backends.db import Database, IdempotencyKey, utcnow
from ops import tokens
from ops.background import BackgroundTasks
from service_catalogue import Catalogue

log = logging.getLogger(__name__)

LANGUAGES = ("hi", "en")
_ID_HEADER = re.compile(r"^[A-Za-z0-9+_.:@-]{1,64}$")


class ApiError(Exception):
    """An answer of the contract's error shape: ``{"error", "message", "details"}``."""

    def __init__(
        self, status: int, error: str, message: str, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.details = dict(details or {})

    def response(self) -> HTTPResponse:
        body = {"error": self.error, "message": self.message, "details": self.details}
        return json_response(body, status=self.status)


def not_found(what: str, ident: str) -> ApiError:
    # Someone else's record answers exactly like an unknown one.
    return ApiError(404, "not_found", f"No {what} {ident!r} was found for this caller.")


def wrong_state(what: str, ident: str, status: str, action: str) -> ApiError:
    return ApiError(
        409,
        "wrong_state",
        f"{what} {ident} is {status!r}: it cannot be {action} now.",
        {"status": status},
    )


@dataclasses.dataclass
class Context:
    """What every handler needs; stored on ``app.ctx.backends``."""

    settings: Settings
    db: Database
    catalogue: Catalogue
    #: background loops, kept referenced while they run (``ctx.tasks.spawn(coro)``)
    tasks: BackgroundTasks = dataclasses.field(default_factory=BackgroundTasks)


def context(request: Request) -> Context:
    return cast(Context, request.app.ctx.backends)


# --------------------------------------------------------------------------- auth


@dataclasses.dataclass(frozen=True)
class Caller:
    role: str  # "citizen" (service token) or "officer"
    citizen_id: str | None = None
    officer_id: str | None = None
    #: an officer's departments (from the signed officer credential, ``ops.tokens``)
    departments: frozenset[str] = frozenset()

    @property
    def owner(self) -> str:
        return f"citizen:{self.citizen_id}" if self.role == "citizen" else "officer"

    def sees(self, citizen_id: str) -> bool:
        return self.role == "officer" or citizen_id == self.citizen_id

    def serves(self, department: str | None) -> bool:
        """Whether an officer may read or act on a record of ``department`` (a citizen's
        own records are scoped by :meth:`sees`)."""
        return self.role == "citizen" or (department is not None and department in self.departments)

    def check_department(self, department: str | None, what: str, ident: str) -> None:
        """403 unless the caller :meth:`serves` ``department``."""
        if not self.serves(department):
            raise ApiError(
                403,
                "wrong_department",
                f"{what} {ident} belongs to another department than this officer's.",
                {"department": department},
            )


def authenticate(request: Request) -> Caller:
    """The caller named by the bearer token (compared in constant time) and headers.

    The service token acts for the citizen in X-Citizen-Id. Officers present a signed
    credential (``ops.tokens.sign_officer`` with ``BACKENDS_OFFICER_TOKEN`` as the key)
    naming the officer and the departments they act in; X-Officer-Id, if sent, must name
    the same officer."""
    token = tokens.bearer(request.headers.get("authorization"))
    if token is None:
        raise ApiError(401, "unauthorized", "Send the header 'Authorization: Bearer <token>'.")
    settings = context(request).settings
    if tokens.matches(token, settings.service_token):
        citizen_id = request.headers.get("x-citizen-id", "")
        if not _ID_HEADER.match(citizen_id):
            raise ApiError(
                400,
                "missing_citizen_id",
                "Calls with the service token must name the citizen in X-Citizen-Id "
                "(1 to 64 letters, digits or + _ . : @ -).",
            )
        return Caller("citizen", citizen_id=citizen_id)
    claims = tokens.read_officer(settings.officer_token, token)
    if claims is not None:
        if not _ID_HEADER.match(claims.officer_id):
            raise ApiError(400, "invalid_officer_id", "The officer id has invalid characters.")
        named = request.headers.get("x-officer-id")
        if named is not None and named != claims.officer_id:
            raise ApiError(403, "forbidden", "X-Officer-Id is not the officer of the token.")
        return Caller("officer", officer_id=claims.officer_id, departments=claims.departments)
    raise ApiError(401, "unauthorized", "The bearer token is not valid (or has expired).")


def citizen(request: Request) -> Caller:
    caller = authenticate(request)
    if caller.role != "citizen":
        raise ApiError(403, "forbidden", "Only the service token, acting for a citizen, may.")
    return caller


def officer(request: Request, *, named: bool = False) -> Caller:
    caller = authenticate(request)
    if caller.role != "officer":
        raise ApiError(403, "forbidden", "This call needs an officer credential.")
    if named and not caller.officer_id:
        raise ApiError(400, "missing_officer_id", "Name the acting officer in X-Officer-Id.")
    return caller


# --------------------------------------------------------------------------- input


def contains_aadhaar(text: str) -> bool:
    """Whether ``text`` holds a full Aadhaar number, by the one rule the channel and the
    logs use too (``privacy``: any digits, any separators, a valid check digit)."""
    return privacy.contains_aadhaar(text)


def unmasked_aadhaar_paths(value: Any, path: str = "") -> list[str]:
    """Dotted paths of every string or number in ``value`` holding a full Aadhaar number
    (machine-made identifiers, ``privacy.IDENTIFIER_KEYS`` such as ``sha256``, excepted)."""
    if isinstance(value, Mapping):
        found: list[str] = []
        for key, item in value.items():
            if key in privacy.IDENTIFIER_KEYS:
                continue
            found += unmasked_aadhaar_paths(item, f"{path}.{key}" if path else str(key))
        return found
    if isinstance(value, list):
        return [
            p for i, item in enumerate(value) for p in unmasked_aadhaar_paths(item, f"{path}[{i}]")
        ]
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [path] if contains_aadhaar(str(value)) else []
    return []


def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; 400 if it is not one or holds a full Aadhaar number."""
    if not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except ValueError:
        raise ApiError(400, "invalid_json", "The request body is not valid UTF-8 JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    paths = unmasked_aadhaar_paths(data)
    if paths:
        # Application form fields are reported by their own id, like every field error.
        fields = {
            p[len("fields.") :] if p.startswith("fields.") else p: "aadhaar_unmasked" for p in paths
        }
        raise ApiError(
            400,
            "aadhaar_unmasked",
            "A full 12-digit Aadhaar number was sent in "
            + ", ".join(sorted(fields))
            + "; send at most the last 4 digits as XXXX-XXXX-1234.",
            {"fields": fields},
        )
    return data


class Problems:
    """Collects field errors; :meth:`check` raises one 400 naming all of them."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.sentences: list[str] = []

    def add(self, field: str, code: str, sentence: str) -> None:
        if field not in self.fields:
            self.fields[field] = code
            self.sentences.append(sentence)

    def check(self) -> None:
        if self.fields:
            raise ApiError(400, "invalid_fields", " ".join(self.sentences), {"fields": self.fields})

    def text(
        self,
        body: Mapping[str, Any],
        key: str,
        *,
        required: bool = True,
        min_len: int = 1,
        max_len: int = 500,
    ) -> str | None:
        value = body.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(key, "required", f"'{key}' is required.")
            return None
        if not isinstance(value, str):
            self.add(key, "invalid_type", f"'{key}' must be a string.")
            return None
        value = value.strip()
        if len(value) < min_len:
            self.add(key, "too_short", f"'{key}' must be at least {min_len} characters long.")
        elif len(value) > max_len:
            self.add(key, "too_long", f"'{key}' must be at most {max_len} characters long.")
        return value

    def choice(
        self, body: Mapping[str, Any], key: str, allowed: tuple[str, ...], default: str | None
    ) -> str | None:
        value = body.get(key, default)
        if value is None:
            self.add(key, "required", f"'{key}' is required (one of {', '.join(allowed)}).")
        elif value not in allowed:
            self.add(key, "invalid_choice", f"'{key}' must be one of {', '.join(allowed)}.")
            return None
        return cast("str | None", value)

    def integer(
        self, body: Mapping[str, Any], key: str, lo: int, hi: int, *, required: bool = True
    ) -> int | None:
        value = body.get(key)
        if value is None:
            if required:
                self.add(key, "required", f"'{key}' is required (a whole number {lo} to {hi}).")
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            self.add(key, "out_of_range", f"'{key}' must be a whole number from {lo} to {hi}.")
            return None
        return value


@dataclasses.dataclass(frozen=True)
class ListQuery:
    """Filters of a list call (``GET /edistrict/applications``, ``GET /grievances``):
    comma-separated values per filter name, an optional ``due_before`` (date or UTC
    time), ``limit`` (1-500, default 200) and ``offset``."""

    values: dict[str, list[str]]
    due_before: datetime | None
    limit: int
    offset: int


def list_query(request: Request, names: tuple[str, ...]) -> ListQuery:
    problems = Problems()
    values = {
        name: [v.strip() for v in str(request.args.get(name, "")).split(",") if v.strip()]
        for name in names
    }
    due_before = None
    raw_due = str(request.args.get("due_before", "")).strip()
    if raw_due:
        try:
            due_before = datetime.fromisoformat(raw_due.replace("Z", ""))
        except ValueError:
            problems.add("due_before", "invalid", "'due_before' must be a date or ISO UTC time.")
    numbers = {}
    for key, default, lo, hi in (("limit", 200, 1, 500), ("offset", 0, 0, 10**9)):
        raw = str(request.args.get(key, default))
        numbers[key] = int(raw) if raw.isdigit() else -1
        if not lo <= numbers[key] <= hi:
            problems.add(key, "out_of_range", f"'{key}' must be a whole number {lo} to {hi}.")
    problems.check()
    return ListQuery(values, due_before, numbers["limit"], numbers["offset"])


# --------------------------------------------------------------------------- idempotency


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not 1 <= len(key) <= 100 or not (key.isascii() and key.isprintable()):
        raise ApiError(
            400,
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 100 printable ASCII characters.",
        )
    return key


def create_once(
    request: Request,
    caller: Caller,
    scope: str,
    body: Mapping[str, Any],
    create: Callable[[Session], str],
    render: Callable[[Session, str], dict[str, Any]],
    status: int = 201,
) -> HTTPResponse:
    """Run a creating call at most once per ``Idempotency-Key``.

    ``create`` makes the resource and returns its id; ``render`` answers with it. A
    repeated key with the same body answers 200 with the resource and creates nothing;
    with another body, 409 ``idempotency_conflict``.
    """
    key = idempotency_key(request)
    canonical = json.dumps([scope, body], sort_keys=True, separators=(",", ":"), default=str)
    request_hash = hashlib.sha256(canonical.encode()).hexdigest()

    def work(session: Session) -> tuple[int, dict[str, Any]]:
        if key is not None:
            seen = session.get(IdempotencyKey, (caller.owner, scope, key))
            if seen is not None:
                if not hmac.compare_digest(seen.request_hash, request_hash):
                    raise ApiError(
                        409,
                        "idempotency_conflict",
                        "This Idempotency-Key was already used with a different request body.",
                    )
                return 200, render(session, seen.resource_id)
        resource_id = create(session)
        if key is not None:
            session.add(
                IdempotencyKey(
                    owner=caller.owner,
                    scope=scope,
                    key=key,
                    request_hash=request_hash,
                    resource_id=resource_id,
                    created_at=utcnow(),
                )
            )
            session.flush()
        return status, render(session, resource_id)

    code, answer = context(request).db.run(work)
    return json_response(answer, status=code)


# --------------------------------------------------------------------------- pages

_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    ),
}

PAGE_STYLE = (
    "body{font-family:sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5}table{border-collapse:collapse}td{padding:.25rem .75rem .25rem 0;"
    "vertical-align:top}.ok{color:#13632b}.bad{color:#a11}button{font-size:1rem;"
    "margin:.25rem;padding:.5rem 1rem}"
)


def page(title: str, body_html: str, status: int = 200) -> HTTPResponse:
    """A small bilingual HTML page; ``body_html`` must already be escaped."""
    document = (
        '<!doctype html><html lang="hi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{PAGE_STYLE}</style></head>"
        f"<body>{body_html}</body></html>"
    )
    return html(document, status=status, headers=_PAGE_HEADERS)
