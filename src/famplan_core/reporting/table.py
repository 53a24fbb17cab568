"""Report tables (统计表): what every report renderer receives."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import ClassVar, Literal

import attrs

from famplan_core.model.money import Money

__all__ = [
    "FORMULA_TRIGGERS",
    "SUPPRESSED",
    "Cell",
    "Chart",
    "Column",
    "ReportTable",
    "Suppressed",
    "spreadsheet_safe",
]


@attrs.frozen
class Suppressed:
    """A withheld cell (隐藏单元格) of a public table: shown as ``*``, never as its value.

    Use the `SUPPRESSED` instance. ``str(SUPPRESSED)`` is ``*``, so a renderer that writes
    ``str(cell)`` shows the mark.
    """

    MARK: ClassVar[str] = "*"

    def __str__(self) -> str:
        return self.MARK


SUPPRESSED = Suppressed()
"""The one withheld-cell marker."""

Cell = str | int | Money | Decimal | Suppressed | None
"""A table cell: text, a whole number, an amount, an exact decimal (a rate), withheld, or
empty. Decimals are never floats; they carry the places they are shown with."""

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
"""Characters that make a spreadsheet read a text cell as a formula (OWASP, CWE-1236)."""


def spreadsheet_safe(text: str) -> str:
    """Neutralise a text cell meant to be opened by people: prefix ``'`` to a formula start.

    Args:
        text: the cell's text.

    Returns:
        The text, with ``'`` in front when it starts with ``=``, ``+``, ``-``, ``@``, tab,
        CR or NUL.

    Example:
        >>> spreadsheet_safe("=HYPERLINK(1)")
        "'=HYPERLINK(1)"
        >>> spreadsheet_safe("张*明")
        '张*明'
    """
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


@attrs.frozen(kw_only=True)
class Column:
    """A column of a report table.

    Attributes:
        key: the column's machine name, e.g. ``village``.
        label_zh: the Chinese header, e.g. ``村``.
        label_en: the English header.
        kind: ``text``, ``number`` (a whole number), ``amount`` (yuan, exact) or
            ``decimal`` (an exact decimal such as a rate).
        places: the decimals a ``decimal`` column is shown with.
    """

    key: str
    label_zh: str
    label_en: str
    kind: Literal["text", "number", "amount", "decimal"] = "text"
    places: int = 0

    def label(self, lang: str) -> str:
        """The header in ``zh`` or ``en``."""
        return self.label_zh if lang == "zh" else self.label_en


@attrs.frozen(kw_only=True)
class Chart:
    """A chart a renderer may draw from a table (renderers that cannot draw ignore it).

    Attributes:
        kind: ``bar`` (one bar per row and series), ``pyramid`` (two series drawn left and
            right of an axis, e.g. males and females by age band) or ``interval`` (a point
            with its low and high ends, e.g. a sex ratio with its 95 % interval).
        category: the key of the column that labels the rows.
        series: the keys of the value columns drawn (for ``interval``: value, low, high).
        rows: the indexes of the rows drawn, in order; empty for every row.
        reference: a value drawn as a line across the chart (e.g. a sex ratio of 105).
    """

    kind: Literal["bar", "pyramid", "interval"]
    category: str
    series: tuple[str, ...]
    rows: tuple[int, ...] = ()
    reference: Decimal | None = None


@attrs.frozen(kw_only=True)
class ReportTable:
    """One statistical table, ready for a renderer.

    Attributes:
        code: the report's machine name.
        title_zh: the Chinese title.
        title_en: the English title.
        columns: the columns, in order.
        rows: the rows, each a tuple of cells in column order.
        notes: footnotes (definitions, suppression marks, the register state used).
        total_rows: the indexes of the rows that are totals or subtotals (shown in bold).
        chart: a chart of the table, for renderers that draw.
    """

    code: str
    title_zh: str
    title_en: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    notes: tuple[str, ...] = ()
    total_rows: tuple[int, ...] = ()
    chart: Chart | None = None

    def __attrs_post_init__(self) -> None:
        width = len(self.columns)
        for index, row in enumerate(self.rows):
            if len(row) != width:
                raise ValueError(
                    f"report {self.code!r} row {index} has {len(row)} cells; expected {width}"
                )

    def title(self, lang: str) -> str:
        """The title in ``zh`` or ``en``."""
        return self.title_zh if lang == "zh" else self.title_en

    def headers(self, lang: str) -> Sequence[str]:
        """The column headers in ``zh`` or ``en``."""
        return [column.label(lang) for column in self.columns]
