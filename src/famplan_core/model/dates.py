"""Ages on a date (年龄): completed years, one person at a time or a whole column (spec R0.2).

A person's age on a date is the number of birthdays completed on or before that date. A person
born on 29 February reaches a new age on 1 March in non-leap years (and on 29 February in leap
years): comparing (month, day) pairs gives exactly that, since (2, 28) < (2, 29) < (3, 1).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

__all__ = [
    "CHINA_STANDARD_TIME",
    "ages_on",
    "completed_years",
    "latest_birth_for_age",
    "record_day",
]

CHINA_STANDARD_TIME = dt.timezone(dt.timedelta(hours=8), "CST")
"""China Standard Time (北京时间, UTC+08:00, no daylight saving): the clock of a township office."""


def record_day(recorded_at: dt.datetime) -> dt.date:
    """The calendar day in China on which a record time falls (a naive time is taken as UTC).

    A unit of work recorded at 2026-11-01 20:00 UTC happened on 2 November in the township,
    and that is the day a notice it posts went up.

    Example:
        >>> record_day(dt.datetime(2026, 11, 1, 20, 0, tzinfo=dt.UTC))
        datetime.date(2026, 11, 2)
        >>> record_day(dt.datetime(2026, 11, 1, 15, 59))
        datetime.date(2026, 11, 1)
    """
    aware = recorded_at if recorded_at.tzinfo is not None else recorded_at.replace(tzinfo=dt.UTC)
    return aware.astimezone(CHINA_STANDARD_TIME).date()


def completed_years(birth: dt.date, on: dt.date) -> int:
    """The age in completed years of a person born on `birth`, on the date `on` (R0.2).

    Args:
        birth: the birth date.
        on: the date the age is wanted for.

    Returns:
        The completed years, or -1 when `birth` is after `on` (not yet born).

    Example:
        >>> completed_years(dt.date(2000, 2, 29), dt.date(2001, 2, 28))
        0
        >>> completed_years(dt.date(2000, 2, 29), dt.date(2001, 3, 1))
        1
    """
    if birth > on:
        return -1
    years = on.year - birth.year
    if (on.month, on.day) < (birth.month, birth.day):
        years -= 1
    return years


def ages_on(birth_dates: npt.NDArray[np.datetime64], on: dt.date) -> npt.NDArray[np.int16]:
    """Completed years on `on` for a column of birth dates: `completed_years` vectorised (R0.2).

    Args:
        birth_dates: birth dates as ``datetime64``; ``NaT`` for unknown.
        on: the date the ages are wanted for.

    Returns:
        The ages as ``int16``; -1 for a person born after `on` and for ``NaT``.

    Example:
        >>> births = np.array(["2000-02-29", "1960-03-02", "NaT"], dtype="datetime64[D]")
        >>> ages_on(births, dt.date(2001, 3, 1)).tolist()
        [1, 40, -1]
    """
    days = np.asarray(birth_dates).astype("datetime64[D]")
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    year = years.astype(np.int64) + 1970
    month = (months - years).astype(np.int64) + 1
    day = (days - months).astype(np.int64) + 1
    before_birthday = month * 100 + day > on.month * 100 + on.day
    ages = on.year - year - before_birthday.astype(np.int64)
    unknown = np.isnat(days) | (days > np.datetime64(on, "D"))
    return np.where(unknown, -1, ages).astype(np.int16)


def latest_birth_for_age(on: dt.date, years: int) -> dt.date:
    """The latest birth date of a person aged `years` or more on `on`.

    ``completed_years(b, on) >= years`` holds exactly when ``b <= latest_birth_for_age(on, years)``,
    so a whole column is tested with one comparison (``NaT`` compares false).

    Args:
        on: the date of the age test.
        years: the age in completed years, zero or more.

    Returns:
        The same day `years` years before `on`; 28 February when `on` is 29 February and that
        earlier year is not a leap year (a person born on 1 March is then still one short).

    Example:
        >>> latest_birth_for_age(dt.date(2024, 2, 29), 49)
        datetime.date(1975, 2, 28)
    """
    year = on.year - years
    try:
        return on.replace(year=year)
    except ValueError:  # 29 February in a year without one
        return dt.date(year, 2, 28)
