"""Charts as server-side SVG: small pure functions from figures to markup, no script.

Every text in a chart (title, labels, series names, values) is escaped; a value that is None
(nothing to measure) leaves a gap. The SVG scales to its container (``viewBox``, width 100%).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 640
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 34, 54
COLOURS = ("#0b5fad", "#d4700a", "#1a7f37", "#8250df")


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[float | None]


def nice_top(value: float, whole: bool = True) -> float:
    """Where the value axis ends: four gridline steps of a round size (1, 2, 2.5 or 5 × 10ⁿ)
    reaching ``value`` — 3 gives 4, 7 gives 8, 130 gives 200. ``whole``: steps of at least 1
    (counts); else smaller values get smaller steps (0.3 gives 0.4)."""
    quarter = max(value, 0.0) / 4
    magnitude = 1.0
    while magnitude * 10 <= quarter:
        magnitude *= 10
    while not whole and quarter > 0 and magnitude > quarter:
        magnitude /= 10
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if step * magnitude >= quarter:
            return 4 * step * magnitude
    return 40 * magnitude


def _number(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.0f}%"
    if value == int(value):
        return f"{int(value)}{unit}"
    return f"{value:.2g}{unit}" if abs(value) < 1 else f"{value:.1f}{unit}"


def _frame(title: str, top: float, unit: str, chart_id: str) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-labelledby="{escape(chart_id)}-t" class="chart" id="{escape(chart_id)}">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
        f'<text x="{LEFT}" y="18" font-size="14" font-weight="600">{escape(title)}</text>',
    ]
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d7de"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#656d76">{escape(_number(value, unit))}</text>'
        )
    return parts


def _labels(labels: Sequence[str], slot: float) -> list[str]:
    every = max(1, int(len(labels) / ((WIDTH - LEFT - RIGHT) / 48)) + 1)
    parts = []
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = LEFT + slot * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="11" text-anchor="middle" '
            f'fill="#656d76">{escape(label)}</text>'
        )
    return parts


def _legend(series: Sequence[Series]) -> list[str]:
    parts, x = [], LEFT
    for i, s in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        parts.append(f'<rect x="{x}" y="{HEIGHT - 18}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{HEIGHT - 9}" font-size="12">{escape(s.name)}</text>')
        x += 24 + 13 * len(s.name)
    return parts


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    unit: str = "",
    chart_id: str = "chart",
    whole: bool = True,
) -> Markup:
    """Grouped bars: one group per label, one bar per series (``unit`` after axis values and
    in each bar's tooltip; ``%`` for shares given as 0–100; ``whole``: counts, see
    :func:`nice_top`)."""
    values = [v for s in series for v in s.values if v is not None]
    top = nice_top(max(values, default=0.0), whole)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(labels))
    bar = slot * 0.8 / max(1, len(series))
    parts = _frame(title, top, unit, chart_id)
    for k, s in enumerate(series):
        colour = COLOURS[k % len(COLOURS)]
        for i, value in enumerate(s.values):
            if value is None:
                continue
            h = plot_h * value / top
            x = LEFT + slot * i + slot * 0.1 + bar * k
            tip = f"{labels[i] if i < len(labels) else ''} {s.name}：{_number(value, unit)}"
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{max(1.0, bar - 1):.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{escape(tip)}</title></rect>'
            )
    parts += _labels(labels, slot)
    parts += _legend(series)
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    unit: str = "",
    chart_id: str = "chart",
    top: float | None = None,
) -> Markup:
    """Lines through each series' values (a gap where a value is None), a dot per value;
    ``top`` fixes the axis end (100 for shares in %)."""
    values = [v for s in series for v in s.values if v is not None]
    end = top if top is not None else nice_top(max(values, default=0.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(labels))
    parts = _frame(title, end, unit, chart_id)
    for k, s in enumerate(series):
        colour = COLOURS[k % len(COLOURS)]
        runs: list[list[tuple[float, float]]] = [[]]
        for i, value in enumerate(s.values):
            if value is None:
                runs.append([])
                continue
            point = (LEFT + slot * (i + 0.5), TOP + plot_h - plot_h * min(value, end) / end)
            runs[-1].append(point)
            tip = f"{labels[i] if i < len(labels) else ''} {s.name}：{_number(value, unit)}"
            parts.append(
                f'<circle cx="{point[0]:.1f}" cy="{point[1]:.1f}" r="3" fill="{colour}">'
                f"<title>{escape(tip)}</title></circle>"
            )
        for run in runs:
            if len(run) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                parts.append(
                    f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
                )
    parts += _labels(labels, slot)
    parts += _legend(series)
    parts.append("</svg>")
    return Markup("".join(parts))
