"""From the kinship engine's output to a register population: divisions, sizes, hukou,
marital status, households, citizen IDs and names."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from famplan_core.model.identity import check_characters
from famplan_core.synthetic import _names
from famplan_core.synthetic._engine import (
    ADOPTED,
    CHILD,
    FILLER,
    FOUNDER,
    NEVER,
    REASON_DIVORCE,
    REASON_OPEN,
    SPOUSE,
    YEAR,
    ClanSetup,
    Kinship,
    age_on,
    day_of,
    generate_kinship,
    take,
    ymd,
)

__all__ = [
    "LINK_ADOPTIVE",
    "LINK_BIRTH",
    "LINK_STEP",
    "Divisions",
    "Population",
    "build_population",
    "check_character",
    "citizen_ids",
    "ethnicity_codes",
    "lookup",
    "stage_rng",
]

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]
Str = npt.NDArray[np.str_]

P_RURAL_CLAN = 0.56
PERSONS_PER_CLAN = 7.6  # a first guess; the run over-generates and truncates
LINK_BIRTH, LINK_ADOPTIVE, LINK_STEP = 0, 1, 2
ETHNIC_CODES = np.array(["01", "03", "11", "08", "02"])

# Stages of the seed: each stage draws from its own stream.
STAGE_DIVISIONS, STAGE_ENGINE, STAGE_HUKOU, STAGE_HOUSEHOLDS, STAGE_IDS = 1, 2, 3, 4, 5
STAGE_RECORDS, STAGE_ENROL, STAGE_BAD = 6, 7, 8


def stage_rng(seed: int, stage: int, attempt: int = 0) -> np.random.Generator:
    """An independent random stream for one stage of the generator."""
    return np.random.default_rng([seed, stage, attempt])


@attrs.frozen(kw_only=True, eq=False)
class Divisions:
    """Every 12-digit division code the register uses, by index.

    Attributes:
        codes: the codes.
        names: village or community names of the inside divisions ("" outside).
        inside: whether the code lies inside the requested division.
        urban: a residents' committee or city district (else a villagers' committee).
        township: index into ``towns`` of an inside code, else -1.
        towns: the 9-digit township codes inside the division.
        town_villages: per township, the indexes of its villages.
        town_communities: per township, the indexes of its residents' committees.
        outside_villages: outside village codes (spouses' and adoptees' origins).
        cities: outside city community codes (where movers go).
    """

    codes: Str
    names: Str
    inside: Bool
    urban: Bool
    township: I64
    towns: tuple[str, ...]
    town_villages: tuple[I64, ...]
    town_communities: tuple[I64, ...]
    outside_villages: I64
    cities: I64


def _build_divisions(division: str, n_towns: int, villages: int, seed: int) -> Divisions:
    rng = stage_rng(seed, STAGE_DIVISIONS)
    if len(division) == 9:
        towns: tuple[str, ...] = (division,)
    else:
        towns = tuple(f"{division}{101 + i:03d}" for i in range(n_towns))
    n_comm = max(2, villages // 5)
    codes: list[str] = []
    names: list[str] = []
    urban: list[bool] = []
    township: list[int] = []
    tv: list[I64] = []
    tc: list[I64] = []
    for t, town in enumerate(towns):
        comm_start = len(codes)
        for c in range(n_comm):
            codes.append(f"{town}{c + 1:03d}")
            names.append(_names.COMMUNITY_NAMES[c % len(_names.COMMUNITY_NAMES)])
            urban.append(True)
            township.append(t)
        tc.append(np.arange(comm_start, len(codes), dtype=np.int64))
        vill_start = len(codes)
        for v, name in enumerate(_names.village_names(rng, villages)):
            codes.append(f"{town}{201 + v:03d}")
            names.append(name)
            urban.append(False)
            township.append(t)
        tv.append(np.arange(vill_start, len(codes), dtype=np.int64))
    n_inside = len(codes)
    outside_v: list[int] = []
    for county in _names.OUTSIDE_COUNTIES:
        for t in range(3):
            for v in range(6):
                code = f"{county}{101 + t:03d}{201 + v:03d}"
                if not code.startswith(division):
                    outside_v.append(len(codes))
                    codes.append(code)
    cities: list[int] = []
    for city in _names.OUTSIDE_CITIES:
        for s in range(4):
            for c in range(5):
                code = f"{city}{s + 1:03d}{c + 1:03d}"
                if not code.startswith(division):
                    cities.append(len(codes))
                    codes.append(code)
    n_out = len(codes) - n_inside
    return Divisions(
        codes=np.array(codes, dtype="U12"),
        names=np.array(names + [""] * n_out),
        inside=np.arange(len(codes)) < n_inside,
        urban=np.array(urban + [False] * n_out) | np.isin(np.arange(len(codes)), cities),
        township=np.array(township + [-1] * n_out, dtype=np.int64),
        towns=towns,
        town_villages=tuple(tv),
        town_communities=tuple(tc),
        outside_villages=np.array(outside_v, dtype=np.int64),
        cities=np.array(cities, dtype=np.int64),
    )


def _clan_setup(rng: np.random.Generator, divs: Divisions, n_clans: int) -> ClanSetup:
    n_towns = len(divs.towns)
    town = rng.integers(0, n_towns, n_clans)
    rural = rng.random(n_clans) < P_RURAL_CLAN
    nv = len(divs.town_villages[0])
    nc = len(divs.town_communities[0])
    vill = np.stack(divs.town_villages)  # (towns, villages)
    comm = np.stack(divs.town_communities)
    # Villages differ in size; each township has its own order of sizes.
    vw = rng.lognormal(0.0, 0.5, nv)
    vw /= vw.sum()
    perm = rng.permuted(np.tile(np.arange(nv), (n_towns, 1)), axis=1)
    v_local = perm[town, rng.choice(nv, size=n_clans, p=vw)]
    c_local = rng.integers(0, nc, n_clans)
    village = np.where(rural, vill[town, v_local], comm[town, c_local]).astype(np.int64)
    inside_vill = np.concatenate(divs.town_villages)
    return ClanSetup(
        village=village,
        rural=rural,
        inside_villages=inside_vill,
        outside_villages=divs.outside_villages,
    )


@attrs.define(kw_only=True, eq=False)
class Population:
    """The persons and their relations, ready for records and output (indexes and days).

    Person columns have one row per person; ``couple`` is the union whose child the person
    is (by birth or adoption), -1 if none. Union columns have one row per union; link
    columns one row per parent-child link; history columns one row per hukou change.
    """

    as_of: int
    divs: Divisions
    clan_village: I64
    birth: I64
    death: I64
    sex: I64
    kind: I64
    clan: I64
    couple: I64
    father: I64
    mother: I64
    origin: I64
    surname: I64
    ethnic: I64
    u_h: I64
    u_w: I64
    u_member: I64
    u_start: I64
    u_end: I64
    u_reason: I64
    l_parent: I64
    l_child: I64
    l_kind: I64
    l_since: I64
    hukou_div: I64 = attrs.field(factory=lambda: np.zeros(0, np.int64))
    hukou_rural: Bool = attrs.field(factory=lambda: np.zeros(0, bool))
    residence_div: I64 = attrs.field(factory=lambda: np.zeros(0, np.int64))
    h_person: I64 = attrs.field(factory=lambda: np.zeros(0, np.int64))
    h_date: I64 = attrs.field(factory=lambda: np.zeros(0, np.int64))
    h_div: I64 = attrs.field(factory=lambda: np.zeros(0, np.int64))
    h_rural: Bool = attrs.field(factory=lambda: np.zeros(0, bool))
    marital: Str = attrs.field(factory=lambda: np.zeros(0, "U2"))
    household: I64 = attrs.field(factory=lambda: np.zeros(0, np.int64))
    relation: Str = attrs.field(factory=lambda: np.zeros(0, "U2"))
    hh_head: I64 = attrs.field(factory=lambda: np.zeros(0, np.int64))
    hh_div: I64 = attrs.field(factory=lambda: np.zeros(0, np.int64))
    hh_number: I64 = attrs.field(factory=lambda: np.zeros(0, np.int64))
    citizen_id: Str = attrs.field(factory=lambda: np.zeros(0, "U18"))
    name: Str = attrs.field(factory=lambda: np.zeros(0, "U4"))

    @property
    def n(self) -> int:
        """The number of persons."""
        return len(self.birth)


def _generate(
    seed: int, as_of: dt.date, persons: int, divs: Divisions
) -> tuple[Kinship, ClanSetup]:
    n_clans = int(persons / PERSONS_PER_CLAN * 1.06) + 40
    for attempt in range(20):
        rng = stage_rng(seed, STAGE_ENGINE, attempt)
        setup = _clan_setup(rng, divs, n_clans)
        kin = generate_kinship(rng, setup, as_of, _names.SURNAME_WEIGHTS)
        total = len(kin.persons["birth"])
        if total >= persons:
            return kin, setup
        n_clans = int(n_clans * persons / max(total, 1) * 1.1) + 40
    raise RuntimeError("the synthetic engine did not reach the requested size")  # pragma: no cover


def _remap(index: I64, newpos: I64) -> I64:
    return np.where(index >= 0, newpos[np.maximum(index, 0)], -1).astype(np.int64)


def _truncate(
    kin: Kinship, setup: ClanSetup, persons: int, seed: int, divs: Divisions, as_of: int
) -> Population:
    p, c = kin.persons, kin.couples
    clan = p["clan"]
    n_clans = len(setup.village)
    cum = np.cumsum(np.bincount(clan, minlength=n_clans))
    m = int(np.searchsorted(cum, persons, side="right"))
    kept = int(cum[m - 1]) if m else 0
    fill = persons - kept
    order = np.flatnonzero(clan < m)
    order = order[np.argsort(clan[order], kind="stable")]
    newpos = np.full(len(clan), -1, dtype=np.int64)
    newpos[order] = np.arange(len(order))
    ckeep = np.flatnonzero(c["clan"] < m)
    cnew = np.full(len(c["clan"]), -1, dtype=np.int64)
    cnew[ckeep] = np.arange(len(ckeep))

    # Lone adults to reach the exact size, each a clan of their own.
    rng = stage_rng(seed, STAGE_ENGINE, 99)
    f_age = 20.0 + 65.0 * rng.random(fill)
    f_birth = as_of - (f_age * YEAR).astype(np.int64)
    f_sex = rng.integers(1, 3, fill).astype(np.int64)
    f_clan = np.arange(m, m + fill, dtype=np.int64)
    f_setup = _clan_setup(rng, divs, fill)
    clan_village = np.concatenate([setup.village[:m], f_setup.village])

    def col(name: str, filler: npt.NDArray[Any]) -> I64:
        return np.concatenate([p[name][order], filler]).astype(np.int64)

    minus = np.full(fill, -1, dtype=np.int64)
    ak = kin.adopt_child
    a_ok = newpos[ak] >= 0 if len(ak) else np.zeros(0, bool)
    sk = kin.step_child
    s_ok = newpos[sk] >= 0 if len(sk) else np.zeros(0, bool)
    father = _remap(p["father"][order], newpos)
    mother = _remap(p["mother"][order], newpos)
    has_f = np.flatnonzero(father >= 0)
    has_m = np.flatnonzero(mother >= 0)
    l_parent = np.concatenate(
        [
            father[has_f],
            mother[has_m],
            newpos[kin.adopt_parent[a_ok]],
            newpos[kin.step_parent[s_ok]],
        ]
    )
    l_child = np.concatenate([has_f, has_m, newpos[ak[a_ok]], newpos[sk[s_ok]]])
    l_kind = np.concatenate(
        [
            np.full(len(has_f) + len(has_m), LINK_BIRTH),
            np.full(int(a_ok.sum()), LINK_ADOPTIVE),
            np.full(int(s_ok.sum()), LINK_STEP),
        ]
    ).astype(np.int64)
    l_since = np.concatenate(
        [
            np.full(len(has_f) + len(has_m), NEVER),
            kin.adopt_since[a_ok],
            np.full(int(s_ok.sum()), NEVER),
        ]
    ).astype(np.int64)
    # Links in child order, parents of one child together.
    lo = np.lexsort((l_kind, l_parent, l_child))
    return Population(
        as_of=as_of,
        divs=divs,
        clan_village=clan_village,
        birth=col("birth", f_birth),
        death=col("death", np.full(fill, NEVER)),
        sex=col("sex", f_sex),
        kind=col("kind", np.full(fill, FILLER)),
        clan=col("clan", f_clan),
        couple=np.concatenate([_remap(p["couple"][order], cnew), minus]),
        father=np.concatenate([father, minus]),
        mother=np.concatenate([mother, minus]),
        origin=col("origin", minus),
        surname=col("surname", rng.choice(len(_names.SURNAMES), fill, p=_names.SURNAME_WEIGHTS)),
        ethnic=col("ethnic", np.zeros(fill, np.int64)),
        u_h=newpos[c["h"][ckeep]],
        u_w=newpos[c["w"][ckeep]],
        u_member=newpos[c["member"][ckeep]],
        u_start=c["start"][ckeep],
        u_end=c["end"][ckeep],
        u_reason=c["reason"][ckeep],
        l_parent=l_parent[lo],
        l_child=l_child[lo],
        l_kind=l_kind[lo],
        l_since=l_since[lo],
    )


def _first_per_group(keys: I64) -> I64:
    """Positions of the first element of each run of equal keys in a sorted array."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))


