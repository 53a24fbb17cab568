"""The benefit cycle on PostgreSQL: run, re-run, roll, late death, arrears, explain, check."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from famplan_core.benefits import BenefitService
from famplan_core.exchange.importer import import_register
from famplan_core.model.money import Money
from famplan_core.programs import national_parameter_set, national_programs
from famplan_core.storage import SqlStorage
from famplan_core.storage import benefit_tables as bt
from famplan_core.synthetic import SyntheticRegister, SyntheticSpec, generate, write_register

pytestmark = pytest.mark.postgres

DIVISION = "371502110"
SEP, OCT, NOV = dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[SyntheticRegister, Path]:
    register = generate(SyntheticSpec(persons=1500, seed=5))
    folder = tmp_path_factory.mktemp("register")
    write_register(register, folder)
    return register, folder


@pytest.fixture
def storage(pg_url: str, synthetic: tuple[SyntheticRegister, Path]) -> Iterator[SqlStorage]:
    store = SqlStorage(pg_url, migrate=True)
    import_register(
        store,
        synthetic[1],
        today=dt.date(2026, 11, 20),
        actor="t",
        recorded_at=dt.datetime(2026, 11, 20, 8),
    )
    yield store
    store.close()


def test_the_monthly_cycle_on_postgresql(
    storage: SqlStorage, synthetic: tuple[SyntheticRegister, Path]
) -> None:
    ticks = itertools.count(1)

    def clock() -> dt.datetime:
        return dt.datetime(2026, 11, 20, 8) + dt.timedelta(minutes=next(ticks))

    svc = BenefitService(
        storage,
        programs={p.code: p for p in national_programs()},
        parameters=national_parameter_set(),
        division=DIVISION,
    )
    for month in (SEP, OCT):
        assert svc.run(month, actor="clerk", recorded_at=clock()).stored
        assert svc.run(month, actor="clerk", recorded_at=clock()).stored is False
        roll = svc.roll(month, actor="clerk", recorded_at=clock())
        assert sum(t.amount.fen for t in roll.totals) == roll.total.fen
        assert svc.roll(month, actor="clerk", recorded_at=clock()).lines == roll.lines
    e = bt.entitlements.c
    with storage.reader() as reader:
        person = reader.connection.execute(
            sa.select(e.person_id)
            .where(e.month == SEP, e.program == "childcare_subsidy", e.superseded_at.is_(None))
            .order_by(e.person_id)
            .limit(1)
        ).scalar_one()
    with storage.unit_of_work(actor="clerk", recorded_at=clock(), operation="death") as uow:
        uow.upsert_rows("persons", ("person_id", "death_date"), [(person, "2026-08-20")])

    summary = svc.run(NOV, actor="clerk", recorded_at=clock())

    assert summary.months_checked == (SEP, OCT)
    a = bt.arrears.c
    with storage.reader() as reader:
        lines = reader.connection.execute(
            sa.select(a.month, a.program, a.person_id, a.amount_fen).order_by(a.arrears_id)
        ).all()
    assert [tuple(line) for line in lines] == [
        (SEP, "childcare_subsidy", person, -30000),
        (OCT, "childcare_subsidy", person, -30000),
    ]
    november = svc.roll(NOV, actor="clerk", recorded_at=clock())
    assert [(line.month, line.amount) for line in november.lines if line.kind == "arrears"] == [
        (SEP, Money(-30000)),
        (OCT, Money(-30000)),
    ]
    assert svc.explain(person, "childcare_subsidy", "2026-11").explanation.first_failing is not None
    report = svc.check("2026-11")
    assert report.source == f"run {summary.run_id}"
    expected = synthetic[0].expected
    errors = {f.person_id for p in report.programs for f in p.errors}
    assert set().union(*(set(v.tolist()) for v in expected.wrongly_enrolled.values())) <= errors
