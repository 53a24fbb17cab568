"""Payment rolls and hardship grants (spec "Runs, rolls and completeness", R5.1)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
import sqlalchemy as sa

from famplan_core.benefits import ROLL_COLUMNS, BenefitService, write_roll_csv
from famplan_core.errors import DomainError, RecordNotFoundError, ValidationError
from famplan_core.exchange.importer import import_register
from famplan_core.model.money import Money
from famplan_core.programs import national_parameter_set, national_programs
from famplan_core.storage import SqlStorage
from famplan_core.storage import benefit_tables as bt
from famplan_core.synthetic import SyntheticRegister
from famplan_core.testing import Clock, write_synthetic

DIVISION = "371502110"
OCT, NOV, DEC = dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[SyntheticRegister, Path]:
    folder = tmp_path_factory.mktemp("register")
    return write_synthetic(folder, persons=2000, seed=23), folder


@pytest.fixture
def storage(
    tmp_path: Path, synthetic: tuple[SyntheticRegister, Path], clock: Clock
) -> Iterator[SqlStorage]:
    store = SqlStorage(f"sqlite:///{tmp_path / 'famplan.db'}", migrate=True)
    import_register(
        store, synthetic[1], today=dt.date(2026, 11, 20), actor="t", recorded_at=clock()
    )
    yield store
    store.close()


@pytest.fixture
def svc(storage: SqlStorage) -> BenefitService:
    return BenefitService(
        storage,
        programs={p.code: p for p in national_programs()},
        parameters=national_parameter_set(),
        division=DIVISION,
    )


def a_household(storage: SqlStorage) -> tuple[str, str, str]:
    """A household with a head: (household id, head person id, head's name)."""
    with storage.reader() as reader:
        columns, rows = reader.export_rows("households")
        households = [dict(zip(columns, r, strict=True)) for r in rows]
        columns, rows = reader.export_rows("persons")
        names = {r[0]: r[2] for r in rows}
    household = next(h for h in households if h["head_person_id"])
    return (
        household["household_id"],
        household["head_person_id"],
        names[household["head_person_id"]],
    )


def test_a_roll_needs_a_run_of_its_month(svc: BenefitService, clock: Clock) -> None:
    with pytest.raises(
        DomainError, match=r"no run of 2026-11 is stored: run `famplan benefits run"
    ):
        svc.roll("2026-11", actor="clerk", recorded_at=clock())


def test_roll_lines_sum_to_the_totals_to_the_fen(
    storage: SqlStorage, svc: BenefitService, clock: Clock, tmp_path: Path
) -> None:
    """Spec: the roll lists each entitlement with person id, citizen id, name, program,
    category, month and amount; the CSV's lines reconcile with the totals per program."""
    svc.run("2026-11", actor="clerk", recorded_at=clock())
    roll = svc.roll("2026-11", actor="clerk", recorded_at=clock())
    out = tmp_path / "roll.csv"
    written = write_roll_csv(roll, out)

    raw = out.read_bytes()
    assert raw.startswith(b"program,month,person_id,citizen_id,name,category,amount,kind\r\n")
    with out.open(encoding="utf-8", newline="") as stream:
        lines = list(csv.DictReader(stream))
    assert written == len(lines) == len(roll.lines) > 0
    assert tuple(lines[0]) == ROLL_COLUMNS
    sums: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    for line in lines:
        assert line["kind"] == "regular"
        assert line["month"] == "2026-11"
        assert line["amount"] == f"{Decimal(line['amount']):.2f}"
        sums[line["program"]] = sums.get(line["program"], Decimal(0)) + Decimal(line["amount"])
        counts[line["program"]] = counts.get(line["program"], 0) + 1
    assert {t.program: (t.lines, t.amount) for t in roll.totals} == {
        program: (counts[program], Money.of(total)) for program, total in sums.items()
    }
    assert roll.total == Money.of(sum(sums.values(), Decimal(0)))
    special = [line for line in lines if line["program"] == "special_assistance"]
    assert {line["category"] for line in special} <= {"death", "disability"}
    assert all(line["name"] for line in lines)
    with storage.reader() as reader:
        columns, rows = reader.export_rows("persons")
        people = {r[0]: dict(zip(columns, r, strict=True)) for r in rows}
    for line in lines[:50]:
        assert line["citizen_id"] == people[line["person_id"]]["citizen_id"]


def test_rolling_a_month_again_returns_the_stored_roll_unchanged(
    storage: SqlStorage, svc: BenefitService, clock: Clock
) -> None:
    svc.run("2026-11", actor="clerk", recorded_at=clock())
    first = svc.roll("2026-11", actor="clerk", recorded_at=clock())
    with storage.unit_of_work(actor="clerk", recorded_at=clock(), operation="fix") as uow:
        uow.upsert_rows(
            "persons", ("person_id", "death_date"), [(first.lines[0].person_id, "2026-10-02")]
        )
    svc.run("2026-11", actor="clerk", recorded_at=clock())

    again = svc.roll("2026-11", actor="other", recorded_at=clock())

    assert first.created
    assert not again.created
    assert again.lines == first.lines
    assert again.totals == first.totals
    assert (again.roll_id, again.actor, again.recorded_at) == (
        first.roll_id,
        "clerk",
        first.recorded_at,
    )
    with storage.reader() as reader:
        rolls = reader.connection.execute(sa.select(sa.func.count()).select_from(bt.payment_rolls))
        assert rolls.scalar() == 1


def test_a_roll_made_before_a_register_change_warns(
    storage: SqlStorage, svc: BenefitService, clock: Clock
) -> None:
    svc.run("2026-11", actor="clerk", recorded_at=clock())
    with storage.unit_of_work(actor="clerk", recorded_at=clock(), operation="fix") as uow:
        uow.upsert_rows("persons", ("person_id", "name"), [("P00000003", "新名字")])
    roll = svc.roll("2026-11", actor="clerk", recorded_at=clock())
    assert any("changed after the last run of 2026-11" in w for w in roll.warnings)


def test_names_are_neutralised_for_spreadsheets(
    storage: SqlStorage, svc: BenefitService, clock: Clock
) -> None:
    svc.run("2026-11", actor="clerk", recorded_at=clock())
    roll = svc.roll("2026-11", actor="clerk", recorded_at=clock())
    tricky = attrs.evolve(roll.lines[0], name='=HYPERLINK("x")', amount=Money(-8000))
    poisoned = attrs.evolve(roll, lines=(tricky,))
    buffer = io.StringIO()
    write_roll_csv(poisoned, buffer)
    row = list(csv.reader(io.StringIO(buffer.getvalue())))[1]
    assert row[4] == '\'=HYPERLINK("x")'
    assert row[6] == "-80.00"  # amounts are ours: never neutralised


def test_a_grant_enters_the_roll_of_its_approval_month(
    storage: SqlStorage, svc: BenefitService, clock: Clock
) -> None:
    """R5.1: a one-off grant to a household, within max_amount, enters the payment roll of
    the month it is approved: program hardship_relief, paid to the head, category grant."""
    household, head, name = a_household(storage)
    grant = svc.grant(
        household,
        amount="800.00",
        approved_on=dt.date(2026, 11, 12),
        reason="因病致困",
        actor="officer",
        recorded_at=clock(),
    )
    assert (grant.person_id, grant.amount, grant.month, grant.rolled) == (
        head,
        Money(80000),
        NOV,
        False,
    )
    svc.run("2026-11", actor="clerk", recorded_at=clock())
    roll = svc.roll("2026-11", actor="clerk", recorded_at=clock())
    lines = [line for line in roll.lines if line.program == "hardship_relief"]
    assert [(g.person_id, g.name, g.category, g.amount, g.kind, g.month) for g in lines] == [
        (head, name, "grant", Money(80000), "regular", NOV)
    ]
    assert roll.totals[-1].program == "hardship_relief"
    assert roll.totals[-1].amount == Money(80000)


def test_a_grant_after_its_month_was_rolled_enters_the_next_roll(
    storage: SqlStorage, svc: BenefitService, clock: Clock
) -> None:
    household, head, _name = a_household(storage)
    svc.run("2026-11", actor="clerk", recorded_at=clock())
    svc.roll("2026-11", actor="clerk", recorded_at=clock())
    late = svc.grant(
        household,
        amount=Money(50000),
        approved_on=dt.date(2026, 11, 28),
        reason="火灾",
        actor="officer",
        recorded_at=clock(),
    )
    assert late.rolled is True
    svc.run("2026-12", actor="clerk", recorded_at=clock())
    december = svc.roll("2026-12", actor="clerk", recorded_at=clock())
    lines = [line for line in december.lines if line.program == "hardship_relief"]
    assert [(g.person_id, g.month, g.kind, g.amount) for g in lines] == [
        (head, NOV, "arrears", Money(50000))
    ]


def test_grants_are_checked(storage: SqlStorage, svc: BenefitService, clock: Clock) -> None:
    """R5.1: at most max_amount (1,000.00), more than 0, with a reason, to a known household."""
    household, _head, _name = a_household(storage)
    with pytest.raises(ValidationError) as error:
        svc.grant(
            household,
            amount="1000.01",
            approved_on=dt.date(2026, 11, 3),
            reason=" ",
            actor="officer",
            recorded_at=clock(),
        )
    text = str(error.value)
    assert "may be at most 1000.00" in text
    assert "reason" in text
    with pytest.raises(RecordNotFoundError, match="household 'H-none': no such household"):
        svc.grant(
            "H-none",
            amount="10.00",
            approved_on=dt.date(2026, 11, 3),
            reason="x",
            actor="officer",
            recorded_at=clock(),
        )
    svc.grant(
        household,
        amount="1000.00",
        approved_on=dt.date(2026, 11, 3),
        reason="x",
        actor="officer",
        recorded_at=clock(),
    )
    with pytest.raises(DomainError, match=r"already records 1000\.00"):
        svc.grant(
            household,
            amount="1000.00",
            approved_on=dt.date(2026, 11, 3),
            reason="x",
            actor="officer",
            recorded_at=clock(),
        )
