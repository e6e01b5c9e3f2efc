"""Bar and line charts as accessible SVG, rendered on the server. Pure: no Flask, no database.

Each chart has ``role="img"``, a ``<title>`` and a ``<desc>`` listing every value, and is meant to stand
next to an HTML table with the same numbers. Colours are presentation attributes (``fill``, ``stroke``):
the content security policy blocks ``style`` attributes. Suppressed values (``<3``, ``..``) are never
drawn as bars or points; their mark is written where the bar would start.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

INK = "#1b1b1b"
MUTED = "#4a4a4a"
BAR = "#0b4f6c"
GRID = "#c8c8c8"
FONT = 'font-family="system-ui, sans-serif"'


@dataclass(frozen=True)
class Datum:
    """One bar or point: ``value`` is None when the count is suppressed; ``text`` is what is shown."""

    label: str
    value: int | float | None
    text: str


def _truncate(label: str, limit: int = 38) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _describe(data: Sequence[Datum], description: str) -> str:
    values = "; ".join(f"{d.label}: {d.text}" for d in data)
    return f"{description} {values}".strip()


def _open(chart_id: str, width: int, height: int, title: str, description: str, data) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-labelledby="{chart_id}-title {chart_id}-desc" {FONT}>',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(_describe(data, description))}</desc>',
    ]


def nice_ceiling(value: float) -> tuple[int, int]:
    """An axis maximum at or above ``value`` and a tick step (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1, 1
    raw = value / 4
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(s * power for s in (1, 2, 5, 10) if s * power >= raw)
    return int(math.ceil(value / step) * step), int(step)


def bar_chart(data: Sequence[Datum], *, title: str, description: str = "", chart_id: str) -> Markup:
    """Horizontal bars, one per datum, labelled on the left and with the shown value at the end."""
    row, top, label_width, bar_width = 26, 8, 250, 330
    width = label_width + bar_width + 60
    height = top * 2 + row * max(len(data), 1)
    largest = max((d.value for d in data if d.value is not None), default=0)
    scale = bar_width / largest if largest else 0
    parts = _open(chart_id, width, height, title, description, data)
    parts.append(
        f'<line x1="{label_width}" y1="{top}" x2="{label_width}" y2="{height - top}" stroke="{INK}"/>'
    )
    for i, d in enumerate(data):
        y = top + i * row
        middle = y + row / 2
        parts.append(
            f'<text x="{label_width - 8}" y="{middle:.1f}" text-anchor="end" dominant-baseline="middle" '
            f'font-size="13" fill="{INK}">{escape(_truncate(d.label))}</text>'
        )
        if d.value is None:
            parts.append(
                f'<text x="{label_width + 6}" y="{middle:.1f}" dominant-baseline="middle" font-size="13" '
                f'fill="{MUTED}">{escape(d.text)}</text>'
            )
            continue
        length = d.value * scale
        if length > 0:
            parts.append(
                f'<rect x="{label_width}" y="{y + 4}" width="{length:.1f}" height="{row - 8}" fill="{BAR}"/>'
            )
        parts.append(
            f'<text x="{label_width + length + 6:.1f}" y="{middle:.1f}" dominant-baseline="middle" '
            f'font-size="13" fill="{INK}">{escape(d.text)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(data: Sequence[Datum], *, title: str, description: str = "", chart_id: str) -> Markup:
    """A line over time (one datum per month), broken where a value is suppressed."""
    width, height = 640, 260
    left, right, top, bottom = 44, 16, 16, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    largest = max((d.value for d in data if d.value is not None), default=0)
    axis_max, step = nice_ceiling(largest)
    count = max(len(data), 1)
    spacing = plot_w / count

    def x(i: int) -> float:
        return left + spacing * (i + 0.5)

    def y(value: float) -> float:
        return top + plot_h - (value / axis_max) * plot_h

    parts = _open(chart_id, width, height, title, description, data)
    for tick in range(0, axis_max + 1, step):
        parts.append(
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{width - right}" y2="{y(tick):.1f}" stroke="{GRID}"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y(tick):.1f}" text-anchor="end" dominant-baseline="middle" '
            f'font-size="12" fill="{MUTED}">{tick}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="{INK}"/>'
    )
    widest = max((len(d.label) for d in data), default=1) * 7 + 6  # about 7 px per character at 12 px
    label_every = max(1, math.ceil(widest / spacing))
    for i, d in enumerate(data):
        if i % label_every == 0:
            parts.append(
                f'<text x="{x(i):.1f}" y="{top + plot_h + 18}" text-anchor="middle" font-size="12" '
                f'fill="{INK}">{escape(d.label)}</text>'
            )
    segment: list[str] = []
    segments = []
    for i, d in enumerate(data):
        if d.value is None:
            if segment:
                segments.append(segment)
            segment = []
            parts.append(
                f'<text x="{x(i):.1f}" y="{top + plot_h - 6}" text-anchor="middle" font-size="12" '
                f'fill="{MUTED}">{escape(d.text)}</text>'
            )
        else:
            segment.append(f"{x(i):.1f},{y(d.value):.1f}")
    if segment:
        segments.append(segment)
    for points in segments:
        if len(points) > 1:
            parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{BAR}" stroke-width="2"/>'
            )
    for i, d in enumerate(data):
        if d.value is not None:
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(d.value):.1f}" r="3.5" fill="{BAR}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
