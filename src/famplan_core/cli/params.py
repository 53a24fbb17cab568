"""The option types every command shares for dates, months and report periods.

A date, month or period outside the years `EARLIEST` to `LATEST` is a usage error (exit 2)
with one plain line, never an internal error further on: a year 0001 or 10000 is a typing
slip, and date arithmetic near the ends of the calendar (a notice window, the end of a
quarter) would otherwise overflow.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final

import click

__all__ = ["DATE", "EARLIEST", "LATEST", "MONTH", "PERIOD", "TIME", "DateType", "PeriodType"]

EARLIEST: Final = dt.date(1900, 1, 1)
"""The first date an option accepts."""

LATEST: Final = dt.date(2999, 12, 31)
"""The last date an option accepts."""

_RANGE: Final = f"from {EARLIEST.isoformat()} to {LATEST.isoformat()}"
_DATE_TIME: Final = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2}):([0-9]{2}))?", re.ASCII
)


class DateType(click.ParamType[dt.datetime, Any]):
    """A date written ``YYYY-MM-DD`` (with `with_time`, optionally ``THH:MM:SS`` after it).

    The value is a `datetime.datetime` (midnight when no time is given), as
    `click.DateTime` gives.

    Args:
        with_time: accept a time of day after the date.
    """

    name = "date"

    def __init__(self, *, with_time: bool = False) -> None:
        self.with_time = with_time

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "YYYY-MM-DD[THH:MM:SS]" if self.with_time else "YYYY-MM-DD"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        text = str(value).strip()
        form = "YYYY-MM-DD[THH:MM:SS]" if self.with_time else "YYYY-MM-DD"
        found = _DATE_TIME.fullmatch(text)
        if found is None or (found.group(4) is not None and not self.with_time):
            self.fail(
                f"expected a date written {form} {_RANGE}, e.g. 2026-11-02 (found {text!r})",
                param,
                ctx,
            )
        parts = [int(p) for p in found.groups() if p is not None]
        try:
            moment = dt.datetime(*parts)  # type: ignore[arg-type]
        except ValueError as exc:
            self.fail(f"{text!r} is not a real date or time ({exc})", param, ctx)
        if not EARLIEST <= moment.date() <= LATEST:
            self.fail(f"{text!r} is outside the dates accepted, {_RANGE}", param, ctx)
        return moment


class PeriodType(click.ParamType[str, Any]):
    """A month ``YYYY-MM`` or, with `quarters_and_years`, also a year or a quarter
    (``2026``, ``2026-Q3``); the value stays the text given (trimmed).

    Args:
        quarters_and_years: accept a year and a quarter as well as a month.
    """

    def __init__(self, *, quarters_and_years: bool = False) -> None:
        self.quarters_and_years = quarters_and_years
        self.name = "period" if quarters_and_years else "month"

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "YYYY|YYYY-Qn|YYYY-MM" if self.quarters_and_years else "YYYY-MM"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if self.quarters_and_years:
            pattern = r"([0-9]{4})(?:-Q[1-4]|-(?:0[1-9]|1[0-2]))?"
            form = "a year (2026), a quarter (2026-Q3) or a month (2026-03)"
        else:
            pattern = r"([0-9]{4})-(?:0[1-9]|1[0-2])"
            form = "a month written YYYY-MM, e.g. 2026-11"
        found = re.fullmatch(pattern, text, re.ASCII)
        if found is None:
            self.fail(f"expected {form} (found {text!r})", param, ctx)
        if not EARLIEST.year <= int(found.group(1)) <= LATEST.year:
            self.fail(
                f"{text!r} is outside the years accepted, {EARLIEST.year} to {LATEST.year}",
                param,
                ctx,
            )
        return text


DATE: Final = DateType()
"""``YYYY-MM-DD``, within the accepted range."""

TIME: Final = DateType(with_time=True)
"""``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM:SS``, within the accepted range."""

MONTH: Final = PeriodType()
"""``YYYY-MM``, within the accepted years."""

PERIOD: Final = PeriodType(quarters_and_years=True)
"""A report period: ``YYYY``, ``YYYY-Qn`` or ``YYYY-MM``, within the accepted years."""
