"""What every dashboard page uses: the signed-in user, roles and departments, the audit
log, CSRF, template rendering and the backends client.

    async def application_page(request, application_id):
        user = require(request, *PAGE_ROLES["applications"])
        result = await backends(request).get(path("edistrict", "applications", application_id))
        ...
        if not may_see(user, department):
            forbid(request, application_id, department=department)   # audited, 403
        audit(request, "application.view", application_id)
        return render(request, "application.html", application=result.data)

Errors: raise :class:`PageError` (rendered as ``error.html``, or JSON for API calls);
:func:`require` sends a signed-out browser to ``/login``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import ipaddress
import logging
from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn, cast

import jinja2
import yaml
from sanic import Request
from sanic.response import HTTPResponse, html
from sanic.response import json as json_response

from dashboard import audit_chain
from dashboard.backends_client import BackendsClient, Result
from dashboard.config import Settings
from dashboard.db import AuditEntry, Database, utcnow
from ops.background import BackgroundTasks
from service_catalogue import Catalogue
from service_catalogue.india_time import IST
from service_catalogue.lists import grievance_categories

log = logging.getLogger(__name__)

PACKAGE = Path(__file__).resolve().parent
LANGUAGES = ("en", "hi")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_COOKIE = "dashboard_session"
LOGIN_COOKIE = "dashboard_login"  # random value the sign-in form's CSRF token is bound to
LANGUAGE_COOKIE = "dashboard_lang"

#: ``(method, path, handler)``: each page module's ``ROUTES`` is a list of these.
Route = tuple[str, str, Callable[..., Coroutine[Any, Any, HTTPResponse]]]

#: Roles that reach each page. The nav shows a page only to these roles and every
#: handler calls ``require(request, *PAGE_ROLES[page])``.
PAGE_ROLES: dict[str, tuple[str, ...]] = {
    "conversations": ("officer", "supervisor", "helpdesk"),
    "handoffs": ("supervisor", "admin"),
    "applications": ("officer", "supervisor"),
    "grievances": ("officer", "supervisor"),
    "broadcasts": ("officer", "supervisor"),
    "csc": ("csc_operator",),
    "analytics": ("officer", "supervisor", "admin"),
    "trainer": ("trainer",),
    "audit": ("supervisor", "admin"),
    "users": ("admin",),
}


# --------------------------------------------------------------------------- context


@dataclasses.dataclass
class Context:
    """What every handler needs; stored on ``app.ctx.dashboard``."""

    settings: Settings
    db: Database
    catalogue: Catalogue
    templates: jinja2.Environment
    backends: BackendsClient
    #: background loops, kept referenced while they run (``ctx.tasks.spawn(coro)``)
    tasks: BackgroundTasks = dataclasses.field(default_factory=BackgroundTasks)


def context(request: Request) -> Context:
    return cast(Context, request.app.ctx.dashboard)


@dataclasses.dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    name: str
    role: str
    departments: tuple[str, ...]
    csc_centre: str | None
    csrf_token: str
    session_hash: str


# --------------------------------------------------------------------------- errors


class PageError(Exception):
    """An answer with ``status`` whose text is ``messages.yml[code]``."""

    def __init__(self, status: int, code: str, detail: str | None = None) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.detail = detail


class SignInRequired(Exception):
    """No valid session: browsers go to the sign-in page, API calls get 401."""


def wants_json(request: Request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    )


def error_response(request: Request, error: PageError) -> HTTPResponse:
    message = t(request, error.code)
    if wants_json(request):
        body = {"error": error.code, "message": message, "detail": error.detail}
        return json_response(body, status=error.status)
    return render(
        request,
        "error.html",
        status=error.status,
        error_status=error.status,
        error_message=message,
        error_detail=error.detail,
    )


# --------------------------------------------------------------------------- texts


@functools.lru_cache(maxsize=1)
def messages() -> dict[str, dict[str, str]]:
    """``messages.yml``: every text the Python code shows, in English and Hindi."""
    raw = yaml.safe_load((PACKAGE / "messages.yml").read_text(encoding="utf-8"))
    return {str(k): {lang: str(v[lang]) for lang in LANGUAGES} for k, v in raw.items()}


def language(request: Request) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE, "en")
    return chosen if chosen in LANGUAGES else "en"


def t(request: Request, code: str, **params: Any) -> str:
    """The message ``code`` in the user's language (``{name}`` placeholders filled)."""
    texts = messages().get(code) or messages()["error"]
    return texts[language(request)].format(**params) if params else texts[language(request)]


