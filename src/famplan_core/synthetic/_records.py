"""Disability and honour certificates, and the enrolments a township would hold."""

from __future__ import annotations

import datetime as dt

import attrs
import numpy as np
import numpy.typing as npt

from famplan_core.synthetic._assemble import (
    LINK_ADOPTIVE,
    LINK_STEP,
    STAGE_ENROL,
    STAGE_RECORDS,
    Population,
    lookup,
    stage_rng,
)
from famplan_core.synthetic._engine import (
    NEVER,
    YEAR,
    add_years,
    age_on,
    day_of,
    month_ceil,
    take,
    ymd,
    zero_pad,
)

__all__ = [
    "CATEGORIES",
    "Certificates",
    "Disabilities",
    "Eligibility",
    "Enrolments",
    "certificates",
    "disabilities",
    "eligibility",
    "enrolments",
]

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]
Str = npt.NDArray[np.str_]

CATEGORIES = np.array(
    ["physical", "vision", "hearing", "speech", "intellectual", "mental", "multiple"]
)
_CATEGORY_P = np.array([0.45, 0.12, 0.15, 0.02, 0.07, 0.07, 0.12])
_GRADE_P = np.array([0.12, 0.22, 0.30, 0.36])


@attrs.frozen(kw_only=True, eq=False)
class Disabilities:
    """Disability certificates: one row each (dates as day numbers, `NEVER` for none)."""

    person: I64
    grade: I64
    category: Str
    valid_from: I64
    valid_to: I64


@attrs.frozen(kw_only=True, eq=False)
class Certificates:
    """Honour certificates, one row per holding parent."""

    certificate_id: Str
    holder: I64
    child: I64
    issued_on: I64
    revoked_on: I64


@attrs.frozen(kw_only=True, eq=False)
class Eligibility:
    """Who is entitled to each program for one evaluation date.

    Attributes:
        date: the evaluation date (a day number).
        person: per program, the beneficiaries' row indexes (sorted, unique).
        category: per program, the beneficiaries' categories ("" where none).
        since: per program, a plausible first month of entitlement (a day number).
    """

    date: int
    person: dict[str, I64]
    category: dict[str, Str]
    since: dict[str, I64]


@attrs.frozen(kw_only=True, eq=False)
class Enrolments:
    """Enrolment rows, with which are deliberate omissions and errors.

    Attributes:
        person: the enrolled persons.
        program: their programs.
        since: enrolment dates.
        category: categories ("" where none).
        omitted: per program, the eligible persons left out on purpose.
        wrongly_enrolled: per program, the enrolled persons who are not eligible.
    """

    person: I64
    program: Str
    since: I64
    category: Str
    omitted: dict[str, I64]
    wrongly_enrolled: dict[str, I64]


def _sorted_groups(keys: I64) -> tuple[I64, I64]:
    """Start and end positions of runs of equal keys in a sorted array."""
    if not len(keys):
        z = np.zeros(0, dtype=np.int64)
        return z, z
    new = np.concatenate([[True], keys[1:] != keys[:-1]])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(keys))
    return starts, ends


def disabilities(pop: Population, seed: int) -> Disabilities:
    """Draw disability certificates: age-dependent, renewed, and some for only children."""
    rng = stage_rng(seed, STAGE_RECORDS)
    n, as_of = pop.n, pop.as_of
    end = np.minimum(pop.death, as_of)
    age_end = (end - pop.birth) / YEAR
    chosen = np.flatnonzero(rng.random(n) < 0.002 + 0.0006 * age_end)
    b, e = pop.birth[chosen], end[chosen]
    onset = b + ((e - b) * rng.random(len(chosen))).astype(np.int64)
    start = np.maximum(onset, day_of(dt.date(1996, 1, 1)) + rng.integers(0, 730, len(chosen)))
    ok = start <= e
    person, start = chosen[ok], start[ok]
    m = len(person)
    grade = rng.choice(4, size=m, p=_GRADE_P) + 1
    category = CATEGORIES[rng.choice(len(CATEGORIES), size=m, p=_CATEGORY_P)]
    stop = np.where(rng.random(m) < 0.35, start + int(10 * YEAR) - 1, NEVER)
    # Expired certificates are often renewed.
    renew_from = stop + 1 + rng.integers(0, 200, m)
    renew = (stop < as_of) & (rng.random(m) < 0.6) & (renew_from <= end[person])
    r = np.flatnonzero(renew)
    # Only children with a serious disability (so special assistance has its category).
    in_couple = pop.couple >= 0
    per_couple = np.bincount(pop.couple[in_couple], minlength=len(pop.u_h))
    only = in_couple & (take(per_couple, pop.couple, 0) == 1) & (pop.death == NEVER)
    only &= (as_of - pop.birth) > 2 * YEAR
    has = np.zeros(n, dtype=bool)
    has[person] = True
    extra = np.flatnonzero(only & ~has)
    extra = extra[rng.random(len(extra)) < 0.015]
    k = len(extra)
    x_from = pop.birth[extra] + (
        (1.0 + rng.random(k) * ((as_of - pop.birth[extra]) / YEAR - 1.0)) * YEAR
    ).astype(np.int64)
    x_from = np.minimum(x_from, as_of)
    return Disabilities(
        person=np.concatenate([person, person[r], extra]),
        grade=np.concatenate([grade, grade[r], rng.choice(3, size=k, p=[0.25, 0.35, 0.40]) + 1]),
        category=np.concatenate(
            [category, category[r], CATEGORIES[rng.choice(len(CATEGORIES), size=k, p=_CATEGORY_P)]]
        ),
        valid_from=np.concatenate([start, renew_from[r], x_from]),
        valid_to=np.concatenate([stop, np.full(len(r), NEVER), np.full(k, NEVER)]).astype(np.int64),
    )


