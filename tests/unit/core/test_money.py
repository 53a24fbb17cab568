"""Money is exact to the fen and never a float (spec R0.7)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from famplan_core.errors import ValidationError
from famplan_core.model.money import Money


def test_r0_7_monthly_from_annual_rounds_half_up_to_the_fen() -> None:
    """R0.7: a monthly amount derived from an annual one is annual / 12, rounded half-up."""
    assert Money.parse("960.00").monthly_from_annual() == Money.parse("80.00")
    assert Money.parse("1000.00").monthly_from_annual() == Money.parse("83.33")
    assert Money.parse("0.06").monthly_from_annual() == Money.parse("0.01")  # 0.5 fen rounds up
    assert Money.parse("0.05").monthly_from_annual() == Money.parse("0.00")


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_text_round_trip(fen: int) -> None:
    assert Money.parse(str(Money(fen))) == Money(fen)


@given(st.integers(min_value=0, max_value=10**9))
def test_monthly_amount_matches_decimal_half_up(fen: int) -> None:
    expected = Money.of(Decimal(fen) / Decimal(100) / Decimal(12))
    assert Money(fen).monthly_from_annual() == expected


@pytest.mark.parametrize("bad", ["1.234", "abc", "", "1e3", "１00"])
def test_bad_text_is_refused_in_words(bad: str) -> None:
    with pytest.raises(ValidationError, match="at most two decimals"):
        Money.parse(bad)


def test_float_is_refused() -> None:
    with pytest.raises(ValidationError, match="never a float"):
        Money.of(1.5)  # type: ignore[arg-type]
