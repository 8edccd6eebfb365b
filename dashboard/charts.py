"""Server-rendered inline SVG charts (no JavaScript, no external library).

    bar_chart([("Revenue", 12), ("MCD", 3)], label="Conversations per department")
    line_chart([("2026-12-01", 4), ("2026-12-02", 9)], label="Conversations per day")

Both return :class:`markupsafe.Markup` for a template; every label is escaped. The
values are also written into each bar's / point's ``<title>`` (a tooltip, and what
screen readers and the tests read).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 14, 46


def _number(value: float) -> str:
    return f"{value:.1f}" if isinstance(value, float) and not value.is_integer() else f"{value:g}"


def _frame(label: str, body: list[str], top: float) -> Markup:
    plot_h = HEIGHT - TOP - BOTTOM
    axis = [
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#8894a0"/>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'stroke="#8894a0"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">{_number(top)}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end">0</text>',
    ]
    # every label above went through escape(); the rest are numbers
    return Markup(  # noqa: S704
        f'<svg class="chart" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(label)}</title>{''.join(axis)}{''.join(body)}</svg>"
    )


def _tick_labels(labels: Sequence[str], xs: Sequence[float]) -> list[str]:
    """At most ~12 labels under the x axis, rotated so dates fit."""
    step = max(1, len(labels) // 12 + (1 if len(labels) % 12 else 0))
    y = HEIGHT - BOTTOM + 12
    return [
        f'<text x="{x:.1f}" y="{y}" text-anchor="end" transform="rotate(-35 {x:.1f} {y})">'
        f"{escape(str(text))}</text>"
        for i, (text, x) in enumerate(zip(labels, xs))
        if i % step == 0
    ]


def bar_chart(items: Sequence[tuple[str, float]], label: str) -> Markup:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = max([v for _, v in items] + [1])
    slot = plot_w / max(len(items), 1)
    body: list[str] = []
    xs: list[float] = []
    for i, (name, value) in enumerate(items):
        h = plot_h * value / top
        x = LEFT + i * slot + slot * 0.15
        xs.append(x + slot * 0.35)
        body.append(
            f'<rect class="chart-bar" x="{x:.1f}" y="{TOP + plot_h - h:.1f}" '
            f'width="{slot * 0.7:.1f}" height="{h:.1f}">'
            f"<title>{escape(str(name))}: {_number(value)}</title></rect>"
        )
    return _frame(label, body + _tick_labels([n for n, _ in items], xs), top)


def line_chart(points: Sequence[tuple[str, float]], label: str) -> Markup:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = max([v for _, v in points] + [1])
    step = plot_w / max(len(points) - 1, 1)
    xy = [
        (LEFT + i * step, TOP + plot_h - plot_h * value / top)
        for i, (_, value) in enumerate(points)
    ]
    body = []
    if xy:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        body.append(f'<polyline class="chart-line" points="{path}"/>')
    for (x, y), (name, value) in zip(xy, points):
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#2f6db5">'
            f"<title>{escape(str(name))}: {_number(value)}</title></circle>"
        )
    return _frame(label, body + _tick_labels([n for n, _ in points], [x for x, _ in xy]), top)