def _gain_dates(pop: Population) -> I64:
    """The day each link made the parent a parent: the birth, or the adoption."""
    return np.where(pop.l_kind == LINK_ADOPTIVE, pop.l_since, pop.birth[pop.l_child])


def certificates(pop: Population, seed: int) -> Certificates:
    """Honour certificates for couples whose first child was born 1980-2015."""
    rng = stage_rng(seed, STAGE_RECORDS, 1)
    as_of = pop.as_of
    kids = np.flatnonzero(pop.couple >= 0)
    a_link = np.flatnonzero(pop.l_kind == LINK_ADOPTIVE)
    since = np.full(pop.n, NEVER, dtype=np.int64)
    since[pop.l_child[a_link]] = pop.l_since[a_link]
    gain = np.where(since[kids] < NEVER, since[kids], pop.birth[kids])
    o = np.lexsort((gain, pop.couple[kids]))
    kids, gain = kids[o], gain[o]
    cpl = pop.couple[kids]
    starts, ends = _sorted_groups(cpl)
    count = ends - starts
    c = cpl[starts]
    k1, g1 = kids[starts], gain[starts]
    g2 = np.where(count >= 2, gain[np.minimum(starts + 1, len(gain) - 1)], NEVER)
    first_year = ymd(pop.birth[k1])[0]
    in_era = (first_year >= 1980) & (first_year <= 2015)
    nc = len(c)
    rural = pop.hukou_rural[pop.u_member[c]]
    only = in_era & (count == 1) & (rng.random(nc) < np.where(rural, 0.55, 0.85))
    later = in_era & (count >= 2) & (g2 - g1 > 400) & (rng.random(nc) < 0.05)
    issue = np.where(
        only,
        g1 + rng.integers(30, int(3 * YEAR), nc),
        g1 + 30 + ((g2 - g1 - 60) * rng.random(nc)).astype(np.int64),
    )
    chosen = (only | later) & (issue <= as_of)
    revoke = np.full(nc, NEVER, dtype=np.int64)
    lapse_rev = later & (rng.random(nc) < 0.5)
    revoke = np.where(lapse_rev, g2 + rng.integers(10, 300, nc), revoke)
    other_rev = ~later & (rng.random(nc) < 0.015)
    revoke = np.where(other_rev, issue + rng.integers(365, 3650, nc), revoke)
    revoke = np.where(revoke <= as_of, revoke, NEVER)
    sel = np.flatnonzero(chosen)
    # Numbered per township in order of issue.
    town = pop.divs.township[pop.clan_village[pop.clan[pop.u_member[c[sel]]]]]
    town = np.maximum(town, 0)
    oi = np.lexsort((c[sel], issue[sel], town))
    sel, town = sel[oi], town[oi]
    gs, ge = _sorted_groups(town)
    seq = np.arange(len(sel)) - np.repeat(gs, ge - gs) + 1
    towns = np.array(pop.divs.towns)
    ids = np.strings.add(
        np.strings.add("HR", towns[town]),
        np.strings.add("-", zero_pad(seq, 6)),
    )
    rows_id: list[Str] = []
    rows_h: list[I64] = []
    rows_k: list[I64] = []
    rows_i: list[I64] = []
    rows_r: list[I64] = []
    for parent in (pop.u_h[c[sel]], pop.u_w[c[sel]]):
        alive_then = pop.death[parent] > issue[sel]
        rows_id.append(ids[alive_then])
        rows_h.append(parent[alive_then])
        rows_k.append(k1[sel][alive_then])
        rows_i.append(issue[sel][alive_then])
        rows_r.append(revoke[sel][alive_then])
    cid = np.concatenate(rows_id)
    o = np.argsort(cid, kind="stable")
    return Certificates(
        certificate_id=cid[o],
        holder=np.concatenate(rows_h)[o],
        child=np.concatenate(rows_k)[o],
        issued_on=np.concatenate(rows_i)[o],
        revoked_on=np.concatenate(rows_r)[o],
    )