def problem(request: Request, result: Result) -> str:
    """What to tell the user about a failed backend call."""
    known = messages()
    text = t(request, result.error) if result.error in known else t(request, "backend_error")
    return f"{text} ({result.message})" if result.message else text


# --------------------------------------------------------------------------- users


def current_user(request: Request) -> CurrentUser | None:
    return cast("CurrentUser | None", getattr(request.ctx, "user", None))


def require(request: Request, *roles: str) -> CurrentUser:
    """The signed-in user, if their role is one of ``roles`` (any role if none given).

    Not signed in: :class:`SignInRequired`. Wrong role: 403, audited.
    """
    user = current_user(request)
    if user is None:
        raise SignInRequired()
    if roles and user.role not in roles:
        forbid(request, request.path, reason="role", role=user.role)
    return user


def departments_of(user: CurrentUser) -> tuple[str, ...]:
    """The departments whose citizens, applications and grievances ``user`` may see.

    Officers and supervisors: their own. Administrators manage accounts and read the
    audit log; they see department data only for departments given to them. CSC
    operators and trainers: none (operators see only their own filings, trainers only
    the NLU inbox's sentences).
    """
    return () if user.role in ("csc_operator", "trainer") else user.departments


def may_see(user: CurrentUser, department: str | None) -> bool:
    return department is not None and department in departments_of(user)


def forbid(request: Request, subject: str | None, **detail: Any) -> NoReturn:
    """Audit the refusal and answer 403."""
    audit(request, "access_denied", subject, detail or None)
    raise PageError(403, "forbidden")


def client_ip(request: Request) -> str:
    """The client's address; from ``X-Forwarded-For`` only behind a trusted proxy.

    Only the last hop counts: the one the trusted proxy added (``deploy/nginx.conf``
    overwrites the header with ``$remote_addr``). Anything before it is what the client
    sent, which anyone can forge.
    """
    if context(request).settings.trusted_proxy:
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass
    return str(request.ip or "unknown")[:64]


def url(request: Request, path: str) -> str:
    """``path`` (root-absolute, as the routes are written) as the browser must ask for it:
    under ``DASHBOARD_URL_PREFIX`` when a proxy mounts the dashboard there."""
    return prefixed(context(request).settings.url_prefix, path)


def prefixed(prefix: str, location: str) -> str:
    """``location`` with ``prefix`` in front if it is a local root-absolute path (handlers
    write every path without the prefix); absolute URLs, ``//host`` and relative paths
    are left alone."""
    if not prefix or not location.startswith("/") or location.startswith("//"):
        return location
    return prefix + location


def audit(
    request: Request, action: str, subject: str | None = None, detail: Any | None = None
) -> None:
    """One audit row: who (signed-in user), what (action), subject, detail, when (UTC),
    from where. ``detail`` holds ids and reasons, never a citizen's personal data."""
    user = current_user(request)
    entry = AuditEntry(
        at=utcnow(),
        user_id=user.id if user else None,
        username=user.username if user else None,
        action=action[:60],
        subject=subject[:100] if subject else None,
        detail=detail,
        ip=client_ip(request),
    )
    context(request).db.run(lambda session: audit_chain.append(session, entry))


def audit_as(
    request: Request, username: str | None, action: str, subject: str | None, detail: Any
) -> None:
    """An audit row for someone not (yet) signed in, e.g. a failed sign-in."""
    entry = AuditEntry(
        at=utcnow(),
        user_id=None,
        username=username[:64] if username else None,
        action=action,
        subject=subject,
        detail=detail,
        ip=client_ip(request),
    )
    context(request).db.run(lambda session: audit_chain.append(session, entry))


# --------------------------------------------------------------------------- CSRF


