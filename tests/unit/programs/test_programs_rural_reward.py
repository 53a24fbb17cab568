"""R2 rural_reward (农村部分计划生育家庭奖励扶助)."""

from __future__ import annotations

import datetime as dt

import pytest

from famplan_core.model.money import Money
from famplan_core.programs import RURAL_REWARD, national_parameter_set
from famplan_core.rules import evaluate_program, explain
from famplan_core.rules.testing_frames import (
    FEMALE,
    MALE,
    FrameBuilder,
    HukouChange,
    month_starts,
)

PARAMS = national_parameter_set()
D = dt.date(2026, 11, 1)


def make_family(
    parent_birth: dt.date = dt.date(1960, 3, 1),
    children: tuple[tuple[int, dt.date], ...] = ((FEMALE, dt.date(1985, 1, 1)),),
    *,
    rural: bool = True,
) -> FrameBuilder:
    """Father F (row 0) and mother M (row 1) with the given children (sex, birth)."""
    b = FrameBuilder()
    b.person("F", birth=parent_birth, sex=MALE, rural=rural)
    b.person("M", birth=parent_birth, sex=FEMALE, rural=rural)
    for i, (sex, birth) in enumerate(children):
        b.person(f"C{i}", birth=birth, sex=sex)
        b.link("F", f"C{i}").link("M", f"C{i}")
    return b


def rows(b: FrameBuilder, on: dt.date = D) -> list[int]:
    return evaluate_program(RURAL_REWARD, b.build(on), PARAMS).rows.tolist()


def failing(b: FrameBuilder, row: int = 0, on: dt.date = D) -> str | None:
    outcome = explain(RURAL_REWARD, b.build(on), row, PARAMS).first_failing
    return None if outcome is None else outcome.ref


def test_r2_1_each_parent_separately() -> None:
    assert RURAL_REWARD.beneficiary == "person"
    assert rows(make_family()) == [0, 1]
    b = FrameBuilder()
    b.person("F", birth=dt.date(1960, 1, 1))
    b.person("M", birth=dt.date(1970, 1, 1), sex=FEMALE)
    b.person("C", birth=dt.date(1990, 1, 1))
    b.link("F", "C").link("M", "C")
    assert rows(b) == [0]


def test_r2_2_aged_60_on_d_counts_from_the_birthday_itself() -> None:
    b = make_family(parent_birth=dt.date(1966, 11, 1))
    assert rows(b, dt.date(2026, 11, 1)) == [0, 1]
    assert rows(b, dt.date(2026, 10, 1)) == []
    assert failing(b, on=dt.date(2026, 10, 1)) == "R2.2"


def test_r2_2_born_on_or_after_1933_01_01() -> None:
    assert rows(make_family(parent_birth=dt.date(1933, 1, 1))) == [0, 1]
    assert rows(make_family(parent_birth=dt.date(1932, 12, 31))) == []


def test_r2_2_parent_must_be_alive() -> None:
    b = FrameBuilder()
    b.person("F", birth=dt.date(1960, 3, 1), death=dt.date(2026, 1, 5))
    b.person("C", birth=dt.date(1985, 1, 1))
    b.link("F", "C")
    assert rows(b, dt.date(2026, 1, 1)) == [0]
    assert rows(b, dt.date(2026, 2, 1)) == []


def test_r2_3_hukou_type_rural_on_d() -> None:
    assert rows(make_family(rural=False)) == []
    assert failing(make_family(rural=False)) == "R2.3"


@pytest.mark.parametrize(
    ("children", "entitled"),
    [
        (((MALE, dt.date(1985, 1, 1)),), True),
        (((FEMALE, dt.date(1985, 1, 1)),), True),
        (((FEMALE, dt.date(1985, 1, 1)), (FEMALE, dt.date(1988, 1, 1))), True),
        (((FEMALE, dt.date(1985, 1, 1)), (MALE, dt.date(1988, 1, 1))), False),
        (((MALE, dt.date(1985, 1, 1)), (MALE, dt.date(1988, 1, 1))), False),
        (tuple((FEMALE, dt.date(1985 + i, 1, 1)) for i in range(3)), False),
    ],
)
def test_r2_4_one_child_or_two_daughters(
    children: tuple[tuple[int, dt.date], ...], entitled: bool
) -> None:
    assert rows(make_family(children=children)) == ([0, 1] if entitled else [])
    if not entitled:
        assert failing(make_family(children=children)) == "R2.4"


def test_r2_4_dead_children_count_as_ever_children() -> None:
    b = make_family(children=((FEMALE, dt.date(1985, 1, 1)),))
    b.person("C9", birth=dt.date(1987, 1, 1), sex=MALE, death=dt.date(1990, 1, 1))
    b.link("F", "C9").link("M", "C9")
    assert rows(b) == []


