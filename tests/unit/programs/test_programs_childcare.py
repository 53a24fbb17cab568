"""R1 childcare_subsidy (育儿补贴), with the official examples."""

from __future__ import annotations

import datetime as dt

from famplan_core.model.money import Money
from famplan_core.programs import CHILDCARE_SUBSIDY, national_parameter_set
from famplan_core.rules import evaluate_program, explain
from famplan_core.rules.testing_frames import FEMALE, FrameBuilder, month_starts

PARAMS = national_parameter_set()


def make_frame(birth: dt.date, death: dt.date | None = None) -> FrameBuilder:
    """A register of one child C (row 0); `build(D)` gives the frame of any month."""
    b = FrameBuilder()
    b.person("C", birth=birth, death=death)
    return b


def entitled_months(b: FrameBuilder, first: dt.date, last: dt.date) -> dict[dt.date, Money]:
    paid = {}
    for day in month_starts(first, last):
        result = evaluate_program(CHILDCARE_SUBSIDY, b.build(day), PARAMS)
        if 0 in result.rows:
            paid[day] = result.amount_of(0) or Money(0)
    return paid


def test_r1_official_check_born_2023_12_15_gets_24_months_7200() -> None:
    b = make_frame(dt.date(2023, 12, 15))
    paid = entitled_months(b, dt.date(2023, 12, 1), dt.date(2028, 12, 1))
    assert min(paid) == dt.date(2025, 1, 1)
    assert max(paid) == dt.date(2026, 12, 1)
    assert len(paid) == 24
    assert sum(paid.values(), Money(0)) == Money.parse("7200.00")


def test_r1_official_check_born_2025_03_10_gets_36_months_10800() -> None:
    b = make_frame(dt.date(2025, 3, 10))
    paid = entitled_months(b, dt.date(2024, 12, 1), dt.date(2029, 1, 1))
    assert min(paid) == dt.date(2025, 4, 1)
    assert max(paid) == dt.date(2028, 3, 1)
    assert len(paid) == 36
    assert sum(paid.values(), Money(0)) == Money.parse("10800.00")


def test_r1_1_beneficiary_is_the_child_one_per_child() -> None:
    assert CHILDCARE_SUBSIDY.beneficiary == "child"
    b = FrameBuilder()
    b.person("F", birth=dt.date(1990, 1, 1))
    b.person("M", birth=dt.date(1991, 1, 1), sex=FEMALE)
    for twin in ("T1", "T2"):
        b.person(twin, birth=dt.date(2025, 6, 1))
        b.link("F", twin).link("M", twin)
    result = evaluate_program(CHILDCARE_SUBSIDY, b.build(dt.date(2025, 7, 1)), PARAMS)
    assert result.rows.tolist() == [2, 3]
    assert result.amounts_fen.tolist() == [30000, 30000]


def test_r1_2_child_must_be_alive_on_d() -> None:
    b = make_frame(dt.date(2024, 6, 1), death=dt.date(2025, 3, 1))
    assert 0 in evaluate_program(CHILDCARE_SUBSIDY, b.build(dt.date(2025, 2, 1)), PARAMS).rows
    assert 0 not in evaluate_program(CHILDCARE_SUBSIDY, b.build(dt.date(2025, 3, 1)), PARAMS).rows
    explanation = explain(CHILDCARE_SUBSIDY, b.build(dt.date(2025, 3, 1)), 0, PARAMS)
    failing = explanation.first_failing
    assert failing is not None
    assert failing.ref == "R1.2"


def test_r1_3_age_under_3_on_d() -> None:
    b = make_frame(dt.date(2023, 5, 1))
    assert 0 in evaluate_program(CHILDCARE_SUBSIDY, b.build(dt.date(2026, 4, 1)), PARAMS).rows
    # the third birthday falls on D itself: no longer under 3
    third = evaluate_program(CHILDCARE_SUBSIDY, b.build(dt.date(2026, 5, 1)), PARAMS)
    assert 0 not in third.rows
    failing = explain(CHILDCARE_SUBSIDY, b.build(dt.date(2026, 5, 1)), 0, PARAMS).first_failing
    assert failing is not None
    assert failing.ref == "R1.3"
    assert failing.fact("age") == 3


def test_r1_4_in_force_from_2025_with_300_a_month() -> None:
    b = make_frame(dt.date(2024, 1, 1))
    before = evaluate_program(CHILDCARE_SUBSIDY, b.build(dt.date(2024, 12, 1)), PARAMS)
    assert not before.in_force
    assert len(before) == 0
    after = evaluate_program(CHILDCARE_SUBSIDY, b.build(dt.date(2025, 1, 1)), PARAMS)
    assert after.amount_of(0) == Money.parse("300.00")


def test_r1_5_no_condition_on_birth_order_hukou_type_or_parents() -> None:
    b = FrameBuilder()
    b.person("M", birth=dt.date(1990, 1, 1), sex=FEMALE)
    for i in range(3):
        b.person(f"C{i}", birth=dt.date(2024 + i // 2, 1 + i, 1), rural=False)
        b.link("M", f"C{i}")
    b.person("ORPHAN", birth=dt.date(2025, 1, 1), rural=True)
    result = evaluate_program(CHILDCARE_SUBSIDY, b.build(dt.date(2025, 6, 1)), PARAMS)
    assert result.rows.tolist() == [1, 2, 3, 4]
    read: set[str] = set()
    for clause in CHILDCARE_SUBSIDY.clauses:
        read.update(clause.facts)
    assert read == {"in_jurisdiction", "alive", "age"}
