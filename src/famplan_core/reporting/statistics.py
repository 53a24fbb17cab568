"""Honest statistics for small areas (小区域统计): rates and the sex ratio at birth.

Everything is exact decimal arithmetic (`decimal.Decimal`, 28 significant digits), rounded
half-up only when shown, so that a re-run gives identical numbers on every machine.

* Crude rates (粗率) are events per 1,000 person-years. For a year the person-years are the
  average population, ``(start + end) / 2`` (domain README §5); for a month or a quarter
  they are the average population times ``days in the period / days in the year``, so the
  rate is annualised and comparable with a yearly one.
* The sex ratio at birth (出生人口性别比) is male births per 100 female births. Its 95 %
  interval is the Wilson score interval of the share of boys ``p = m / n``, carried over to
  the ratio ``100 p / (1 - p)`` (which grows with p), so it is never negative and stays
  sensible for a handful of births. Its standard error, by the delta method, is
  ``100 * sqrt(p / (n (1 - p)^3))``; with ``p = 0.512`` a township of 300 births a year has
  a standard error of about 12 points, so its interval is about ±24 (README §5).
  `srb_is_too_uncertain` is true when the expected half-width at ``p = 0.512`` exceeds
  `SRB_MAX_HALF_WIDTH` points: the ratio of so few births cannot tell a normal 105 from
  a worrying 115, must be shown with its interval or pooled over years, and must never be
  used to "detect" sex selection.

Example:
    >>> srb = sex_ratio_at_birth(55, 45)
    >>> srb.ratio, srb.low, srb.high, srb.too_uncertain
    (Decimal('122.22'), Decimal('82.63'), Decimal('180.79'), True)
"""

from __future__ import annotations

import decimal
from decimal import ROUND_HALF_UP, Decimal

import attrs

__all__ = [
    "PER_THOUSAND",
    "SRB_MAX_HALF_WIDTH",
    "SRB_PLANNING_SHARE",
    "Z95",
    "SexRatio",
    "average",
    "person_years",
    "quantize",
    "rate_per_thousand",
    "sex_ratio_at_birth",
    "srb_is_too_uncertain",
    "srb_standard_error",
]

Z95 = Decimal("1.96")
"""The normal quantile of a two-sided 95 % interval."""

PER_THOUSAND = Decimal(1000)
"""Rates are given per 1,000 (‰)."""

SRB_PLANNING_SHARE = Decimal("0.512")
"""The usual share of boys among births (a sex ratio of about 105), for planning widths."""

SRB_MAX_HALF_WIDTH = Decimal(10)
"""Above this expected half-width of the 95 % interval (points), a sex ratio gets a warning."""

_CONTEXT = decimal.Context(prec=28, rounding=ROUND_HALF_UP)


def quantize(value: Decimal, places: int) -> Decimal:
    """Round half-up to `places` decimal places.

    Args:
        value: the number.
        places: how many decimals to keep.

    Example:
        >>> quantize(Decimal("2.345"), 2)
        Decimal('2.35')
    """
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def average(start: int, end: int) -> Decimal:
    """The average of a start and an end stock (平均人口): ``(start + end) / 2``, exact.

    Example:
        >>> average(1001, 1000)
        Decimal('1000.5')
    """
    return (Decimal(start) + Decimal(end)) / 2


def person_years(start: int, end: int, *, days: int, year_days: int) -> Decimal:
    """Person-years lived in a period: the average population times its share of a year.

    Args:
        start: the stock at the start of the period.
        end: the stock at its end.
        days: the days in the period.
        year_days: the days in its calendar year.
    """
    with decimal.localcontext(_CONTEXT):
        return average(start, end) * Decimal(days) / Decimal(year_days)


def rate_per_thousand(events: int, exposure: Decimal, *, places: int = 2) -> Decimal | None:
    """Events per 1,000 person-years (‰), rounded half-up; None when nobody was exposed.

    Args:
        events: the number of events (births, deaths, or births minus deaths).
        exposure: the person-years (the average population for a year).
        places: the decimals shown.

    Example:
        >>> rate_per_thousand(12, average(1000, 1010))
        Decimal('11.94')
    """
    if exposure <= 0:
        return None
    with decimal.localcontext(_CONTEXT):
        return quantize(Decimal(events) * PER_THOUSAND / exposure, places)


