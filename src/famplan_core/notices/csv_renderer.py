"""The core's notice renderer: CSV (UTF-8 with BOM), for a township website or a spreadsheet.

Columns: ``序号,姓名,公民身份号码,村（居）,项目,金额（元）,人数``. Each listed row is one line
with ``人数`` 1; each withheld group (children under 14, per program) is one line without
number, name, ID or village, with its count and total. The amount cell is empty for a
program whose amounts are not shown (one whose amount tells a sensitive category). Text cells
are neutralised for spreadsheets (`famplan_core.reporting.spreadsheet_safe`); amounts stay
numbers. After the window the file keeps its header only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from famplan_core.files import private_folder, write_private
from famplan_core.model.money import Money
from famplan_core.notices.model import PublishedNotice
from famplan_core.reporting.table import spreadsheet_safe

__all__ = ["NOTICE_CSV_COLUMNS", "CsvNoticeRenderer", "notice_csv"]

NOTICE_CSV_COLUMNS: tuple[str, ...] = (
    "序号",
    "姓名",
    "公民身份号码",
    "村（居）",
    "项目",
    "金额（元）",
    "人数",
)
"""The columns of a notice's CSV file, in order."""


def _amount_cell(amount: Money | None) -> str:
    return "" if amount is None else str(amount)


def notice_csv(notice: PublishedNotice) -> str:
    """The CSV text of a notice (CRLF line ends, no BOM).

    Args:
        notice: the masked content.
    """
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(NOTICE_CSV_COLUMNS)
    for row in notice.rows:
        writer.writerow(
            [
                row.number,
                spreadsheet_safe(row.name),
                spreadsheet_safe(row.citizen_id),
                spreadsheet_safe(row.village),
                spreadsheet_safe(row.program_name),
                _amount_cell(row.amount),
                1,
            ]
        )
    for group in notice.withheld:
        writer.writerow(
            [
                "",
                "（14周岁以下儿童，不公示个人信息）",
                "",
                "",
                spreadsheet_safe(group.program_name),
                _amount_cell(group.amount),
                group.count,
            ]
        )
    return text.getvalue()


class CsvNoticeRenderer:
    """Write a notice as ``notice-<id>.csv``: UTF-8 with a BOM, so that Excel reads Chinese."""

    PLUGIN_NAME: ClassVar[str] = "csv"

    def render(self, notice: PublishedNotice, out: Path, *, paper: str = "A4") -> Sequence[Path]:
        """Write the notice's CSV file into `out`.

        Args:
            notice: the masked content.
            out: the folder (made when missing).
            paper: ignored (a CSV file has no paper size).
        """
        private_folder(out)
        target = write_private(
            out / f"notice-{notice.notice_id}.csv", notice_csv(notice), encoding="utf-8-sig"
        )
        return [target]
