"""`build_facts_frame` equals a naive fold of the stored rows (R0.1-R0.6, R0.10, R3.4, R4.4).

Hypothesis builds small registers (persons, links of all three kinds with since dates,
hukou changes, deaths, disabilities, honour certificates incl. revoked ones), stores them in
two or three units of work (so rows are corrected and versions superseded), and compares
the frame for random dates and record times with a fold written here, in plain Python,
straight from the spec over the version rows visible at that record time. Each example uses
its own person ids, so one database serves a whole test.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from famplan_core.model.frame import FactsFrame
from famplan_core.storage import SqlStorage, build_facts_frame
from famplan_core.storage.tables import RECORD_KINDS

DIVISION = "371502"
INSIDE, OUTSIDE = "371502110001", "110101001001"
_clock = itertools.count()
_prefixes = itertools.count()


def _now() -> dt.datetime:
    return dt.datetime(2025, 1, 1) + dt.timedelta(minutes=next(_clock))


dates = st.dates(dt.date(1940, 1, 1), dt.date(2030, 12, 31))
leapish = st.one_of(dates, st.sampled_from([dt.date(2000, 2, 29), dt.date(1996, 2, 29)]))
maybe_date = st.one_of(st.just(""), dates.map(dt.date.isoformat))


@st.composite
def registers(draw: st.DrawFn, n: int, pool: list[dt.date]) -> dict[str, list[tuple[str, ...]]]:
    """One version of a register over persons 0..n-1 (ids given later).

    Dates come from a small pool, so that births, deaths, adoptions, issues and the
    evaluation date coincide often: the boundaries are where rules go wrong.
    """
    idx = st.integers(0, n - 1)
    dates = st.sampled_from(pool)
    leapish = dates
    maybe_date = st.one_of(st.just(""), dates.map(dt.date.isoformat))
    persons = []
    for i in range(n):
        birth = draw(leapish)
        death = draw(
            st.one_of(st.just(""), st.sampled_from([x.isoformat() for x in pool if x >= birth]))
        )
        persons.append(
            (
                str(i),
                "",
                f"名{i}",
                draw(st.sampled_from("1220")),
                birth.isoformat(),
                death,
                "01",
                "20",
                draw(st.sampled_from([INSIDE, OUTSIDE])),
                draw(st.sampled_from(["rural", "urban"])),
                "",
                "",
                "",
            )
        )
    links = {}
    for parent, child, kind in draw(
        st.lists(
            st.tuples(idx, idx, st.sampled_from(["birth", "birth", "adoptive", "step"])),
            max_size=3 * n,
        )
    ):
        if parent != child:
            since = draw(dates).isoformat() if kind == "adoptive" else draw(maybe_date)
            links[(parent, child, kind)] = (
                str(parent),
                str(child),
                kind,
                "" if kind == "birth" else since,
            )
    hukou = {}
    for person, when, division, htype in draw(
        st.lists(
            st.tuples(
                idx, dates, st.sampled_from([INSIDE, OUTSIDE]), st.sampled_from(["rural", "urban"])
            ),
            max_size=2 * n,
        )
    ):
        hukou[(person, when)] = (str(person), when.isoformat(), division, htype)
    disabilities = {}
    for person, grade, start, length in draw(
        st.lists(
            st.tuples(
                idx, st.integers(1, 4), dates, st.one_of(st.none(), st.sampled_from([0, 1, 365]))
            ),
            max_size=n,
        )
    ):
        end = "" if length is None else (start + dt.timedelta(days=length)).isoformat()
        disabilities[(person, start)] = (
            str(person),
            str(grade),
            "physical",
            start.isoformat(),
            end,
        )
    certificates = {}
    for cid, holder, child, issued, revoked_after in draw(
        st.lists(
            st.tuples(
                st.sampled_from(["C1", "C2", "C3"]),
                idx,
                st.one_of(idx, st.just(-1)),
                dates,
                st.one_of(st.none(), st.sampled_from([0, 1, 400])),
            ),
            max_size=n,
        )
    ):
        revoked = (
            "" if revoked_after is None else (issued + dt.timedelta(days=revoked_after)).isoformat()
        )
        certificates[(cid, holder)] = (
            cid,
            "honour",
            str(holder),
            "missing" if child < 0 else str(child),
            issued.isoformat(),
            revoked,
        )
    return {
        "persons": persons,
        "parent_child": list(links.values()),
        "hukou_changes": list(hukou.values()),
        "disabilities": list(disabilities.values()),
        "certificates": list(certificates.values()),
    }


PERSON_REFS = {
    "persons": (0,),
    "parent_child": (0, 1),
    "hukou_changes": (0,),
    "disabilities": (0,),
    "certificates": (2, 3),
}


def _prefixed(
    register: dict[str, list[tuple[str, ...]]], prefix: str
) -> dict[str, list[tuple[str, ...]]]:
    out = {}
    for kind, rows in register.items():
        refs = PERSON_REFS[kind]
        out[kind] = [
            tuple(
                f"{prefix}{v}" if i in refs or (kind == "certificates" and i == 0) else v
                for i, v in enumerate(row)
            )
            for row in rows
        ]
    return out


# -- the naive fold ------------------------------------------------------------------------


def _rows(store: SqlStorage, kind: str, prefix: str) -> list[dict[str, Any]]:
    columns = RECORD_KINDS[kind].columns
    key = RECORD_KINDS[kind].key[0]
    with store.reader() as reader:
        names = ", ".join(f'"{c}"' for c in columns)
        result = reader.connection.exec_driver_sql(
            f'SELECT recorded_at, superseded_at, {names} FROM "{kind}"'
        )
        rows = []
        for r in result:
            row = dict(zip(("recorded_at", "superseded_at", *columns), r, strict=True))
            if not str(row[key]).startswith(prefix):
                continue
            for c, v in row.items():
                if isinstance(v, str) and c in ("recorded_at", "superseded_at"):
                    row[c] = dt.datetime.fromisoformat(v)
                elif isinstance(v, str) and c in RECORD_KINDS[kind].dates:
                    row[c] = dt.date.fromisoformat(v)
            rows.append(row)
        return rows


def _visible(row: dict[str, Any], known_at: dt.datetime | None) -> bool:
    if known_at is None:
        return row["superseded_at"] is None
    return row["recorded_at"] <= known_at and (
        row["superseded_at"] is None or row["superseded_at"] > known_at
    )


def naive_fold(
    store: SqlStorage, prefix: str, d: dt.date, known_at: dt.datetime | None
) -> tuple[dict[str, dict[str, Any]], list[tuple[Any, ...]]]:
    """Every frame column for each person of this example, and the certificates."""
    seen = {k: [r for r in _rows(store, k, prefix) if _visible(r, known_at)] for k in PERSON_REFS}
    people = {p["person_id"]: p for p in seen["persons"]}

    def alive(p: dict[str, Any]) -> bool:
        return p["birth_date"] <= d and (p["death_date"] is None or p["death_date"] > d)

    children: dict[str, dict[str, list[Any]]] = {pid: {} for pid in people}
    for link in seen["parent_child"]:
        if link["kind"] == "step" or link["parent_id"] not in people:
            continue
        child = people.get(link["child_id"])
        if child is None:
            continue
        since = (
            child["birth_date"]
            if link["kind"] == "birth"
            else (link["since"] or child["birth_date"])
        )
        if since <= d:
            entry = children[link["parent_id"]].setdefault(link["child_id"], [since, set()])
            entry[0] = min(entry[0], since)
            entry[1].add(link["kind"])

    expected: dict[str, dict[str, Any]] = {}
    for pid, p in people.items():
        changes = [h for h in seen["hukou_changes"] if h["person_id"] == pid]
        if not changes:
            division, htype = p["hukou_division"], p["hukou_type"]
        else:
            earlier = [h for h in changes if h["date"] <= d]
            last = max(earlier, key=lambda h: h["date"]) if earlier else None
            division = last["hukou_division"] if last else None
            htype = last["hukou_type"] if last else None
        kids = children[pid]
        only, link, mother = None, 0, None
        if len(kids) == 1:
            ((only, (_since, kinds)),) = kids.items()
            link = 1 if "birth" in kinds else 2
            kind_name = "birth" if link == 1 else "adoptive"
            if p["sex"] == "2":
                mother = p["birth_date"]
            else:
                mothers = [
                    people[other]["birth_date"]
                    for other, their in children.items()
                    if only in their and kind_name in their[only][1] and people[other]["sex"] == "2"
                ]
                mother = min(mothers) if mothers else None
        grades = [
            x["grade"]
            for x in seen["disabilities"]
            if x["person_id"] == pid
            and x["valid_from"] <= d
            and (x["valid_to"] is None or d <= x["valid_to"])
        ]
        age = (
            d.year
            - p["birth_date"].year
            - ((d.month, d.day) < (p["birth_date"].month, p["birth_date"].day))
        )
        expected[pid] = {
            "sex": int(p["sex"]),
            "birth_date": p["birth_date"],
            "alive": alive(p),
            "age": -1 if p["birth_date"] > d else age,
            "hukou_known": division is not None,
            "hukou_rural": htype == "rural",
            "hukou_division": division or "",
            "in_jurisdiction": division is not None and division.startswith(DIVISION),
            "ever_children": len(kids),
            "ever_daughters": sum(people[c]["sex"] == "2" for c in kids),
            "living_children": sum(alive(people[c]) for c in kids),
            "only_child": only,
            "only_child_link": link,
            "only_child_mother_birth_date": mother,
            "disability_grade": min(grades, default=0),
        }
    certificates = []
    for c in seen["certificates"]:
        if c["holder_id"] not in people or c["kind"] != "honour":
            continue
        if not (c["issued_on"] <= d and (c["revoked_on"] is None or c["revoked_on"] > d)):
            continue
        gained = [
            since
            for child, (since, _kinds) in children[c["holder_id"]].items()
            if child != c["child_id"] and since > c["issued_on"]
        ]
        lapse = dt.date(min(gained).year + 1, 1, 1) if gained else None
        certificates.append(
            (
                c["holder_id"],
                c["issued_on"],
                c["certificate_id"],
                c["child_id"] if c["child_id"] in people else None,
                lapse,
            )
        )
    certificates.sort()
    return expected, certificates


def _date_or_none(value: np.datetime64) -> dt.date | None:
    return None if np.isnat(value) else value.astype(dt.date)


def frame_view(
    frame: FactsFrame, prefix: str
) -> tuple[dict[str, dict[str, Any]], list[tuple[Any, ...]]]:
    """The frame's rows of this example's persons, with row indexes turned into ids."""
    ids = frame.person_id
    got: dict[str, dict[str, Any]] = {}
    for row, pid in enumerate(ids):
        if not pid.startswith(prefix):
            continue
        only = int(frame.only_child[row])
        got[pid] = {
            "sex": int(frame.sex[row]),
            "birth_date": _date_or_none(frame.birth_date[row]),
            "alive": bool(frame.alive[row]),
            "age": int(frame.age[row]),
            "hukou_known": bool(frame.hukou_known[row]),
            "hukou_rural": bool(frame.hukou_rural[row]),
            "hukou_division": frame.hukou_division[row],
            "in_jurisdiction": bool(frame.in_jurisdiction[row]),
            "ever_children": int(frame.ever_children[row]),
            "ever_daughters": int(frame.ever_daughters[row]),
            "living_children": int(frame.living_children[row]),
            "only_child": None if only < 0 else ids[only],
            "only_child_link": int(frame.only_child_link[row]),
            "only_child_mother_birth_date": _date_or_none(frame.only_child_mother_birth_date[row]),
            "disability_grade": int(frame.disability_grade[row]),
        }
    c = frame.certificates
    certificates = sorted(
        (
            ids[c.holder[i]],
            _date_or_none(c.issued_on[i]),
            c.certificate_id[i],
            None if c.child[i] < 0 else ids[c.child[i]],
            _date_or_none(c.lapse_from[i]),
        )
        for i in range(len(c))
        if ids[c.holder[i]].startswith(prefix)
    )
    return got, certificates


@pytest.fixture
def storage(storage_url: str) -> Iterator[SqlStorage]:
    """One migrated storage for all the examples of a test."""
    store = SqlStorage(storage_url, migrate=True)
    yield store
    store.close()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.data(), n=st.integers(1, 7), pool=st.lists(leapish, min_size=2, max_size=6, unique=True)
)
def test_frame_equals_the_naive_fold(
    storage: SqlStorage, data: st.DataObject, n: int, pool: list[dt.date]
) -> None:
    """For random registers, dates and record times, every column agrees with the fold."""
    prefix = f"x{next(_prefixes)}-"
    times = []
    for _ in range(data.draw(st.integers(1, 3), label="units of work")):
        register = _prefixed(data.draw(registers(n, pool), label="register"), prefix)
        when = _now()
        times.append(when)
        with storage.unit_of_work(actor="clerk", recorded_at=when) as uow:
            for kind, rows in register.items():
                uow.upsert_rows(kind, RECORD_KINDS[kind].columns, rows)
    d = data.draw(
        st.one_of(
            st.sampled_from(pool),
            st.sampled_from(pool).map(lambda x: x + dt.timedelta(days=1)),
            leapish,
        ),
        label="date",
    )
    known_at = data.draw(
        st.sampled_from([None, *times, times[0] - dt.timedelta(seconds=1)]), label="known_at"
    )
    frame = build_facts_frame(storage, d, DIVISION, known_at)
    assert frame_view(frame, prefix) == naive_fold(storage, prefix, d, known_at)
    with storage.reader() as reader:
        for pid in list(frame_view(frame, prefix)[0])[:2]:
            view = reader.person_as_of(pid, d, known_at)
            row = frame.row_of(pid)
            assert (view.alive, view.age, view.hukou_division) == (
                bool(frame.alive[row]),
                int(frame.age[row]),
                frame.hukou_division[row],
            )
            assert len({c.child_id for c in view.children if c.counts}) == frame.ever_children[row]
