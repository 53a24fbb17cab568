"""Yearly report benchmark: the full report set over a synthetic county, against a SQL floor.

Run on demand, e.g.::

    .venv/bin/python benchmarks/bench_report.py --persons 1000000
    .venv/bin/python benchmarks/bench_report.py --persons 1000000 --db postgres

``--db postgres`` needs ``FAMPLAN_TEST_PG_URL`` (a scratch schema is created and dropped).

It generates a synthetic county (`famplan_core.synthetic`, townships of about 50,000
persons, register date 2027-01-01), writes and imports it, then times in the same run,
alternating, each ``--repeat`` times:

* the report: `run_report` with every core indicator for the year 2026 over the county
  (population by village, sex and age band; births by month, sex and order; the crude
  rates; the sex ratio at birth; fertility; the program tables, empty here as no benefit
  run is stored), as known at the newest register state, tables built and rolled up;
* the same report for the public (small-cell and secondary suppression on);
* the floor: hand-written ``GROUP BY`` statements giving the same aggregates straight from
  the register tables (the stocks at both ends of the year with each person's hukou on
  the day, births with their order and mother's age, deaths), which must equal the
  report's own aggregates.

It prints seconds (best of the repeats), the ratio of the report to the floor, and the
peak RSS. Goal: the report within 2x the floor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from bench_import import _pg_schema, peak_rss_mib

from famplan_core.exchange.importer import import_register
from famplan_core.reporting import CORE_INDICATORS, Period, run_report
from famplan_core.reporting.context import ReportContext
from famplan_core.storage import SqlStorage
from famplan_core.synthetic import SyntheticSpec, generate, write_register

YEAR = Period.parse("2026")
AS_OF = dt.date(2027, 1, 1)
RECORDED_AT = dt.datetime(2027, 1, 5, 8, 0, 0)
GOAL = 2.0


def _sql(sqlite: bool) -> dict[str, Any]:
    p = "?" if sqlite else "%s"
    d = p if sqlite else f"CAST({p} AS DATE)"

    def year(e: str) -> str:
        return f"CAST(substr({e}, 1, 4) AS INTEGER)" if sqlite else f"EXTRACT(YEAR FROM {e})::int"

    def month(e: str) -> str:
        return f"CAST(substr({e}, 6, 2) AS INTEGER)" if sqlite else f"EXTRACT(MONTH FROM {e})::int"

    def md(e: str) -> str:
        return f"substr({e}, 6, 5)" if sqlite else f"to_char({e}, 'MM-DD')"

    return {"p": p, "d": d, "year": year, "month": month, "md": md}


def floor(connection: sa.Connection, scope: str) -> dict[str, dict[tuple[Any, ...], int]]:
    """The aggregates of the report, by hand-written GROUP BY over the current register."""
    s = _sql(connection.dialect.name == "sqlite")
    p, d, year, month, md = s["p"], s["d"], s["year"], s["month"], s["md"]
    w = len(scope)

    def run(sql: str, params: list[object]) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in connection.exec_driver_sql(sql, tuple(params))]

    out: dict[str, dict[tuple[Any, ...], int]] = {}
    for name, day in (("start", YEAR.eve), ("end", YEAR.last)):
        age = (
            f"({p} - {year('p.birth_date')} - CASE WHEN {md('p.birth_date')} > {p} "
            "THEN 1 ELSE 0 END)"
        )
        rows = run(
            "SELECT div, sex, band, COUNT(*) FROM (SELECT CASE WHEN h.person_id IS NOT NULL "
            "THEN h.hukou_division WHEN a.person_id IS NULL THEN p.hukou_division END AS div, "
            "CASE WHEN p.sex IN ('1', '2') THEN CAST(p.sex AS INTEGER) ELSE 9 END AS sex, "
            f"CASE WHEN {age} >= 85 THEN 17 ELSE {age} / 5 END AS band FROM persons p "
            "LEFT JOIN (SELECT person_id, hukou_division FROM (SELECT person_id, hukou_division, "
            "ROW_NUMBER() OVER (PARTITION BY person_id ORDER BY date DESC) AS rn FROM "
            f"hukou_changes WHERE superseded_at IS NULL AND date <= {d}) x WHERE rn = 1) h "
            "ON h.person_id = p.person_id LEFT JOIN (SELECT DISTINCT person_id FROM "
            "hukou_changes WHERE superseded_at IS NULL) a ON a.person_id = p.person_id "
            f"WHERE p.superseded_at IS NULL AND p.birth_date <= {d} AND (p.death_date IS NULL "
            f"OR p.death_date > {d})) y WHERE substr(div, 1, {w}) = {p} GROUP BY div, sex, band",
            [day.year, day.strftime("%m-%d")] * 2
            + [day.isoformat(), day.isoformat(), day.isoformat(), scope],
        )
        out[name] = {(str(r[0]), int(r[1]), int(r[2])): int(r[3]) for r in rows}

    def event_division(day: str) -> str:
        return (
            "COALESCE((SELECT hc.hukou_division FROM hukou_changes hc WHERE hc.person_id = "
            f"p.person_id AND hc.superseded_at IS NULL AND hc.date <= {day} ORDER BY hc.date "
            "DESC LIMIT 1), (SELECT hc.hukou_division FROM hukou_changes hc WHERE hc.person_id "
            "= p.person_id AND hc.superseded_at IS NULL ORDER BY hc.date LIMIT 1), "
            "p.hukou_division)"
        )

    mother_age = (
        f"({year('p.birth_date')} - {year('m.birth_date')} - CASE WHEN {md('m.birth_date')} > "
        f"{md('p.birth_date')} THEN 1 ELSE 0 END)"
    )
    rows = run(
        "SELECT div, mon, sex, CASE WHEN ord IS NULL THEN 0 WHEN ord >= 3 THEN 3 ELSE ord END, "
        "mband, COUNT(*) FROM (SELECT q.*, (SELECT COUNT(*) FROM parent_child k JOIN persons s "
        "ON s.person_id = k.child_id WHERE k.parent_id = q.mother AND k.kind = 'birth' AND "
        "k.superseded_at IS NULL AND s.superseded_at IS NULL AND (s.birth_date < q.birth OR "
        "(s.birth_date = q.birth AND s.person_id <= q.person_id))) AS ord FROM (SELECT "
        f"p.person_id, p.birth_date AS birth, {event_division('p.birth_date')} AS div, "
        f"{month('p.birth_date')} AS mon, CASE WHEN p.sex IN ('1', '2') THEN "
        "CAST(p.sex AS INTEGER) ELSE 9 END AS sex, m.person_id AS mother, CASE WHEN "
        f"m.person_id IS NULL THEN -1 WHEN {mother_age} < 20 THEN 3 WHEN {mother_age} >= 45 "
        f"THEN 9 ELSE {mother_age} / 5 END AS mband FROM persons p LEFT JOIN persons m ON "
        "m.superseded_at IS NULL AND m.person_id = (SELECT MIN(l.parent_id) FROM parent_child "
        "l JOIN persons f ON f.person_id = l.parent_id WHERE l.child_id = p.person_id AND "
        "l.kind = 'birth' AND l.superseded_at IS NULL AND f.superseded_at IS NULL AND "
        f"f.sex = '2') WHERE p.superseded_at IS NULL AND p.birth_date >= {d} AND "
        f"p.birth_date <= {d}) q) z WHERE substr(div, 1, {w}) = {p} "
        "GROUP BY div, mon, sex, 4, mband",
        [YEAR.first.isoformat(), YEAR.last.isoformat(), scope],
    )
    out["births"] = {
        (str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4])): int(r[5]) for r in rows
    }
    rows = run(
        f"SELECT div, sex, COUNT(*) FROM (SELECT {event_division('p.death_date')} AS div, "
        "CASE WHEN p.sex IN ('1', '2') THEN CAST(p.sex AS INTEGER) ELSE 9 END AS sex "
        f"FROM persons p WHERE p.superseded_at IS NULL AND p.death_date >= {d} AND "
        f"p.death_date <= {d}) y WHERE substr(div, 1, {w}) = {p} GROUP BY div, sex",
        [YEAR.first.isoformat(), YEAR.last.isoformat(), scope],
    )
    out["deaths"] = {(str(r[0]), int(r[1])): int(r[2]) for r in rows}
    return out


def report_aggregates(storage: SqlStorage, scope: str) -> dict[str, dict[Any, int]]:
    """The report context's own aggregates, for the correctness check against the floor."""
    with storage.reader() as reader:
        ctx = ReportContext(reader.connection, period=YEAR, scope=scope, known_at=None)
        try:
            return {
                "start": ctx.stock("start"),
                "end": ctx.stock("end"),
                "births": ctx.births(),
                "deaths": ctx.deaths(),
            }
        finally:
            ctx.close()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--division", default="371502", help="a 6-digit county code")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    t = time.perf_counter()
    register = generate(SyntheticSpec(persons=args.persons, division=args.division, as_of=AS_OF))
    print(f"generated {register.counts['persons']:,} persons in {time.perf_counter() - t:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "register"
        write_register(register, folder)
        del register
        contexts: list[Iterator[str]] = []
        if args.db == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'report.db'}"
        else:
            base = os.environ.get("FAMPLAN_TEST_PG_URL")
            if not base:
                print("FAMPLAN_TEST_PG_URL is not set", file=sys.stderr)
                return 2
            contexts.append(_pg_schema(base))
            url = next(contexts[0])
        storage = SqlStorage(url, migrate=True)
        try:
            t = time.perf_counter()
            import_register(storage, folder, today=AS_OF, actor="bench", recorded_at=RECORDED_AT)
            print(f"imported in {time.perf_counter() - t:.1f} s ({args.db})")
            mine = report_aggregates(storage, args.division)
            with storage.reader() as reader:
                hand = floor(reader.connection, args.division)
            assert mine == hand, "the report's aggregates differ from the hand-written floor"
            print(
                f"aggregates equal: {sum(mine['end'].values()):,} persons at the end of 2026, "
                f"{sum(mine['births'].values()):,} births, {sum(mine['deaths'].values()):,} deaths"
            )
            times: dict[str, list[float]] = {"floor": [], "report": [], "public": []}
            cells = 0
            for _ in range(args.repeat):
                t = time.perf_counter()
                with storage.reader() as reader:
                    floor(reader.connection, args.division)
                times["floor"].append(time.perf_counter() - t)
                t = time.perf_counter()
                report = run_report(storage, CORE_INDICATORS, period=YEAR, scope=args.division)
                times["report"].append(time.perf_counter() - t)
                t = time.perf_counter()
                run_report(storage, CORE_INDICATORS, period=YEAR, scope=args.division, public=True)
                times["public"].append(time.perf_counter() - t)
                cells = sum(len(tb.rows) * len(tb.columns) for tb in report.tables)
        finally:
            storage.close()
            for context in contexts:
                next(context, None)
    best = {k: min(v) for k, v in times.items()}
    ratio = best["report"] / best["floor"]
    print(
        f"report set ({len(CORE_INDICATORS)} indicators, {cells:,} cells): {best['report']:.2f} s"
    )
    print(f"  public (with suppression): {best['public']:.2f} s")
    print(f"floor (hand-written GROUP BY): {best['floor']:.2f} s")
    print(f"ratio report / floor: {ratio:.2f} (goal <= {GOAL:.1f})")
    print(f"peak RSS: {peak_rss_mib():.0f} MiB")
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