def test_r2_4_adopted_child_counts_step_child_does_not() -> None:
    b = make_family(children=((FEMALE, dt.date(1985, 1, 1)),))
    b.person("S", birth=dt.date(1986, 1, 1), sex=MALE)
    b.link("F", "S", kind="step")
    assert rows(b) == [0, 1]
    b.link("M", "S", kind="adoptive", since=dt.date(1990, 1, 1))
    assert rows(b) == [0]


def test_r2_5_a_childless_person_does_not_qualify() -> None:
    b = make_family(children=())
    assert rows(b) == []
    assert failing(b) == "R2.5"


def test_r2_6_annual_amount_600_then_960_monthly_per_r0_7() -> None:
    b = make_family(parent_birth=dt.date(1940, 1, 1))
    before = evaluate_program(RURAL_REWARD, b.build(dt.date(2011, 12, 1)), PARAMS)
    assert before.amount_of(0) == Money.parse("50.00")
    after = evaluate_program(RURAL_REWARD, b.build(dt.date(2012, 1, 1)), PARAMS)
    assert after.amount_of(0) == Money.parse("80.00")
    not_yet = evaluate_program(RURAL_REWARD, b.build(dt.date(2003, 12, 1)), PARAMS)
    assert not not_yet.in_force
    assert len(not_yet) == 0
    (annual, _min_age) = after.parameters
    assert (annual.name, annual.value_text, annual.start) == (
        "annual_amount",
        "960.00",
        dt.date(2012, 1, 1),
    )


def _paid_months(b: FrameBuilder, first: dt.date, last: dt.date, row: int = 0) -> list[dt.date]:
    return [
        day
        for day in month_starts(first, last)
        if row in evaluate_program(RURAL_REWARD, b.build(day), PARAMS).rows
    ]


def test_r2_7_stops_on_death() -> None:
    b = FrameBuilder()
    b.person("F", birth=dt.date(1950, 1, 1), death=dt.date(2026, 5, 15))
    b.person("C", birth=dt.date(1980, 1, 1))
    b.link("F", "C")
    paid = _paid_months(b, dt.date(2026, 3, 1), dt.date(2026, 8, 1))
    assert paid == [dt.date(2026, 3, 1), dt.date(2026, 4, 1), dt.date(2026, 5, 1)]


def test_r2_7_stops_on_move_to_urban_hukou() -> None:
    b = FrameBuilder()
    b.person(
        "F",
        birth=dt.date(1950, 1, 1),
        hukou_changes=[
            HukouChange(on=dt.date(1950, 1, 1), division="371502110001", rural=True),
            HukouChange(on=dt.date(2026, 4, 20), division="371502110001", rural=False),
        ],
    )
    b.person("C", birth=dt.date(1980, 1, 1))
    b.link("F", "C")
    paid = _paid_months(b, dt.date(2026, 3, 1), dt.date(2026, 6, 1))
    assert paid == [dt.date(2026, 3, 1), dt.date(2026, 4, 1)]


def test_r2_7_stops_on_move_out_of_the_jurisdiction() -> None:
    b = FrameBuilder()
    b.person(
        "F",
        birth=dt.date(1950, 1, 1),
        hukou_changes=[
            HukouChange(on=dt.date(1950, 1, 1), division="371502110001", rural=True),
            HukouChange(on=dt.date(2026, 4, 1), division="371502115001", rural=True),
        ],
    )
    b.person("C", birth=dt.date(1980, 1, 1))
    b.link("F", "C")
    assert _paid_months(b, dt.date(2026, 3, 1), dt.date(2026, 6, 1)) == [dt.date(2026, 3, 1)]
    failing_ref = explain(RURAL_REWARD, b.build(dt.date(2026, 4, 1)), 0, PARAMS).first_failing
    assert failing_ref is not None
    assert failing_ref.ref == "R0.6"


def test_r2_7_stops_when_a_further_child_is_born_or_adopted() -> None:
    b = make_family(parent_birth=dt.date(1955, 1, 1))
    b.person("LATE", birth=dt.date(2026, 6, 10), sex=MALE)
    b.link("M", "LATE", kind="adoptive", since=dt.date(2026, 7, 3))
    b.link("F", "LATE")
    assert _paid_months(b, dt.date(2026, 5, 1), dt.date(2026, 8, 1), row=0) == [
        dt.date(2026, 5, 1),
        dt.date(2026, 6, 1),
    ]
    assert _paid_months(b, dt.date(2026, 5, 1), dt.date(2026, 8, 1), row=1) == [
        dt.date(2026, 5, 1),
        dt.date(2026, 6, 1),
        dt.date(2026, 7, 1),
    ]
