"""Server-rendered SVG charts: pure functions (no Flask), styled by classes from ``static/css/app.css``.

Every chart is an image named by its ``<title>`` and described by its ``<desc>`` (``role="img"``,
``aria-labelledby``, ``aria-describedby``) and is meant to sit next to an HTML table holding the same
numbers; the bars also carry their own ``<title>`` so that a pointer shows the exact value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 64
#: Narrower than this per bar, category labels are slanted so that they do not overlap.
SLANT_BELOW = 80
MAX_BAR = 56


@dataclass(frozen=True)
class Series:
    """One stacked segment per category: its name, a CSS class for the fill, and values in per cent."""

    label: str
    css_class: str
    values: Sequence[Decimal]
    #: Optional counts shown next to the percentage in the bar's tooltip.
    counts: Sequence[int] | None = None


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _percent_text(value: Decimal) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",") + " %"


def stacked_percent_bars(
    *, chart_id: str, title: str, description: str, categories: Sequence[str], series: Sequence[Series]
) -> Markup:
    """A 100 % stacked bar per category (e.g. per meeting), series stacked from the bottom in order."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(categories), 1)
    bar = min(MAX_BAR, step * 0.6)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title" aria-describedby="{escape(chart_id)}-desc">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]
    for tick in (0, 25, 50, 75, 100):
        y = TOP + plot_h * (1 - tick / 100)
        parts.append(
            f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_fmt(y)}" y2="{_fmt(y)}"/>'
        )
        parts.append(
            f'<text class="chart-axis" x="{LEFT - 6}" y="{_fmt(y + 4)}" text-anchor="end">{tick} %</text>'
        )
    for i, category in enumerate(categories):
        x = LEFT + step * i + (step - bar) / 2
        bottom = TOP + plot_h
        for s in series:
            value = s.values[i]
            height = plot_h * float(value) / 100
            if height <= 0:
                continue
            label = f"{category}: {s.label} {_percent_text(value)}"
            if s.counts is not None:
                label += f" ({s.counts[i]})"
            parts.append(
                f'<rect class="{escape(s.css_class)}" x="{_fmt(x)}" y="{_fmt(bottom - height)}" '
                f'width="{_fmt(bar)}" height="{_fmt(height)}"><title>{escape(label)}</title></rect>'
            )
            bottom -= height
        cx, cy = _fmt(x + bar / 2), _fmt(HEIGHT - BOTTOM + 18)
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
