"""Months as the benefit runs name them (R0.1: a month is evaluated on its first day)."""

from __future__ import annotations

import datetime as dt

import pytest

from famplan_core.benefits import month_of, month_text, parse_month
from famplan_core.errors import ValidationError


def test_a_month_is_its_first_day() -> None:
    """R0.1: the evaluation date of M is M-01."""
    assert parse_month("2026-11") == dt.date(2026, 11, 1)
    assert parse_month(" 2026-01 ") == dt.date(2026, 1, 1)
    assert parse_month(dt.date(2026, 2, 28)) == dt.date(2026, 2, 1)
    assert month_of(dt.date(2024, 2, 29)) == dt.date(2024, 2, 1)
    assert month_text(dt.date(2026, 3, 17)) == "2026-03"


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-1", "26-11", "2026/11", "", "Nov"])
def test_a_bad_month_names_where_what_and_the_form_expected(text: str) -> None:
    with pytest.raises(ValidationError) as error:
        parse_month(text, path="--month")
    problem = error.value.problems[0]
    assert problem.path == "--month"
    assert problem.value == text
    assert "YYYY-MM, e.g. 2026-11" in problem.message
