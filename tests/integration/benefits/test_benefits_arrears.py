"""Arrears (spec "Arrears"): late facts and retroactive parameters after months were rolled."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa

from famplan_core import hookimpl
from famplan_core.benefits import BenefitService, RunSummary
from famplan_core.exchange.importer import import_register
from famplan_core.model.money import Money
from famplan_core.plugin_manager import PluginManager
from famplan_core.programs import national_parameter_set, national_programs
from famplan_core.rules import Parameter, ParameterSet, ParameterStep
from famplan_core.storage import SqlStorage
from famplan_core.storage import benefit_tables as bt
from famplan_core.synthetic import SyntheticRegister
from famplan_core.testing import Clock, write_synthetic

DIVISION = "371502110"
SEP, OCT, NOV, DEC = (dt.date(2026, m, 1) for m in (9, 10, 11, 12))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[SyntheticRegister, Path]:
    folder = tmp_path_factory.mktemp("register")
    return write_synthetic(folder, persons=2500, seed=41), folder


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


def service(storage: SqlStorage, parameters: ParameterSet | None = None) -> BenefitService:
    return BenefitService(
        storage,
        programs={p.code: p for p in national_programs()},
        parameters=parameters or national_parameter_set(),
        division=DIVISION,
    )


def run_and_roll(svc: BenefitService, clock: Clock, *months: dt.date) -> None:
    for month in months:
        svc.run(month, actor="clerk", recorded_at=clock())
        svc.roll(month, actor="clerk", recorded_at=clock())


def arrears_rows(storage: SqlStorage) -> list[tuple[dt.date, str, str, int]]:
    a = bt.arrears.c
    with storage.reader() as reader:
        rows = reader.connection.execute(
            sa.select(a.month, a.program, a.person_id, a.amount_fen).order_by(a.arrears_id)
        )
        return [(r[0], str(r[1]), str(r[2]), int(r[3])) for r in rows]


def entitled(storage: SqlStorage, month: dt.date) -> dict[tuple[str, str], int]:
    e = bt.entitlements.c
    with storage.reader() as reader:
        rows = reader.connection.execute(
            sa.select(e.program, e.person_id, e.amount_fen).where(
                e.month == month, e.superseded_at.is_(None)
            )
        )
        return {(str(r[0]), str(r[1])): int(r[2]) for r in rows}


def lone_rural_parent(storage: SqlStorage, months: Sequence[dt.date]) -> str:
    """A rural_reward beneficiary in `months` paid under no other program, whose death
    changes nobody else's decision (nobody's only child, no honour certificate)."""
    frames = [storage.facts_frame(m, DIVISION) for m in months]
    paid = [entitled(storage, m) for m in months]
    holders = set(frames[0].person_id[frames[0].certificates.holder].tolist())
    for (program, person), _fen in sorted(paid[0].items()):
        if program != "rural_reward" or person in holders:
            continue
        if any(sum(1 for p, q in month if q == person) != 1 for month in paid):
            continue
        if not all((program, person) in month for month in paid):
            continue
        if all(not (f.only_child == f.row_of(person)).any() for f in frames):
            return person
    raise AssertionError("the synthetic register has no lone rural_reward parent")


def test_late_death_after_two_rolled_months_gives_overpayments_for_exactly_those_months(
    storage: SqlStorage, clock: Clock
) -> None:
    """Spec "Arrears", R0.11: a death recorded late stops the entitlement from the month after
    it; the months already rolled become overpayments to recover, one line per month."""
    svc = service(storage)
    run_and_roll(svc, clock, SEP, OCT)
    person = lone_rural_parent(storage, [SEP, OCT])
    assert entitled(storage, SEP)[("rural_reward", person)] == 8000
    with storage.unit_of_work(actor="clerk", recorded_at=clock(), operation="death") as uow:
        uow.upsert_rows("persons", ("person_id", "death_date"), [(person, "2026-08-15")])

    summary = svc.run(NOV, actor="clerk", recorded_at=clock())

    assert arrears_rows(storage) == [
        (SEP, "rural_reward", person, -8000),
        (OCT, "rural_reward", person, -8000),
    ]
    assert summary.months_checked == (SEP, OCT)
    assert [(a.month, a.program, a.lines, a.overpaid_fen) for a in summary.arrears] == [
        (SEP, "rural_reward", 1, -8000),
        (OCT, "rural_reward", 1, -8000),
    ]
    assert ("rural_reward", person) not in entitled(storage, NOV)
    # idempotent: a second run finds no new difference and stores nothing
    again = svc.run(NOV, actor="clerk", recorded_at=clock())
    assert again.stored is False
    assert again.months_current == (SEP, OCT)
    assert len(arrears_rows(storage)) == 2
    # a recheck recomputes, and still finds nothing new
    assert svc.run(NOV, actor="clerk", recorded_at=clock(), recheck=True).changed is False
    assert len(arrears_rows(storage)) == 2


def test_pending_arrears_enter_the_next_roll_once(storage: SqlStorage, clock: Clock) -> None:
    """Spec "Runs, rolls and completeness": arrears lines are rolled as kind ``arrears`` with
    the month they are for, and are then no longer pending."""
    svc = service(storage)
    run_and_roll(svc, clock, SEP, OCT)
    person = lone_rural_parent(storage, [SEP, OCT])
    with storage.unit_of_work(actor="clerk", recorded_at=clock(), operation="death") as uow:
        uow.upsert_rows("persons", ("person_id", "death_date"), [(person, "2026-09-15")])
    svc.run(NOV, actor="clerk", recorded_at=clock())  # died after 1 Sep: only October is due back

    roll = svc.roll(NOV, actor="clerk", recorded_at=clock())

    lines = [line for line in roll.lines if line.kind == "arrears"]
    assert [(line.month, line.person_id, line.amount) for line in lines] == [
        (OCT, person, Money(-8000))
    ]
    assert all(
        line.kind == "regular" and line.month == NOV for line in roll.lines if line not in lines
    )
    rural = next(t for t in roll.totals if t.program == "rural_reward")
    assert rural.amount.fen == sum(
        line.amount.fen for line in roll.lines if line.program == "rural_reward"
    )
    svc.run(DEC, actor="clerk", recorded_at=clock())
    december = svc.roll(DEC, actor="clerk", recorded_at=clock())
    assert not [line for line in december.lines if line.kind == "arrears"]


def test_rerunning_a_rolled_month_supersedes_and_finds_its_arrears_once(
    storage: SqlStorage, clock: Clock
) -> None:
    """Nothing lost: the old decision stays, superseded by the run that found the change; the
    later run of another month does not count the same difference twice."""
    svc = service(storage)
    run_and_roll(svc, clock, SEP, OCT)
    person = lone_rural_parent(storage, [SEP, OCT])
    with storage.unit_of_work(actor="clerk", recorded_at=clock(), operation="death") as uow:
        uow.upsert_rows("persons", ("person_id", "death_date"), [(person, "2026-08-15")])

    october = svc.run(OCT, actor="clerk", recorded_at=clock())

    rural = next(p for p in october.programs if p.program == "rural_reward")
    assert rural.ended == 1
    e = bt.entitlements.c
    with storage.reader() as reader:
        versions = reader.connection.execute(
            sa.select(e.superseded_at.is_not(None), e.superseded_by_run).where(
                e.month == OCT, e.program == "rural_reward", e.person_id == person
            )
        ).all()
    assert versions == [(True, october.run_id)]
    assert arrears_rows(storage) == [
        (SEP, "rural_reward", person, -8000),
        (OCT, "rural_reward", person, -8000),
    ]
    svc.run(NOV, actor="clerk", recorded_at=clock())
    assert len(arrears_rows(storage)) == 2


class RetroactiveRaise:
    """A plugin that raises the rural reward from a date already paid (1 September 2026)."""

    @hookimpl
    def famplan_register_parameters(self) -> Sequence[Parameter]:
        return [
            Parameter(
                program="rural_reward",
                name="annual_amount",
                description="A raise decided late, applying from September",
                reference="test document",
                unit="CNY/year",
                values=(
                    ParameterStep(start=SEP, value=Money.parse("1200.00"), source="test province"),
                ),
                source="test province",
            )
        ]


def test_retroactive_parameter_change_gives_arrears_for_rolled_months(
    storage: SqlStorage, clock: Clock
) -> None:
    """Spec "Arrears": a parameter changed with a past ``from`` date (here through a plugin
    overlay) gives every beneficiary of the rolled months the difference as arrears."""
    national = service(storage)
    run_and_roll(national, clock, SEP, OCT)
    paid = {m: [k for k in entitled(storage, m) if k[0] == "rural_reward"] for m in (SEP, OCT)}
    plugins = PluginManager.assemble(
        environ={"FAMPLAN_LOAD_PLUGINS": ""}, extra={"retro": RetroactiveRaise()}
    )
    raised = BenefitService(
        storage,
        programs=plugins.programs(),
        parameters=plugins.parameter_set(),
        division=DIVISION,
    )

    summary: RunSummary = raised.run(NOV, actor="clerk", recorded_at=clock())

    lines = arrears_rows(storage)
    assert {(m, program) for m, program, _p, _f in lines} == {
        (SEP, "rural_reward"),
        (OCT, "rural_reward"),
    }
    for month in (SEP, OCT):
        found = sorted(p for m, _c, p, fen in lines if m == month and fen == 2000)
        assert found == sorted(p for _c, p in paid[month])
    assert len(lines) == len(paid[SEP]) + len(paid[OCT])
    assert sum(a.arrears_fen for a in summary.arrears) == 2000 * len(lines)
    assert all(
        fen == 10000 for (c, _p), fen in entitled(storage, NOV).items() if c == "rural_reward"
    )
    assert raised.run(NOV, actor="clerk", recorded_at=clock()).stored is False


def test_a_register_change_that_changes_no_decision_only_moves_the_checkpoints(
    storage: SqlStorage, clock: Clock
) -> None:
    """A run over a changed register that changes no decision records that it checked (a run
    with no changes), so that the next run skips those months."""
    svc = service(storage)
    run_and_roll(svc, clock, SEP)
    with storage.unit_of_work(actor="clerk", recorded_at=clock(), operation="fix") as uow:
        uow.upsert_rows("persons", ("person_id", "name"), [("P00000001", "改名")])

    checked = svc.run(OCT, actor="clerk", recorded_at=clock())
    assert checked.months_checked == (SEP,)
    assert checked.arrears == ()
    later = svc.run(OCT, actor="clerk", recorded_at=clock())
    assert later.stored is False
    assert later.months_current == (SEP,)
