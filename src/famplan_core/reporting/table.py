"""Report tables (统计表): what every report renderer receives."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import attrs

from famplan_core.model.money import Money

__all__ = ["FORMULA_TRIGGERS", "Cell", "Column", "ReportTable", "spreadsheet_safe"]

Cell = str | int | Money | None
"""A table cell: text, a whole number, an amount, or empty."""

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
        kind: ``text``, ``number`` (a whole number) or ``amount`` (yuan, exact).
    """

    key: str
    label_zh: str
    label_en: str
    kind: Literal["text", "number", "amount"] = "text"

    def label(self, lang: str) -> str:
        """The header in ``zh`` or ``en``."""
        return self.label_zh if lang == "zh" else self.label_en


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
    """

    code: str
    title_zh: str
    title_en: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    notes: tuple[str, ...] = ()

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
