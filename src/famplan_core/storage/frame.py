"""The facts frame built set-based in SQL (R0.1-R0.6, R0.10, R3.4, R4.4).

Five statements over the versioned tables, in one snapshot:

1. a temporary table of the persons known (current, or "as known at"), numbered in
   `person_id` order, with their hukou on D (R0.5: the latest change on or before D, found
   with a window function; the person row when there is no change at all; unknown when
   every change is after D), fetched as one row of five values per person;
2. the parent-child links that count on D (R0.4: ``birth`` from the child's birth date,
   ``adoptive`` from its ``since``; never ``step``), as row numbers joined in SQL;
3. the most severe disability certificate valid on D per person (GROUP BY);
4. the honour certificates valid on D (R0.10).

Dates travel as integers (days since 1970-01-01); the DBAPI cursor's tuples become NumPy
columns in C (`numpy.array` over the fetched rows, no Python loop per person). The link
aggregates (ever-children, daughters, living children, the only child, its mother for R3.4)
and the lapse dates of R4.4 are computed vectorised with `bincount`, `lexsort` and
`ufunc.at`; ages with `ages_on` (R0.2).

When one child is linked to a parent by both a ``birth`` and an ``adoptive`` link, the child
counts once, from the earlier of the two dates, and the link kind of the pair is ``birth``.
When a child has several female parents by the same kind of link, the mother of R3.4 is the
earliest born of them.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from famplan_core.model.dates import ages_on
from famplan_core.model.frame import NO_ROW, CertificateColumns, FactsFrame
from famplan_core.storage.sql import _Sql, _visible

if TYPE_CHECKING:
    from famplan_core.storage.sql import SqlStorage

__all__ = ["ages_on", "build_facts_frame"]

_EPOCH = dt.date(1970, 1, 1)
_NO_DATE = -999_999_999  # days; stands for NULL in integer columns fetched from SQL
_NAT = np.datetime64("NaT", "D")


def _object_table(rows: list[tuple[Any, ...]], width: int) -> npt.NDArray[np.object_]:
    """Fetched rows as a 2-D object array (NumPy walks the tuples in C)."""
    if not rows:
        return np.empty((0, width), dtype=object)
    table: npt.NDArray[np.object_] = np.array(rows, dtype=object)
    return table


def _days(values: npt.NDArray[np.int64]) -> npt.NDArray[np.datetime64]:
    out = values.astype("datetime64[D]")
    out[values == _NO_DATE] = _NAT
    return out


class _Builder:
    def __init__(self, connection: Any, d: dt.date, known_at: dt.datetime | None) -> None:
        self.conn = connection
        self.sql = _Sql(connection)
        self.d = d
        self.dd = (d - _EPOCH).days
        self.known_at = known_at
        self.cursor = connection.connection.cursor()

    def run(self, statement: str, params: list[object] | None = None) -> None:
        self.cursor.execute(statement, tuple(params or ()))

    def fetch(self, statement: str, params: list[object] | None = None) -> list[tuple[Any, ...]]:
        self.cursor.execute(statement, tuple(params or ()))
        rows: list[tuple[Any, ...]] = self.cursor.fetchall()
        return rows

    def ints(
        self, statement: str, width: int, params: list[object] | None = None
    ) -> npt.NDArray[np.int64]:
        rows = self.fetch(statement, params)
        if not rows:
            return np.zeros((0, width), dtype=np.int64)
        return np.array(rows, dtype=np.int64).reshape(len(rows), width)

    def visible(self, alias: str) -> tuple[str, list[object]]:
        return _visible(alias, self.sql, self.known_at)

    def temp(self, name: str, columns: str) -> None:
        self.run(f"DROP TABLE IF EXISTS {name}")
        suffix = "" if self.sql.sqlite else " ON COMMIT DROP"
        self.run(f"CREATE TEMPORARY TABLE {name} ({columns}){suffix}")

    def drop_temps(self) -> None:
        for name in ("_ff_p",):
            self.run(f"DROP TABLE IF EXISTS {name}")


def _lapse_from(
    holder: npt.NDArray[np.int64],
    child: npt.NDArray[np.int64],
    issued: npt.NDArray[np.int64],
    pair_parent: npt.NDArray[np.int64],
    pair_child: npt.NDArray[np.int64],
    pair_eff: npt.NDArray[np.int64],
) -> npt.NDArray[np.datetime64]:
    """R4.4: 1 January after the holder first gained a child other than K after the issue.

    The (parent, child, date) pairs are sorted by parent; each certificate looks at its
    holder's pairs only (vectorised with a repeat over the holders' ranges).
    """
    lo = np.searchsorted(pair_parent, holder, side="left")
    hi = np.searchsorted(pair_parent, holder, side="right")
    counts = hi - lo
    total = int(counts.sum())
    never = np.iinfo(np.int64).max
    gained = np.full(len(holder), never, dtype=np.int64)
    if total:
        owner = np.repeat(np.arange(len(holder)), counts)
        starts = np.cumsum(counts) - counts
        pair = lo[owner] + (np.arange(total) - starts[owner])
        counts_as = (pair_child[pair] != child[owner]) & (pair_eff[pair] > issued[owner])
        np.minimum.at(gained, owner[counts_as], pair_eff[pair[counts_as]])
    dates = np.where(gained == never, _NO_DATE, gained)
    gained_dates = _days(dates)
    lapse = (gained_dates.astype("datetime64[Y]") + 1).astype("datetime64[D]")
    lapse[np.isnat(gained_dates)] = _NAT
    return lapse


def build_facts_frame(
    storage: SqlStorage, d: dt.date, division: str, known_at: dt.datetime | None = None
) -> FactsFrame:
    """Build the facts frame of every person stored, for date `d`, set-based in SQL.

    Args:
        storage: the SQL storage.
        d: the evaluation date D.
        division: the deployment's division code; a person is in the jurisdiction when
            the 12-digit hukou division on D starts with it (R0.6).
        known_at: use only row versions recorded by then and not yet superseded then;
            None for the current versions.

    Returns:
        The frame, one row per person in `person_id` order.
    """
    with storage.reader() as reader:
        b = _Builder(reader.connection, d, known_at)
        try:
            return _build(b, division)
        finally:
            b.drop_temps()
            b.cursor.close()


def _build(b: _Builder, division: str) -> FactsFrame:
    sql, p, d, dd = b.sql, b.sql.p, b.d, b.dd
    iso = d.isoformat()
    dparam = sql.date_param()

    # 1. persons with their hukou on D, numbered 1..n in person_id order
    b.temp(
        "_ff_p",
        "row INTEGER PRIMARY KEY, person_id VARCHAR(200) NOT NULL, sex INTEGER, "
        "birth INTEGER NOT NULL, death INTEGER, hukou_division VARCHAR(12), "
        "hukou_type VARCHAR(8)",
    )
    vis_p, par_p = b.visible("p")
    vis_h, par_h = b.visible("hc")
    vis_a, par_a = b.visible("ha")
    if sql.sqlite:  # rowids are given in insertion order, which the ORDER BY fixes
        numbered, order = "", " ORDER BY p.person_id"
    else:
        numbered, order = 'ROW_NUMBER() OVER (ORDER BY p.person_id COLLATE "C"), ', ""
    b.run(
        "INSERT INTO _ff_p ("
        + ("" if sql.sqlite else "row, ")
        + "person_id, sex, birth, death, hukou_division, hukou_type) "
        f"SELECT {numbered}p.person_id, "
        f"CAST(p.sex AS INTEGER), {sql.days('p.birth_date')}, {sql.days('p.death_date')}, "
        "CASE WHEN h.person_id IS NOT NULL THEN h.hukou_division "
        "WHEN a.person_id IS NULL THEN p.hukou_division END, "
        "CASE WHEN h.person_id IS NOT NULL THEN h.hukou_type "
        "WHEN a.person_id IS NULL THEN p.hukou_type END "
        "FROM persons p "
        "LEFT JOIN (SELECT hc.person_id, hc.hukou_division, hc.hukou_type, ROW_NUMBER() "
        "OVER (PARTITION BY hc.person_id ORDER BY hc.date DESC) AS rn FROM hukou_changes hc "
        f"WHERE {vis_h} AND hc.date <= {dparam}) h ON h.person_id = p.person_id AND h.rn = 1 "
        f"LEFT JOIN (SELECT DISTINCT ha.person_id FROM hukou_changes ha WHERE {vis_a}) a "
        f"ON a.person_id = p.person_id WHERE {vis_p}{order}",
        [*par_h, iso, *par_a, *par_p],
    )
    b.run("CREATE UNIQUE INDEX _ff_p_person ON _ff_p (person_id)")
    if not sql.sqlite:
        b.run("ANALYZE _ff_p")

    width = len(division)
    # the three flags and the sex code packed in one integer: fewer values to fetch
    rows = b.fetch(
        "SELECT person_id, COALESCE(hukou_division, ''), COALESCE(sex, 0) * 8 "
        "+ CASE WHEN hukou_division IS NULL THEN 0 ELSE 4 END "
        "+ CASE WHEN hukou_type = 'rural' THEN 2 ELSE 0 END "
        f"+ CASE WHEN substr(hukou_division, 1, {width}) = {p} THEN 1 ELSE 0 END, "
        f"birth, COALESCE(death, {_NO_DATE}) FROM _ff_p ORDER BY row",
        [division],
    )
    table = _object_table(rows, 5)
    del rows
    n = len(table)
    person_id = table[:, 0].copy()
    hukou_division = table[:, 1].copy()
    code = table[:, 2].astype(np.int64)
    birth = _days(table[:, 3].astype(np.int64))
    death = _days(table[:, 4].astype(np.int64))
    del table
    sex = (code // 8).astype(np.int8)
    hukou_known = (code & 4) > 0
    hukou_rural = ((code & 2) > 0) & hukou_known
    in_jurisdiction = ((code & 1) > 0) & hukou_known
    day = np.datetime64(d, "D")
    alive = (birth <= day) & (np.isnat(death) | (death > day))

    # 2. the links that count on D (R0.4), by row numbers, then aggregated in NumPy
    vis_l, par_l = b.visible("l")
    eff = (
        "CASE WHEN l.kind = 'birth' THEN fc.birth "
        f"ELSE COALESCE({sql.days('l.since')}, fc.birth) END"
    )
    links = b.ints(
        f"SELECT fp.row - 1, fc.row - 1, CASE WHEN l.kind = 'birth' THEN 1 ELSE 2 END, {eff} "
        "FROM parent_child l JOIN _ff_p fp ON fp.person_id = l.parent_id "
        "JOIN _ff_p fc ON fc.person_id = l.child_id "
        f"WHERE {vis_l} AND l.kind IN ('birth', 'adoptive') AND {eff} <= {dd}",
        4,
        par_l,
    )
    # one entry per (parent, child): the earlier date, and ``birth`` before ``adoptive``
    order_ = np.lexsort((links[:, 3], links[:, 2], links[:, 1], links[:, 0]))
    links = links[order_]
    first = np.ones(len(links), dtype=bool)
    first[1:] = (links[1:, 0] != links[:-1, 0]) | (links[1:, 1] != links[:-1, 1])
    pair_parent, pair_child, pair_link = links[first, 0], links[first, 1], links[first, 2]
    pair_eff = (
        np.minimum.reduceat(links[:, 3], np.flatnonzero(first)) if len(links) else (links[:, 3])
    )

    ever_children = np.bincount(pair_parent, minlength=n).astype(np.int16)
    ever_daughters = np.bincount(pair_parent, weights=sex[pair_child] == 2, minlength=n).astype(
        np.int16
    )
    living_children = np.bincount(pair_parent, weights=alive[pair_child], minlength=n).astype(
        np.int16
    )
    only_child = np.full(n, NO_ROW, dtype=np.int64)
    only_child_link = np.zeros(n, dtype=np.int8)
    single = ever_children[pair_parent] == 1
    only_child[pair_parent[single]] = pair_child[single]
    only_child_link[pair_parent[single]] = pair_link[single]

    # R3.4: the mother of the only child: P if female, else the earliest-born female parent
    # linked to the child by the same kind of link
    female = sex[links[:, 0]] == 2
    mother_of = np.full(2 * n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(
        mother_of,
        links[female, 1] * 2 + links[female, 2] - 1,
        birth[links[female, 0]].astype(np.int64),
    )
    only_child_mother_birth_date = np.full(n, _NAT, dtype="datetime64[D]")
    has_one = only_child != NO_ROW
    found = mother_of[only_child[has_one] * 2 + only_child_link[has_one].astype(np.int64) - 1]
    only_child_mother_birth_date[has_one] = np.where(
        found == np.iinfo(np.int64).max, _NAT, found.astype("datetime64[D]")
    )
    herself = has_one & (sex == 2)
    only_child_mother_birth_date[herself] = birth[herself]

    # disabilities valid on D (R0.10)
    vis_d, par_d = b.visible("x")
    disability_grade = np.zeros(n, dtype=np.int8)
    grades = b.ints(
        "SELECT f.row - 1, MIN(x.grade) FROM disabilities x "
        "JOIN _ff_p f ON f.person_id = x.person_id "
        f"WHERE {vis_d} AND x.valid_from <= {dparam} AND (x.valid_to IS NULL OR x.valid_to >= "
        f"{dparam}) GROUP BY f.row",
        2,
        [*par_d, iso, iso],
    )
    disability_grade[grades[:, 0]] = grades[:, 1]

    # honour certificates valid on D (R0.10), in holder, issue date, id order
    vis_c, par_c = b.visible("c")
    collate = "" if sql.sqlite else ' COLLATE "C"'
    certs = b.fetch(
        f"SELECT c.certificate_id, h.row - 1, COALESCE(k.row - 1, {NO_ROW}), "
        f"{sql.days('c.issued_on')} FROM certificates c "
        "JOIN _ff_p h ON h.person_id = c.holder_id "
        "LEFT JOIN _ff_p k ON k.person_id = c.child_id "
        f"WHERE {vis_c} AND c.kind = 'honour' AND c.issued_on <= {dparam} "
        f"AND (c.revoked_on IS NULL OR c.revoked_on > {dparam}) "
        f"ORDER BY h.row, c.issued_on, c.certificate_id{collate}",
        [*par_c, iso, iso],
    )
    cert_table = _object_table(certs, 4)
    certificate_id = cert_table[:, 0].copy()
    holder = cert_table[:, 1].astype(np.int64)
    child = cert_table[:, 2].astype(np.int64)
    issued = cert_table[:, 3].astype(np.int64)
    lapse_from = _lapse_from(holder, child, issued, pair_parent, pair_child, pair_eff)

    return FactsFrame(
        date=d,
        person_id=person_id,
        sex=sex,
        birth_date=birth,
        alive=alive,
        age=ages_on(birth, d),
        hukou_known=hukou_known,
        hukou_rural=hukou_rural,
        hukou_division=hukou_division,
        in_jurisdiction=in_jurisdiction,
        ever_children=ever_children,
        ever_daughters=ever_daughters,
        living_children=living_children,
        only_child=only_child,
        only_child_link=only_child_link,
        only_child_mother_birth_date=only_child_mother_birth_date,
        disability_grade=disability_grade,
        certificates=CertificateColumns(
            holder=holder,
            child=child,
            issued_on=_days(issued),
            certificate_id=certificate_id,
            lapse_from=lapse_from,
        ),
        known_at=b.known_at,
    )
