"""Monthly runs (spec "Runs, rolls and completeness", R0.9, R0.11, R0.12) on real SQLite."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from famplan_core.benefits import BenefitService
from famplan_core.errors import ValidationError
from famplan_core.exchange.importer import import_register
from famplan_core.programs import national_parameter_set, national_programs
from famplan_core.rules import evaluate_program
from famplan_core.storage import SqlStorage
from famplan_core.storage import benefit_tables as bt
from famplan_core.storage.tables import audit
from famplan_core.synthetic import SyntheticRegister
from famplan_core.testing import Clock, write_synthetic

DIVISION = "371502110"
NOV = dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[SyntheticRegister, Path]:
    folder = tmp_path_factory.mktemp("register")
    return write_synthetic(folder, persons=2000, seed=7), folder


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


def count(storage: SqlStorage, table: sa.Table) -> int:
    with storage.reader() as reader:
        return int(
            reader.connection.execute(sa.select(sa.func.count()).select_from(table)).scalar()
        )


def current(storage: SqlStorage, month: dt.date) -> list[dict[str, object]]:
    e = bt.entitlements.c
    with storage.reader() as reader:
        rows = reader.connection.execute(
            sa.select(bt.entitlements).where(e.month == month, e.superseded_at.is_(None))
        )
        return [dict(r) for r in rows.mappings()]


def test_a_run_stores_every_entitled_decision_with_its_record(
    storage: SqlStorage,
    svc: BenefitService,
    synthetic: tuple[SyntheticRegister, Path],
    clock: Clock,
) -> None:
    """R0.9: program, month, beneficiary, category, amount, program version, parameter values
    with provenance, and the facts the clauses declare (with their SHA-256)."""
    summary = svc.run("2026-11", actor="clerk", recorded_at=clock())

    register = synthetic[0]
    rows = current(storage, NOV)
    for program in ("childcare_subsidy", "rural_reward", "special_assistance", "only_child_reward"):
        stored = sorted(str(r["person_id"]) for r in rows if r["program"] == program)
        assert stored == sorted(register.expected.eligible[program].tolist()), program
    assert summary.stored
    assert summary.changed
    assert sum(p.new for p in summary.programs) == len(rows)
    special = next(r for r in rows if r["program"] == "special_assistance")
    assert special["category"] in ("death", "disability")
    facts = json.loads(str(special["facts"]))
    assert {"alive", "only_child.alive", "only_child_mother_birth_date", "hukou_rural"} <= set(
        facts
    )
    assert hashlib.sha256(str(special["facts"]).encode()).hexdigest() == special["facts_hash"]
    assert str(special["facts"]) == json.dumps(
        facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    p = bt.benefit_run_programs.c
    with storage.reader() as reader:
        basis = reader.connection.execute(
            sa.select(p.version, p.in_force, p.parameters).where(
                p.run_id == special["run_id"], p.program == "special_assistance"
            )
        ).one()
    assert basis.version == "1"
    assert basis.in_force is True
    uses = {u["name"]: u for u in json.loads(basis.parameters)}
    assert uses["monthly_amount"]["source"] == "national"
    assert uses["monthly_amount"]["from"] == "2014-01-01"
    certificate = next(r for r in rows if r["program"] == "only_child_reward")
    assert certificate["certificate_id"]  # R4.6: the certificate that gave it
    assert json.loads(str(certificate["facts"]))["certificate.child"].startswith("P")


def test_rerunning_an_unchanged_month_changes_nothing(
    storage: SqlStorage, svc: BenefitService, clock: Clock
) -> None:
    """Spec: re-running the same month over an unchanged register changes nothing: no rows,
    no run, not even an audit entry."""
    svc.run("2026-11", actor="clerk", recorded_at=clock())
    before = [count(storage, t) for t in (*bt.BENEFIT_TABLES, audit)]

    again = svc.run("2026-11", actor="clerk", recorded_at=clock())
    rechecked = svc.run("2026-11", actor="clerk", recorded_at=clock(), recheck=True)

    assert [count(storage, t) for t in (*bt.BENEFIT_TABLES, audit)] == before
    for summary in (again, rechecked):
        assert summary.run_id is None
        assert not summary.stored
        assert not summary.changed
        assert "nothing changed" in summary.message
        assert all(p.new == p.ended == p.changed == 0 for p in summary.programs)
    assert sum(p.unchanged for p in again.programs) == len(current(storage, NOV))


def test_a_changed_register_supersedes_and_never_overwrites(
    storage: SqlStorage, svc: BenefitService, clock: Clock
) -> None:
    """Spec: re-running after the register changed records new, ended and changed decisions;
    R0.11: an entitlement stops in a month where a condition fails."""
    first = svc.run("2026-11", actor="clerk", recorded_at=clock())
    rows = current(storage, NOV)
    rural = sorted(str(r["person_id"]) for r in rows if r["program"] == "rural_reward")
    dies, moves = rural[0], rural[1]
    with storage.unit_of_work(actor="clerk", recorded_at=clock(), operation="fix") as uow:
        uow.upsert_rows("persons", ("person_id", "death_date"), [(dies, "2026-10-31")])
        uow.upsert_rows(
            "hukou_changes",
            ("person_id", "date", "hukou_division", "hukou_type"),
            [
                (moves, "1950-01-01", "371502110201", "rural"),
                (moves, "2026-10-01", "371502110201", "urban"),
            ],
        )

    second = svc.run("2026-11", actor="clerk", recorded_at=clock())

    program = next(p for p in second.programs if p.program == "rural_reward")
    assert program.ended == 2
    assert program.new == program.changed == 0
    e = bt.entitlements.c
    with storage.reader() as reader:
        old = reader.connection.execute(
            sa.select(e.person_id, e.run_id, e.superseded_by_run).where(
                e.program == "rural_reward", e.person_id.in_([dies, moves])
            )
        ).all()
    assert sorted(old) == [
        (dies, first.run_id, second.run_id),
        (moves, first.run_id, second.run_id),
    ]
    assert {
        str(r["person_id"]) for r in current(storage, NOV) if r["program"] == "rural_reward"
    } == (set(rural) - {dies, moves})


def test_a_changed_amount_is_a_new_version(storage: SqlStorage, clock: Clock) -> None:
    """A decision whose amount (here by a province's overlay) changed is superseded, with the
    new parameter values and their provenance stored for the new version."""
    from famplan_policy_shandong.hooks import shandong_parameters

    national = BenefitService(
        storage,
        programs={p.code: p for p in national_programs()},
        parameters=national_parameter_set(),
        division=DIVISION,
    )
    national.run("2026-11", actor="clerk", recorded_at=clock())
    shandong = BenefitService(
        storage,
        programs={p.code: p for p in national_programs()},
        parameters=national_parameter_set().overlaid_by(shandong_parameters()),
        division=DIVISION,
    )
    summary = shandong.run("2026-11", actor="clerk", recorded_at=clock())
    rural = next(p for p in summary.programs if p.program == "rural_reward")
    assert rural.changed == rural.entitled > 0
    assert sum(p.changed for p in summary.programs) == rural.changed
    assert {r["amount_fen"] for r in current(storage, NOV) if r["program"] == "rural_reward"} == {
        10000
    }


def test_every_month_afresh_and_forecasts(
    storage: SqlStorage, svc: BenefitService, clock: Clock
) -> None:
    """R0.11, R0.12: any month may be run, a future one as a forecast on the register as
    known; R0.8: a program not yet in force gives nothing and no error."""
    past = svc.run("2024-06", actor="clerk", recorded_at=clock())
    childcare = next(p for p in past.programs if p.program == "childcare_subsidy")
    assert childcare.in_force is False
    assert childcare.entitled == 0
    frame = storage.facts_frame(dt.date(2027, 6, 1), DIVISION)
    forecast = svc.run("2027-06", actor="clerk", recorded_at=clock())
    for program in national_programs():
        if program.monthly:
            expected = evaluate_program(program, frame, national_parameter_set())
            found = next(p for p in forecast.programs if p.program == program.code)
            assert found.entitled == len(expected.rows)
            assert found.total_fen == int(expected.amounts_fen.sum())


def test_a_month_must_be_written_yyyy_mm(svc: BenefitService, clock: Clock) -> None:
    with pytest.raises(
        ValidationError, match=r"month: expected a month written as YYYY-MM.*2026-13"
    ):
        svc.run("2026-13", actor="clerk", recorded_at=clock())
    with pytest.raises(ValidationError, match="YYYY-MM"):
        svc.run("Nov 2026", actor="clerk", recorded_at=clock())


def test_the_run_is_audited_as_one_unit_of_work(
    storage: SqlStorage, svc: BenefitService, clock: Clock
) -> None:
    summary = svc.run("2026-11", actor="clerk", recorded_at=clock())
    with storage.reader() as reader:
        entries = reader.list_audit()
    last = entries[-1]
    assert last.operation == "benefits-run"
    assert last.actor == "clerk"
    assert last.summary["run_id"] == summary.run_id
    assert last.summary["month"] == "2026-11"
    assert storage.verify_audit() == len(entries)
