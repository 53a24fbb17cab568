"""R3 special_assistance (计划生育家庭特别扶助)."""

from __future__ import annotations

import datetime as dt

import pytest

from famplan_core.errors import ParameterNotFoundError
from famplan_core.model.money import Money
from famplan_core.programs import SPECIAL_ASSISTANCE, national_parameter_set
from famplan_core.rules import ParameterStep, ParameterTable, evaluate_program, explain
from famplan_core.rules.testing_frames import FEMALE, MALE, FrameBuilder, LinkKind, month_starts

PARAMS = national_parameter_set()
D = dt.date(2026, 11, 1)


def make_family(
    *,
    mother_birth: dt.date = dt.date(1960, 1, 1),
    mother_death: dt.date | None = None,
    child_death: dt.date | None = dt.date(2010, 6, 1),
    rural: bool = True,
    kind: LinkKind = "birth",
) -> FrameBuilder:
    """Father F (row 0), mother M (row 1) and their only child K (row 2)."""
    b = FrameBuilder()
    b.person("F", birth=dt.date(1958, 1, 1), sex=MALE, rural=rural)
    b.person("M", birth=mother_birth, sex=FEMALE, rural=rural, death=mother_death)
    b.person("K", birth=dt.date(1985, 1, 1), death=child_death)
    since = dt.date(1986, 1, 1) if kind == "adoptive" else None
    b.link("F", "K", kind=kind, since=since)
    b.link("M", "K", kind=kind, since=since)
    return b


def decide(b: FrameBuilder, on: dt.date = D) -> dict[int, tuple[str | None, Money | None]]:
    result = evaluate_program(SPECIAL_ASSISTANCE, b.build(on), PARAMS)
    return {int(r): (result.category_of(int(r)), result.amount_of(int(r))) for r in result.rows}


def failing(b: FrameBuilder, row: int, on: dt.date = D) -> str | None:
    outcome = explain(SPECIAL_ASSISTANCE, b.build(on), row, PARAMS).first_failing
    return None if outcome is None else outcome.ref


def test_r3_1_each_parent_separately() -> None:
    assert set(decide(make_family())) == {0, 1}


def test_r3_2_alive_and_born_on_or_after_1933() -> None:
    b = make_family()
    b.person("OLD", birth=dt.date(1932, 12, 31), sex=FEMALE)
    b.link("OLD", "K")
    assert 3 not in decide(b)
    assert failing(b, 3) == "R3.2"


def test_r3_3_exactly_one_ever_child() -> None:
    b = make_family()
    b.person("K2", birth=dt.date(1990, 1, 1))
    b.link("M", "K2")
    assert set(decide(b)) == {0}
    assert failing(b, 1) == "R3.3"


def test_r3_4_mother_aged_49_when_p_is_female_herself() -> None:
    b = make_family(mother_birth=dt.date(1977, 11, 2))
    assert decide(b) == {}
    assert failing(b, 1) == "R3.4"
    assert set(decide(b, dt.date(2026, 12, 1))) == {0, 1}


def test_r3_4_father_counts_the_mother_of_k_even_when_she_has_died() -> None:
    b = make_family(mother_birth=dt.date(1960, 1, 1), mother_death=dt.date(2000, 1, 1))
    assert set(decide(b)) == {0}
    adoptive = make_family(kind="adoptive", mother_death=dt.date(2000, 1, 1))
    assert set(decide(adoptive)) == {0}


def test_r3_4_no_mother_means_no_entitlement_for_the_father() -> None:
    b = FrameBuilder()
    b.person("F", birth=dt.date(1958, 1, 1))
    b.person("K", birth=dt.date(1985, 1, 1), death=dt.date(2010, 1, 1))
    b.link("F", "K")
    assert decide(b) == {}
    assert failing(b, 0) == "R3.4"


def test_r3_4_mother_by_the_same_kind_of_link_as_p() -> None:
    b = FrameBuilder()
    b.person("AF", birth=dt.date(1958, 1, 1))  # adoptive father
    b.person("BM", birth=dt.date(1960, 1, 1), sex=FEMALE)  # birth mother, 49+
    b.person("AM", birth=dt.date(1980, 1, 1), sex=FEMALE)  # adoptive mother, under 49
    b.person("K", birth=dt.date(1990, 1, 1), death=dt.date(2020, 1, 1))
    b.link("BM", "K")
    b.link("AF", "K", kind="adoptive", since=dt.date(1991, 1, 1))
    b.link("AM", "K", kind="adoptive", since=dt.date(1991, 1, 1))
    frame = b.build(D)
    assert frame.only_child_mother_birth_date[0] == frame.birth_date[2]
    assert set(decide(b)) == {1}
    assert failing(b, 0) == "R3.4"


