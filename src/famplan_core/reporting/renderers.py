"""The core's report renderers: CSV (UTF-8 with BOM, for Excel) and JSON.

A renderer writes one `ReportTable` with ``render``; a whole report (several tables, with
the period, scope and register state it was made from) with ``render_report``. For a
renderer that has no ``render_report``, `render_report` writes its tables one after the
other.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar

from famplan_core.model.money import Money
from famplan_core.reporting.table import Cell, ReportTable, Suppressed, spreadsheet_safe

if TYPE_CHECKING:
    from famplan_core.reporting.runs import Report

__all__ = ["CsvRenderer", "JsonRenderer", "render_report"]


def _csv_cell(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Suppressed):
        return cell.MARK
    if isinstance(cell, Decimal):
        return format(cell, "f")
    if isinstance(cell, Money | int):
        return str(cell)
    return spreadsheet_safe(cell)


def _json_cell(cell: Cell) -> object:
    if isinstance(cell, Money):
        return str(cell)
    if isinstance(cell, Decimal):
        return format(cell, "f")
    if isinstance(cell, Suppressed):
        return None
    return cell


def render_report(renderer: Any, report: Report, out: BinaryIO, *, lang: str = "zh") -> None:
    """Write a whole report with a renderer: its ``render_report``, else table by table.

    Args:
        renderer: an instance of a registered renderer class.
        report: the report.
        out: a binary stream.
        lang: ``zh`` or ``en``.
    """
    whole = getattr(renderer, "render_report", None)
    if whole is not None:
        whole(report, out, lang=lang)
        return
    for table in report.tables:
        renderer.render(table, out, lang=lang)


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
        self._write(csv.writer(text, lineterminator="\r\n"), table, lang)
        out.write(text.getvalue().encode("utf-8-sig"))

    @staticmethod
    def _write(writer: Any, table: ReportTable, lang: str) -> None:
        writer.writerow([spreadsheet_safe(h) for h in table.headers(lang)])
        for row in table.rows:
            writer.writerow([_csv_cell(cell) for cell in row])

    def render_report(self, report: Report, out: BinaryIO, *, lang: str = "zh") -> None:
        """Write every table of a report: each after its title row, with its notes below.

        Args:
            report: the report.
            out: a binary stream.
            lang: ``zh`` or ``en``.
        """
        text = io.StringIO(newline="")
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow([spreadsheet_safe(report.title(lang))])
        for index, table in enumerate(report.tables):
            if index:
                writer.writerow([])
            writer.writerow([spreadsheet_safe(table.title(lang))])
            self._write(writer, table, lang)
            for note in table.notes:
                writer.writerow([spreadsheet_safe(note)])
        out.write(text.getvalue().encode("utf-8-sig"))


def _json_table(table: ReportTable, lang: str) -> dict[str, Any]:
    return {
        "code": table.code,
        "title": table.title(lang),
        "columns": [
            {"key": c.key, "label": c.label(lang), "kind": c.kind}
            | ({"places": c.places} if c.kind == "decimal" else {})
            for c in table.columns
        ],
        "rows": [
            {c.key: _json_cell(cell) for c, cell in zip(table.columns, row, strict=True)}
            for row in table.rows
        ],
        "withheld": [
            [index, c.key]
            for index, row in enumerate(table.rows)
            for c, cell in zip(table.columns, row, strict=True)
            if isinstance(cell, Suppressed)
        ],
        "notes": list(table.notes),
    }


class JsonRenderer:
    """Write a report table as one JSON document: title, columns and rows.

    Amounts and decimals (rates) are written as text, so that no reader turns them into
    binary floating point; a withheld cell is ``null`` and listed in ``withheld`` as
    ``[row index, column key]``.
    """

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
        document = _json_table(table, lang)
        out.write(json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8"))
        out.write(b"\n")

    def render_report(self, report: Report, out: BinaryIO, *, lang: str = "zh") -> None:
        """Write a whole report: its title, how it was made (period, scope, register state,
        digest of the figures) and its tables.

        Args:
            report: the report.
            out: a binary stream.
            lang: ``zh`` or ``en``.
        """
        document = {
            "title": report.title(lang),
            **report.metadata(),
            "tables": [_json_table(t, lang) for t in report.tables],
        }
        out.write(json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8"))
        out.write(b"\n")
