"""The shipped national parameters and program definitions match spec/programs.md."""

from __future__ import annotations

import datetime as dt

import pytest

from famplan_core.model.money import Money
from famplan_core.programs import (
    CHILDCARE_SUBSIDY,
    HARDSHIP_RELIEF,
    ONLY_CHILD_REWARD,
    RURAL_REWARD,
    SPECIAL_ASSISTANCE,
    national_parameter_set,
    national_parameters,
    national_programs,
)
from famplan_core.rules import ParameterTable, Program, evaluate_program, parse_parameter_yaml
from famplan_core.rules.testing_frames import FrameBuilder

PARAMS = national_parameter_set()


def steps(program: str, name: str) -> list[tuple[dt.date, str]]:
    return [(s.start, str(s.value)) for s in PARAMS.get(program, name).values]


def test_every_shipped_parameter_is_national_with_a_reference() -> None:
    assert len(national_parameters()) == 9
    for parameter in national_parameters():
        assert parameter.source == "national"
        assert parameter.reference
        assert parameter.description
        assert all(step.source == "national" and step.reference for step in parameter.values)


def test_every_program_parameter_is_shipped() -> None:
    for program in national_programs():
        for name in program.parameter_names:
            assert PARAMS.get(program.code, name).program == program.code


def test_r1_4_childcare_parameters() -> None:
    assert steps("childcare_subsidy", "monthly_amount") == [(dt.date(2025, 1, 1), "300.00")]
    assert steps("childcare_subsidy", "age_limit") == [(dt.date(2025, 1, 1), "3")]


def test_r2_6_rural_reward_parameters() -> None:
    assert steps("rural_reward", "annual_amount") == [
        (dt.date(2004, 1, 1), "600.00"),
        (dt.date(2012, 1, 1), "960.00"),
    ]
    assert PARAMS.get("rural_reward", "annual_amount").unit == "CNY/year"
    assert steps("rural_reward", "min_age") == [(dt.date(2004, 1, 1), "60")]


def test_r3_6_special_assistance_table() -> None:
    parameter = PARAMS.get("special_assistance", "monthly_amount")
    expected = {
        dt.date(2008, 1, 1): ("100.00", "100.00", "80.00", "80.00"),
        dt.date(2012, 1, 1): ("135.00", "135.00", "110.00", "110.00"),
        dt.date(2014, 1, 1): ("340.00", "170.00", "270.00", "150.00"),
    }
    assert [step.start for step in parameter.values] == list(expected)
    for step in parameter.values:
        assert isinstance(step.value, ParameterTable)
        keys = ("death.urban", "death.rural", "disability.urban", "disability.rural")
        assert tuple(str(step.value.get(key)) for key in keys) == expected[step.start]
    assert steps("special_assistance", "mother_min_age") == [(dt.date(2008, 1, 1), "49")]


def test_r4_5_only_child_reward_parameters() -> None:
    assert steps("only_child_reward", "monthly_amount") == [(dt.date(2002, 9, 1), "10.00")]
    assert steps("only_child_reward", "age_limit") == [(dt.date(2002, 9, 1), "18")]


def test_r5_1_hardship_relief_maximum() -> None:
    assert steps("hardship_relief", "max_amount") == [(dt.date(2000, 1, 1), "1000.00")]


@pytest.mark.parametrize(
    ("program", "refs", "beneficiary", "monthly"),
    [
        (CHILDCARE_SUBSIDY, ["R0.6", "R1.2", "R1.3"], "child", True),
        (RURAL_REWARD, ["R0.6", "R2.2", "R2.3", "R2.5", "R2.4"], "person", True),
        (SPECIAL_ASSISTANCE, ["R0.6", "R3.2", "R3.3", "R3.4", "R3.5"], "person", True),
        (ONLY_CHILD_REWARD, ["R4.1", "R0.6", "R4.2", "R4.3", "R4.4"], "person", True),
        (HARDSHIP_RELIEF, [], "household", False),
    ],
)
def test_programs_are_defined_as_the_spec_says(
    program: Program, refs: list[str], beneficiary: str, monthly: bool
) -> None:
    assert [clause.ref for clause in program.clauses] == refs
    assert program.beneficiary == beneficiary
    assert program.monthly is monthly
    assert program.requires_application
    assert program.version == "1"
    assert program.reference
    for clause in program.clauses:
        assert clause.text_en
        assert clause.text_zh


def test_national_programs_in_spec_order() -> None:
    assert [p.code for p in national_programs()] == [
        "childcare_subsidy",
        "rural_reward",
        "special_assistance",
        "only_child_reward",
        "hardship_relief",
    ]
    assert SPECIAL_ASSISTANCE.categories == ("death", "disability")


def test_a_province_overlays_national_values_with_provenance() -> None:
    shandong = parse_parameter_yaml(
        """
description: Shandong rural reward
metadata:
  reference: "鲁卫人口发〔2025〕x号"
  unit: CNY/year
  source: "Shandong: 鲁卫人口发〔2025〕x号"
values:
  2025-01-01: {value: "1440.00"}
""",
        file="rural_reward.annual_amount.yaml",
    )
    params = PARAMS.overlaid_by([shandong])
    b = FrameBuilder()
    b.person("P", birth=dt.date(1950, 1, 1))
    b.person("C", birth=dt.date(1980, 1, 1))
    b.link("P", "C")
    before = evaluate_program(RURAL_REWARD, b.build(dt.date(2024, 12, 1)), params)
    after = evaluate_program(RURAL_REWARD, b.build(dt.date(2025, 1, 1)), params)
    assert before.amount_of(0) == Money.parse("80.00")
    assert after.amount_of(0) == Money.parse("120.00")
    annual = next(use for use in after.parameters if use.name == "annual_amount")
    assert annual.source == "Shandong: 鲁卫人口发〔2025〕x号"
    assert annual.reference == "鲁卫人口发〔2025〕x号"
    annual_before = next(use for use in before.parameters if use.name == "annual_amount")
    assert annual_before.source == "national"
