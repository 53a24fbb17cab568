"""The Excel report renderer (Excel 报表): one formatted sheet per table, with openpyxl.

openpyxl turns any string that starts with ``=`` into a formula cell. So every text cell is
written in two steps: the value goes through `famplan_core.reporting.spreadsheet_safe`
(``'`` in front of ``=``, ``+``, ``-``, ``@``, tab, CR and NUL), and the cell's type is then
set to string (``data_type = "s"``). Control characters that XML 1.0 cannot hold become
their Unicode control pictures (NUL is ␀), so that no value makes the file unreadable.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from famplan_core.model.money import Money
from famplan_core.reporting import Cell, Column, ReportTable, Suppressed, spreadsheet_safe

if TYPE_CHECKING:
    from famplan_core.reporting import Report

__all__ = ["XlsxRenderer", "safe_text"]

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_TITLE_FONT = Font(bold=True, size=14)
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_TOTAL_FONT = Font(bold=True)
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_NOTE_FONT = Font(italic=True, size=9, color="555555")


def safe_text(text: str) -> str:
    """A text cell's value as written: formula characters neutralised, XML-safe.

    Args:
        text: the text.

    Example:
        >>> safe_text("=1+1"), safe_text("\\x00x")
        ("'=1+1", "'␀x")
    """
    return _ILLEGAL.sub(lambda m: chr(0x2400 + ord(m.group())), spreadsheet_safe(text))


def _put_text(ws: Any, row: int, column: int, text: str) -> Any:
    target = ws.cell(row=row, column=column)
    if text:
        target.value = safe_text(text)
        target.data_type = "s"
    return target


def _number_format(column: Column, value: Cell) -> str:
    if column.kind == "amount":
        return "#,##0.00"
    if isinstance(value, Decimal):
        places = max(0, -int(value.as_tuple().exponent))
        return "0" if places == 0 else "0." + "0" * places
    return "#,##0"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _sheet_name(title: str, taken: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub("_", title).strip("'") or "Sheet"
    base = base[:31]
    name, n = base, 2
    while name.lower() in taken:
        suffix = f"_{n}"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def _write_table(ws: Any, table: ReportTable, lang: str) -> None:
    width = len(table.columns)
    title = _put_text(ws, 1, 1, table.title(lang))
    title.font = _TITLE_FONT
    if width > 1:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    widths = [0] * width
    for index, column in enumerate(table.columns, start=1):
        header = _put_text(ws, 2, index, column.label(lang))
        header.font = _HEADER_FONT
        header.fill = _HEADER_FILL
        header.border = _BORDER
        header.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        widths[index - 1] = _width(column.label(lang))
    totals = set(table.total_rows)
    for offset, values in enumerate(table.rows):
        row = 3 + offset
        for index, (column, value) in enumerate(zip(table.columns, values, strict=True), 1):
            target = ws.cell(row=row, column=index)
            if value is None:
                pass
            elif isinstance(value, Suppressed):
                target = _put_text(ws, row, index, value.MARK)
                target.alignment = Alignment(horizontal="right")
            elif isinstance(value, Money):
                target.value = value.to_decimal()
                target.number_format = _number_format(column, value)
            elif isinstance(value, Decimal | int) and not isinstance(value, bool):
                target.value = value
                target.number_format = _number_format(column, value)
            else:
                target = _put_text(ws, row, index, str(value))
            target.border = _BORDER
            if offset in totals:
                target.font = _TOTAL_FONT
            shown = "" if value is None else str(value)
            widths[index - 1] = max(widths[index - 1], _width(shown))
    note_row = 3 + len(table.rows) + 1
    for offset, note in enumerate(table.notes):
        _put_text(ws, note_row + offset, 1, note).font = _NOTE_FONT
    for index, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = min(max(w + 2, 8), 60)
    ws.freeze_panes = "A3"


def _yes_no(value: bool, lang: str) -> str:
    if lang == "zh":
        return "是" if value else "否"
    return "yes" if value else "no"


class XlsxRenderer:
    """Write report tables as an Excel workbook: one formatted sheet per table.

    Headers are in the report's language, whole numbers get thousands separators, amounts
    are yuan with two decimals (exact decimals, never floats), rates keep their decimals,
    totals are bold and withheld cells show ``*``.
    """

    PLUGIN_NAME: ClassVar[str] = "xlsx"
    suffix: ClassVar[str] = ".xlsx"
    media_type: ClassVar[str] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def render(self, table: ReportTable, out: BinaryIO, *, lang: str = "zh") -> None:
        """Write one table as a workbook of one sheet.

        Args:
            table: the table.
            out: a binary stream.
            lang: ``zh`` or ``en`` title and headers.
        """
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = _sheet_name(table.title(lang), set())
        _write_table(sheet, table, lang)
        workbook.save(out)

    def render_report(self, report: Report, out: BinaryIO, *, lang: str = "zh") -> None:
        """Write a whole report: an About sheet (说明), then one sheet per table.

        Args:
            report: the report.
            out: a binary stream.
            lang: ``zh`` or ``en``.
        """
        workbook = Workbook()
        about = workbook.active
        taken: set[str] = set()
        about.title = _sheet_name("说明" if lang == "zh" else "About", taken)
        _put_text(about, 1, 1, report.title(lang)).font = _TITLE_FONT
        meta = report.metadata()
        state = meta["register_state"]
        lines = [
            ("统计期" if lang == "zh" else "Period", report.period.label(lang)),
            ("范围" if lang == "zh" else "Scope", f"{report.scope} {report.scope_name}".strip()),
            (
                "登记状态" if lang == "zh" else "Register state",
                f"{state['audit_id']} ({state['recorded_at']})",
            ),
            ("数据摘要" if lang == "zh" else "Digest (SHA-256)", report.digest),
            ("公开" if lang == "zh" else "Public", _yes_no(report.public, lang)),
        ]
        if report.left_out:
            lines.append(
                (
                    "未列入（内部）" if lang == "zh" else "Left out (internal)",
                    ", ".join(report.left_out),
                )
            )
        for offset, (label, value) in enumerate(lines, start=3):
            _put_text(about, offset, 1, label).font = _HEADER_FONT
            _put_text(about, offset, 2, value)
        about.column_dimensions["A"].width = 18
        about.column_dimensions["B"].width = 80
        for table in report.tables:
            sheet = workbook.create_sheet(_sheet_name(table.title(lang), taken))
            _write_table(sheet, table, lang)
        workbook.save(out)
