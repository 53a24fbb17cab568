"""What-if (政策测算): proposed parameter values laid over the deployment's, compared."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from famplan_core.benefits import proposed_parameters
from famplan_core.benefits.whatif import WHAT_IF, compare
from famplan_core.errors import (
    ParameterNotFoundError,
    ParameterParsingError,
    PluginNotFoundError,
    ValidationError,
)
from famplan_core.model.money import Money
from famplan_core.programs import national_parameter_set, national_programs
from famplan_core.rules.testing_frames import FEMALE, MALE, FrameBuilder

D = dt.date(2026, 11, 1)
PROGRAMS = {p.code: p for p in national_programs()}


def register() -> FrameBuilder:
    b = FrameBuilder()
    b.person("A", birth=dt.date(1950, 1, 1), division="371502110201")
    b.person("B", birth=dt.date(1951, 1, 1), sex=FEMALE, division="371502110202")
    b.person("KA", birth=dt.date(1980, 1, 1), division="371502110201")
    b.person("KB", birth=dt.date(1981, 1, 1), division="371502110202")
    b.link("A", "KA")
    b.link("B", "KB")
    b.person("Y", birth=dt.date(1967, 5, 1), sex=MALE, division="371502110201")  # 59
    b.person("KY", birth=dt.date(1990, 1, 1))
    b.link("Y", "KY")
    return b


def test_settings_overlay_the_parameters_from_the_month() -> None:
    after, lines = proposed_parameters(
        national_parameter_set(),
        PROGRAMS,
        settings=[
            "rural_reward.annual_amount=1200.00",
            "special_assistance.monthly_amount.death.rural=200.00",
            "rural_reward.min_age=59",
        ],
        start=D,
    )
    assert after.get("rural_reward", "annual_amount").amount_at(D) == Money.parse("1200.00")
    assert after.get("rural_reward", "annual_amount").amount_at(dt.date(2026, 10, 1)) == Money(
        96000
    )
    table = after.get("special_assistance", "monthly_amount").table_at(D)
    assert table is not None
    assert table.get("death.rural") == Money(20000)
    assert table.get("death.urban") == Money(34000)
    assert after.get("rural_reward", "min_age").integer_at(D) == 59
    assert after.get("rural_reward", "annual_amount").step_at(D).source == WHAT_IF  # type: ignore[union-attr]
    assert lines[0] == "rural_reward.annual_amount = 1200.00 from 2026-11-01 (what-if (proposed))"


@pytest.mark.parametrize(
    ("setting", "error", "message"),
    [
        ("rural_reward=5", ValidationError, "expected PROGRAM.PARAM=VALUE"),
        ("rural_reward.annual_amount=", ValidationError, "expected PROGRAM.PARAM=VALUE"),
        ("rural.annual_amount=5.00", PluginNotFoundError, "known programs: childcare_subsidy"),
        ("rural_reward.amount=5.00", ParameterNotFoundError, "annual_amount, min_age"),
        ("rural_reward.annual_amount=1.234", ValidationError, "two decimals"),
        ("rural_reward.min_age=sixty", ValidationError, "whole number"),
        ("special_assistance.monthly_amount=5.00", ValidationError, "death.rural"),
        ("special_assistance.monthly_amount.death.town=5.00", ValidationError, "no entry"),
        ("rural_reward.annual_amount.x=5.00", ValidationError, "not a table"),
    ],
)
def test_bad_settings_say_what_was_expected(
    setting: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        proposed_parameters(national_parameter_set(), PROGRAMS, settings=[setting], start=D)


def test_parameter_files_overlay_with_their_own_dates(tmp_path: Path) -> None:
    file = tmp_path / "rural_reward.annual_amount.yaml"
    file.write_text(
        "description: proposal\n"
        "metadata: {reference: draft, unit: CNY/year}\n"
        'values:\n  2026-07-01: {value: "1440.00"}\n',
        "utf-8",
    )
    after, lines = proposed_parameters(national_parameter_set(), PROGRAMS, files=[file], start=D)
    parameter = after.get("rural_reward", "annual_amount")
    assert parameter.amount_at(dt.date(2026, 8, 1)) == Money(144000)
    assert parameter.step_at(D).source == "what-if: rural_reward.annual_amount.yaml"  # type: ignore[union-attr]
    assert "2026-07-01: 1440.00" in lines[0]
    (tmp_path / "bad.yaml").write_text("values: 1\n", "utf-8")
    with pytest.raises(ParameterParsingError):
        proposed_parameters(
            national_parameter_set(), PROGRAMS, files=[tmp_path / "bad.yaml"], start=D
        )


def test_compare_reports_programs_villages_and_who_gains_or_loses() -> None:
    frame = register().build(D)
    after, _ = proposed_parameters(
        national_parameter_set(),
        PROGRAMS,
        settings=["rural_reward.annual_amount=1200.00", "rural_reward.min_age=59"],
        start=D,
    )
    programs, villages, people = compare(
        frame, national_programs(), national_parameter_set(), after
    )
    rural = next(p for p in programs if p.program == "rural_reward")
    assert (rural.before_count, rural.before_fen) == (2, 16000)
    assert (rural.after_count, rural.after_fen) == (3, 30000)
    assert rural.cost_fen == 14000
    assert (rural.gainers, rural.losers) == (3, 0)
    by_village = {v.village: v for v in villages if v.program == "rural_reward"}
    assert by_village["371502110201"].before_count == 1
    assert by_village["371502110201"].after_count == 2
    assert by_village["371502110201"].after_fen == 20000
    assert by_village["371502110202"].after_fen == 10000
    assert sorted((p.person_id, p.before_fen, p.after_fen) for p in people) == [
        ("A", 8000, 10000),
        ("B", 8000, 10000),
        ("Y", 0, 10000),
    ]
    lower, _ = proposed_parameters(
        national_parameter_set(), PROGRAMS, settings=["rural_reward.min_age=76"], start=D
    )
    programs, _, _ = compare(frame, national_programs(), national_parameter_set(), lower)
    rural = next(p for p in programs if p.program == "rural_reward")
    assert (rural.after_count, rural.gainers, rural.losers) == (1, 0, 1)