def login_csrf_token(settings: Settings, login_cookie: str) -> str:
    """The sign-in form's token: HMAC of the browser's random login cookie."""
    key = settings.secret_key.encode()
    return hmac.new(key, login_cookie.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    user = current_user(request)
    if user is not None:
        return user.csrf_token
    login_cookie = getattr(request.ctx, "login_cookie", "")
    return login_csrf_token(context(request).settings, login_cookie)


def check_csrf(request: Request) -> None:
    """Every state-changing request carries the token (form field or header): 403 if not."""
    if request.method not in UNSAFE_METHODS:
        return
    given = request.headers.get(CSRF_HEADER, "")
    if not given and request.content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        given = request.form.get(CSRF_FIELD, "") if request.form else ""
    expected = csrf_token(request)
    if not given or not (getattr(request.ctx, "login_cookie", "") or current_user(request)):
        raise PageError(403, "csrf_failed")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise PageError(403, "csrf_failed")


# --------------------------------------------------------------------------- forms


def form(request: Request, name: str, default: str = "") -> str:
    """A form field's value, stripped."""
    values = request.form.get(name) if request.form else None
    return str(values).strip() if values is not None else default


def query(request: Request, name: str, default: str = "") -> str:
    return str(request.args.get(name, default)).strip()


# --------------------------------------------------------------------------- templates


def make_templates(extra: Iterable[Path] = ()) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([PACKAGE / "templates", *extra]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["mask_aadhaar"] = mask_personal
    env.filters["ist"] = _ist_filter
    return env


def months(lang: str) -> list[str]:
    """Short month names (``messages.yml`` ``js.months``, which ``live.js`` uses too)."""
    texts = messages()["js.months"]
    return texts.get(lang, texts["en"]).split(",")


def ist(value: float | str | None, seconds: bool = True, lang: str = "en") -> str:
    """A moment (unix seconds or ISO 8601) as staff read it: ``04 Dec 15:30:05 IST``
    (``04 दिस॰ 15:30:05 IST`` in Hindi); ``static/live.js`` writes the same."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
    else:
        moment = datetime.fromtimestamp(float(value), timezone.utc)
    local = moment.astimezone(IST)
    month = months(lang)[local.month - 1]
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    return f"{local:%d} {month} {clock} IST"


@jinja2.pass_context
def _ist_filter(ctx: Any, value: float | str | None, seconds: bool = True) -> str:
    return ist(value, seconds, str(ctx.get("lang") or "en"))


def label(request: Request, prefix: str, value: Any) -> str:
    """``messages.yml[prefix.value]`` in the user's language, else ``value`` in words
    (``"in_progress"`` -> ``"in progress"``): statuses, categories and other codes."""
    code = f"{prefix}.{value}"
    return t(request, code) if code in messages() else str(value).replace("_", " ")


def category(request: Request, category_id: str) -> str:
    """A grievance category's title in the user's language (its id if unknown)."""
    known = grievance_categories().get(category_id)
    if not known:
        return category_id.replace("_", " ")
    titles = known["title"]
    return titles.get(language(request)) or titles.get("en") or category_id


def ui_texts(request: Request) -> dict[str, str]:
    """The texts page scripts write (``messages.yml`` keys ``js.*``), for ``#ui-texts``."""
    return {k[3:]: t(request, k) for k in messages() if k.startswith("js.")}


def mask_personal(value: Any) -> str:
    """Aadhaar-like numbers in ``value`` shown as XXXX-XXXX-1234."""
    from service_catalogue.validation import redact_aadhaar

    return redact_aadhaar(str(value)) if value is not None else ""


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTTPResponse:
    """``template`` autoescaped, with ``user``, ``csrf_token``, ``may(page)``, ``t(code)``,
    ``label(prefix, value)``, ``catalogue``, ``lang``, ``path``, ``prefix`` (the URL prefix
    every link, form and static path starts with) and the scripts' texts
    (``ui_texts``) in its context. Every text staff read comes from ``messages.yml``."""
    ctx = context(request)
    user = current_user(request)
    page = ctx.templates.get_template(template).render(
        user=user,
        csrf_token=csrf_token(request),
        csrf_field=CSRF_FIELD,
        may=lambda page: user is not None and user.role in PAGE_ROLES[page],
        t=lambda code, **params: t(request, code, **params),
        label=lambda prefix, value: label(request, prefix, value),
        category=lambda category_id: category(request, category_id),
        ui_texts=ui_texts(request),
        catalogue=ctx.catalogue,
        lang=language(request),
        path=request.path,
        prefix=ctx.settings.url_prefix,
        **values,
    )
    return html(page, status=status)


# --------------------------------------------------------------------------- backends


class OfficerBackends:
    """The backends client acting as the signed-in user (officer id = username) in the
    user's departments (:func:`departments_of`): the backends refuse the rest."""

    def __init__(
        self, client: BackendsClient, officer_id: str, departments: tuple[str, ...] = ()
    ) -> None:
        self.client = client
        self.officer_id = officer_id
        self.departments = departments

    async def get(self, url_path: str, params: dict[str, str] | None = None) -> Result:
        return await self.client.request(
            "GET",
            url_path,
            officer_id=self.officer_id,
            departments=self.departments,
            params=params,
        )

    async def post(
        self, url_path: str, body: dict[str, Any], idempotency_key: str | None = None
    ) -> Result:
        return await self.client.request(
            "POST",
            url_path,
            officer_id=self.officer_id,
            departments=self.departments,
            body=body,
            idempotency_key=idempotency_key,
        )


def backends(request: Request) -> OfficerBackends:
    user = require(request)
    return OfficerBackends(context(request).backends, user.username, departments_of(user))
