"""Charts drawn on the server as SVG: no script, no inline style, nothing from a CDN.

The console's charts are small (a fortnight of days, a few series), so an SVG
built here is lighter than any charting library and obeys the strict CSP:
colours come from classes in bastion.css.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Series:
    """One series of a bar chart: its label, CSS class and one value per day."""

    label: str
    css: str
    values: Sequence[int]


# Axis labels are 11px (bastion.css); a digit of a proportional system font is at most
# 0.62 em wide, a comma 0.32 em. Generous on purpose: a wider axis costs a few pixels.
_DIGIT_PX, _COMMA_PX = 7.0, 3.6
LABEL_GAP = 6  # between a y label's end and the axis


def label_width(text: str) -> int:
    """Return an upper bound of the width of an axis label in SVG units."""
    return round(sum(_COMMA_PX if c in ",." else _DIGIT_PX for c in text) + 0.5)


def _nice_max(value: int) -> int:
    """Round ``value`` up to 1, 2 or 5 times a power of ten (at least 1)."""
    if value <= 1:
        return 1
    magnitude: int = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def day_bars(days: Sequence[date], series: Sequence[Series], *, title: str) -> Markup:
    """Return an SVG of grouped bars: one group per day, one bar per series."""
    width, height, bottom, top = 640, 220, 28, 10
    peak = _nice_max(max((v for s in series for v in s.values), default=0))
    fractions = (0, 0.5, 1) if peak > 1 else (0, 1)
    labels = [f"{int(peak * fraction):,}" for fraction in fractions]
    # The y axis is as wide as its longest label, so "500,000" is never cut to "00,000".
    left = max(28, LABEL_GAP + 2 + max(label_width(t) for t in labels))
    plot_w, plot_h = width - left - 8, height - bottom - top
    slot = plot_w / max(1, len(days))
    bar = max(1.0, (slot * 0.8) / max(1, len(series)))
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for fraction, label in zip(fractions, labels, strict=True):
        y = top + plot_h * (1 - fraction)
        parts.append(f'<line class="axis" x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="y-label" x="{left - LABEL_GAP}" y="{y + 4:.1f}" text-anchor="end">{label}</text>'
        )
    label_every = max(1, len(days) // 7)
    for i, day in enumerate(days):
        x0 = left + i * slot + slot * 0.1
        for j, s in enumerate(series):
            value = s.values[i] if i < len(s.values) else 0
            h = plot_h * value / peak
            parts.append(
                f'<rect class="{escape(s.css)}" x="{x0 + j * bar:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bar * 0.92:.1f}" height="{h:.1f}"><title>{day.isoformat()} · '
                f"{escape(s.label)}: {value:,}</title></rect>"
            )
        if i % label_every == 0:
            parts.append(
                f'<text x="{left + i * slot + slot / 2:.1f}" y="{height - 8}" '
                f'text-anchor="middle">{day.strftime("%d %b")}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def share_bar(value: int, peak: int) -> Markup:
    """Return a one-row SVG bar of ``value`` against ``peak`` (for top-N lists)."""
    percent = 0 if peak <= 0 else max(1, round(100 * value / peak))
    return Markup(
        f'<svg viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">'
        f'<rect x="0" y="0" width="{percent}" height="10"/></svg>'
    )


def category_bars(
    labels: Sequence[str], values: Sequence[float], *, title: str, unit: str = ""
) -> Markup:
    """Return an SVG of one bar per category (a status, a band, a month), labelled below."""
    width, height, bottom, top = 640, 220, 40, 10
    peak = _nice_max(round(max(values, default=0) + 0.5))
    left = max(28, LABEL_GAP + 2 + label_width(f"{peak:,}"))
    plot_w, plot_h = width - left - 8, height - bottom - top
    slot = plot_w / max(1, len(labels))
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{width - 8}" y2="{top + plot_h}"/>',
        f'<text class="y-label" x="{left - LABEL_GAP}" y="{top + 4}" text-anchor="end">{peak:,}</text>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * value / peak
        x = left + i * slot + slot * 0.15
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{h:.1f}"><title>{escape(label)}: {value:,}{escape(unit)}</title></rect>'
        )
        parts.append(
            f'<text x="{left + i * slot + slot / 2:.1f}" y="{height - 24}" text-anchor="middle">'
            f"{escape(label[:14])}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    points: Sequence[tuple[datetime, float | None]],
    *,
    title: str,
    unit: str,
    floor: float | None = None,
) -> Markup:
    """Return an SVG line of a measure over time (gaps where a value is None).

    ``floor`` pins the bottom of the y axis (availability from 99 %, say); else it is 0.
    """
    width, height, bottom, top, left = 640, 200, 24, 10, 64
    values = [v for _, v in points if v is not None]
    low = floor if floor is not None else 0.0
    high = max(values, default=1.0)
    if high <= low:
        high = low + 1.0
    plot_w, plot_h = width - left - 8, height - bottom - top
    step = plot_w / max(1, len(points) - 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        label = f"{low + (high - low) * fraction:.4g} {unit}"
        parts.append(f'<line class="axis" x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}"/>')
        parts.append(f'<text class="y-label" x="{left - LABEL_GAP}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{escape(label)}</text>')  # fmt: skip
    run: list[str] = []
    for i, (_, value) in enumerate([*points, (None, None)]):
        if value is None:
            if len(run) > 1:
                parts.append(f'<polyline class="line" points="{" ".join(run)}"/>')
            run = []
            continue
        y = top + plot_h * (1 - (max(low, min(value, high)) - low) / (high - low))
        run.append(f"{left + i * step:.1f},{y:.1f}")
    for i in (0, len(points) - 1) if points else ():
        parts.append(f'<text x="{left + i * step:.1f}" y="{height - 6}" '
                     f'text-anchor="{"start" if i == 0 else "end"}">'
                     f'{points[i][0]:%d %b %H:%M}</text>')  # fmt: skip
    parts.append("</svg>")
    return Markup("".join(parts))


def status_strip(days: Sequence[tuple[date, float | None]], *, title: str) -> Markup:
    """Return a strip of one bar per day coloured by availability (the status page's 90 days)."""
    width, height = 90 * 6, 30
    slot = width / max(1, len(days))
    parts = [f'<svg class="strip" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">']  # fmt: skip
    for i, (day, value) in enumerate(days):
        css = ("day-none" if value is None else "day-good" if value >= 0.9999
               else "day-fair" if value >= 0.99 else "day-bad")  # fmt: skip
        shown = "no data" if value is None else f"{value:.3%}"
        parts.append(f'<rect class="{css}" x="{i * slot:.1f}" y="0" width="{slot * 0.8:.1f}" '
                     f'height="{height}"><title>{day.isoformat()}: {shown}</title></rect>')  # fmt: skip
    parts.append("</svg>")
    return Markup("".join(parts))