def _nonmember_couple(pop: Population) -> I64:
    """For each person, the union they married into (-1 if none)."""
    out = np.full(pop.n, -1, dtype=np.int64)
    nonmember = np.where(pop.u_h == pop.u_member, pop.u_w, pop.u_h)
    out[nonmember] = np.arange(len(nonmember))
    return out


def _assign_hukou(pop: Population, seed: int, outside_share: float) -> None:
    rng = stage_rng(seed, STAGE_HUKOU)
    n, as_of, divs = pop.n, pop.as_of, pop.divs
    village = pop.clan_village[pop.clan]
    rural = ~divs.urban[village]
    hdiv = village.copy()
    hrur = rural.copy()
    resid = np.full(n, -1, dtype=np.int64)
    rows_p: list[I64] = []
    rows_d: list[I64] = []
    rows_v: list[I64] = []
    rows_r: list[Bool] = []

    def history(person: I64, date: I64, div: I64, rur: Bool) -> None:
        rows_p.append(person)
        rows_d.append(date)
        rows_v.append(div)
        rows_r.append(rur)

    alive = pop.death == NEVER
    age = age_on(pop.birth, as_of)
    nm_couple = _nonmember_couple(pop)
    spouse = np.flatnonzero((pop.kind == SPOUSE) & (nm_couple >= 0))
    sp_c = nm_couple[spouse]
    origin = pop.origin[spouse]
    origin_rural = rural[spouse]
    done = np.zeros(n, dtype=bool)

    # Divorced in-married spouses move their hukou back out within a year.
    leave = pop.u_end[sp_c] + rng.integers(30, 366, len(spouse))
    divorced = (pop.u_reason[sp_c] == REASON_DIVORCE) & (leave <= as_of)
    divorced &= leave < pop.death[spouse]
    sel = spouse[divorced]
    so, sr = origin[divorced], origin_rural[divorced]
    history(sel, pop.birth[sel], so, sr)
    history(sel, pop.u_start[sp_c[divorced]], village[sel], rural[sel])
    history(sel, leave[divorced], so, sr)
    hdiv[sel], hrur[sel], done[sel] = so, sr, True
    n_out = int((~divs.inside[so]).sum())

    # Young adults who moved their hukou to a city (university, work).
    target = round(outside_share * n)
    member = np.zeros(n, dtype=bool)
    member[pop.u_member] = True
    cand = np.flatnonzero(
        np.isin(pop.kind, (CHILD, FOUNDER)) & alive & (age >= 19) & (age <= 40) & ~member
    )
    p_move = min(1.0, 0.3 * target / max(len(cand), 1))
    mv = cand[rng.random(len(cand)) < p_move]
    date = pop.birth[mv] + ((18.0 + (age[mv] - 18.0) * rng.random(len(mv))) * YEAR).astype(np.int64)
    date = np.minimum(date, as_of)
    dest = divs.cities[rng.integers(0, len(divs.cities), len(mv))]
    history(mv, pop.birth[mv], village[mv], rural[mv])
    history(mv, date, dest, np.zeros(len(mv), bool))
    hdiv[mv], hrur[mv], done[mv] = dest, False, True
    n_out += len(mv)

    # In-married spouses who kept their hukou where they came from.
    rest = ~done[spouse] & ~divs.inside[origin] & alive[spouse]
    cand = spouse[rest]
    k = min(len(cand), max(0, target - n_out))
    keep = np.sort(rng.choice(len(cand), size=k, replace=False)) if k else np.zeros(0, np.int64)
    sel = cand[keep]
    hdiv[sel] = pop.origin[sel]
    resid[sel] = village[sel]
    done[sel] = True

    # Some in-married spouses have their move-in on record.
    rec = spouse[~done[spouse] & (rng.random(len(spouse)) < 0.15)]
    c_rec = nm_couple[rec]
    move = pop.u_start[c_rec] + rng.integers(0, 181, len(rec))
    move = np.minimum.reduce([move, np.full(len(rec), as_of), pop.death[rec]])
    move = np.maximum(move, pop.birth[rec] + 1)
    o = pop.origin[rec]
    history(rec, pop.birth[rec], o, ~divs.urban[o] & rural[rec])
    history(rec, move, village[rec], rural[rec])
    done[rec] = True

    # Adopted children: born elsewhere, registered with the family on adoption.
    adopted = np.flatnonzero(pop.kind == ADOPTED)
    a_link = np.flatnonzero(pop.l_kind == LINK_ADOPTIVE)
    since = np.full(n, NEVER, dtype=np.int64)
    since[pop.l_child[a_link]] = pop.l_since[a_link]
    history(adopted, pop.birth[adopted], pop.origin[adopted], np.ones(len(adopted), bool))
    history(adopted, since[adopted], village[adopted], rural[adopted])
    done[adopted] = True

    # Rural-to-urban conversions (农转非) of clan members, within the same division.
    end_age = (
        age_on(pop.birth, as_of) if False else ((np.minimum(pop.death, as_of) - pop.birth) / YEAR)
    )
    conv = np.flatnonzero(~done & rural & np.isin(pop.kind, (FOUNDER, CHILD)) & (end_age >= 18.0))
    conv = conv[rng.random(len(conv)) < 0.035]
    cdate = pop.birth[conv] + (
        (16.0 + (end_age[conv] - 16.0) * rng.random(len(conv))) * YEAR
    ).astype(np.int64)
    history(conv, pop.birth[conv], village[conv], np.ones(len(conv), bool))
    history(conv, cdate, village[conv], np.zeros(len(conv), bool))
    hrur[conv] = False

    # Migrant workers live elsewhere while their hukou stays.
    inside = divs.inside[hdiv]
    mig = np.flatnonzero(
        inside & alive & np.isin(pop.kind, (FOUNDER, CHILD, FILLER)) & (age >= 20) & (age <= 50)
    )
    mig = mig[rng.random(len(mig)) < 0.08]
    resid[mig] = divs.cities[rng.integers(0, len(divs.cities), len(mig))]

    hp = np.concatenate(rows_p)
    hd = np.concatenate(rows_d)
    o = np.lexsort((hd, hp))
    pop.h_person, pop.h_date = hp[o], hd[o]
    pop.h_div = np.concatenate(rows_v)[o]
    pop.h_rural = np.concatenate(rows_r)[o]
    pop.hukou_div, pop.hukou_rural, pop.residence_div = hdiv, hrur, resid


