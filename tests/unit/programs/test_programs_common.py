"""R0 common definitions, checked through the national programs."""

from __future__ import annotations

import datetime as dt
import json

import attrs
import pytest

from famplan_core.errors import ParameterNotFoundError
from famplan_core.model.money import Money
from famplan_core.programs import (
    CHILDCARE_SUBSIDY,
    ONLY_CHILD_REWARD,
    RURAL_REWARD,
    SPECIAL_ASSISTANCE,
    national_parameter_set,
    national_programs,
)
from famplan_core.rules import (
    Parameter,
    ParameterStep,
    Program,
    evaluate_program,
    explain,
)
from famplan_core.rules.testing_frames import (
    FEMALE,
    FrameBuilder,
    HukouChange,
    month_starts,
)

PARAMS = national_parameter_set()
D = dt.date(2026, 11, 1)
MONTHLY = [p for p in national_programs() if p.monthly]


def rural_parent(
    b: FrameBuilder,
    *,
    death: dt.date | None = None,
    division: str = "371502110001",
    hukou_changes: tuple[HukouChange, ...] = (),
) -> None:
    """A rural parent P (row 0), born 1950, with one child (row 1)."""
    b.person(
        "P", birth=dt.date(1950, 1, 1), death=death, division=division, hukou_changes=hukou_changes
    )
    b.person("P-C", birth=dt.date(1980, 1, 1))
    b.link("P", "P-C")


def paid(program: Program, b: FrameBuilder, on: dt.date, row: int = 0) -> bool:
    return row in evaluate_program(program, b.build(on), PARAMS).rows


def test_r0_1_month_is_evaluated_on_its_first_day_and_later_facts_are_ignored() -> None:
    b = FrameBuilder()
    rural_parent(b, death=dt.date(2026, 11, 2))
    assert paid(RURAL_REWARD, b, D)  # the death on 2 November is after D
    assert not paid(RURAL_REWARD, b, dt.date(2026, 12, 1))
    b2 = FrameBuilder()
    rural_parent(b2)
    b2.person("NEW", birth=dt.date(2026, 11, 5), sex=FEMALE)
    b2.link("P", "NEW")
    assert paid(RURAL_REWARD, b2, D)  # a child born after D is ignored for November
    assert not paid(RURAL_REWARD, b2, dt.date(2026, 12, 1))


def test_r0_3_someone_who_dies_on_d_is_not_alive_on_d() -> None:
    b = FrameBuilder()
    b.person("C", birth=dt.date(2025, 5, 1), death=D)
    assert not paid(CHILDCARE_SUBSIDY, b, D)
    assert paid(CHILDCARE_SUBSIDY, b, dt.date(2026, 10, 1))
    unborn = FrameBuilder()
    unborn.person("C", birth=dt.date(2026, 11, 2))
    assert not paid(CHILDCARE_SUBSIDY, unborn, D)
    assert unborn.build(D).age[0] == -1


def test_r0_4_children_are_birth_or_adoptive_links_never_step() -> None:
    b = FrameBuilder()
    b.person("P", birth=dt.date(1950, 1, 1))
    b.person("S1", birth=dt.date(1980, 1, 1))
    b.link("P", "S1", kind="step")
    frame = b.build(D)
    assert frame.ever_children[0] == 0
    assert not paid(RURAL_REWARD, b, D)
    b.link("P", "S1", kind="adoptive", since=dt.date(2026, 11, 1))
    assert b.build(D).ever_children[0] == 1
    assert b.build(dt.date(2026, 10, 1)).ever_children[0] == 0


def test_r0_4_ever_children_count_the_dead_living_children_do_not() -> None:
    b = FrameBuilder()
    b.person("P", birth=dt.date(1950, 1, 1))
    b.person("K", birth=dt.date(1980, 1, 1), death=dt.date(2000, 1, 1))
    b.link("P", "K")
    frame = b.build(D)
    assert (frame.ever_children[0], frame.living_children[0]) == (1, 0)
    assert paid(RURAL_REWARD, b, D)


