"""Explanations (R0.9) from a person's neighbourhood, and completeness (不错不漏)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from famplan_core.benefits import BenefitService, neighbourhood_frame
from famplan_core.errors import PluginNotFoundError, RecordNotFoundError
from famplan_core.exchange.importer import import_register
from famplan_core.programs import national_parameter_set, national_programs
from famplan_core.rules import explain
from famplan_core.storage import SqlStorage
from famplan_core.synthetic import SyntheticRegister, SyntheticSpec, generate, write_register

DIVISION = "371502110"
T0 = dt.datetime(2026, 11, 20, 8)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[SyntheticRegister, Path]:
    register = generate(SyntheticSpec(persons=3000, seed=31))
    folder = tmp_path_factory.mktemp("register")
    write_register(register, folder)
    return register, folder


@pytest.fixture(scope="module")
def storage(
    tmp_path_factory: pytest.TempPathFactory, synthetic: tuple[SyntheticRegister, Path]
) -> Iterator[SqlStorage]:
    """One register for the read-only tests of this module."""
    path = tmp_path_factory.mktemp("db") / "famplan.db"
    store = SqlStorage(f"sqlite:///{path}", migrate=True)
    import_register(store, synthetic[1], today=dt.date(2026, 11, 20), actor="t", recorded_at=T0)
    yield store
    store.close()


@pytest.fixture
def fresh(tmp_path: Path, synthetic: tuple[SyntheticRegister, Path]) -> Iterator[SqlStorage]:
    store = SqlStorage(f"sqlite:///{tmp_path / 'famplan.db'}", migrate=True)
    import_register(store, synthetic[1], today=dt.date(2026, 11, 20), actor="t", recorded_at=T0)
    yield store
    store.close()


def service(storage: SqlStorage) -> BenefitService:
    return BenefitService(
        storage,
        programs={p.code: p for p in national_programs()},
        parameters=national_parameter_set(),
        division=DIVISION,
    )


@pytest.mark.parametrize("month", [dt.date(2026, 11, 1), dt.date(2012, 3, 1)])
def test_the_small_frame_explains_exactly_as_the_whole_frame(
    storage: SqlStorage, synthetic: tuple[SyntheticRegister, Path], month: dt.date
) -> None:
    """R0.9: the explanation from the person's neighbourhood equals the one from a frame of
    the whole register, for every program, for random people and for every beneficiary."""
    whole = storage.facts_frame(month, DIVISION)
    parameters = national_parameter_set()
    rows = {str(p): r for r, p in enumerate(whole.person_id.tolist())}
    rng = random.Random(month.toordinal())
    chosen = set(rng.sample(sorted(rows), 150))
    register = synthetic[0]
    for ids in register.expected.eligible.values():
        chosen.update(rng.sample(ids.tolist(), min(15, len(ids))))
    for person in sorted(chosen):
        with storage.reader() as reader:
            small = neighbourhood_frame(reader.connection, [person], month, DIVISION)
        assert len(small) < 40
        for program in national_programs():
            expected = explain(program, whole, rows[person], parameters).as_dict()
            found = explain(program, small, small.row_of(person), parameters).as_dict()
            expected.pop("row")
            found.pop("row")
            assert found == expected, (person, program.code)


def test_explain_says_why_in_chinese_and_english_and_agrees_with_the_run(
    fresh: SqlStorage, synthetic: tuple[SyntheticRegister, Path]
) -> None:
    svc = service(fresh)
    person = str(synthetic[0].expected.eligible["special_assistance"][0])
    before = svc.explain(person, "special_assistance", "2026-11")
    assert before.run_id is None
    assert before.agrees is None
    svc.run("2026-11", actor="clerk", recorded_at=T0 + dt.timedelta(hours=1))

    found = svc.explain(person, "special_assistance", "2026-11")

    assert found.explanation.entitled
    assert found.stored is not None
    assert found.agrees is True
    assert found.stored.amount == found.explanation.amount
    zh, en = found.as_text("zh"), found.as_text("en")
    assert "计划生育家庭特别扶助" in zh
    assert "结论：符合" in zh
    assert "R3.4" in zh
    assert "Entitled: yes" in en
    assert f"Agrees with the decision stored by run {found.run_id}" in en
    document = found.as_dict()
    assert document["stored"]["facts_hash"] == found.stored.facts_hash
    assert {c["ref"] for c in document["clauses"]} >= {"R0.6", "R3.2", "R3.3", "R3.4", "R3.5"}
    not_entitled = svc.explain(person, "childcare_subsidy", "2026-11")
    assert not_entitled.explanation.first_failing is not None
    assert not_entitled.agrees is True
    assert "首个未满足的条件" in not_entitled.as_text("zh")


def test_explain_names_what_is_unknown(storage: SqlStorage) -> None:
    svc = service(storage)
    with pytest.raises(
        PluginNotFoundError, match="known programs: childcare_subsidy, rural_reward"
    ):
        svc.explain("P00000001", "rural_rewards", "2026-11")
    with pytest.raises(RecordNotFoundError, match="person 'nobody': no such person is stored"):
        svc.explain("nobody", "rural_reward", "2026-11")
    one_off = svc.explain("P00000001", "hardship_relief", "2026-11")
    assert "case by case" in one_off.as_text("en")


def test_completeness_finds_the_omissions_and_errors_put_in_on_purpose(
    storage: SqlStorage, synthetic: tuple[SyntheticRegister, Path]
) -> None:
    """Spec "Completeness": per program, eligible but not enrolled (omissions) and enrolled
    but not eligible (errors), each with its explanation; errors name the first failing
    clause."""
    expected = synthetic[0].expected
    report = service(storage).check("2026-11")

    assert report.source == "evaluated"
    for result in report.programs:
        omissions = sorted(f.person_id for f in result.omissions)
        errors = sorted(f.person_id for f in result.errors)
        assert omissions == sorted(expected.omitted[result.program].tolist()), result.program
        assert errors == sorted(expected.wrongly_enrolled[result.program].tolist()), result.program
        assert result.entitled == len(expected.eligible[result.program])
        for finding in result.errors:
            assert finding.explanation is not None
            assert finding.explanation.first_failing is not None
            assert finding.reason.startswith(finding.explanation.first_failing.ref)
        for finding in result.omissions:
            assert finding.explanation is not None
            assert finding.explanation.entitled
            assert finding.amount == finding.explanation.amount


def test_completeness_uses_the_stored_run_when_there_is_one(
    fresh: SqlStorage, synthetic: tuple[SyntheticRegister, Path]
) -> None:
    svc = service(fresh)
    evaluated = svc.check("2026-11")
    summary = svc.run("2026-11", actor="clerk", recorded_at=T0 + dt.timedelta(hours=1))
    stored = svc.check("2026-11")
    assert stored.source == f"run {summary.run_id}"
    assert stored.stale is False
    assert stored.as_dict()["programs"] == evaluated.as_dict()["programs"]


def test_explanations_are_fast_enough_to_ask_one_by_one(storage: SqlStorage) -> None:
    """The neighbourhood frame costs milliseconds (benchmarks/bench_run.py measures it at a
    million persons)."""
    svc = service(storage)
    import time

    started = time.perf_counter()
    for person in itertools.islice((f"P{i:08d}" for i in range(1, 10_000)), 20):
        svc.explain(person, "rural_reward", "2026-11")
    assert (time.perf_counter() - started) / 20 < 0.2