def srb_standard_error(births: int, share: Decimal = SRB_PLANNING_SHARE) -> Decimal | None:
    """The standard error of the sex ratio at birth: ``100 * sqrt(p / (n (1 - p)^3))``.

    Args:
        births: n, the live births of known sex.
        share: p, the share of boys (the observed one, or `SRB_PLANNING_SHARE`).

    Returns:
        The standard error in points, or None without births or without girls.

    Example:
        >>> quantize(srb_standard_error(300), 1)
        Decimal('12.1')
    """
    if births <= 0 or share >= 1:
        return None
    with decimal.localcontext(_CONTEXT):
        return 100 * (share / (Decimal(births) * (1 - share) ** 3)).sqrt()


def srb_is_too_uncertain(births: int) -> bool:
    """Whether a sex ratio of `births` births is too uncertain to mean anything.

    True when the expected half-width of its 95 % interval, at the usual share of boys,
    exceeds `SRB_MAX_HALF_WIDTH` points (below about 1,700 births).

    Example:
        >>> srb_is_too_uncertain(300), srb_is_too_uncertain(2000)
        (True, False)
    """
    error = srb_standard_error(births)
    return error is None or Z95 * error > SRB_MAX_HALF_WIDTH


@attrs.frozen(kw_only=True)
class SexRatio:
    """A sex ratio at birth (出生人口性别比) with its 95 % interval.

    Attributes:
        males: male live births.
        females: female live births.
        ratio: males per 100 females, 2 decimals; None without female births.
        low: the lower end of the 95 % interval, 2 decimals; None without births.
        high: the upper end; None when it is unbounded (no female births) or no births.
        standard_error: the delta-method standard error at the observed share, 2 decimals.
        too_uncertain: the births are too few for the ratio to mean anything.
    """

    males: int
    females: int
    ratio: Decimal | None
    low: Decimal | None
    high: Decimal | None
    standard_error: Decimal | None
    too_uncertain: bool

    @property
    def births(self) -> int:
        """Live births of known sex."""
        return self.males + self.females


def _ratio(share: Decimal) -> Decimal | None:
    if share >= 1:
        return None
    return 100 * share / (1 - share)


def sex_ratio_at_birth(males: int, females: int, *, z: Decimal = Z95) -> SexRatio:
    """The sex ratio at birth with its Wilson 95 % interval and the small-number warning.

    Args:
        males: male live births.
        females: female live births.
        z: the normal quantile of the interval (1.96 for 95 %).

    Example:
        >>> sex_ratio_at_birth(0, 0).ratio is None
        True
    """
    n = males + females
    if n <= 0:
        return SexRatio(
            males=males,
            females=females,
            ratio=None,
            low=None,
            high=None,
            standard_error=None,
            too_uncertain=True,
        )
    with decimal.localcontext(_CONTEXT):
        p = Decimal(males) / Decimal(n)
        nd = Decimal(n)
        z2 = z * z
        denominator = 1 + z2 / nd
        centre = (p + z2 / (2 * nd)) / denominator
        half = z / denominator * (p * (1 - p) / nd + z2 / (4 * nd * nd)).sqrt()
        low_p = max(Decimal(0), centre - half)
        high_p = min(Decimal(1), centre + half)
        ratio = _ratio(p)
        low = _ratio(low_p)
        high = _ratio(high_p)
        error = srb_standard_error(n, p)
        return SexRatio(
            males=males,
            females=females,
            ratio=None if ratio is None else quantize(ratio, 2),
            low=None if low is None else quantize(low, 2),
            high=None if high is None else quantize(high, 2),
            standard_error=None if error is None else quantize(error, 2),
            too_uncertain=srb_is_too_uncertain(n),
        )
