"""R5 hardship_relief (计划生育特困家庭救助): one-off grants, nothing monthly."""

from __future__ import annotations

import datetime as dt

import pytest

from famplan_core.errors import ValidationError
from famplan_core.model.money import Money
from famplan_core.programs import HARDSHIP_RELIEF, national_parameter_set, validate_grant
from famplan_core.rules import Parameter, ParameterStep, evaluate_program, explain
from famplan_core.rules.testing_frames import FrameBuilder

PARAMS = national_parameter_set()


def test_r5_1_nothing_is_computed_monthly() -> None:
    assert HARDSHIP_RELIEF.monthly is False
    assert HARDSHIP_RELIEF.beneficiary == "household"
    assert HARDSHIP_RELIEF.requires_application
    b = FrameBuilder()
    b.person("P", birth=dt.date(1950, 1, 1))
    result = evaluate_program(HARDSHIP_RELIEF, b.build(dt.date(2026, 11, 1)), PARAMS)
    assert result.in_force
    assert len(result) == 0
    assert [use.name for use in result.parameters] == ["max_amount"]
    explanation = explain(HARDSHIP_RELIEF, b.build(dt.date(2026, 11, 1)), 0, PARAMS)
    assert not explanation.entitled
    assert not explanation.monthly
    assert "case by case" in explanation.as_text()
    assert "逐案审批" in explanation.as_text("zh")


def test_r5_1_grant_within_max_amount_is_accepted() -> None:
    on = dt.date(2026, 11, 12)
    assert validate_grant(Money.parse("1000.00"), on) == Money.parse("1000.00")
    assert validate_grant(Money.parse("0.01"), on, PARAMS) == Money.parse("0.01")


def test_r5_1_grant_above_max_amount_is_refused_naming_program_date_and_value() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_grant(Money.parse("1000.01"), dt.date(2026, 11, 12))
    message = str(caught.value)
    for part in ("hardship_relief", "2026-11-12", "1000.01", "1000.00", "max_amount"):
        assert part in message


def test_r5_1_grant_must_be_positive_and_in_force() -> None:
    with pytest.raises(ValidationError, match=r"more than 0\.00"):
        validate_grant(Money(0), dt.date(2026, 1, 1))
    with pytest.raises(ValidationError, match="not in force"):
        validate_grant(Money(100), dt.date(1999, 12, 31))


def test_r5_1_province_can_raise_the_maximum() -> None:
    national = PARAMS.get("hardship_relief", "max_amount")
    province = Parameter(
        program="hardship_relief",
        name="max_amount",
        description=national.description,
        reference="鲁卫人口发〔2025〕x号",
        unit=national.unit,
        values=(
            ParameterStep(
                start=dt.date(2025, 1, 1), value=Money.parse("5000.00"), source="Shandong"
            ),
        ),
        source="Shandong",
    )
    params = PARAMS.overlaid_by([province])
    assert validate_grant(Money.parse("4000.00"), dt.date(2025, 3, 1), params)
    with pytest.raises(ValidationError):
        validate_grant(Money.parse("4000.00"), dt.date(2024, 12, 31), params)
