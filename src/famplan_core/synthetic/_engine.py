"""The kinship engine: clans of couples, births, deaths, divorce, remarriage and adoption.

Everything here is vectorised over one generation at a time. Persons are integer row
indexes; dates are integer day numbers counted from 1970-01-01, with `NEVER` for none.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

__all__ = [
    "ADOPTED",
    "CHILD",
    "FILLER",
    "FOUNDER",
    "NEVER",
    "SPOUSE",
    "YEAR",
    "Kinship",
    "add_years",
    "age_on",
    "day_of",
    "generate_kinship",
    "month_ceil",
    "take",
    "ymd",
    "zero_pad",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]

NEVER = 10_000_000
"""A day number after every real date (year 29349): "no such date"."""

YEAR = 365.2425

FOUNDER, CHILD, SPOUSE, ADOPTED, FILLER = 0, 1, 2, 3, 4
"""How a person entered the register: clan founder, born into the clan, married in,
adopted into the clan, or a lone adult added to reach the requested size."""

_EPOCH = np.datetime64("1970-01-01", "D")

# Completed fertility by the mother's birth cohort (edges), urban/rural, 0..4 children.
_COHORT_EDGES = np.array([1945, 1955, 1965, 1980, 1990])
_PARITY = np.array(
    [
        [[0.03, 0.12, 0.35, 0.30, 0.20], [0.03, 0.05, 0.17, 0.30, 0.45]],  # before 1945
        [[0.03, 0.35, 0.42, 0.15, 0.05], [0.03, 0.08, 0.32, 0.35, 0.22]],  # 1945-1954
        [[0.04, 0.74, 0.19, 0.02, 0.01], [0.03, 0.22, 0.55, 0.16, 0.04]],  # 1955-1964
        [[0.05, 0.82, 0.12, 0.01, 0.00], [0.04, 0.33, 0.56, 0.06, 0.01]],  # 1965-1979
        [[0.07, 0.56, 0.34, 0.03, 0.00], [0.05, 0.36, 0.52, 0.07, 0.00]],  # 1980-1989
        [[0.15, 0.55, 0.27, 0.03, 0.00], [0.12, 0.42, 0.40, 0.06, 0.00]],  # 1990 on
    ]
)
_MAX_CHILDREN = _PARITY.shape[2] - 1


def day_of(value: dt.date) -> int:
    """The day number of a date (days since 1970-01-01)."""
    return int((np.datetime64(value, "D") - _EPOCH).astype(np.int64))


def ymd(days: I64) -> tuple[I64, I64, I64]:
    """Year, month and day of each day number (proleptic Gregorian, integer arithmetic)."""
    z = np.asarray(days, dtype=np.int64) + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def age_on(birth: I64, on: int) -> I64:
    """Completed years on day ``on`` of persons born on ``birth`` (spec R0.2)."""
    y, m, d = ymd(birth)
    oy, om, od = (int(v[0]) for v in ymd(np.array([on], dtype=np.int64)))
    return oy - y - ((om * 100 + od) < (m * 100 + d)).astype(np.int64)


def take(values: npt.NDArray[Any], index: I64, fill: Any) -> npt.NDArray[Any]:
    """``values[index]`` where ``index >= 0``, else ``fill`` (``values`` may be empty)."""
    out = np.full(index.shape, fill, dtype=values.dtype)
    ok = index >= 0
    out[ok] = values[index[ok]]
    return out


def zero_pad(values: I64, width: int) -> npt.NDArray[np.str_]:
    """Non-negative integers as zero-padded text of at least ``width`` digits."""
    if not len(values):
        return np.zeros(0, dtype=f"U{width}")
    digits = max(width, len(str(int(values.max()))))
    return np.strings.zfill(values.astype(f"U{digits}"), digits)


def add_years(days: I64, years: int) -> I64:
    """The same calendar day ``years`` later; 29 February becomes 1 March (spec R0.2)."""
    dd = days.astype("datetime64[D]")
    months = dd.astype("datetime64[M]")
    offset = dd - months.astype("datetime64[D]")
    out = (months + 12 * years).astype("datetime64[D]") + offset
    return np.asarray((out - _EPOCH).astype(np.int64), dtype=np.int64)


def month_ceil(days: I64) -> I64:
    """The first day of the month of each date, or of the next month unless it is a 1st."""
    dd = days.astype("datetime64[D]")
    first = dd.astype("datetime64[M]").astype("datetime64[D]")
    nxt = (dd.astype("datetime64[M]") + 1).astype("datetime64[D]")
    out = np.where(first == dd, first, nxt)
    return (out - _EPOCH).astype(np.int64)


def _years(values: F64 | float) -> Any:
    return np.asarray(np.asarray(values) * YEAR, dtype=np.int64)


def _year_of(days: I64) -> I64:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def death_days(
    rng: np.random.Generator,
    birth: I64,
    male: Bool,
    min_age: F64 | float,
    as_of: int,
    *,
    early: bool = False,
) -> I64:
    """Draw dates of death from a Gompertz law, conditional on surviving to ``min_age``.

    Args:
        rng: the random generator.
        birth: birth day numbers.
        male: men die a little sooner.
        min_age: the age in years the person is known to have reached.
        as_of: the register's date; later deaths are `NEVER`.
        early: add infant and child mortality by birth cohort.

    Returns:
        Day numbers of death, or `NEVER` for persons alive on ``as_of``.
    """
    n = len(birth)
    a0 = np.where(male, 4.0e-5, 2.2e-5)
    b = 0.095
    base = a0 / b * np.expm1(b * np.asarray(min_age, dtype=np.float64))
    hazard = base - np.log1p(-rng.random(n))
    age = np.log1p(hazard * b / a0) / b
    if early:
        by = _year_of(birth)
        p = np.select([by < 1960, by < 1980, by < 2000], [0.06, 0.03, 0.012], 0.004)
        child = rng.random(n) < p
        age = np.where(child, 15.0 * rng.random(n) ** 3, age)
    death = birth + _years(np.minimum(age, 130.0))
    return np.where(death <= as_of, death, NEVER).astype(np.int64)


class _Blocks:
    """Columns that grow by blocks; `add` returns the new rows' global indexes."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.parts: dict[str, list[npt.NDArray[Any]]] = {name: [] for name in names}
        self.n = 0

    def add(self, **cols: npt.NDArray[Any]) -> I64:
        if set(cols) != set(self.names):
            raise ValueError(f"columns {sorted(cols)} != {sorted(self.names)}")
        k = len(next(iter(cols.values())))
        for name, arr in cols.items():
            if len(arr) != k:
                raise ValueError(f"column {name} has {len(arr)} rows, not {k}")
            self.parts[name].append(arr)
        idx = np.arange(self.n, self.n + k, dtype=np.int64)
        self.n += k
        return idx

    def cat(self) -> dict[str, npt.NDArray[Any]]:
        return {
            name: np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
            for name, parts in self.parts.items()
        }


