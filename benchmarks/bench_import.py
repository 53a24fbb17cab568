"""Bulk import benchmark: `SqlUnitOfWork.upsert_rows` against the raw floor.

Run on demand, e.g.::

    .venv/bin/python benchmarks/bench_import.py --persons 1000000 --db sqlite
    .venv/bin/python benchmarks/bench_import.py --persons 1000000 --db postgres

``--db postgres`` needs ``FAMPLAN_TEST_PG_URL`` (a scratch schema is created and dropped).

It prints persons/s, peak RSS and the ratio to the floor measured in the same run. The floor
is the same persons rows, already prepared as tuples, written into the same (migrated)
``persons`` table in one transaction: ``sqlite3.executemany`` on SQLite, psycopg
``COPY ... FROM STDIN`` with ``write_row`` on PostgreSQL. The measured path also writes one
journal fact per person and the audit entry, and rebuilds the indexes of the empty table
after the load. A second timing re-imports the same rows (all unchanged: the comparison path).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from famplan_core.storage import SqlStorage
from famplan_core.storage.tables import RECORD_KINDS

PERSON_COLUMNS = RECORD_KINDS["persons"].columns
RECORDED_AT = dt.datetime(2025, 7, 1, 9, 0, 0)


def person_rows(n: int, seed: int = 20250630) -> list[tuple[str, ...]]:
    """`n` plausible ``persons`` rows as normalised text (deterministic)."""
    rng = random.Random(seed)
    base = dt.date(1925, 1, 1).toordinal()
    span = dt.date(2025, 6, 30).toordinal() - base
    rows = []
    for i in range(n):
        birth = dt.date.fromordinal(base + rng.randrange(span))
        dead = rng.random() < 0.05
        death = (
            dt.date.fromordinal(birth.toordinal() + rng.randrange(1, 365 * 40)) if dead else None
        )
        death_text = death.isoformat() if death and death <= dt.date(2025, 6, 30) else ""
        village = 1 + (i % 500)
        rows.append(
            (
                f"P{i:08d}",
                "",
                f"姓名{i}",
                "1" if rng.random() < 0.51 else "2",
                birth.isoformat(),
                death_text,
                "01",
                "20",
                f"371502{110 + village // 25:03d}{village % 25:03d}",
                "rural" if rng.random() < 0.63 else "urban",
                "",
                f"H{i // 3:08d}",
                "02",
            )
        )
    return rows


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _floor_sqlite(url: str, rows: list[tuple[str, ...]]) -> float:
    path = sa.make_url(url).database
    assert path is not None
    prepared = [
        (i + 1, "2025-07-01 09:00:00.000000", i + 1, *(v if v != "" else None for v in r))
        for i, r in enumerate(rows)
    ]
    con = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=OFF", "cache_size=-65536"):
        con.execute(f"PRAGMA {pragma}")
    names = ", ".join(f'"{c}"' for c in PERSON_COLUMNS)
    marks = ", ".join("?" * (len(PERSON_COLUMNS) + 3))
    start = time.perf_counter()
    con.execute("BEGIN")
    con.executemany(
        f"INSERT INTO persons (version_id, recorded_at, fact_id, {names}) VALUES ({marks})",
        prepared,
    )
    con.execute("COMMIT")
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def _floor_postgres(url: str, rows: list[tuple[str, ...]]) -> float:
    import psycopg

    parsed = sa.make_url(url)
    options = parsed.query.get("options")
    conninfo = parsed.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    prepared = [(i + 1, "2025-07-01 09:00:00", i + 1, *r) for i, r in enumerate(rows)]
    names = ", ".join(f'"{c}"' for c in PERSON_COLUMNS)
    with psycopg.connect(conninfo, options=str(options) if options else "") as con:
        con.execute("SET session_replication_role = replica")  # no FK triggers: rows only
        start = time.perf_counter()
        with (
            con.cursor() as cur,
            cur.copy(
                f"COPY persons (version_id, recorded_at, fact_id, {names}) FROM STDIN "
                "(FORMAT text, NULL '')"
            ) as copy,
        ):
            for row in prepared:
                copy.write_row(row)
        con.commit()
        return time.perf_counter() - start


def _import(url: str, rows: list[tuple[str, ...]], when: dt.datetime) -> tuple[float, object]:
    storage = SqlStorage(url)
    try:
        start = time.perf_counter()
        with storage.unit_of_work(actor="bench", recorded_at=when, operation="import") as uow:
            summary = uow.upsert_rows("persons", PERSON_COLUMNS, rows)
        return time.perf_counter() - start, summary
    finally:
        storage.close()


def _pg_schema(base: str) -> Iterator[str]:
    schema = f"famplan_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield (
            sa.make_url(base)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args(argv)

    t = time.perf_counter()
    rows = person_rows(args.persons)
    print(f"generated {len(rows):,} rows in {time.perf_counter() - t:.2f} s")

    with tempfile.TemporaryDirectory() as tmp:
        if args.db == "sqlite":
            ours_url = f"sqlite:///{Path(tmp) / 'ours.db'}"
            floor_url = f"sqlite:///{Path(tmp) / 'floor.db'}"
            contexts: list[Iterator[str]] = []
        else:
            base = os.environ.get("FAMPLAN_TEST_PG_URL")
            if not base:
                print("FAMPLAN_TEST_PG_URL is not set", file=sys.stderr)
                return 2
            contexts = [_pg_schema(base), _pg_schema(base)]
            ours_url, floor_url = next(contexts[0]), next(contexts[1])
        SqlStorage(floor_url, migrate=True).close()
        SqlStorage(ours_url, migrate=True).close()

        ours, summary = _import(ours_url, rows, RECORDED_AT)
        print(f"ours:  {ours:.2f} s  {len(rows) / ours:,.0f} persons/s  ({summary!s:.80})")
        print(f"peak RSS after ours: {peak_rss_mib():,.0f} MiB")
        again, summary = _import(ours_url, rows, RECORDED_AT + dt.timedelta(days=31))
        print(
            f"re-import (unchanged): {again:.2f} s  {len(rows) / again:,.0f} rows/s "
            f"({summary!s:.60})"
        )
        floor = (_floor_sqlite if args.db == "sqlite" else _floor_postgres)(floor_url, rows)
        kind = "sqlite3.executemany" if args.db == "sqlite" else "COPY write_row"
        print(
            f"floor ({kind}, persons rows only): {floor:.2f} s  {len(rows) / floor:,.0f} persons/s"
        )
        print(f"ratio ours / floor: {ours / floor:.2f}")
        print(f"peak RSS: {peak_rss_mib():,.0f} MiB")
        for context in contexts:
            for _ in context:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