def _marital(pop: Population) -> None:
    n, nu = pop.n, len(pop.u_h)
    up = np.concatenate([pop.u_h, pop.u_w])
    ui = np.concatenate([np.arange(nu), np.arange(nu)])
    o = np.lexsort((pop.u_start[ui], up))
    up, ui = up[o], ui[o]
    count = np.bincount(up, minlength=n)
    last = np.full(n, -1, dtype=np.int64)
    last[up] = ui  # the last write per person wins: the latest union
    status = np.full(n, "10", dtype="U2")
    has = last >= 0
    idx = np.flatnonzero(has)
    lu = last[idx]
    married = np.where(count[idx] > 1, "22", "21")
    reason = pop.u_reason[lu]
    self_died = pop.death[idx] == pop.u_end[lu]
    status[idx] = np.select(
        [reason == REASON_OPEN, reason == REASON_DIVORCE, self_died],
        [married, np.full(len(idx), "40"), married],
        np.full(len(idx), "30"),
    )
    pop.marital = status


def _pair_keys(a: I64, b: I64, n: int) -> I64:
    return a.astype(np.int64) * n + b.astype(np.int64)


def lookup(keys_sorted: I64, values: I64, query: I64, missing: int = -1) -> I64:
    """The value of each query key in sorted keys, or ``missing``."""
    if not len(keys_sorted):
        return np.full(len(query), missing, dtype=np.int64)
    pos = np.searchsorted(keys_sorted, query)
    pos = np.minimum(pos, len(keys_sorted) - 1)
    return np.where(keys_sorted[pos] == query, values[pos], missing).astype(np.int64)