PERSON_FIELDS = (
    "birth",
    "sex",
    "death",
    "clan",
    "kind",
    "gen",
    "father",
    "mother",
    "couple",
    "origin",
    "surname",
    "ethnic",
)
COUPLE_FIELDS = (
    "h",
    "w",
    "member",
    "start",
    "end",
    "reason",
    "clan",
    "order",
    "prev",
)

REASON_OPEN, REASON_DIVORCE, REASON_DEATH = 0, 1, 2


@attrs.frozen(kw_only=True, eq=False)
class Kinship:
    """Raw output of the engine, before ordering, hukou and households.

    Attributes:
        persons: the columns of `PERSON_FIELDS`, one row per person.
        couples: the columns of `COUPLE_FIELDS`, one row per union.
        adopt_parent: adoptive parent of each adoptive link.
        adopt_child: adoptive child of each adoptive link.
        adopt_since: adoption day of each adoptive link.
        step_parent: step-parent of each step link.
        step_child: step-child of each step link.
    """

    persons: dict[str, npt.NDArray[Any]]
    couples: dict[str, npt.NDArray[Any]]
    adopt_parent: I64
    adopt_child: I64
    adopt_since: I64
    step_parent: I64
    step_child: I64


@attrs.frozen(kw_only=True)
class ClanSetup:
    """Per-clan facts decided before the engine runs.

    Attributes:
        village: the division index of the clan's village or community.
        rural: whether the clan's hukou is rural.
        inside_villages: division indexes an in-married spouse may come from, inside.
        outside_villages: division indexes an in-married spouse may come from, outside.
    """

    village: I64
    rural: Bool
    inside_villages: I64
    outside_villages: I64


