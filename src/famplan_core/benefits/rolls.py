"""Payment roll files (发放花名册文件): the CSV a township pays from.

Columns, exactly: ``program,month,person_id,citizen_id,name,category,amount,kind`` (spec
"Runs, rolls and completeness"), UTF-8 with a header, CRLF line ends (RFC 4180). ``month``
is the month the line is for, as ``YYYY-MM``; ``amount`` is yuan with two decimals
(``80.00``, ``-80.00`` for an overpayment); ``kind`` is ``regular`` or ``arrears``. Text
cells are neutralised with `famplan_core.reporting.spreadsheet_safe`: rolls are opened by
people in spreadsheets, and a name must never run as a formula.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO

from famplan_core.benefits.months import month_text
from famplan_core.benefits.results import PaymentRoll, RollLine
from famplan_core.files import private_writer
from famplan_core.reporting import spreadsheet_safe

__all__ = ["ROLL_COLUMNS", "roll_csv_row", "write_roll_csv"]

ROLL_COLUMNS: tuple[str, ...] = (
    "program",
    "month",
    "person_id",
    "citizen_id",
    "name",
    "category",
    "amount",
    "kind",
)
"""The columns of a payment roll file, in order."""


def roll_csv_row(line: RollLine) -> tuple[str, ...]:
    """One roll line as the CSV cells of `ROLL_COLUMNS`, text neutralised for spreadsheets.

    Args:
        line: the line.
    """
    return (
        spreadsheet_safe(line.program),
        month_text(line.month),
        spreadsheet_safe(line.person_id),
        spreadsheet_safe(line.citizen_id),
        spreadsheet_safe(line.name),
        spreadsheet_safe(line.category or ""),
        str(line.amount),
        line.kind,
    )


def write_roll_csv(roll: PaymentRoll, target: Path | IO[str]) -> int:
    """Write a roll as CSV.

    Args:
        roll: the roll.
        target: a file path (written as UTF-8) or an open text stream.

    Returns:
        The number of lines written (the header not counted).
    """
    if isinstance(target, Path):
        with private_writer(target, encoding="utf-8", newline="") as stream:
            return write_roll_csv(roll, stream)
    writer = csv.writer(target, lineterminator="\r\n")
    writer.writerow(ROLL_COLUMNS)
    writer.writerows(roll_csv_row(line) for line in roll.lines)
    return len(roll.lines)