def test_r0_5_moved_in_on_15_march_is_inside_from_april() -> None:
    b = FrameBuilder()
    rural_parent(
        b,
        hukou_changes=(HukouChange(on=dt.date(2026, 3, 15), division="371502110005", rural=True),),
    )
    months = month_starts(dt.date(2026, 2, 1), dt.date(2026, 5, 1))
    assert [day.month for day in months if paid(RURAL_REWARD, b, day)] == [4, 5]
    frame = b.build(dt.date(2026, 3, 1))
    assert not frame.hukou_known[0]
    assert not frame.in_jurisdiction[0]


def test_r0_5_no_hukou_change_uses_the_person_row_on_every_date() -> None:
    b = FrameBuilder()
    rural_parent(b)
    assert paid(RURAL_REWARD, b, dt.date(2012, 1, 1))


@pytest.mark.parametrize("program", MONTHLY, ids=lambda p: p.code)
def test_r0_6_only_persons_with_hukou_inside_the_jurisdiction(program: Program) -> None:
    def family(division: str) -> FrameBuilder:
        b = FrameBuilder()
        b.person("M", birth=dt.date(1960, 1, 1), sex=FEMALE, division=division)
        b.person("K", birth=dt.date(2025, 6, 1), division=division, death=None)
        b.link("M", "K")
        b.certificate("C", "M", "K", dt.date(2025, 7, 1))
        b.person("M2", birth=dt.date(1960, 1, 1), sex=FEMALE, division=division)
        b.person("K2", birth=dt.date(1990, 1, 1), death=dt.date(2020, 1, 1), division=division)
        b.link("M2", "K2")
        return b

    inside = evaluate_program(program, family("371502110123").build(D), PARAMS)
    outside = evaluate_program(program, family("371502115001").build(D), PARAMS)
    assert len(inside) >= 1
    assert len(outside) == 0
    assert program.find_clause("R0.6") is not None


def test_r0_6_prefix_match_on_the_division_code() -> None:
    b = FrameBuilder(jurisdiction="3715")
    rural_parent(b, division="371502115001")
    assert paid(RURAL_REWARD, b, D)
    b2 = FrameBuilder(jurisdiction="371502110")
    rural_parent(b2, division="371502115001")
    assert not paid(RURAL_REWARD, b2, D)


def test_r0_7_monthly_from_annual_rounds_half_up_to_the_fen() -> None:
    def with_annual(text: str) -> Money | None:
        override = Parameter(
            program="rural_reward",
            name="annual_amount",
            description="d",
            reference="test",
            unit="CNY/year",
            values=(ParameterStep(start=dt.date(2026, 1, 1), value=Money.parse(text)),),
        )
        b = FrameBuilder()
        rural_parent(b)
        result = evaluate_program(RURAL_REWARD, b.build(D), PARAMS.overlaid_by([override]))
        return result.amount_of(0)

    assert with_annual("960.00") == Money.parse("80.00")
    assert with_annual("1000.00") == Money.parse("83.33")  # 83.333...
    assert with_annual("1000.06") == Money.parse("83.34")  # 83.338...
    assert with_annual("0.06") == Money.parse("0.01")  # exactly half a fen rounds up
    assert with_annual("0.05") == Money.parse("0.00")


def test_r0_8_a_program_with_a_gap_after_its_first_value_is_an_error() -> None:
    national = PARAMS.get("childcare_subsidy", "monthly_amount")
    gap = ParameterStep(start=dt.date(2026, 1, 1), value=None, source="Testland")
    with_gap = attrs.evolve(national, values=(*national.values, gap))
    params = PARAMS.overlaid_by([with_gap])
    b = FrameBuilder()
    b.person("C", birth=dt.date(2025, 5, 1))
    assert len(evaluate_program(CHILDCARE_SUBSIDY, b.build(dt.date(2025, 12, 1)), params)) == 1
    with pytest.raises(ParameterNotFoundError) as caught:
        evaluate_program(CHILDCARE_SUBSIDY, b.build(dt.date(2026, 1, 1)), params)
    message = str(caught.value)
    for part in ("childcare_subsidy", "monthly_amount", "2026-01-01"):
        assert part in message