def _households(pop: Population, seed: int) -> None:
    rng = stage_rng(seed, STAGE_HOUSEHOLDS)
    n, as_of, divs = pop.n, pop.as_of, pop.divs
    alive = pop.death == NEVER
    inhh = alive & divs.inside[pop.hukou_div]
    age = age_on(pop.birth, as_of)
    member = np.zeros(n, dtype=bool)
    member[pop.u_member] = True
    nm_couple = _nonmember_couple(pop)
    anchor = np.arange(n, dtype=np.int64)
    child_like = ~member & (nm_couple < 0) & (age < 28) & (pop.couple >= 0)
    anchor[child_like] = pop.u_member[pop.couple[child_like]]
    # In-married spouses live with the clan member, unless they divorced.
    sp = (nm_couple >= 0) & (take(pop.u_reason, nm_couple, REASON_DIVORCE) != REASON_DIVORCE)
    anchor[sp] = pop.u_member[nm_couple[sp]]

    # The elderly move in with their eldest married son (more often in the countryside).
    size = np.bincount(anchor[inhh], minlength=n)
    son = np.flatnonzero(
        np.isin(pop.kind, (CHILD, ADOPTED))
        & (pop.sex == 1)
        & member
        & inhh
        & (anchor == np.arange(n))
        & (age < 60)
        & (pop.couple >= 0)
    )
    parent = pop.u_member[pop.couple[son]]
    o = np.lexsort((pop.birth[son], parent))
    son, parent = son[o], parent[o]
    first = _first_per_group(parent)
    son_of = np.full(n, -1, dtype=np.int64)
    son_of[parent[first]] = son[first]
    rural = pop.hukou_rural
    a = np.flatnonzero(member & (age >= 60) & (size > 0) & (son_of >= 0))
    s = son_of[a]
    p_merge = np.where(rural[s], 0.6, 0.3)
    merge = (size[a] + size[s] <= 6) & (rng.random(len(a)) < p_merge)
    target = np.arange(n, dtype=np.int64)
    target[a[merge]] = s[merge]
    anchor = target[anchor]

    # Heads: the anchor, else the anchor's spouse, else the eldest member.
    people = np.flatnonzero(inhh)
    anc = anchor[people]
    is_spouse = (nm_couple[people] >= 0) & (take(pop.u_member, nm_couple[people], -1) == anc)
    is_spouse &= take(pop.u_reason, nm_couple[people], REASON_DIVORCE) != REASON_DIVORCE
    score = np.where(people == anc, 0, np.where(is_spouse, 1, 2))
    o = np.lexsort((pop.birth[people], score, anc))
    first = _first_per_group(anc[o])
    heads_by_anchor = people[o][first]
    unit_anchor = anc[o][first]
    ho = np.argsort(heads_by_anchor, kind="stable")
    hh_head = heads_by_anchor[ho]
    hh_of_anchor = np.full(n, -1, dtype=np.int64)
    hh_of_anchor[unit_anchor[ho]] = np.arange(len(ho))
    household = np.full(n, -1, dtype=np.int64)
    household[people] = hh_of_anchor[anc]
    head = np.full(n, -1, dtype=np.int64)
    head[people] = hh_head[household[people]]

    # Relations to the head (GB/T 4761).
    links = _pair_keys(pop.l_parent, pop.l_child, n)
    lo = np.argsort(links, kind="stable")
    lkeys, lkinds = links[lo], pop.l_kind[lo]
    ukeep = pop.u_reason != REASON_DIVORCE
    ua = np.minimum(pop.u_h, pop.u_w)[ukeep]
    ub = np.maximum(pop.u_h, pop.u_w)[ukeep]
    ukeys = np.sort(_pair_keys(ua, ub, n))
    q, h = people, head[people]
    rel = np.full(len(q), "97", dtype="U2")
    sibling = (pop.couple[q] >= 0) & (pop.couple[h] >= 0)
    sibling &= take(pop.u_member, pop.couple[q], -1) == take(pop.u_member, pop.couple[h], -2)
    rel[sibling] = "70"
    q_parent = take(pop.u_member, pop.couple[q], -1)
    grand = (q_parent >= 0) & (
        lookup(lkeys, lkinds, _pair_keys(h, np.maximum(q_parent, 0), n)) >= 0
    )
    rel[grand & ~sibling] = "40"
    is_parent = lookup(lkeys, lkinds, _pair_keys(q, h, n)) >= 0
    rel[is_parent] = "50"
    ck = lookup(lkeys, lkinds, _pair_keys(h, q, n))
    male = pop.sex[q] == 1
    rel[ck == LINK_BIRTH] = np.where(male, "20", "30")[ck == LINK_BIRTH]
    adopt_or_step = (ck == LINK_ADOPTIVE) | (ck == LINK_STEP)
    rel[adopt_or_step] = np.where(male, "27", "37")[adopt_or_step]
    sp_key = _pair_keys(np.minimum(q, h), np.maximum(q, h), n)
    is_sp = lookup(ukeys, np.zeros(len(ukeys), np.int64), sp_key) == 0
    rel[is_sp] = "10"
    rel[q == h] = "02"
    relation = np.full(n, "", dtype="U2")
    relation[q] = rel
    number = np.zeros(len(hh_head), dtype=np.int64)
    hh_div = pop.hukou_div[hh_head]
    o = np.argsort(hh_div, kind="stable")
    grp = _first_per_group(hh_div[o])
    starts = np.repeat(grp, np.diff(np.append(grp, len(o))))
    number[o] = np.arange(len(o)) - starts + 1
    pop.household, pop.relation = household, relation
    pop.hh_head, pop.hh_div, pop.hh_number = hh_head, hh_div, number


