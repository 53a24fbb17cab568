"""The core's report renderers: CSV (UTF-8 with BOM, for Excel) and JSON."""

from __future__ import annotations

import csv
import io
import json
from typing import BinaryIO, ClassVar

from famplan_core.model.money import Money
from famplan_core.reporting.table import Cell, ReportTable, spreadsheet_safe

__all__ = ["CsvRenderer", "JsonRenderer"]


def _csv_cell(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Money | int):
        return str(cell)
    return spreadsheet_safe(cell)


class CsvRenderer:
    """Write a report table as CSV in UTF-8 with a BOM, so that Excel opens Chinese text.

    Text cells that start with a formula character are neutralised; numbers and amounts
    stay numbers.
    """

    PLUGIN_NAME: ClassVar[str] = "csv"
    suffix: ClassVar[str] = ".csv"
    media_type: ClassVar[str] = "text/csv"

    def render(self, table: ReportTable, out: BinaryIO, *, lang: str = "zh") -> None:
        """Write `table` to `out`.

        Args:
            table: the table.
            out: a binary stream.
            lang: ``zh`` or ``en`` headers.
        """
        text = io.StringIO(newline="")
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(table.headers(lang))
        for row in table.rows:
            writer.writerow([_csv_cell(cell) for cell in row])
        out.write(text.getvalue().encode("utf-8-sig"))


class JsonRenderer:
    """Write a report table as one JSON document: title, columns and rows (amounts as text)."""

    PLUGIN_NAME: ClassVar[str] = "json"
    suffix: ClassVar[str] = ".json"
    media_type: ClassVar[str] = "application/json"

    def render(self, table: ReportTable, out: BinaryIO, *, lang: str = "zh") -> None:
        """Write `table` to `out`.

        Args:
            table: the table.
            out: a binary stream.
            lang: ``zh`` or ``en`` title and headers.
        """
        document = {
            "code": table.code,
            "title": table.title(lang),
            "columns": [
                {"key": c.key, "label": c.label(lang), "kind": c.kind} for c in table.columns
            ],
            "rows": [
                {
                    c.key: (str(cell) if isinstance(cell, Money) else cell)
                    for c, cell in zip(table.columns, row, strict=True)
                }
                for row in table.rows
            ],
            "notes": list(table.notes),
        }
        out.write(json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8"))
        out.write(b"\n")