def _founder_ages(rng: np.random.Generator, n: int) -> F64:
    ages = np.arange(50, 96)
    w = np.interp(ages, [50, 62, 80, 95], [0.45, 1.0, 1.0, 0.25])
    w = w / w.sum()
    return rng.choice(ages, size=n, p=w) + rng.random(n)


def _parity(rng: np.random.Generator, mother_birth: I64, rural: Bool) -> I64:
    cohort = np.searchsorted(_COHORT_EDGES, _year_of(mother_birth), side="right")
    probs = _PARITY[cohort, rural.astype(np.int64)]
    u = rng.random(len(mother_birth))[:, None]
    drawn = (u > probs.cumsum(axis=1)).sum(axis=1)
    return np.asarray(np.minimum(drawn, _MAX_CHILDREN), dtype=np.int64)


def _ethnic(rng: np.random.Generator, n: int) -> I64:
    # 0 Han; 1..4 the minorities of `ETHNIC_CODES` (Hui, Manchu, Zhuang, Mongol).
    u = rng.random(n)
    return np.select([u < 0.985, u < 0.993, u < 0.996, u < 0.998], [0, 1, 2, 3], 4).astype(np.int64)


def _surnames(rng: np.random.Generator, n: int, weights: F64) -> I64:
    return rng.choice(len(weights), size=n, p=weights).astype(np.int64)


