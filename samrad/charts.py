"""Server-rendered SVG charts: bars, a line over time, and 100 % stacked bars. Pure: no Flask, no database.

Every chart is an image named by its ``<title>`` and described by its ``<desc>`` (``role="img"``,
``aria-labelledby``, ``aria-describedby``) and is meant to stand next to an HTML table with the same
numbers. Colours come from classes in ``static/css/app.css`` (``chart-*``): the content security policy
blocks ``style`` attributes, and one stylesheet keeps every chart in the house colours. Numbers arrive
already formatted for the reader's language (``Datum.text``, ``Series.texts``); nothing here formats one.
Suppressed values (``<3``, ``..``) are never drawn as bars or points; their mark is written instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

#: Narrower than this per bar, category labels are slanted so that they do not overlap.
SLANT_BELOW = 80
MAX_BAR = 56


@dataclass(frozen=True)
class Datum:
    """One bar or point: ``value`` is None when the count is suppressed; ``text`` is what is shown."""

    label: str
    value: int | float | None
    text: str


@dataclass(frozen=True)
class Series:
    """One stacked segment per category: its name, a CSS class for the fill, the values in per cent, and
    the text a pointer shows for each (e.g. "80 % (4)")."""

    label: str
    css_class: str
    values: Sequence[float]
    texts: Sequence[str]


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _open(chart_id: str, width: int, height: int, title: str, description: str) -> list[str]:
    cid = escape(chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{cid}-title" aria-describedby="{cid}-desc">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(description)}</desc>',
    ]


def _with_values(data: Sequence[Datum], description: str) -> str:
    values = "; ".join(f"{d.label}: {d.text}" for d in data)
    return f"{description} {values}".strip()


def _truncate(label: str, limit: int = 38) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


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
    parts = _open(chart_id, width, height, title, _with_values(data, description))
    parts.append(
        f'<line class="chart-baseline" x1="{label_width}" y1="{top}" x2="{label_width}" y2="{height - top}"/>'
    )
    for i, d in enumerate(data):
        y = top + i * row
        middle = _fmt(y + row / 2)
        parts.append(
            f'<text class="chart-label" x="{label_width - 8}" y="{middle}" text-anchor="end" '
            f'dominant-baseline="middle">{escape(_truncate(d.label))}</text>'
        )
        if d.value is None:
            parts.append(
                f'<text class="chart-muted" x="{label_width + 6}" y="{middle}" dominant-baseline="middle">'
                f"{escape(d.text)}</text>"
            )
            continue
        length = d.value * scale
        if length > 0:
            parts.append(
                f'<rect class="chart-bar" x="{label_width}" y="{y + 4}" width="{_fmt(length)}" '
                f'height="{row - 8}"/>'
            )
        parts.append(
            f'<text class="chart-label" x="{_fmt(label_width + length + 6)}" y="{middle}" '
            f'dominant-baseline="middle">{escape(d.text)}</text>'
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
    spacing = plot_w / max(len(data), 1)

    def x(i: int) -> str:
        return _fmt(left + spacing * (i + 0.5))

    def y(value: float) -> str:
        return _fmt(top + plot_h - (value / axis_max) * plot_h)

    parts = _open(chart_id, width, height, title, _with_values(data, description))
    for tick in range(0, axis_max + 1, step):
        parts.append(
            f'<line class="chart-grid" x1="{left}" y1="{y(tick)}" x2="{width - right}" y2="{y(tick)}"/>'
        )
        parts.append(
            f'<text class="chart-axis" x="{left - 6}" y="{y(tick)}" text-anchor="end" '
            f'dominant-baseline="middle">{tick}</text>'
        )
    parts.append(
        f'<line class="chart-baseline" x1="{left}" y1="{top + plot_h}" '
        f'x2="{width - right}" y2="{top + plot_h}"/>'
    )
    widest = max((len(d.label) for d in data), default=1) * 7 + 6  # about 7 px per character at 12 px
    label_every = max(1, math.ceil(widest / spacing))
    for i, d in enumerate(data):
        if i % label_every == 0:
            parts.append(
                f'<text class="chart-axis" x="{x(i)}" y="{top + plot_h + 18}" text-anchor="middle">'
                f"{escape(d.label)}</text>"
            )
    segments: list[list[str]] = [[]]
    for i, d in enumerate(data):
        if d.value is None:
            segments.append([])
            parts.append(
                f'<text class="chart-muted" x="{x(i)}" y="{top + plot_h - 6}" text-anchor="middle">'
                f"{escape(d.text)}</text>"
            )
        else:
            segments[-1].append(f"{x(i)},{y(d.value)}")
    for points in segments:
        if len(points) > 1:
            parts.append(f'<polyline class="chart-line" points="{" ".join(points)}"/>')
    for i, d in enumerate(data):
        if d.value is not None:
            parts.append(f'<circle class="chart-point" cx="{x(i)}" cy="{y(d.value)}" r="3.5"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_percent_bars(
    *, chart_id: str, title: str, description: str, categories: Sequence[str], series: Sequence[Series]
) -> Markup:
    """A 100 % stacked bar per category (e.g. per meeting), series stacked from the bottom in order."""
    width, height = 640, 260
    left, right, top, bottom = 48, 12, 12, 64
    base: float
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(categories), 1)
    bar = min(MAX_BAR, step * 0.6)
    parts = _open(chart_id, width, height, title, description)
    for tick in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - tick / 100)
        parts.append(
            f'<line class="chart-grid" x1="{left}" x2="{width - right}" y1="{_fmt(y)}" y2="{_fmt(y)}"/>'
        )
        parts.append(
            f'<text class="chart-axis" x="{left - 6}" y="{_fmt(y + 4)}" text-anchor="end">{tick} %</text>'
        )
    for i, category in enumerate(categories):
        x = left + step * i + (step - bar) / 2
        base = top + plot_h
        for s in series:
            share = plot_h * float(s.values[i]) / 100
            if share <= 0:
                continue
            label = f"{category}: {s.label} {s.texts[i]}"
            parts.append(
                f'<rect class="{escape(s.css_class)}" x="{_fmt(x)}" y="{_fmt(base - share)}" '
                f'width="{_fmt(bar)}" height="{_fmt(share)}"><title>{escape(label)}</title></rect>'
            )
            base -= share
        cx, cy = _fmt(x + bar / 2), _fmt(height - bottom + 18)
        if step < SLANT_BELOW:
            parts.append(
                f'<text class="chart-axis" x="{cx}" y="{cy}" text-anchor="end" '
                f'transform="rotate(-40 {cx} {cy})">{escape(category)}</text>'
            )
        else:
            parts.append(
                f'<text class="chart-axis" x="{cx}" y="{cy}" text-anchor="middle">{escape(category)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
