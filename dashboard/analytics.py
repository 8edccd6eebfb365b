"""Analytics: conversations, applications and grievances per day and per department,
language mix, NLU fallback rate, the messages the assistant misunderstood (a list to
download; NLU trainers annotate them in their own inbox, ``dashboard/trainer.py``) and
SLA breaches, as inline SVG charts.

Conversation figures come from the feed (:class:`dashboard.feed.Stats`, kept since the
dashboard started reading the event table, at most ``feed.STATS_DAYS``); applications
and grievances from the backends' officer lists. A user sees the figures of their
departments; supervisors and administrators also those of the main number before a
service was chosen (department "").
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse, text

from dashboard.charts import bar_chart, line_chart
from dashboard.conversations import current_feed
from dashboard.feed import Misunderstood, Stats
from dashboard.nlu_export import MARKER, mask
from dashboard.web import (
    PAGE_ROLES,
    CurrentUser,
    audit,
    backends,
    departments_of,
    label,
    language,
    messages,
    problem,
    query,
    render,
    require,
    t,
)
from service_catalogue import Catalogue, pick

ROLES = PAGE_ROLES["analytics"]
PERIODS = (7, 30, 90)
TOP_MISUNDERSTOOD = 25
EXPORT_LIMIT = 1000
#: The intent exported examples are filed under until a trainer moves them.
PLACEHOLDER_INTENT = "to_annotate"
OPEN_APPLICATIONS = frozenset({"submitted", "verified"})
OPEN_GRIEVANCES = frozenset({"open", "in_progress"})


def visible_departments(user: CurrentUser) -> set[str]:
    own = set(departments_of(user))
    return own | {""} if user.role in ("supervisor", "admin") else own


def period_days(days: int, today: date) -> list[str]:
    return [(today - timedelta(days=n)).isoformat() for n in range(days - 1, -1, -1)]


@dataclasses.dataclass
class Figures:
    """Everything the page shows for one user and period (no personal data)."""

    days: list[str]
    conversations: Counter[str] = dataclasses.field(default_factory=Counter)  # per day
    by_department: dict[str, Counter[str]] = dataclasses.field(default_factory=dict)
    languages: Counter[str] = dataclasses.field(default_factory=Counter)
    messages: Counter[str] = dataclasses.field(default_factory=Counter)
    fallbacks: Counter[str] = dataclasses.field(default_factory=Counter)
    applications: Counter[str] = dataclasses.field(default_factory=Counter)
    grievances: Counter[str] = dataclasses.field(default_factory=Counter)
    breaches: dict[str, Counter[str]] = dataclasses.field(default_factory=dict)

    def department(self, department: str) -> Counter[str]:
        return self.by_department.setdefault(department, Counter())

    @property
    def fallback_rate(self) -> float:
        total = sum(self.messages.values())
        return 100.0 * sum(self.fallbacks.values()) / total if total else 0.0


def conversation_figures(stats: Stats, days: list[str], departments: set[str]) -> Figures:
    figures = Figures(days)
    wanted = set(days)
    citizens: dict[str, set[str]] = {}
    languages: dict[str, set[str]] = {}
    for (day, department), found in stats.days.items():
        if day not in wanted or department not in departments:
            continue
        figures.conversations[day] += len(found.conversations)
        figures.messages[day] += found.messages
        figures.fallbacks[day] += found.fallbacks
        citizens.setdefault(department, set()).update(found.conversations)
        for who, lang in found.languages.items():
            languages.setdefault(lang, set()).add(who)
    for department, seen in citizens.items():
        figures.department(department)["conversations"] = len(seen)
    figures.languages.update({lang: len(seen) for lang, seen in languages.items()})
    return figures


def count_backends(
    figures: Figures,
    catalogue: Catalogue,
    departments: set[str],
    applications: list[dict[str, Any]],
    grievances: list[dict[str, Any]],
    now: datetime,
) -> None:
    """Applications and grievances created in the period, and SLA breaches now."""
    wanted = set(figures.days)
    today = now.date().isoformat()
    for application in applications:
        service = catalogue.services.get(str(application.get("service_id")))
        department = service.department if service else ""
        if department not in departments:
            continue
        day = str(application.get("created_at") or "")[:10]
        if day in wanted:
            figures.applications[day] += 1
            figures.department(department)["applications"] += 1
        due = str(application.get("sla_due") or "")
        if application.get("status") in OPEN_APPLICATIONS and due and due < today:
            figures.breaches.setdefault(department, Counter())["applications"] += 1
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    for grievance in grievances:
        department = str(grievance.get("department") or "")
        if department not in departments:
            continue
        day = str(grievance.get("created_at") or "")[:10]
        if day in wanted:
            figures.grievances[day] += 1
            figures.department(department)["grievances"] += 1
        due = str(grievance.get("due_at") or "")
        breaches = figures.breaches.setdefault(department, Counter())
        if grievance.get("status") in OPEN_GRIEVANCES and due and due < stamp:
            breaches["grievances"] += 1
        if int(grievance.get("escalation_level") or 0) > 0:
            breaches["escalated"] += 1


def misunderstood(stats: Stats, departments: set[str], limit: int) -> list[Misunderstood]:
    found = [m for m in stats.misunderstood.values() if m.departments & departments]
    return sorted(found, key=lambda m: (-m.count, m.text))[:limit]


def nlu_yaml(entries: list[Misunderstood], exported_at: datetime) -> str:
    """Rasa 3 training data: every example under :data:`PLACEHOLDER_INTENT`, marked as
    an unreviewed export (:data:`dashboard.nlu_export.MARKER`): put into ``data/nlu/``
    as it is, ``make validate`` and ``make train`` refuse it with one message. Trainers
    annotate these sentences in their inbox (``/trainer``), which exports real intents."""
    stamp = f"{exported_at:%Y-%m-%d %H:%M} UTC"
    lines = [
        f"# Messages the assistant misunderstood, exported {stamp}",
        "# (Aadhaar and phone numbers masked). Not training data: annotate them in the",
        "# trainers' NLU inbox (/trainer) instead; see docs/nlu-guide.md.",
        'version: "3.1"',
        f'{MARKER}: "analytics list, {stamp}"',
    ]
    if not entries:
        return "\n".join([*lines, "nlu: []"]) + "\n"
    lines += ["nlu:", f"- intent: {PLACEHOLDER_INTENT}", "  examples: |"]
    for entry in entries:
        lines.append(f"    - {mask(entry.text)}")
    return "\n".join(lines) + "\n"


def department_name(catalogue: Catalogue, department: str, lang: str) -> str:
    found = catalogue.departments.get(department)
    return pick(found.name, lang) if found else messages()["analytics.main_number"][lang]


async def page(request: Request) -> HTTPResponse:
    user = require(request, *ROLES)
    chosen = query(request, "days", "30")
    days = int(chosen) if chosen.isdigit() and int(chosen) in PERIODS else 30
    feed = await current_feed(request)
    departments = visible_departments(user)
    now = datetime.now(timezone.utc)
    figures = conversation_figures(feed.stats, period_days(days, now.date()), departments)
    officer = backends(request)
    applications = await officer.get("/edistrict/applications")
    grievances = await officer.get("/grievances")
    count_backends(
        figures,
        feed.catalogue,
        departments,
        applications.data.get("applications") or [] if applications.ok else [],
        grievances.data.get("grievances") or [] if grievances.ok else [],
        now,
    )
    lang = language(request)
    names = {d: department_name(feed.catalogue, d, lang) for d in figures.by_department}
    errors = [problem(request, r) for r in (applications, grievances) if not r.ok]
    audit(request, "analytics.view", None, {"days": days})
    series = figures.days
    return render(
        request,
        "analytics.html",
        days=days,
        periods=PERIODS,
        figures=figures,
        names=names,
        breach_names={d: department_name(feed.catalogue, d, lang) for d in figures.breaches},
        errors=errors,
        caught_up=feed.caught_up,
        misunderstood=misunderstood(feed.stats, departments, TOP_MISUNDERSTOOD),
        charts={
            "conversations": line_chart(
                [(d[5:], figures.conversations[d]) for d in series],
                t(request, "analytics.conversations_per_day"),
            ),
            "applications": line_chart(
                [(d[5:], figures.applications[d]) for d in series],
                t(request, "analytics.applications_per_day"),
            ),
            "grievances": line_chart(
                [(d[5:], figures.grievances[d]) for d in series],
                t(request, "analytics.grievances_per_day"),
            ),
            "departments": bar_chart(
                [(names[d], c["conversations"]) for d, c in sorted(figures.by_department.items())],
                t(request, "analytics.conversations_per_department"),
            ),
            "languages": bar_chart(
                [(label(request, "language", k), v) for k, v in sorted(figures.languages.items())],
                t(request, "analytics.conversations_by_language"),
            ),
            "fallback": line_chart(
                [
                    (d[5:], 100.0 * figures.fallbacks[d] / figures.messages[d])
                    if figures.messages[d]
                    else (d[5:], 0.0)
                    for d in series
                ],
                t(request, "analytics.fallback_per_day"),
            ),
        },
    )


async def export(request: Request) -> HTTPResponse:
    user = require(request, *ROLES)
    feed = await current_feed(request)
    entries = misunderstood(feed.stats, visible_departments(user), EXPORT_LIMIT)
    now = datetime.now(timezone.utc)
    audit(request, "analytics.export", None, {"examples": len(entries)})
    return text(
        nlu_yaml(entries, now),
        content_type="application/x-yaml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="misunderstood-{now:%Y%m%d}.yml"'},
    )


ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/analytics", page),
    ("GET", "/analytics/misunderstood.yml", export),
]