class _Engine:
    def __init__(
        self,
        rng: np.random.Generator,
        setup: ClanSetup,
        as_of: int,
        surname_weights: F64,
    ) -> None:
        self.rng = rng
        self.setup = setup
        self.as_of = as_of
        self.sw = surname_weights
        self.p = _Blocks(PERSON_FIELDS)
        self.c = _Blocks(COUPLE_FIELDS)
        # Per-person facts the engine needs again, kept in growing full-size arrays.
        self.birth = np.zeros(0, dtype=np.int64)
        self.death = np.zeros(0, dtype=np.int64)
        self.sex = np.zeros(0, dtype=np.int64)
        self.surname = np.zeros(0, dtype=np.int64)
        self.ethnic = np.zeros(0, dtype=np.int64)
        self._clan = np.zeros(0, dtype=np.int64)
        self.couple = np.zeros(0, dtype=np.int64)
        self.adopt: list[tuple[I64, I64, I64]] = []
        self.step: list[tuple[I64, I64]] = []

    # -- persons ---------------------------------------------------------------------
    def add_persons(self, **cols: npt.NDArray[Any]) -> I64:
        idx = self.p.add(**cols)
        self.birth = np.concatenate([self.birth, cols["birth"]])
        self.death = np.concatenate([self.death, cols["death"]])
        self.sex = np.concatenate([self.sex, cols["sex"]])
        self.surname = np.concatenate([self.surname, cols["surname"]])
        self.ethnic = np.concatenate([self.ethnic, cols["ethnic"]])
        self._clan = np.concatenate([self._clan, cols["clan"]])
        self.couple = np.concatenate([self.couple, cols["couple"]])
        return idx

    def add_spouses(self, member: I64, start: I64, gen: int) -> I64:
        """New in-married spouses for ``member``, married on ``start``."""
        rng, n = self.rng, len(member)
        m_sex = self.sex[member]
        m_birth = self.birth[member]
        gap = _years(np.clip(rng.normal(2.0, 2.5, n), -3.0, 10.0))
        sp_sex = 3 - m_sex
        sp_birth = np.where(m_sex == 1, m_birth + gap, m_birth - gap)
        min_age = np.where(sp_sex == 2, 20.0, 22.0)
        sp_birth = np.minimum(sp_birth, start - _years(min_age) - rng.integers(0, 400, n))
        at_marriage = (start - sp_birth) / YEAR
        sp_death = death_days(rng, sp_birth, sp_sex == 1, at_marriage, self.as_of)
        clan = self.clan_of(member)
        inside = rng.random(n) < 0.5
        s = self.setup
        origin = np.where(
            inside,
            s.inside_villages[rng.integers(0, len(s.inside_villages), n)],
            s.outside_villages[rng.integers(0, len(s.outside_villages), n)],
        )
        eth = np.where(rng.random(n) < 0.9, self.ethnic[member], _ethnic(rng, n))
        minus = np.full(n, -1, dtype=np.int64)
        return self.add_persons(
            birth=sp_birth,
            sex=sp_sex,
            death=sp_death,
            clan=clan,
            kind=np.full(n, SPOUSE, dtype=np.int64),
            gen=np.full(n, gen, dtype=np.int64),
            father=minus,
            mother=minus.copy(),
            couple=minus.copy(),
            origin=origin.astype(np.int64),
            surname=_surnames(rng, n, self.sw),
            ethnic=eth.astype(np.int64),
        )

    def clan_of(self, idx: I64) -> I64:
        return self._clan[idx]

    # -- couples ---------------------------------------------------------------------
    def add_couples(
        self, member: I64, spouse: I64, start: I64, order: int, prev: I64, divorce: bool
    ) -> I64:
        rng, n = self.rng, len(member)
        male = self.sex[member] == 1
        h = np.where(male, member, spouse)
        w = np.where(male, spouse, member)
        if divorce:
            sy = _year_of(start)
            p = np.select([sy < 1990, sy < 2005], [0.01, 0.04], 0.09)
            div = start + _years(1.0 + 14.0 * rng.random(n))
            div = np.where(rng.random(n) < p, div, NEVER)
        else:
            div = np.full(n, NEVER, dtype=np.int64)
        end = np.minimum.reduce([div, self.death[h], self.death[w]])
        reason = np.where(
            end > self.as_of, REASON_OPEN, np.where(end == div, REASON_DIVORCE, REASON_DEATH)
        )
        end = np.where(reason == REASON_OPEN, NEVER, end)
        return self.c.add(
            h=h,
            w=w,
            member=member,
            start=start,
            end=end.astype(np.int64),
            reason=reason.astype(np.int64),
            clan=self.clan_of(member),
            order=np.full(n, order, dtype=np.int64),
            prev=prev,
        )

    # -- the run ---------------------------------------------------------------------
    def run(self, n_clans: int) -> Kinship:
        rng, as_of = self.rng, self.as_of
        single = rng.random(n_clans) < 0.05
        clan_surname = _surnames(rng, n_clans, self.sw)
        clan_ethnic = _ethnic(rng, n_clans)
        age = _founder_ages(rng, n_clans)
        wife_birth = as_of - _years(age)
        gap = _years(np.clip(rng.normal(2.0, 2.5, n_clans), -3.0, 10.0))
        husband_birth = wife_birth - gap
        start = np.maximum(wife_birth + _years(19.0 + 6.0 * rng.random(n_clans)), husband_birth)
        start = np.maximum(start, husband_birth + _years(20.0))
        couple_clans = np.flatnonzero(~single)
        single_clans = np.flatnonzero(single)
        k = len(couple_clans)

        # Founders: husband (the clan member) and wife of each couple, then the singles.
        def founders(clans: I64, birth: I64, sex: I64, min_age: F64 | float, surname: I64) -> I64:
            n = len(clans)
            minus = np.full(n, -1, dtype=np.int64)
            return self.add_persons(
                birth=birth,
                sex=sex,
                death=death_days(rng, birth, sex == 1, min_age, as_of),
                clan=clans,
                kind=np.full(n, FOUNDER, dtype=np.int64),
                gen=np.ones(n, dtype=np.int64),
                father=minus,
                mother=minus.copy(),
                couple=minus.copy(),
                origin=minus.copy(),
                surname=surname,
                ethnic=clan_ethnic[clans],
            )

        hb, wb, st = husband_birth[couple_clans], wife_birth[couple_clans], start[couple_clans]
        h = founders(
            couple_clans, hb, np.ones(k, np.int64), (st - hb) / YEAR, clan_surname[couple_clans]
        )
        w = founders(
            couple_clans, wb, np.full(k, 2, np.int64), (st - wb) / YEAR, _surnames(rng, k, self.sw)
        )
        s_sex = rng.integers(1, 3, len(single_clans)).astype(np.int64)
        founders(single_clans, wife_birth[single_clans], s_sex, 20.0, clan_surname[single_clans])
        cur = self.add_couples(h, w, st, 1, np.full(k, -1, np.int64), divorce=True)
        gen = 1
        while len(cur):
            cur = self.generation(cur, gen)
            gen += 1
        persons = self.p.cat()
        couples = self.c.cat()
        cat = np.concatenate
        a = self.adopt
        s = self.step
        empty = np.zeros(0, dtype=np.int64)
        return Kinship(
            persons=persons,
            couples=couples,
            adopt_parent=cat([x[0] for x in a]) if a else empty,
            adopt_child=cat([x[1] for x in a]) if a else empty,
            adopt_since=cat([x[2] for x in a]) if a else empty,
            step_parent=cat([x[0] for x in s]) if s else empty,
            step_child=cat([x[1] for x in s]) if s else empty,
        )

    def remarry(self, cur: I64, gen: int) -> I64:
        rng, as_of = self.rng, self.as_of
        cc = self.c.cat()
        member, end, reason = cc["member"][cur], cc["end"][cur], cc["reason"][cur]
        m_death = self.death[member]
        m_age = (end - self.birth[member]) / YEAR
        spouse_died = (reason == REASON_DEATH) & (m_death > end)
        p = np.where(reason == REASON_DIVORCE, 0.5, np.where(spouse_died & (m_age < 55), 0.3, 0))
        new_start = end + _years(0.5 + 3.5 * rng.random(len(cur)))
        ok = (
            (rng.random(len(cur)) < p)
            & (m_death > end)
            & (new_start <= as_of)
            & (new_start < m_death)
        )
        sel = np.flatnonzero(ok)
        if not len(sel):
            return np.zeros(0, dtype=np.int64)
        m = member[sel]
        spouse = self.add_spouses(m, new_start[sel], gen)
        return self.add_couples(m, spouse, new_start[sel], 2, cur[sel], divorce=False)

    def births(self, couples: I64, gen: int) -> I64:
        rng, as_of = self.rng, self.as_of
        cc = self.c.cat()
        h, w = cc["h"][couples], cc["w"][couples]
        start, end, reason = cc["start"][couples], cc["end"][couples], cc["reason"][couples]
        rural = self.setup.rural[cc["clan"][couples]]
        wb = self.birth[w]
        parity = _parity(rng, wb, rural)
        parity = np.where(cc["order"][couples] == 2, np.minimum(parity, 2), parity)
        n, k = len(couples), _MAX_CHILDREN
        lo = np.maximum(start, wb + _years(19.0))
        gaps = np.empty((n, k))
        gaps[:, 0] = 0.3 + rng.gamma(1.6, 0.8, n)
        gaps[:, 1:] = 1.3 + rng.gamma(2.0, 1.0, (n, k - 1))
        born = lo[:, None] + _years(np.cumsum(gaps, axis=1))
        limit = np.minimum.reduce(
            [
                np.full(n, as_of, dtype=np.int64),
                self.death[w],
                np.where(reason == REASON_DIVORCE, end, NEVER),
                wb + _years(45.0),
                np.minimum(self.death[h], NEVER - 400) + 270,
            ]
        )
        ok = (np.arange(k)[None, :] < parity[:, None]) & (born <= limit[:, None])
        # Fewer births in recent years than completed fertility suggests.
        period = _year_of(np.minimum(born, NEVER).astype(np.int64).ravel()).reshape(born.shape)
        keep = np.interp(period, [2016, 2019, 2022], [1.0, 0.6, 0.35])
        ok &= rng.random((n, k)) < keep
        ok = np.cumprod(ok, axis=1).astype(bool)
        row, _col = np.nonzero(ok)
        birth = born[ok].astype(np.int64)
        m = len(birth)
        cpl = couples[row]
        by = _year_of(birth)
        rural_c = rural[row]
        p_male = np.where(
            (by >= 1985) & (by <= 2009), np.where(rural_c, 1.20 / 2.20, 1.12 / 2.12), 0.515
        )
        sex = np.where(rng.random(m) < p_male, 1, 2).astype(np.int64)
        member = cc["member"][cpl]
        father = h[row]
        member_is_mother = member == w[row]
        surname = np.where(
            member_is_mother & (rng.random(m) < 0.7), self.surname[father], self.surname[member]
        )
        return self.add_persons(
            birth=birth,
            sex=sex,
            death=death_days(rng, birth, sex == 1, 0.0, as_of, early=True),
            clan=cc["clan"][cpl],
            kind=np.full(m, CHILD, dtype=np.int64),
            gen=np.full(m, gen + 1, dtype=np.int64),
            father=father,
            mother=w[row],
            couple=cpl,
            origin=np.full(m, -1, dtype=np.int64),
            surname=surname,
            ethnic=self.ethnic[member],
        )

    def adoptions(self, couples: I64, children: I64, gen: int) -> I64:
        rng, as_of = self.rng, self.as_of
        cc = self.c.cat()
        had = np.zeros(self.c.n, dtype=bool)
        had[self.couple[children]] = True
        h, w = cc["h"][couples], cc["w"][couples]
        start, end = cc["start"][couples], cc["end"][couples]
        n = len(couples)
        birth = start + _years(2.0 + 8.0 * rng.random(n))
        since = birth + _years(0.1 + 4.9 * rng.random(n))
        limit = np.minimum.reduce([np.full(n, as_of), self.death[h], self.death[w], end])
        ok = (
            ~had[couples]
            & (_year_of(self.birth[w]) >= 1940)
            & (rng.random(n) < 0.3)
            & (since <= limit)
        )
        sel = np.flatnonzero(ok)
        m = len(sel)
        if not m:
            return np.zeros(0, dtype=np.int64)
        cpl = couples[sel]
        s = self.setup
        origin = s.outside_villages[rng.integers(0, len(s.outside_villages), m)]
        sex = rng.integers(1, 3, m).astype(np.int64)
        b = birth[sel]
        minus = np.full(m, -1, dtype=np.int64)
        child = self.add_persons(
            birth=b,
            sex=sex,
            death=death_days(rng, b, sex == 1, (since[sel] - b) / YEAR, as_of),
            clan=cc["clan"][cpl],
            kind=np.full(m, ADOPTED, dtype=np.int64),
            gen=np.full(m, gen + 1, dtype=np.int64),
            father=minus,
            mother=minus.copy(),
            couple=cpl,
            origin=origin.astype(np.int64),
            surname=self.surname[h[sel]],
            ethnic=self.ethnic[cc["member"][cpl]],
        )
        self.adopt.append((h[sel], child, since[sel]))
        self.adopt.append((w[sel], child, since[sel].copy()))
        return child

    def step_links(self, second: I64, children: I64) -> None:
        if not len(second) or not len(children):
            return
        cc = self.c.cat()
        pc = self.couple
        new_of = np.full(self.c.n, -1, dtype=np.int64)
        new_of[cc["prev"][second]] = second
        c2 = new_of[pc[children]]
        has = c2 >= 0
        kids, c2 = children[has], c2[has]
        start2 = cc["start"][c2]
        ok = (self.birth[kids] < start2) & (self.death[kids] > start2)
        ok &= (start2 - self.birth[kids]) < _years(18.0)
        member = cc["member"][c2]
        new_spouse = np.where(cc["h"][c2] == member, cc["w"][c2], cc["h"][c2])
        self.step.append((new_spouse[ok], kids[ok]))

    def marriages(self, children: I64, gen: int) -> I64:
        rng, as_of = self.rng, self.as_of
        n = len(children)
        if not n:
            return np.zeros(0, dtype=np.int64)
        female = self.sex[children] == 2
        birth = self.birth[children]
        rural = self.setup.rural[self._clan[children]]
        later = np.clip((_year_of(birth) - 1985) * 0.15, 0.0, 3.0)
        age = np.where(female, 20.5 + rng.gamma(2.0, 1.5, n), 22.5 + rng.gamma(2.0, 1.7, n))
        mdate = birth + _years(age + later)
        p = np.where(female, 0.96, np.where(rural, 0.87, 0.92))
        ok = (rng.random(n) < p) & (mdate <= as_of) & (mdate < self.death[children])
        sel = np.flatnonzero(ok)
        if not len(sel):
            return np.zeros(0, dtype=np.int64)
        m = children[sel]
        spouse = self.add_spouses(m, mdate[sel], gen + 1)
        return self.add_couples(
            m, spouse, mdate[sel], 1, np.full(len(sel), -1, np.int64), divorce=True
        )

    def generation(self, cur: I64, gen: int) -> I64:
        second = self.remarry(cur, gen)
        children = self.births(np.concatenate([cur, second]), gen)
        adopted = self.adoptions(cur, children, gen)
        kids = np.concatenate([children, adopted])
        self.step_links(second, kids)
        return self.marriages(kids, gen)


def generate_kinship(
    rng: np.random.Generator,
    setup: ClanSetup,
    as_of: dt.date,
    surname_weights: F64,
) -> Kinship:
    """Run the engine for every clan of ``setup``.

    Args:
        rng: the random generator (consumed).
        setup: the clans' villages and hukou types and the spouses' origins.
        as_of: the register's date.
        surname_weights: probabilities of `_names.SURNAMES`.

    Returns:
        The persons, unions and links of all clans.
    """
    engine = _Engine(rng, setup, day_of(as_of), surname_weights)
    return engine.run(len(setup.village))