check_character = check_characters
"""GB 11643 check characters (as ASCII codes) of rows of 17 digits: `check_characters`."""


def _digits(values: I64, width: int) -> npt.NDArray[np.uint8]:
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((values[:, None] // powers[None, :]) % 10).astype(np.uint8)


def citizen_ids(prefix: I64, birth: I64, seq: I64) -> Str:
    """18-character resident ID numbers from county prefix, birth day and order code."""
    y, m, d = ymd(birth)
    body = np.concatenate(
        [_digits(prefix, 6), _digits(y * 10000 + m * 100 + d, 8), _digits(seq, 3)], axis=1
    )
    chars = np.concatenate([body + ord("0"), check_character(body)[:, None]], axis=1)
    return np.ascontiguousarray(chars).view("S18").ravel().astype("U18")


def _citizen_ids(pop: Population, division: str, seed: int) -> None:
    rng = stage_rng(seed, STAGE_IDS)
    n = pop.n
    county = int(division[:6])
    code_prefix = np.array([int(c[:6]) for c in pop.divs.codes], dtype=np.int64)
    prefix = np.where(pop.origin >= 0, code_prefix[np.maximum(pop.origin, 0)], county)
    # A spouse from another village of the same division was born in this county.
    prefix = np.where(
        (pop.origin >= 0) & pop.divs.inside[np.maximum(pop.origin, 0)], county, prefix
    )
    o = np.lexsort((pop.sex, pop.birth, prefix))
    key_p, key_b, key_s = prefix[o], pop.birth[o], pop.sex[o]
    new = np.concatenate(
        [[True], (key_p[1:] != key_p[:-1]) | (key_b[1:] != key_b[:-1]) | (key_s[1:] != key_s[:-1])]
    )
    group = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    rank = np.arange(n) - starts[group]
    if n and rank.max() >= 499:
        raise ValueError("more than 499 persons share a county, birth date and sex")
    offset = rng.integers(0, 499, len(starts))[group]
    seq_sorted = 2 * ((rank + offset) % 499) + np.where(key_s == 1, 1, 2)
    seq = np.empty(n, dtype=np.int64)
    seq[o] = seq_sorted
    ids = citizen_ids(prefix, pop.birth, seq)
    recent = np.flatnonzero(age_on(pop.birth, pop.as_of) < 3)
    blank = recent[rng.random(len(recent)) < 0.01]
    if len(recent) >= 50 and not len(blank):
        blank = recent[:1]
    ids[blank] = ""
    pop.citizen_id = ids


def _names_for(pop: Population, seed: int) -> None:
    rng = stage_rng(seed, STAGE_IDS, 1)
    n = pop.n
    year = ymd(pop.birth)[0]
    edges = np.array([e for e, _, _ in _names.GIVEN_ERAS[:-1]])
    era = np.searchsorted(edges, year, side="right")
    given = np.empty(n, dtype="U2")
    u = rng.random(n)
    for e in range(len(_names.GIVEN_ERAS)):
        for male in (True, False):
            pool = np.array(_names.given_names(e, male))
            sel = (era == e) & ((pop.sex == 1) == male)
            given[sel] = pool[(u[sel] * len(pool)).astype(np.int64)]
    # A few names with characters only GB18030 can encode.
    young = np.flatnonzero((year >= 1990) & (pop.kind == CHILD) & (pop.death == NEVER))
    k = min(len(young), max(3, n // 20000))
    pick = young[np.linspace(0, len(young) - 1, k).astype(np.int64)] if k else young[:0]
    rare = np.array(_names.RARE_GIVEN)
    given[pick] = rare[np.arange(k) % len(rare)]
    pop.name = np.strings.add(_names.SURNAMES[pop.surname], given)


def build_population(
    *,
    seed: int,
    persons: int,
    division: str,
    villages: int,
    as_of: dt.date,
    outside_share: float,
) -> Population:
    """Generate the persons, unions, links, hukou, households, IDs and names.

    Args:
        seed: the seed.
        persons: the exact number of persons to return.
        division: a 9-digit township or a 6-digit county code.
        villages: villagers' committees per township.
        as_of: the register's date.
        outside_share: the share of persons whose hukou lies outside the division.

    Returns:
        The population.
    """
    n_towns = 1 if len(division) == 9 else max(1, round(persons / 50_000))
    divs = _build_divisions(division, n_towns, villages, seed)
    kin, setup = _generate(seed, as_of, persons, divs)
    pop = _truncate(kin, setup, persons, seed, divs, day_of(as_of))
    del kin
    _assign_hukou(pop, seed, outside_share)
    _marital(pop)
    _households(pop, seed)
    _citizen_ids(pop, division, seed)
    _names_for(pop, seed)
    return pop


def ethnicity_codes(pop: Population) -> Str:
    """GB 3304 codes of the persons' ethnicities."""
    return ETHNIC_CODES[pop.ethnic]