def test_r3_5_death_category_when_k_is_not_alive_and_death_on_d_counts() -> None:
    b = make_family(child_death=D)
    assert decide(b) == {0: ("death", Money.parse("170.00")), 1: ("death", Money.parse("170.00"))}


def test_r3_5_disability_grade_1_to_3_valid_on_d() -> None:
    for grade, entitled in ((1, True), (3, True), (4, False)):
        b = make_family(child_death=None)
        b.disability("K", grade, dt.date(2020, 1, 1))
        assert bool(decide(b)) is entitled, grade
    b = make_family(child_death=None)
    b.disability("K", 2, dt.date(2020, 1, 1), valid_to=dt.date(2026, 10, 31))
    assert decide(b) == {}
    assert failing(b, 0) == "R3.5"
    b = make_family(child_death=None)
    assert decide(b) == {}


@pytest.mark.parametrize(
    ("on", "rural", "death", "disability"),
    [
        (dt.date(2008, 1, 1), True, "100.00", "80.00"),
        (dt.date(2008, 1, 1), False, "100.00", "80.00"),
        (dt.date(2012, 1, 1), True, "135.00", "110.00"),
        (dt.date(2012, 1, 1), False, "135.00", "110.00"),
        (dt.date(2014, 1, 1), False, "340.00", "270.00"),
        (dt.date(2014, 1, 1), True, "170.00", "150.00"),
    ],
)
def test_r3_6_monthly_amount_by_category_and_hukou_type(
    on: dt.date, rural: bool, death: str, disability: str
) -> None:
    older = dt.date(1955, 1, 1)
    dead = make_family(mother_birth=older, child_death=dt.date(2007, 1, 1), rural=rural)
    assert decide(dead, on)[0] == ("death", Money.parse(death))
    disabled = make_family(mother_birth=older, child_death=None, rural=rural)
    disabled.disability("K", 1, dt.date(2007, 1, 1))
    assert decide(disabled, on)[0] == ("disability", Money.parse(disability))


def test_r3_6_not_in_force_before_2008() -> None:
    result = evaluate_program(
        SPECIAL_ASSISTANCE,
        make_family(child_death=dt.date(2000, 1, 1)).build(dt.date(2007, 12, 1)),
        PARAMS,
    )
    assert not result.in_force
    assert len(result) == 0


def test_r3_6_missing_table_key_is_an_error_not_zero() -> None:
    table = PARAMS.get("special_assistance", "monthly_amount")
    override = table.__class__(
        program=table.program,
        name=table.name,
        description=table.description,
        reference="test",
        unit=table.unit,
        values=(
            ParameterStep(
                start=dt.date(2025, 1, 1),
                value=ParameterTable.of({"death.urban": Money(1), "death.rural": Money(1)}),
                source="Testland",
            ),
        ),
        source="Testland",
    )
    params = PARAMS.overlaid_by([override])
    dead = make_family(child_death=dt.date(2020, 1, 1))
    assert decide(dead, D)
    assert evaluate_program(SPECIAL_ASSISTANCE, dead.build(D), params).amounts_fen.tolist() == [
        1,
        1,
    ]
    disabled = make_family(child_death=None)
    disabled.disability("K", 1, dt.date(2020, 1, 1))
    with pytest.raises(ParameterNotFoundError) as caught:
        evaluate_program(SPECIAL_ASSISTANCE, disabled.build(D), params)
    for part in ("special_assistance", "monthly_amount", "2026-11-01", "disability.rural"):
        assert part in str(caught.value)


def test_r3_7_disabled_child_who_dies_moves_parents_to_death_from_the_next_d() -> None:
    b = make_family(child_death=dt.date(2026, 3, 15), rural=False)
    b.disability("K", 2, dt.date(2020, 1, 1))
    categories = {
        day: decide(b, day)[0] for day in month_starts(dt.date(2026, 2, 1), dt.date(2026, 5, 1))
    }
    assert categories == {
        dt.date(2026, 2, 1): ("disability", Money.parse("270.00")),
        dt.date(2026, 3, 1): ("disability", Money.parse("270.00")),
        dt.date(2026, 4, 1): ("death", Money.parse("340.00")),
        dt.date(2026, 5, 1): ("death", Money.parse("340.00")),
    }


def test_r3_explanation_shows_the_only_child_facts() -> None:
    b = make_family(child_death=None)
    b.disability("K", 2, dt.date(2020, 1, 1))
    explanation = explain(SPECIAL_ASSISTANCE, b.build(D), 0, PARAMS)
    assert explanation.entitled
    assert explanation.category == "disability"
    r35 = next(o for o in explanation.clauses if o.ref == "R3.5")
    assert r35.facts == (
        ("only_child", "K"),
        ("only_child.alive", True),
        ("only_child.disability_grade", 2),
    )
    assert "类别：伤残" in explanation.as_text("zh")
