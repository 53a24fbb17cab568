"""Months (月份) as the benefit runs name them: ``YYYY-MM``, evaluated on their first day (R0.1)."""

from __future__ import annotations

import datetime as dt
import re

from famplan_core.errors import ValidationError

__all__ = ["month_of", "month_text", "parse_month"]

_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


def parse_month(text: str | dt.date, *, path: str = "month") -> dt.date:
    """The evaluation date D of a month: its first day (R0.1).

    Args:
        text: the month as ``YYYY-MM`` (e.g. ``2026-11``), or a date in it.
        path: where the text came from (e.g. ``--month``), for the error message.

    Raises:
        ValidationError: the text is not a month written as ``YYYY-MM``.

    Example:
        >>> parse_month("2026-11")
        datetime.date(2026, 11, 1)
    """
    if isinstance(text, dt.date):
        return month_of(text)
    match = _MONTH.match(text.strip()) if isinstance(text, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        raise ValidationError.single(
            path, text, "expected a month written as YYYY-MM, e.g. 2026-11"
        )
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def month_of(day: dt.date) -> dt.date:
    """The first day of the month holding `day`.

    Args:
        day: any date.
    """
    return day.replace(day=1)


def month_text(day: dt.date) -> str:
    """A month as ``YYYY-MM``.

    Args:
        day: any date in the month.
    """
    return f"{day.year:04d}-{day.month:02d}"