def _hukou_on(pop: Population, date: int) -> tuple[I64, Bool]:
    """Each person's hukou division (-1 unknown) and rural flag on ``date`` (spec R0.5)."""
    div = pop.hukou_div.copy()
    rural = pop.hukou_rural.copy()
    hp = pop.h_person
    if not len(hp):
        return div, rural
    div[np.unique(hp)] = -1
    ok = pop.h_date <= date
    p, d, r = hp[ok], pop.h_div[ok], pop.h_rural[ok]
    _, ends = _sorted_groups(p)
    last = ends - 1
    div[p[last]] = d[last]
    rural[p[last]] = r[last]
    return div, rural


def eligibility(pop: Population, dis: Disabilities, certs: Certificates, date: int) -> Eligibility:
    """Evaluate rules R1-R4 of the programs spec for every person on ``date``.

    This is the generator's own, independent evaluation, used to decide enrolments.
    """
    n = pop.n
    alive = (pop.birth <= date) & (pop.death > date)
    age = age_on(pop.birth, date)
    div, rural = _hukou_on(pop, date)
    inside = (div >= 0) & pop.divs.inside[np.maximum(div, 0)]
    born_ok = pop.birth >= day_of(dt.date(1933, 1, 1))
    person: dict[str, I64] = {}
    category: dict[str, Str] = {}
    since: dict[str, I64] = {}

    # R1 childcare_subsidy.
    if date >= day_of(dt.date(2025, 1, 1)):
        cc = np.flatnonzero(alive & (age < 3) & inside)
    else:
        cc = np.zeros(0, dtype=np.int64)
    person["childcare_subsidy"] = cc
    category["childcare_subsidy"] = np.full(len(cc), "", dtype="U10")
    since["childcare_subsidy"] = np.maximum(month_ceil(pop.birth[cc]), day_of(dt.date(2025, 1, 1)))

    # Ever-children on the date (R0.4).
    gain = _gain_dates(pop)
    valid = (pop.l_kind != LINK_STEP) & (gain <= date)
    lp, lc, lk = pop.l_parent[valid], pop.l_child[valid], pop.l_kind[valid]
    count = np.bincount(lp, minlength=n)
    daughters = np.bincount(lp, weights=(pop.sex[lc] == 2).astype(np.float64), minlength=n)

    # R2 rural_reward.
    rr = alive & born_ok & (age >= 60) & rural & inside
    rr &= (count == 1) | ((count == 2) & (daughters == 2))
    rr_i = np.flatnonzero(rr)
    person["rural_reward"] = rr_i
    category["rural_reward"] = np.full(len(rr_i), "", dtype="U10")
    sixty = add_years(pop.birth[rr_i], 60)
    since["rural_reward"] = np.maximum(month_ceil(sixty), day_of(dt.date(2004, 1, 1)))

    # R3 special_assistance.
    single = count[lp] == 1
    sp, sk, skind = lp[single], lc[single], lk[single]
    female_link = pop.sex[lp] == 2
    fkeys = lc[female_link] * 3 + lk[female_link]
    fo = np.argsort(fkeys, kind="stable")
    fkeys, fmother = fkeys[fo], lp[female_link][fo]
    mother = np.where(pop.sex[sp] == 2, sp, lookup(fkeys, fmother, sk * 3 + skind))
    mother_ok = (mother >= 0) & (age[np.maximum(mother, 0)] >= 49)
    dis_ok = np.zeros(n, dtype=bool)
    dis_from = np.full(n, NEVER, dtype=np.int64)
    serious = (dis.grade <= 3) & (dis.valid_from <= date) & (date <= dis.valid_to)
    dis_ok[dis.person[serious]] = True
    np.minimum.at(dis_from, dis.person[serious], dis.valid_from[serious])
    k_dead = ~alive[sk]
    cat = np.where(k_dead, "death", np.where(dis_ok[sk], "disability", ""))
    sa = alive[sp] & born_ok[sp] & mother_ok & (cat != "") & inside[sp]
    o = np.argsort(sp[sa], kind="stable")
    person["special_assistance"] = sp[sa][o]
    category["special_assistance"] = cat[sa][o].astype("U10")
    event = np.where(k_dead[sa], pop.death[sk[sa]], dis_from[sk[sa]])
    m49 = add_years(pop.birth[np.maximum(mother[sa], 0)], 49)
    since["special_assistance"] = np.maximum.reduce(
        [month_ceil(event), month_ceil(m49), np.full(int(sa.sum()), day_of(dt.date(2008, 1, 1)))]
    )[o]

    # R4 only_child_reward.
    hold, kid, issued = certs.holder, certs.child, certs.issued_on
    ok = (issued <= date) & (certs.revoked_on > date) & alive[hold] & alive[kid]
    ok &= (age[kid] < 18) & inside[hold]
    # Lapse (R4.4): another child gained after the issue date.
    lo = np.argsort(lp, kind="stable")
    lps, lcs, lgs = lp[lo], lc[lo], gain[valid][lo]
    first = np.searchsorted(lps, hold, side="left")
    last = np.searchsorted(lps, hold, side="right")
    lens = last - first
    rep = np.repeat(np.arange(len(hold)), lens)
    offs = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
    li = first[rep] + offs
    other = (lcs[li] != kid[rep]) & (lgs[li] > issued[rep])
    earliest = np.full(len(hold), NEVER, dtype=np.int64)
    np.minimum.at(earliest, rep[other], lgs[li][other])
    lapse_year = ymd(np.minimum(earliest, date))[0] + 1
    jan1 = (lapse_year - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    lapse_from = np.where(earliest < NEVER, jan1, NEVER)
    ok &= ~(lapse_from <= date)
    oc = np.flatnonzero(ok)
    o = np.argsort(hold[oc], kind="stable")
    oc = oc[o]
    uniq, first_i = np.unique(hold[oc], return_index=True)
    person["only_child_reward"] = uniq
    category["only_child_reward"] = np.full(len(uniq), "", dtype="U10")
    since["only_child_reward"] = np.maximum(
        month_ceil(issued[oc[first_i]]), day_of(dt.date(2002, 9, 1))
    )
    return Eligibility(date=date, person=person, category=category, since=since)


def enrolments(pop: Population, elig: Eligibility, certs: Certificates, seed: int) -> Enrolments:
    """Enrol most of the eligible, leave a few out, and enrol a few who are not eligible."""
    rng = stage_rng(seed, STAGE_ENROL)
    date = elig.date
    alive = (pop.birth <= date) & (pop.death > date)
    age = age_on(pop.birth, date)
    div = pop.hukou_div
    inside = pop.divs.inside[div]
    valid = pop.l_kind != LINK_STEP
    count = np.bincount(pop.l_parent[valid], minlength=pop.n)
    near: dict[str, I64] = {
        "childcare_subsidy": np.flatnonzero(alive & inside & (age == 3)),
        "rural_reward": np.flatnonzero(
            alive & inside & pop.hukou_rural & (age >= 56) & (age <= 59) & (count == 1)
        ),
        "special_assistance": np.flatnonzero(alive & inside & (count == 1) & (age >= 50)),
        "only_child_reward": np.unique(
            certs.holder[(age[certs.child] >= 18) & (age[certs.child] <= 20) & alive[certs.holder]]
        ),
    }
    starts = {
        "childcare_subsidy": dt.date(2025, 1, 1),
        "rural_reward": dt.date(2004, 1, 1),
        "special_assistance": dt.date(2008, 1, 1),
        "only_child_reward": dt.date(2002, 9, 1),
    }
    rows_p: list[I64] = []
    rows_g: list[Str] = []
    rows_s: list[I64] = []
    rows_c: list[Str] = []
    omitted: dict[str, I64] = {}
    wrong: dict[str, I64] = {}
    for program in ("rural_reward", "special_assistance", "only_child_reward", "childcare_subsidy"):
        who = elig.person[program]
        k = len(who)
        drop = rng.random(k) < 0.02
        if k >= 20 and not drop.any():
            drop[rng.integers(0, k)] = True
        omitted[program] = who[drop]
        cand = np.setdiff1d(near[program], who)
        n_err = min(len(cand), max(1 if k >= 20 else 0, round(0.01 * k)))
        err = np.sort(rng.choice(cand, size=n_err, replace=False)) if n_err else cand[:0]
        wrong[program] = err
        err_since = np.maximum(
            month_ceil(np.maximum(pop.birth[err], date - int(2 * YEAR))),
            day_of(starts[program]),
        )
        err_since = np.minimum(err_since, date)
        cat_err = np.full(n_err, "death" if program == "special_assistance" else "", dtype="U10")
        rows_p += [who[~drop], err]
        rows_g.append(np.full(k - int(drop.sum()) + n_err, program, dtype="U20"))
        rows_s += [elig.since[program][~drop], err_since]
        rows_c += [elig.category[program][~drop], cat_err]
    person = np.concatenate(rows_p)
    program_arr = np.concatenate(rows_g)
    o = np.lexsort((program_arr, person))
    return Enrolments(
        person=person[o],
        program=program_arr[o],
        since=np.concatenate(rows_s)[o],
        category=np.concatenate(rows_c)[o],
        omitted=omitted,
        wrongly_enrolled=wrong,
    )
