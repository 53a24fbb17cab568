"""Report periods (统计期): a month, a quarter or a year.

A period is written ``2026`` (a year), ``2026-Q3`` (a quarter) or ``2026-03`` (a month). It
runs from its first day to its last day, both included. Stocks (人口数) are counted at the
end of the day before the first day (期初) and at the end of the last day (期末); events
(births, deaths) are counted when their date falls in the period.

Example:
    >>> p = Period.parse("2026-Q3")
    >>> p.first, p.last, p.days
    (datetime.date(2026, 7, 1), datetime.date(2026, 9, 30), 92)
    >>> p.label("zh"), p.label("en")
    ('2026年第3季度', '2026 Q3')
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterator
from typing import Literal

import attrs

from famplan_core.errors import ValidationError

__all__ = ["Period", "PeriodKind"]

PeriodKind = Literal["month", "quarter", "year"]
"""The kinds of report period: ``month`` (月报), ``quarter`` (季报) and ``year`` (年报)."""

_YEAR = re.compile(r"^([0-9]{4})$")
_QUARTER = re.compile(r"^([0-9]{4})-?[Qq]([1-4])$")
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


@attrs.frozen(kw_only=True)
class Period:
    """A report period (统计期): a calendar month, quarter or year.

    Attributes:
        kind: ``month``, ``quarter`` or ``year``.
        year: the calendar year.
        number: the month (1-12) or the quarter (1-4); 1 for a year.
    """

    kind: PeriodKind
    year: int = attrs.field(validator=attrs.validators.ge(1))
    number: int = 1

    def __attrs_post_init__(self) -> None:
        top = {"month": 12, "quarter": 4, "year": 1}[self.kind]
        if not 1 <= self.number <= top:
            raise ValueError(f"{self.kind} number must be 1-{top}: {self.number}")

    @classmethod
    def parse(cls, text: str, *, path: str = "period") -> Period:
        """Read a period written ``2026``, ``2026-Q3`` (or ``2026Q3``) or ``2026-03``.

        Args:
            text: the period as text.
            path: where the text came from (e.g. ``--period``), for the error message.

        Raises:
            ValidationError: the text is none of those forms.
        """
        value = text.strip() if isinstance(text, str) else ""
        if match := _YEAR.match(value):
            year, kind, number = int(match.group(1)), "year", 1
        elif match := _QUARTER.match(value):
            year, kind, number = int(match.group(1)), "quarter", int(match.group(2))
        elif (match := _MONTH.match(value)) and 1 <= int(match.group(2)) <= 12:
            year, kind, number = int(match.group(1)), "month", int(match.group(2))
        else:
            raise ValidationError.single(
                path,
                text,
                "expected a year (2026), a quarter (2026-Q3) or a month (2026-03)",
            )
        if year < 1:
            raise ValidationError.single(path, text, "the year must be 1 or later")
        return cls(kind=kind, year=year, number=number)  # type: ignore[arg-type]

    @property
    def first(self) -> dt.date:
        """The period's first day."""
        month = {"year": 1, "quarter": 3 * self.number - 2, "month": self.number}[self.kind]
        return dt.date(self.year, month, 1)

    @property
    def last(self) -> dt.date:
        """The period's last day (included)."""
        month = {"year": 12, "quarter": 3 * self.number, "month": self.number}[self.kind]
        return dt.date(self.year, month, calendar.monthrange(self.year, month)[1])

    @property
    def days(self) -> int:
        """The number of days in the period."""
        return (self.last - self.first).days + 1

    @property
    def year_days(self) -> int:
        """The number of days in the period's calendar year (365 or 366)."""
        return 366 if calendar.isleap(self.year) else 365

    @property
    def eve(self) -> dt.date:
        """The day before the first day: the start-of-period stock is counted at its end."""
        return self.first - dt.timedelta(days=1)

    def months(self) -> Iterator[dt.date]:
        """The first day of each month of the period, in order."""
        d = self.first
        while d <= self.last:
            yield d
            d = dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)

    def text(self) -> str:
        """The period as it is written: ``2026``, ``2026-Q3`` or ``2026-03``."""
        if self.kind == "year":
            return f"{self.year:04d}"
        if self.kind == "quarter":
            return f"{self.year:04d}-Q{self.number}"
        return f"{self.year:04d}-{self.number:02d}"

    def label(self, lang: str) -> str:
        """The period for a reader, in ``zh`` (``2026年3月``) or ``en`` (``March 2026``)."""
        if lang == "zh":
            if self.kind == "year":
                return f"{self.year}年"
            if self.kind == "quarter":
                return f"{self.year}年第{self.number}季度"
            return f"{self.year}年{self.number}月"
        if self.kind == "year":
            return str(self.year)
        if self.kind == "quarter":
            return f"{self.year} Q{self.number}"
        return f"{calendar.month_name[self.number]} {self.year}"

    def __str__(self) -> str:
        return self.text()