def test_r0_9_decision_record_and_explanation() -> None:
    b = FrameBuilder()
    b.person("F", birth=dt.date(1958, 1, 1))
    b.person("M", birth=dt.date(1960, 1, 1), sex=FEMALE)
    b.person("K", birth=dt.date(1985, 1, 1), death=dt.date(2010, 1, 1))
    b.link("F", "K").link("M", "K")
    frame = b.build(D)
    result = evaluate_program(SPECIAL_ASSISTANCE, frame, PARAMS)
    assert (result.program, result.date, result.version) == ("special_assistance", D, "1")
    assert result.rows.tolist() == [0, 1]
    assert result.categories.tolist() == ["death", "death"]
    explanation = explain(SPECIAL_ASSISTANCE, frame, 0, PARAMS)
    assert all(outcome.passed for outcome in explanation.clauses)
    assert explanation.clauses[1].facts == (
        ("alive", True),
        ("birth_date", dt.date(1958, 1, 1)),
    )
    record = explanation.as_dict()
    json.dumps(record, ensure_ascii=False)
    assert record["program"] == "special_assistance"
    assert record["person_id"] == "F"
    assert record["category"] == "death"
    assert record["amount"] == "170.00"
    assert [c["ref"] for c in record["clauses"]] == ["R0.6", "R3.2", "R3.3", "R3.4", "R3.5"]
    assert record["parameters"][0]["source"] == "national"
    refused = explain(SPECIAL_ASSISTANCE, frame, 2, PARAMS)
    assert not refused.entitled
    assert refused.first_failing is not None
    assert refused.first_failing.ref == "R3.2"


def test_r0_10_disability_certificate_valid_on_both_ends_inclusive() -> None:
    def grade(valid_from: dt.date, valid_to: dt.date | None) -> int:
        b = FrameBuilder()
        b.person("K", birth=dt.date(1990, 1, 1))
        b.disability("K", 2, valid_from, valid_to)
        return int(b.build(D).disability_grade[0])

    assert grade(D, None) == 2
    assert grade(dt.date(2020, 1, 1), D) == 2
    assert grade(dt.date(2020, 1, 1), dt.date(2026, 10, 31)) == 0
    assert grade(dt.date(2026, 11, 2), None) == 0


def test_r0_10_certificate_valid_when_issued_on_or_before_d_and_not_revoked_by_d() -> None:
    b = FrameBuilder()
    b.person("P", birth=dt.date(1980, 1, 1))
    b.person("K", birth=dt.date(2015, 1, 1))
    b.certificate("C", "P", "K", dt.date(2015, 2, 1), revoked_on=D)
    assert len(b.build(D).certificates) == 0
    assert len(b.build(dt.date(2026, 10, 1)).certificates) == 1
    assert len(b.build(dt.date(2015, 1, 31)).certificates) == 0
    assert not paid(ONLY_CHILD_REWARD, b, D)


def test_r0_11_each_month_afresh_stops_and_resumes() -> None:
    b = FrameBuilder()
    rural_parent(
        b,
        hukou_changes=(
            HukouChange(on=dt.date(1950, 1, 1), division="371502110001", rural=True),
            HukouChange(on=dt.date(2026, 2, 10), division="371502115001", rural=True),
            HukouChange(on=dt.date(2026, 4, 20), division="371502110002", rural=True),
        ),
    )
    months = month_starts(dt.date(2026, 1, 1), dt.date(2026, 6, 1))
    assert [paid(RURAL_REWARD, b, day) for day in months] == [
        True,
        True,
        False,
        False,
        True,
        True,
    ]


def test_r0_12_any_month_including_a_forecast() -> None:
    b = FrameBuilder()
    b.person("C", birth=dt.date(2040, 5, 1))
    assert paid(CHILDCARE_SUBSIDY, b, dt.date(2041, 1, 1))
    b2 = FrameBuilder()
    rural_parent(b2)
    assert paid(RURAL_REWARD, b2, dt.date(2045, 7, 1))
