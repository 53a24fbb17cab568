"""R0.2: age in completed years, one date and a whole column."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from famplan_core.rules import ages_on, completed_years, latest_birth_for_age

dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))


def test_r0_2_completed_years_counts_whole_birthdays() -> None:
    assert completed_years(dt.date(1963, 5, 2), dt.date(2026, 5, 1)) == 62
    assert completed_years(dt.date(1963, 5, 2), dt.date(2026, 5, 2)) == 63
    assert completed_years(dt.date(2026, 5, 2), dt.date(2026, 5, 2)) == 0


def test_r0_2_leap_day_birthday_reaches_new_age_on_1_march_in_non_leap_years() -> None:
    born = dt.date(2000, 2, 29)
    assert completed_years(born, dt.date(2001, 2, 28)) == 0
    assert completed_years(born, dt.date(2001, 3, 1)) == 1
    assert completed_years(born, dt.date(2004, 2, 28)) == 3
    assert completed_years(born, dt.date(2004, 2, 29)) == 4


def test_r0_2_before_birth_is_minus_one() -> None:
    assert completed_years(dt.date(2030, 1, 1), dt.date(2029, 12, 31)) == -1


def test_r0_2_ages_on_matches_leap_day_rule_and_marks_nat_and_unborn() -> None:
    births = np.array(
        ["2000-02-29", "2000-02-29", "1960-03-02", "NaT", "2030-01-01"], dtype="datetime64[D]"
    )
    assert ages_on(births[:1], dt.date(2001, 2, 28)).tolist() == [0]
    assert ages_on(births, dt.date(2001, 3, 1)).tolist() == [1, 1, 40, -1, -1]
    assert ages_on(births, dt.date(2001, 3, 1)).dtype == np.int16


@given(birth=dates, on=dates)
def test_r0_2_ages_on_equals_completed_years(birth: dt.date, on: dt.date) -> None:
    column = np.array([birth], dtype="datetime64[D]")
    assert int(ages_on(column, on)[0]) == completed_years(birth, on)


@given(birth=dates, on=dates, years=st.integers(min_value=0, max_value=120))
def test_r0_2_latest_birth_for_age_is_the_exact_threshold(
    birth: dt.date, on: dt.date, years: int
) -> None:
    if on.year - years < 1:
        return
    assert (birth <= latest_birth_for_age(on, years)) == (completed_years(birth, on) >= years)


def test_r0_2_latest_birth_for_age_on_29_february() -> None:
    assert latest_birth_for_age(dt.date(2024, 2, 29), 49) == dt.date(1975, 2, 28)
    assert latest_birth_for_age(dt.date(2024, 2, 29), 48) == dt.date(1976, 2, 29)
