"""The context of one report run: set-based SQL over the register as known at one time.

A `ReportContext` lives inside one read snapshot of the SQL storage. Every register table
is read *as known at* the run's record time (rows recorded by then and not yet superseded
then), so a run recorded with its register state gives the same numbers when it is run
again later. The persons of the period are put once into a temporary table, with their
hukou division at the start and at the end of the period (R0.5: the latest hukou change on
or before the day; the person row when there was never a change; unknown when every change
is later); the indicators then read it with a few ``GROUP BY`` statements:

* `ReportContext.stock`: persons alive at the end of a day, by hukou division, sex and
  five-year age band (0-4, 5-9, ..., 85+);
* `ReportContext.births`: live births of the period by the child's hukou division at birth,
  month, sex, birth order (among the mother's children by birth, born earlier; twins in
  `person_id` order) and the mother's five-year age band at the birth;
* `ReportContext.deaths`: deaths of the period by hukou division at death and sex.

An event (birth, death) is counted where the person's hukou was on its day; when the
register only knows later hukou changes (a newborn registered weeks after the birth), the
earliest known division is used.

Divisions roll up from village (12 digits) to township (9) and county (6): `DivisionTree`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from famplan_core.model.identity import DivisionCode
from famplan_core.reporting.periods import Period

__all__ = [
    "AGE_BANDS",
    "OLDEST_BAND",
    "DivisionTree",
    "ReportContext",
    "band_label",
]

OLDEST_BAND = 17
"""The index of the open-ended oldest band, 85 and over."""

AGE_BANDS: tuple[int, ...] = tuple(range(OLDEST_BAND + 1))
"""The five-year age bands by index: band ``i`` holds ages ``5i`` to ``5i + 4``."""

_TEMPS = ("_rep_c", "_rep_b", "_rep_p")


def band_label(band: int, lang: str) -> str:
    """The label of a five-year age band, e.g. ``15-19岁`` or ``85+``.

    Args:
        band: the band's index (see `AGE_BANDS`).
        lang: ``zh`` or ``en``.
    """
    if band >= OLDEST_BAND:
        return f"{5 * OLDEST_BAND}岁及以上" if lang == "zh" else f"{5 * OLDEST_BAND}+"
    text = f"{5 * band}-{5 * band + 4}"
    return f"{text}岁" if lang == "zh" else text


def _leaf(code: str) -> str:
    return code.ljust(12, "0")[:12]


@attrs.frozen(kw_only=True)
class DivisionTree:
    """The divisions of a report, from the scope down to its villages.

    Attributes:
        root: the scope's code (6, 9 or 12 digits).
        order: every division, depth first: each one before its parts.
        parts: each division that is a sum, with the divisions it sums.
    """

    root: str
    order: tuple[str, ...]
    parts: Mapping[str, tuple[str, ...]]
    names: Mapping[str, str] = attrs.field(factory=dict)

    @classmethod
    def build(
        cls, root: str, leaves: Iterable[str], names: Mapping[str, str] | None = None
    ) -> DivisionTree:
        """The tree from `root` to the villages in `leaves` (12-digit codes under the root).

        Args:
            root: the scope's code.
            leaves: village codes found in the data.
            names: division names that win over the shipped table's (e.g. the deployment's
                own name for its township).
        """
        children: dict[str, set[str]] = {}
        for leaf in {_leaf(code) for code in leaves}:
            if not leaf.startswith(root) or leaf == root:
                continue
            chain = [leaf]
            for width in (9, 6):
                if width > len(root):
                    chain.append(leaf[:width])
            chain.append(root)
            for child, parent in itertools.pairwise(chain):
                if child != parent:
                    children.setdefault(parent, set()).add(child)
        order: list[str] = []

        def walk(code: str) -> None:
            order.append(code)
            for child in sorted(children.get(code, ())):
                walk(child)

        walk(root)
        return cls(
            root=root,
            order=tuple(order),
            parts={k: tuple(sorted(v)) for k, v in sorted(children.items())},
            names=dict(names or {}),
        )

    def chain(self, leaf: str) -> tuple[str, ...]:
        """A village and every division above it up to the root, bottom first."""
        out = [leaf]
        for width in (9, 6):
            if len(self.root) < width:
                out.append(leaf[:width])
        if out[-1] != self.root:
            out.append(self.root)
        return tuple(dict.fromkeys(out))

    def is_village(self, code: str) -> bool:
        """Whether a division is a village (a 12-digit code): small cells there are withheld."""
        return len(code) == 12

    def depth(self, code: str) -> int:
        """How many levels below the root a division is (0 for the root)."""
        levels = [w for w in (6, 9, 12) if len(self.root) < w <= len(code)]
        return len(levels)

    def name(self, code: str) -> str:
        """The division's name: given, else from the shipped table; empty when unknown."""
        return self.names.get(code) or self.table_name(code)

    @staticmethod
    def table_name(code: str) -> str:
        """The division's name from the vendored table; empty for villages and unknown codes."""
        try:
            return DivisionCode.parse(code).name() or ""
        except ValueError:
            return ""

    def leaf_of(self, code: str | None) -> str | None:
        """The 12-digit village a stored division code counts under, or None outside scope."""
        if code is None:
            return None
        leaf = _leaf(code)
        return leaf if leaf.startswith(self.root) else None


