"""Inline SVG charts of query rows: a time series (lines) or a bar chart, with the exact values on
each mark (``data-value``) and as text, so the page needs no script and no network to show them."""

from __future__ import annotations

import html
import math
from datetime import datetime

PALETTE = ("#3274d9", "#e0752d", "#56a64b", "#c4162a", "#8f3bb8", "#f2cc0c", "#1f9e89", "#b877d9")
WIDTH, HEIGHT = 560, 230
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 12, 58


def fmt(value, unit: str) -> str:
    """How a value is printed on the chart (percentunit as a percentage, else a short number)."""
    if value is None:
        return "-"
    if unit == "percentunit":
        return f"{value * 100:.1f}%"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _attr(value) -> str:
    return html.escape(str(value), quote=True)


def columns(rows: list) -> tuple:
    """(string columns, numeric columns) of the first row, in the query's order."""
    first = rows[0]
    text = [k for k, v in first.items() if isinstance(v, str)]
    numbers = [k for k, v in first.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return text, numbers


def _axis_max(values: list) -> float:
    top = max([v for v in values if v is not None] or [0])
    if top <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(top))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= top:
            return step * magnitude
    return top


def _empty(title: str) -> str:
    return (f'<svg class="chart empty" role="img" aria-label="{_attr(title)}" viewBox="0 0 {WIDTH} 60" '
            f'width="{WIDTH}" height="60"><text x="{WIDTH // 2}" y="34" text-anchor="middle" class="note">'
            "No data in this period</text></svg>")


def timeseries(title: str, rows: list, unit: str, start: float, end: float, parse_time) -> str:
    """Lines over [start, end] (epoch s); the first column is the bucket, string columns split series.
    ``parse_time(text) -> epoch seconds`` reads the store's rendering of a bucket."""
    if not rows:
        return _empty(title)
    time_col = next(iter(rows[0]))
    text, numbers = columns(rows)
    keys = [c for c in text if c != time_col]
    series: dict = {}
    for row in rows:
        split = " · ".join(str(row[k]) for k in keys)
        for col in numbers:
            name = f"{split} {col}".strip() if split and len(numbers) > 1 else (split or col)
            series.setdefault(name, []).append((row[time_col], parse_time(row[time_col]), row[col]))
    top = _axis_max([v for points in series.values() for _, _, v in points])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = max(end - start, 1)

    def x(t: float) -> float:
        return LEFT + plot_w * min(max((t - start) / span, 0.0), 1.0)

    def y(v) -> float:
        return TOP + plot_h * (1 - (v or 0) / top)

    parts = [f'<svg class="chart timeseries" role="img" aria-label="{_attr(title)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="{WIDTH}" height="{HEIGHT}">']
    for frac in (0, 0.5, 1):
        gy = TOP + plot_h * (1 - frac)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{gy:.1f}" y2="{gy:.1f}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{gy + 4:.1f}" text-anchor="end">'
                     f"{_attr(fmt(top * frac, unit))}</text>")
    for t, anchor in ((start, "start"), (end, "end")):
        label = datetime.fromtimestamp(t).strftime("%m-%d %H:%M")
        parts.append(f'<text class="tick" x="{x(t):.1f}" y="{TOP + plot_h + 16}" text-anchor="{anchor}">{label}</text>')
    legend = []
    for i, (name, points) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        path = " ".join(f"{x(t):.1f},{y(v):.1f}" for _, t, v in points)
        parts.append(f'<polyline class="line" fill="none" stroke="{color}" stroke-width="2" points="{path}"/>')
        for bucket, t, v in points:
            parts.append(f'<circle class="point" cx="{x(t):.1f}" cy="{y(v):.1f}" r="3" fill="{color}" '
                         f'data-series="{_attr(name)}" data-time="{_attr(bucket)}" data-value="{_attr(v)}">'
                         f"<title>{_attr(name)} {_attr(bucket)}: {_attr(fmt(v, unit))}</title></circle>")
        peak = max((v for _, _, v in points if v is not None), default=None)
        legend.append((color, name, peak))
    for i, (color, name, peak) in enumerate(legend[:8]):
        lx, ly = LEFT + (i % 2) * (plot_w // 2), TOP + plot_h + 30 + (i // 2) * 14
        parts.append(f'<rect x="{lx}" y="{ly - 8}" width="10" height="10" fill="{color}"/>'
                     f'<text class="legend" x="{lx + 14}" y="{ly + 1}">{_attr(name)} (max {_attr(fmt(peak, unit))})'
                     "</text>")
    parts.append("</svg>")
    return "".join(parts)


def barchart(title: str, rows: list, unit: str) -> str:
    """Horizontal bars: the string columns label a bar, the last numeric column is its length."""
    if not rows:
        return _empty(title)
    text, numbers = columns(rows)
    value_col = numbers[-1]
    bar_h, gap, label_w = 18, 6, 200
    height = TOP + len(rows) * (bar_h + gap) + 8
    top = _axis_max([r[value_col] for r in rows])
    plot_w = WIDTH - label_w - 70
    parts = [f'<svg class="chart barchart" role="img" aria-label="{_attr(title)}" viewBox="0 0 {WIDTH} {height}" '
             f'width="{WIDTH}" height="{height}">']
    for i, row in enumerate(rows):
        label = " · ".join(str(row[c]) for c in text) or str(i + 1)
        value = row[value_col]
        by = TOP + i * (bar_h + gap)
        w = plot_w * (value or 0) / top
        color = PALETTE[i % len(PALETTE)]
        parts.append(f'<text class="label" x="{label_w - 8}" y="{by + 13}" text-anchor="end">{_attr(label[:40])}'
                     f"<title>{_attr(label)}</title></text>")
        parts.append(f'<rect class="bar" x="{label_w}" y="{by}" width="{max(w, 1):.1f}" height="{bar_h}" '
                     f'fill="{color}" data-label="{_attr(label)}" data-value="{_attr(value)}">'
                     f"<title>{_attr(label)}: {_attr(fmt(value, unit))}</title></rect>")
        parts.append(f'<text class="value" x="{label_w + max(w, 1) + 6:.1f}" y="{by + 13}">'
                     f"{_attr(fmt(value, unit))}</text>")
    parts.append("</svg>")
    return "".join(parts)
