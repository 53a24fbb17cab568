"""The payment roll file (spec "Runs, rolls and completeness"): columns, amounts, safety."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from famplan_core.benefits import ROLL_COLUMNS, PaymentRoll, ProgramTotal, RollLine, write_roll_csv
from famplan_core.model.money import Money

NOV, SEP = dt.date(2026, 11, 1), dt.date(2026, 9, 1)


def line(**changes: object) -> RollLine:
    values: dict[str, object] = {
        "program": "rural_reward",
        "month": NOV,
        "person_id": "P1",
        "citizen_id": "37150219560716001X",
        "name": "王秀英",
        "category": None,
        "amount": Money(8000),
        "kind": "regular",
        "source": "entitlement",
    }
    values.update(changes)
    return RollLine(**values)  # type: ignore[arg-type]


def roll(*lines: RollLine) -> PaymentRoll:
    return PaymentRoll(
        month=NOV,
        roll_id=1,
        run_id=1,
        created=True,
        recorded_at=dt.datetime(2026, 11, 30, 9),
        actor="clerk",
        lines=lines,
        totals=(ProgramTotal(program="rural_reward", lines=len(lines), amount=Money(0)),),
    )


def test_the_columns_are_exactly_the_spec_s() -> None:
    assert ROLL_COLUMNS == (
        "program",
        "month",
        "person_id",
        "citizen_id",
        "name",
        "category",
        "amount",
        "kind",
    )


def test_lines_are_written_as_text_with_the_month_they_are_for(tmp_path: Path) -> None:
    out = tmp_path / "roll.csv"
    count = write_roll_csv(
        roll(
            line(),
            line(program="special_assistance", category="death", amount=Money(17000)),
            line(month=SEP, amount=Money(-8000), kind="arrears", source="arrears"),
        ),
        out,
    )
    assert count == 3
    text = out.read_bytes().decode("utf-8")
    assert text.splitlines()[0] == ",".join(ROLL_COLUMNS)
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == [
        "rural_reward", "2026-11", "P1", "37150219560716001X", "王秀英", "", "80.00", "regular",
    ]  # fmt: skip
    assert rows[2][5:7] == ["death", "170.00"]
    assert rows[3][1] == "2026-09"
    assert rows[3][6:] == ["-80.00", "arrears"]


def test_text_cells_never_run_as_formulas() -> None:
    """Rolls are opened by people: a name or id that starts a formula is neutralised."""
    stream = io.StringIO()
    write_roll_csv(roll(line(name="=1+2", person_id="@SUM(A1)", citizen_id="")), stream)
    row = list(csv.reader(io.StringIO(stream.getvalue())))[1]
    assert row[2] == "'@SUM(A1)"
    assert row[4] == "'=1+2"
    assert row[3] == ""
