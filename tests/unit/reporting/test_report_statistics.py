"""Periods, rates, the sex ratio at birth and its interval, worked out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from famplan_core.errors import ValidationError
from famplan_core.reporting.periods import Period
from famplan_core.reporting.statistics import (
    average,
    person_years,
    quantize,
    rate_per_thousand,
    sex_ratio_at_birth,
    srb_is_too_uncertain,
    srb_standard_error,
)


@pytest.mark.parametrize(
    ("text", "kind", "first", "last", "days"),
    [
        ("2024", "year", dt.date(2024, 1, 1), dt.date(2024, 12, 31), 366),
        ("2026-Q1", "quarter", dt.date(2026, 1, 1), dt.date(2026, 3, 31), 90),
        ("2026q4", "quarter", dt.date(2026, 10, 1), dt.date(2026, 12, 31), 92),
        ("2024-02", "month", dt.date(2024, 2, 1), dt.date(2024, 2, 29), 29),
        ("2026-12", "month", dt.date(2026, 12, 1), dt.date(2026, 12, 31), 31),
    ],
)
def test_periods(text: str, kind: str, first: dt.date, last: dt.date, days: int) -> None:
    period = Period.parse(text)
    assert (period.kind, period.first, period.last, period.days) == (kind, first, last, days)
    assert period.eve == first - dt.timedelta(days=1)
    assert Period.parse(period.text()) == period
    assert next(iter(period.months())) == first
    assert len(list(period.months())) == {"year": 12, "quarter": 3, "month": 1}[kind]


@pytest.mark.parametrize("text", ["26", "2026-13", "2026-Q5", "2026-1", "二〇二六", "", "2026-W3"])
def test_bad_periods_say_what_is_expected(text: str) -> None:
    with pytest.raises(ValidationError, match="2026-Q3"):
        Period.parse(text, path="--period")


def test_labels() -> None:
    assert Period.parse("2026").label("zh") == "2026年"
    assert Period.parse("2026-03").label("zh") == "2026年3月"
    assert Period.parse("2026-Q2").label("en") == "2026 Q2"


def test_rates_on_the_average_population() -> None:
    # 12 births, population 1,000 at the start and 1,010 at the end: average 1,005;
    # 12 / 1005 x 1000 = 11.9403 -> 11.94
    assert average(1000, 1010) == Decimal(1005)
    assert rate_per_thousand(12, average(1000, 1010)) == Decimal("11.94")
    assert rate_per_thousand(-3, average(100, 100)) == Decimal("-30.00")
    assert rate_per_thousand(5, Decimal(0)) is None
    # a month of 31 days in a year of 365: person-years = 1005 x 31 / 365 = 85.356...;
    # 1 / 85.356 x 1000 = 11.7156 -> 11.72 (annualised)
    exposure = person_years(1000, 1010, days=31, year_days=365)
    assert rate_per_thousand(1, exposure) == Decimal("11.72")


def test_half_up_rounding() -> None:
    assert quantize(Decimal("0.125"), 2) == Decimal("0.13")
    assert quantize(Decimal("-0.125"), 2) == Decimal("-0.13")


def test_sex_ratio_interval_by_hand() -> None:
    # 55 boys, 45 girls: p = 0.55, ratio 100 x 0.55 / 0.45 = 122.22
    # Wilson, z = 1.96: z² = 3.8416, z²/n = 0.038416, denominator 1.038416
    # centre (0.55 + 0.019208) / 1.038416 = 0.548152
    # half 1.96 / 1.038416 x sqrt(0.002475 + 0.00009604) = 1.887490 x 0.050705 = 0.095706
    # p from 0.452446 to 0.643858 -> ratio from 82.63 to 180.79
    srb = sex_ratio_at_birth(55, 45)
    assert (srb.ratio, srb.low, srb.high) == (
        Decimal("122.22"),
        Decimal("82.63"),
        Decimal("180.79"),
    )
    # delta method at the observed p: 100 x sqrt(0.55 / (100 x 0.45³)) = 24.57
    assert srb.standard_error == Decimal("24.57")
    assert srb.too_uncertain


def test_sex_ratio_edges() -> None:
    nothing = sex_ratio_at_birth(0, 0)
    assert (nothing.ratio, nothing.low, nothing.high) == (None, None, None)
    assert nothing.too_uncertain
    boys_only = sex_ratio_at_birth(3, 0)
    assert boys_only.ratio is None  # no girls: no ratio
    assert boys_only.high is None  # unbounded above
    assert boys_only.low is not None
    assert boys_only.low > 0
    girls_only = sex_ratio_at_birth(0, 4)
    assert girls_only.ratio == Decimal("0.00")
    assert girls_only.low == Decimal("0.00")


def test_small_area_warning_follows_the_readme() -> None:
    # domain README §5: with p = 0.512, 300 births give a standard error of about 12
    # (interval about ±24), 1,000 about ±13, 10,000 about ±4
    for births, half in ((300, 24), (1000, 13), (10_000, 4)):
        error = srb_standard_error(births)
        assert error is not None
        assert quantize(Decimal("1.96") * error, 0) == half
    assert srb_is_too_uncertain(300)
    assert srb_is_too_uncertain(1692)
    assert not srb_is_too_uncertain(1693)