class ReportContext:
    """One report run over one read snapshot: the period, the scope and the record time.

    Args:
        connection: the snapshot's SQLAlchemy connection (SQLite or PostgreSQL).
        period: the report period.
        scope: the division code the report covers (6, 9 or 12 digits).
        known_at: read the register as known at this record time (UTC, naive); None for
            the current versions.
        public: the output is for the public: small cells are withheld.
        threshold: the smallest count shown at village level in a public output.
        labels: names of programs and categories (``program.category``), each as
            ``(zh, en)``.
        division_names: division names that win over the shipped table's.
        lang: the language of the tables' labels and notes, ``zh`` or ``en``.
    """

    def __init__(
        self,
        connection: sa.Connection,
        *,
        period: Period,
        scope: str,
        known_at: dt.datetime | None,
        public: bool = False,
        threshold: int = 5,
        labels: Mapping[str, tuple[str, str]] | None = None,
        lang: str = "zh",
        division_names: Mapping[str, str] | None = None,
    ) -> None:
        self.connection = connection
        self.period = period
        self.scope = scope
        self.known_at = known_at
        self.public = public
        self.threshold = threshold
        self.labels: Mapping[str, tuple[str, str]] = dict(labels or {})
        self.lang = lang
        self.division_names: Mapping[str, str] = dict(division_names or {})
        self.sqlite = connection.dialect.name == "sqlite"
        self.p = "?" if self.sqlite else "%s"
        self._cache: dict[str, Any] = {}
        self._made: set[str] = set()

    # -- SQL helpers -----------------------------------------------------------------------

    def date(self) -> str:
        """A placeholder for a date bound as ISO text."""
        return self.p if self.sqlite else f"CAST({self.p} AS DATE)"

    def year_of(self, expr: str) -> str:
        """An SQL expression for the year of a date column."""
        if self.sqlite:
            return f"CAST(substr({expr}, 1, 4) AS INTEGER)"
        return f"CAST(EXTRACT(YEAR FROM {expr}) AS INTEGER)"

    def month_of(self, expr: str) -> str:
        """An SQL expression for the month (1-12) of a date column."""
        if self.sqlite:
            return f"CAST(substr({expr}, 6, 2) AS INTEGER)"
        return f"CAST(EXTRACT(MONTH FROM {expr}) AS INTEGER)"

    def month_index(self, expr: str) -> str:
        """An SQL expression numbering months: ``year * 12 + month``."""
        return f"({self.year_of(expr)} * 12 + {self.month_of(expr)})"

    def _month_day(self, expr: str) -> str:
        return f"substr({expr}, 6, 5)" if self.sqlite else f"to_char({expr}, 'MM-DD')"

    def age_between(self, birth: str, day: str) -> str:
        """An SQL expression for the completed years between two date columns (R0.2)."""
        return (
            f"({self.year_of(day)} - {self.year_of(birth)} - CASE WHEN "
            f"{self._month_day(birth)} > {self._month_day(day)} THEN 1 ELSE 0 END)"
        )

    def age_on(self, birth: str, d: dt.date) -> tuple[str, list[object]]:
        """An SQL expression for the completed years on `d` (R0.2), with its parameters."""
        sql = (
            f"({self.p} - {self.year_of(birth)} - CASE WHEN {self._month_day(birth)} > {self.p} "
            "THEN 1 ELSE 0 END)"
        )
        return sql, [d.year, f"{d.month:02d}-{d.day:02d}"]

    def band_on(self, birth: str, d: dt.date) -> tuple[str, list[object]]:
        """An SQL expression for the five-year age band on `d`, with its parameters."""
        age, params = self.age_on(birth, d)
        sql = f"CASE WHEN {age} >= {5 * OLDEST_BAND} THEN {OLDEST_BAND} ELSE {age} / 5 END"
        return sql, params + params

    def visible(self, alias: str) -> tuple[str, list[object]]:
        """The predicate choosing the versions of a versioned table known at the run's time."""
        if self.known_at is None:
            return f"{alias}.superseded_at IS NULL", []
        t: object = self.known_at.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else self.known_at
        return (
            f"{alias}.recorded_at <= {self.p} AND "
            f"({alias}.superseded_at IS NULL OR {alias}.superseded_at > {self.p})",
            [t, t],
        )

    def recorded_by(self, alias: str) -> tuple[str, list[object]]:
        """The predicate choosing rows of an append-only table recorded by the run's time."""
        if self.known_at is None:
            return "1 = 1", []
        t: object = self.known_at.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else self.known_at
        return f"{alias}.recorded_at <= {self.p}", [t]

    def in_scope(self, expr: str) -> tuple[str, list[object]]:
        """The predicate: a division column lies in the report's scope."""
        return f"substr({expr}, 1, {len(self.scope)}) = {self.p}", [self.scope]

    def run(self, statement: str, params: Sequence[object] = ()) -> None:
        """Execute one statement."""
        self.connection.exec_driver_sql(statement, tuple(params))

    def fetch(self, statement: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Execute one query and fetch its rows as tuples."""
        return [tuple(r) for r in self.connection.exec_driver_sql(statement, tuple(params))]

    def _temp_as(self, name: str, select: str, params: Sequence[object]) -> None:
        self.run(f"DROP TABLE IF EXISTS {name}")
        if self.sqlite:
            self.run(f"CREATE TEMPORARY TABLE {name} AS {select}", params)
        else:
            self.run(f"CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS {select}", params)
        self._made.add(name)

    def made_temp(self, name: str) -> None:
        """Note a temporary table made by an indicator, so that `close` drops it."""
        self._made.add(name)

    def close(self) -> None:
        """Drop the temporary tables (a pooled SQLite connection keeps them otherwise)."""
        for name in (*_TEMPS, *sorted(self._made - set(_TEMPS))):
            if name in self._made:
                self.run(f"DROP TABLE IF EXISTS {name}")
        self._made.clear()

    def label(self, code: str, lang: str) -> str:
        """The name of a program or category code, or the code itself."""
        names = self.labels.get(code)
        if names is None:
            return code
        return names[0] if lang == "zh" else names[1]

    # -- the persons of the period -----------------------------------------------------------

    def _hukou_on(self, d: dt.date) -> tuple[str, list[object]]:
        vis, params = self.visible("hc")
        return (
            "SELECT person_id, hukou_division FROM (SELECT hc.person_id, hc.hukou_division, "
            "ROW_NUMBER() OVER (PARTITION BY hc.person_id ORDER BY hc.date DESC) AS rn "
            f"FROM hukou_changes hc WHERE {vis} AND hc.date <= {self.date()}) x WHERE rn = 1",
            [*params, d.isoformat()],
        )

    def persons(self) -> str:
        """The temporary table of the persons of the period (made on first use).

        Columns: ``person_id``, ``sex`` (1, 2, or 9 for unknown), ``birth``, ``death``,
        ``div_s`` and ``div_e`` (the hukou division at the end of the day before the period
        and of its last day), ``moved`` (1 when the person has hukou changes).
        """
        if "_rep_p" in self._made:
            return "_rep_p"
        period = self.period
        start_sql, start_params = self._hukou_on(period.eve)
        end_sql, end_params = self._hukou_on(period.last)
        vis_a, par_a = self.visible("ha")
        vis_p, par_p = self.visible("p")
        d = self.date()
        pick = (
            "CASE WHEN {h}.person_id IS NOT NULL THEN {h}.hukou_division "
            "WHEN a.person_id IS NULL THEN p.hukou_division END"
        )
        self._temp_as(
            "_rep_p",
            "SELECT p.person_id AS person_id, "
            "CASE WHEN p.sex IN ('1', '2') THEN CAST(p.sex AS INTEGER) ELSE 9 END AS sex, "
            "p.birth_date AS birth, p.death_date AS death, "
            f"{pick.format(h='hs')} AS div_s, {pick.format(h='he')} AS div_e, "
            "CASE WHEN a.person_id IS NULL THEN 0 ELSE 1 END AS moved "
            f"FROM persons p LEFT JOIN ({start_sql}) hs ON hs.person_id = p.person_id "
            f"LEFT JOIN ({end_sql}) he ON he.person_id = p.person_id "
            f"LEFT JOIN (SELECT DISTINCT ha.person_id FROM hukou_changes ha WHERE {vis_a}) a "
            f"ON a.person_id = p.person_id WHERE {vis_p} AND p.birth_date <= {d} "
            f"AND (p.death_date IS NULL OR p.death_date >= {d})",
            [
                *start_params,
                *end_params,
                *par_a,
                *par_p,
                period.last.isoformat(),
                period.first.isoformat(),
            ],
        )
        self.run("CREATE INDEX _rep_p_person ON _rep_p (person_id)")
        return "_rep_p"

    def _event_division(self, day: str) -> tuple[str, list[object]]:
        """The hukou division on an event's day (a column of ``r``), or the earliest known."""
        vis1, par1 = self.visible("hc")
        vis2, par2 = self.visible("hc")
        return (
            "CASE WHEN r.moved = 0 THEN r.div_e ELSE COALESCE("
            "(SELECT hc.hukou_division FROM hukou_changes hc WHERE hc.person_id = r.person_id "
            f"AND {vis1} AND hc.date <= {day} ORDER BY hc.date DESC LIMIT 1), "
            "(SELECT hc.hukou_division FROM hukou_changes hc WHERE hc.person_id = r.person_id "
            f"AND {vis2} ORDER BY hc.date LIMIT 1)) END",
            [*par1, *par2],
        )

    def stock(self, which: str) -> dict[tuple[str, int, int], int]:
        """Persons alive at the end of the day before the period (``start``) or of its last
        day (``end``), by 12-digit hukou division in scope, sex and age band."""
        key = f"stock:{which}"
        if key in self._cache:
            return dict(self._cache[key])
        table = self.persons()
        if which == "start":
            day, column = self.period.eve, "div_s"
        elif which == "end":
            day, column = self.period.last, "div_e"
        else:
            raise ValueError(f"stock is 'start' or 'end', not {which!r}")
        band, band_params = self.band_on("birth", day)
        scope, scope_params = self.in_scope(column)
        d = self.date()
        rows = self.fetch(
            f"SELECT {column}, sex, {band}, COUNT(*) FROM {table} "
            f"WHERE birth <= {d} AND (death IS NULL OR death > {d}) AND {scope} "
            "GROUP BY 1, 2, 3",
            [*band_params, day.isoformat(), day.isoformat(), *scope_params],
        )
        result: dict[tuple[str, int, int], int] = {}
        for division, sex, band_index, count in rows:
            k = (_leaf(str(division)), int(sex), int(band_index))
            result[k] = result.get(k, 0) + int(count)
        self._cache[key] = result
        return dict(result)

    def births(self) -> dict[tuple[str, int, int, int, int], int]:
        """Live births of the period by village, month, sex, birth order and mother's band.

        Birth order is 1, 2 or 3 (3 and higher), 0 when the mother is not in the register;
        the mother's band is the five-year band of her age at the birth, clipped to 15-19
        and 45-49 (3 to 9), and -1 when she is not known.
        """
        if "births" in self._cache:
            return dict(self._cache["births"])
        table = self.persons()
        period = self.period
        division, div_params = self._event_division("r.birth")
        vis_l, par_l = self.visible("l")
        vis_m, par_m = self.visible("m")
        d = self.date()
        self._temp_as(
            "_rep_b",
            f"SELECT r.person_id AS person_id, r.sex AS sex, r.birth AS birth, {division} AS div, "
            "(SELECT MIN(l.parent_id) FROM parent_child l JOIN persons m "
            "ON m.person_id = l.parent_id "
            f"WHERE l.child_id = r.person_id AND l.kind = 'birth' AND {vis_l} AND {vis_m} "
            f"AND m.sex = '2') AS mother FROM {table} r "
            f"WHERE r.birth >= {d} AND r.birth <= {d}",
            [
                *div_params,
                *par_l,
                *par_m,
                period.first.isoformat(),
                period.last.isoformat(),
            ],
        )
        vis_k, par_k = self.visible("k")
        vis_s, par_s = self.visible("s")
        vis_mm, par_mm = self.visible("mm")
        scope, scope_params = self.in_scope("b.div")
        age = self.age_between("mm.birth_date", "b.birth")
        rows = self.fetch(
            "SELECT div, mon, sex, CASE WHEN ord IS NULL THEN 0 WHEN ord >= 3 THEN 3 "
            "ELSE ord END, mband, COUNT(*) FROM ("
            f"SELECT b.div AS div, {self.month_of('b.birth')} AS mon, b.sex AS sex, "
            "CASE WHEN b.mother IS NULL THEN NULL ELSE (SELECT COUNT(*) FROM parent_child k "
            "JOIN persons s ON s.person_id = k.child_id WHERE k.parent_id = b.mother "
            f"AND k.kind = 'birth' AND {vis_k} AND {vis_s} AND (s.birth_date < b.birth OR "
            "(s.birth_date = b.birth AND s.person_id <= b.person_id))) END AS ord, "
            f"CASE WHEN mm.person_id IS NULL THEN -1 WHEN {age} < 20 THEN 3 "
            f"WHEN {age} >= 45 THEN 9 ELSE {age} / 5 END AS mband "
            "FROM _rep_b b LEFT JOIN persons mm ON mm.person_id = b.mother "
            f"AND {vis_mm} WHERE {scope}) x GROUP BY 1, 2, 3, 4, 5",
            [*par_k, *par_s, *par_mm, *scope_params],
        )
        result: dict[tuple[str, int, int, int, int], int] = {}
        for div, month, sex, order, mband, count in rows:
            k = (_leaf(str(div)), int(month), int(sex), int(order), int(mband))
            result[k] = result.get(k, 0) + int(count)
        self._cache["births"] = result
        return dict(result)

    def deaths(self) -> dict[tuple[str, int], int]:
        """Deaths of the period by 12-digit hukou division at death (in scope) and sex."""
        if "deaths" in self._cache:
            return dict(self._cache["deaths"])
        table = self.persons()
        division, div_params = self._event_division("r.death")
        scope, scope_params = self.in_scope("x.div")
        d = self.date()
        rows = self.fetch(
            f"SELECT x.div, x.sex, COUNT(*) FROM (SELECT {division} AS div, r.sex AS sex "
            f"FROM {table} r WHERE r.death >= {d} AND r.death <= {d}) x WHERE {scope} "
            "GROUP BY 1, 2",
            [
                *div_params,
                self.period.first.isoformat(),
                self.period.last.isoformat(),
                *scope_params,
            ],
        )
        result: dict[tuple[str, int], int] = {}
        for div, sex, count in rows:
            k = (_leaf(str(div)), int(sex))
            result[k] = result.get(k, 0) + int(count)
        self._cache["deaths"] = result
        return dict(result)

    def tree(self, leaves: Iterable[str]) -> DivisionTree:
        """The division tree from the scope down to the given villages."""
        return DivisionTree.build(self.scope, leaves, self.division_names)
