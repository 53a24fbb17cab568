"""Money (金额): yuan held exactly as integer fen, never as float (spec R0.7)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import attrs

from famplan_core.errors import ValidationError

__all__ = ["Money"]

_TEXT = re.compile(r"^(-?)([0-9]{1,15})(?:\.([0-9]{1,2}))?$")


@attrs.frozen(order=True)
class Money:
    """An amount of yuan, exact to the fen (分).

    Build it from text or Decimal with `Money.parse` / `Money.of`, or from fen directly.
    `str(Money)` gives two decimals, e.g. ``"960.00"``.

    Attributes:
        fen: the amount in fen (1 yuan = 100 fen); negative for overpayments.

    Example:
        >>> Money.parse("960") // 12
        Money(fen=8000)
        >>> str(Money.parse("0.05") + Money.parse("1"))
        '1.05'
    """

    fen: int

    @classmethod
    def parse(cls, text: str, *, path: str = "amount") -> Money:
        """Read an amount written as yuan with at most two decimals, e.g. ``"960.00"``.

        Args:
            text: the amount as text.
            path: where the text came from, for the error message.

        Raises:
            ValidationError: the text is not an amount of yuan with at most two decimals.
        """
        if isinstance(text, float) or not isinstance(text, str):
            raise ValidationError.single(
                path, text, "expected an amount of yuan as text, e.g. '960.00', never a float"
            )
        match = _TEXT.match(text.strip().replace(",", ""))
        if match is None:
            raise ValidationError.single(
                path, text, "expected an amount of yuan with at most two decimals, e.g. '960.00'"
            )
        sign, whole, frac = match.groups()
        fen = int(whole) * 100 + int((frac or "0").ljust(2, "0"))
        return cls(-fen if sign else fen)

    @classmethod
    def of(cls, value: Decimal | int | str) -> Money:
        """Make an amount from a Decimal, whole yuan or text; Decimals round half-up to the fen.

        Args:
            value: the amount in yuan.

        Raises:
            ValidationError: a float was given, or the text is not an amount.
        """
        if isinstance(value, bool | float):
            raise ValidationError.single(
                "amount", value, "money is never a float; give text or Decimal"
            )
        if isinstance(value, int):
            return cls(value * 100)
        if isinstance(value, str):
            return cls.parse(value)
        try:
            fen = (value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        except InvalidOperation as exc:
            raise ValidationError.single("amount", value, "not a finite amount") from exc
        return cls(int(fen))

    @classmethod
    def zero(cls) -> Money:
        """No money."""
        return cls(0)

    def monthly_from_annual(self) -> Money:
        """The monthly amount of this annual one: ``annual / 12``, half-up to the fen (R0.7)."""
        quotient, remainder = divmod(abs(self.fen), 12)
        if remainder * 2 >= 12:
            quotient += 1
        return Money(quotient if self.fen >= 0 else -quotient)

    def to_decimal(self) -> Decimal:
        """The amount as a Decimal of yuan with two places."""
        return Decimal(self.fen).scaleb(-2).quantize(Decimal("0.01"))

    def __str__(self) -> str:
        sign = "-" if self.fen < 0 else ""
        whole, frac = divmod(abs(self.fen), 100)
        return f"{sign}{whole}.{frac:02d}"

    def __add__(self, other: Any) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.fen + other.fen)

    def __sub__(self, other: Any) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.fen - other.fen)

    def __neg__(self) -> Money:
        return Money(-self.fen)

    def __mul__(self, other: Any) -> Money:
        if isinstance(other, bool) or not isinstance(other, int):
            return NotImplemented
        return Money(self.fen * other)

    __rmul__ = __mul__

    def __floordiv__(self, other: Any) -> Money:
        """Divide by a whole number, rounding half-up to the fen."""
        if isinstance(other, bool) or not isinstance(other, int) or other <= 0:
            return NotImplemented
        quotient, remainder = divmod(abs(self.fen), other)
        if remainder * 2 >= other:
            quotient += 1
        return Money(quotient if self.fen >= 0 else -quotient)

    def __bool__(self) -> bool:
        return self.fen != 0
