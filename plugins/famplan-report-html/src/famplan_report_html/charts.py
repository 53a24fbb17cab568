"""Charts as SVG shapes (图表): bars, a population pyramid, intervals.

A chart is computed here as plain shapes (rectangles, lines, circles, texts) with their
coordinates; the page template draws them, so every text a chart shows goes through the
template's autoescaping like any other text. Coordinates are pixels (floats are fine for
drawing; the figures themselves stay exact in the tables).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

import attrs

from famplan_core.model.money import Money
from famplan_core.reporting import Cell, Chart, ReportTable

__all__ = ["Circle", "Line", "Rect", "Svg", "Text", "chart_svg"]

PALETTE = ("#4472c4", "#ed7d31", "#70ad47", "#a5a5a5")
WIDTH = 720.0


@attrs.frozen(kw_only=True)
class Rect:
    """A filled rectangle."""

    x: float
    y: float
    width: float
    height: float
    fill: str


@attrs.frozen(kw_only=True)
class Line:
    """A line; dashed for reference lines."""

    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = "#333333"
    dashed: bool = False


@attrs.frozen(kw_only=True)
class Circle:
    """A point."""

    cx: float
    cy: float
    r: float
    fill: str


@attrs.frozen(kw_only=True)
class Text:
    """A label; `anchor` is ``start``, ``middle`` or ``end``."""

    x: float
    y: float
    text: str
    anchor: str = "middle"
    size: int = 11


@attrs.frozen(kw_only=True)
class Svg:
    """A chart: its size, its shapes and its accessible title."""

    width: float
    height: float
    title: str
    rects: tuple[Rect, ...] = ()
    lines: tuple[Line, ...] = ()
    circles: tuple[Circle, ...] = ()
    texts: tuple[Text, ...] = ()


def _number(cell: Cell) -> float | None:
    if isinstance(cell, Money):
        return float(cell.to_decimal())
    if isinstance(cell, Decimal):
        return float(cell)
    if isinstance(cell, int) and not isinstance(cell, bool):
        return float(cell)
    return None


def _shown(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def _nice(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above `value` (axis tops)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * power:
            return step * power
    return 10 * power


def _columns(table: ReportTable, keys: Sequence[str]) -> list[int]:
    index = {c.key: i for i, c in enumerate(table.columns)}
    return [index[k] for k in keys]


def _rows(table: ReportTable, chart: Chart) -> list[tuple[Cell, ...]]:
    chosen = chart.rows or tuple(range(len(table.rows)))
    return [table.rows[i] for i in chosen if 0 <= i < len(table.rows)]


def _legend(table: ReportTable, series: Sequence[int], lang: str) -> list[Rect | Text]:
    marks: list[Rect | Text] = []
    x = 56.0
    for n, column in enumerate(series):
        marks.append(Rect(x=x, y=6, width=12, height=12, fill=PALETTE[n % len(PALETTE)]))
        label = table.columns[column].label(lang)
        marks.append(Text(x=x + 16, y=16, text=label, anchor="start"))
        x += 24 + 12 * len(label) + 8
    return marks


def bar_chart(table: ReportTable, chart: Chart, lang: str) -> Svg | None:
    """Grouped vertical bars: one group per row, one bar per series."""
    rows = _rows(table, chart)
    (category,) = _columns(table, [chart.category])
    series = _columns(table, chart.series)
    values = [[_number(row[s]) for s in series] for row in rows]
    known = [v for group in values for v in group if v is not None]
    if not rows or not known:
        return None
    top, bottom = _nice(max(0.0, *known)), min(0.0, *known)
    if bottom < 0:
        bottom = -_nice(-bottom)
    left, plot_w, plot_top, plot_h = 56.0, WIDTH - 72.0, 30.0, 220.0

    def y_of(v: float) -> float:
        return plot_top + (top - v) / (top - bottom) * plot_h

    group_w = plot_w / len(rows)
    bar_w = group_w * 0.8 / len(series)
    rects: list[Rect] = []
    texts: list[Text] = []
    lines = [Line(x1=left, y1=y_of(0), x2=left + plot_w, y2=y_of(0))]
    for tick in (bottom, (top + bottom) / 2, top) if bottom < 0 else (0.0, top / 2, top):
        texts.append(Text(x=left - 6, y=y_of(tick) + 4, text=_shown(tick), anchor="end"))
    legend = _legend(table, series, lang)
    for g, (row, group) in enumerate(zip(rows, values, strict=True)):
        x0 = left + g * group_w + group_w * 0.1
        for n, v in enumerate(group):
            x = x0 + n * bar_w
            if v is None:
                texts.append(Text(x=x + bar_w / 2, y=y_of(0) - 4, text="*"))
                continue
            y1, y2 = sorted((y_of(v), y_of(0)))
            rects.append(
                Rect(
                    x=x,
                    y=y1,
                    width=max(bar_w - 1, 1),
                    height=max(y2 - y1, 0.5),
                    fill=PALETTE[n % len(PALETTE)],
                )
            )
            if len(rows) * len(series) <= 40:
                texts.append(Text(x=x + bar_w / 2, y=y1 - 3, text=_shown(v), size=9))
        texts.append(
            Text(x=left + (g + 0.5) * group_w, y=plot_top + plot_h + 16, text=str(row[category]))
        )
    return Svg(
        width=WIDTH,
        height=plot_top + plot_h + 30,
        title=table.title(lang),
        rects=(*rects, *(m for m in legend if isinstance(m, Rect))),
        lines=tuple(lines),
        texts=(*texts, *(m for m in legend if isinstance(m, Text))),
    )


def pyramid_chart(table: ReportTable, chart: Chart, lang: str) -> Svg | None:
    """A population pyramid: the first series to the left, the second to the right,
    the first row at the bottom."""
    rows = _rows(table, chart)
    (category,) = _columns(table, [chart.category])
    left_s, right_s = _columns(table, chart.series[:2])
    known = [
        v for row in rows for v in (_number(row[left_s]), _number(row[right_s])) if v is not None
    ]
    if not rows or not known:
        return None
    top = max(max(known), 1.0)
    band_h, plot_top, centre, label_w = 16.0, 30.0, WIDTH / 2, 96.0
    half = (WIDTH - label_w) / 2 - 56.0
    legend = _legend(table, [left_s, right_s], lang)
    rects: list[Rect] = [m for m in legend if isinstance(m, Rect)]
    texts: list[Text] = [m for m in legend if isinstance(m, Text)]
    for n, row in enumerate(reversed(rows)):
        y = plot_top + n * band_h
        texts.append(Text(x=centre, y=y + 12, text=str(row[category]), size=10))
        for side, column in ((-1, left_s), (1, right_s)):
            value = _number(row[column])
            edge = centre + side * label_w / 2
            if value is None:
                texts.append(Text(x=edge + side * 8, y=y + 12, text="*", size=10))
                continue
            length = value / top * half
            x = edge - length if side < 0 else edge
            rects.append(
                Rect(
                    x=x,
                    y=y + 1,
                    width=max(length, 0.5),
                    height=band_h - 2,
                    fill=PALETTE[0 if side < 0 else 1],
                )
            )
            end = edge + side * (length + 4)
            texts.append(
                Text(
                    x=end,
                    y=y + 12,
                    text=_shown(value),
                    anchor="end" if side < 0 else "start",
                    size=9,
                )
            )
    return Svg(
        width=WIDTH,
        height=plot_top + band_h * len(rows) + 10,
        title=table.title(lang),
        rects=tuple(rects),
        texts=tuple(texts),
    )


def interval_chart(table: ReportTable, chart: Chart, lang: str) -> Svg | None:
    """Points with their intervals, one row each, and a reference line."""
    rows = _rows(table, chart)
    (category,) = _columns(table, [chart.category])
    value_c, low_c, high_c = _columns(table, chart.series[:3])
    points = [
        (row, _number(row[value_c]), _number(row[low_c]), _number(row[high_c])) for row in rows
    ]
    shown = [p for p in points if p[1] is not None and p[2] is not None]
    if not shown:
        return None
    reference = float(chart.reference) if chart.reference is not None else None
    ends = [v for p in shown for v in (p[2], p[3], p[1]) if v is not None]
    if reference is not None:
        ends.append(reference)
    lo, hi = min(ends), max(ends)
    pad = max((hi - lo) * 0.05, 1.0)
    lo, hi = max(lo - pad, 0.0), hi + pad
    left, plot_w, plot_top, row_h = 160.0, WIDTH - 200.0, 30.0, 28.0

    def x_of(v: float) -> float:
        return left + (v - lo) / (hi - lo) * plot_w

    lines: list[Line] = []
    circles: list[Circle] = []
    texts: list[Text] = []
    for n, (row, value, low, high) in enumerate(points):
        y = plot_top + n * row_h + row_h / 2
        texts.append(Text(x=left - 8, y=y + 4, text=str(row[category]), anchor="end"))
        if value is None or low is None:
            texts.append(Text(x=left + 8, y=y + 4, text="*", anchor="start"))
            continue
        right = x_of(high) if high is not None else left + plot_w
        lines.append(Line(x1=x_of(low), y1=y, x2=right, y2=y, stroke=PALETTE[0]))
        lines.append(Line(x1=x_of(low), y1=y - 5, x2=x_of(low), y2=y + 5, stroke=PALETTE[0]))
        if high is not None:
            lines.append(Line(x1=right, y1=y - 5, x2=right, y2=y + 5, stroke=PALETTE[0]))
        circles.append(Circle(cx=x_of(value), cy=y, r=4, fill=PALETTE[1]))
        upper = _shown(high) if high is not None else "∞"
        texts.append(
            Text(x=x_of(value), y=y - 8, text=f"{_shown(value)} ({_shown(low)}–{upper})", size=9)
        )
    bottom = plot_top + row_h * len(points)
    lines.append(Line(x1=left, y1=bottom, x2=left + plot_w, y2=bottom))
    for tick in (lo, (lo + hi) / 2, hi):
        texts.append(Text(x=x_of(tick), y=bottom + 14, text=_shown(round(tick)), size=9))
    if reference is not None:
        lines.append(
            Line(
                x1=x_of(reference),
                y1=plot_top - 6,
                x2=x_of(reference),
                y2=bottom,
                stroke="#c00000",
                dashed=True,
            )
        )
        texts.append(Text(x=x_of(reference), y=plot_top - 10, text=_shown(reference), size=9))
    return Svg(
        width=WIDTH,
        height=bottom + 24,
        title=table.title(lang),
        lines=tuple(lines),
        circles=tuple(circles),
        texts=tuple(texts),
    )


def chart_svg(table: ReportTable, lang: str) -> Svg | None:
    """The chart of a table as shapes, or None when it has none or nothing to draw."""
    chart = table.chart
    if chart is None:
        return None
    try:
        if chart.kind == "bar":
            return bar_chart(table, chart, lang)
        if chart.kind == "pyramid":
            return pyramid_chart(table, chart, lang)
        return interval_chart(table, chart, lang)
    except (KeyError, ValueError):
        return None  # a chart naming columns the table lacks: the table is still shown
