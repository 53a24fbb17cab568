"""Register import benchmark: the public import path against the raw SQLite and COPY floors.

Run on demand, e.g.::

    .venv/bin/python benchmarks/bench_import.py --persons 1000000 --db sqlite
    .venv/bin/python benchmarks/bench_import.py --persons 1000000 --db postgres
    .venv/bin/python benchmarks/bench_import.py --persons 50000 --db sqlite   # a township

``--db postgres`` needs ``FAMPLAN_TEST_PG_URL`` (scratch schemas are created and dropped).

The register is a full synthetic county register (`famplan_core.synthetic`: every file,
persons, households, parent_child, unions, hukou_changes, disabilities, certificates and
enrolments), written as CSV into ``--folder`` (a temporary folder by default; an existing
register there is reused). Each method runs in its own child process, which times its work
(wall and CPU time of the child, the interpreter's start and imports left out; on PostgreSQL
the server's CPU is not in it); its peak RSS is the child's ``ru_maxrss`` as ``wait4``
reports it. The ratios compare wall times measured in the same run; with ``--rounds N`` each
method runs N times, interleaved, and its best wall time is kept. On PostgreSQL each method
starts after a ``CHECKPOINT``, so that none pays for writing out the pages of the one before.

* ``ours``: `famplan_core.exchange.importer.import_register`, the path ``famplan import``
  takes, into a freshly migrated database: every file read, every row checked (cells, rows,
  references across files, duplicates), one unit of work storing the versions, one journal
  fact per record, the audit entry and the import record. On PostgreSQL the database is
  empty, so this is the first-load path (`famplan_core.storage.FirstLoad`): rows are stored
  while the files are still being checked.
* ``floor``: the same rows, parsed by the stdlib ``csv`` module without any check, written
  into the same versioned tables of a freshly migrated database (``SqlStorage(url,
  migrate=True)``) in one transaction: the spec's columns (an empty cell is NULL, as the
  storage stores it) plus ``version_id``, ``recorded_at`` and ``fact_id``, the columns a
  version row needs. No journal fact is written, so foreign keys are off on SQLite
  (``PRAGMA foreign_keys=OFF``) and their triggers on PostgreSQL (``SET
  session_replication_role = replica``). SQLite: the storage's other pragmas (WAL,
  ``synchronous=FULL``, its cache size), ``executemany`` with a generator over the ``csv``
  reader. PostgreSQL: ``COPY ... FROM STDIN`` (text format), ``write_row`` per row. The
  floor is measured twice, into the tables with their indexes and with the indexes dropped
  first and built again before COMMIT (as the storage does on a first load); the faster of
  the two is the floor the ratio uses.
* ``re-import``: the same folder imported again into the ``ours`` database (nothing
  changes; the storage compares every row with the stored version). Shown, not a ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from famplan_core.storage import SqlStorage
from famplan_core.storage.engine import SQLITE_PRAGMAS
from famplan_core.storage.tables import RECORD_KINDS, REGISTER_TABLES

RECORDED_AT = dt.datetime(2026, 11, 2, 9, 0, 0)
"""The record time of the import (and of the floor's rows)."""


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pg_schema(base: str) -> Iterator[str]:
    """A URL whose ``search_path`` is a new scratch schema; the schema is dropped after."""
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


# ------------------------------------------------------------------------------------------
# What the child processes do
# ------------------------------------------------------------------------------------------


def _generate(folder: Path, persons: int) -> dict[str, Any]:
    from famplan_core.synthetic import SyntheticSpec, generate, write_register

    spec = SyntheticSpec(persons=persons, division="371502")
    register = generate(spec)
    written = write_register(register, folder)
    return {"files": written, "today": spec.as_of.isoformat()}


def _ours(url: str, folder: Path, today: dt.date, recorded_at: dt.datetime) -> dict[str, Any]:
    from famplan_core.exchange.importer import import_register

    storage = SqlStorage(url)
    try:
        start, cpu = time.perf_counter(), time.process_time()
        summary = import_register(
            storage, folder, today=today, actor="bench", recorded_at=recorded_at
        )
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        storage.close()
    return {
        "seconds": seconds,
        "cpu": cpu,
        "imported": summary.imported,
        "unchanged": summary.unchanged,
        "quarantined": summary.quarantined,
        "changed_nothing": summary.changed_nothing,
    }


def _register_files(folder: Path) -> Iterator[tuple[str, Path]]:
    for kind in RECORD_KINDS:
        path = folder / f"{kind}.csv"
        if path.exists():
            yield kind, path


def _floor_sqlite(url: str, folder: Path, rebuild: bool) -> dict[str, Any]:
    import sqlite3

    path = sa.make_url(url).database
    assert path is not None
    con = sqlite3.connect(path, isolation_level=None)
    for name, value in SQLITE_PRAGMAS:
        con.execute(f"PRAGMA {name}={'OFF' if name == 'foreign_keys' else value}")
    stamp = RECORDED_AT.isoformat(sep=" ", timespec="microseconds")
    names = [str(i.name) for kind in RECORD_KINDS for i in REGISTER_TABLES[kind].indexes]
    rows = 0
    start, cpu = time.perf_counter(), time.process_time()
    con.execute("BEGIN IMMEDIATE")
    indexes: list[str] = []
    if rebuild:
        for name in names:
            (sql,) = con.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()
            indexes.append(sql)
            con.execute(f'DROP INDEX "{name}"')
    for kind, file in _register_files(folder):
        with file.open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            columns = ", ".join(f'"{c}"' for c in header)
            marks = ", ".join(["NULLIF(?, '')"] * len(header))
            cursor = con.executemany(
                f'INSERT INTO "{kind}" (version_id, recorded_at, fact_id, {columns}) '
                f"VALUES (?, '{stamp}', ?, {marks})",
                ((i, i, *cells) for i, cells in enumerate(reader, start=1)),
            )
            rows += cursor.rowcount
    for sql in indexes:
        con.execute(sql)
    con.execute("COMMIT")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    con.close()
    return {"seconds": seconds, "cpu": cpu, "rows": rows}


def _pg_connect(url: str) -> Any:
    import psycopg

    parsed = sa.make_url(url)
    options = parsed.query.get("options")
    conninfo = parsed.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    return psycopg.connect(conninfo, options=str(options) if options else "")


def _floor_postgres(url: str, folder: Path, rebuild: bool) -> dict[str, Any]:
    stamp = RECORDED_AT.isoformat(sep=" ")
    names = [str(i.name) for kind in RECORD_KINDS for i in REGISTER_TABLES[kind].indexes]
    rows = 0
    with _pg_connect(url) as con, con.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # no journal facts: no FK checks
        start, cpu = time.perf_counter(), time.process_time()
        indexes: list[str] = []
        if rebuild:
            for name in names:
                cur.execute(
                    "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()"
                    " AND indexname = %s",
                    (name,),
                )
                found = cur.fetchone()
                assert found is not None, name
                indexes.append(found[0])
                cur.execute(f'DROP INDEX "{name}"')
        for kind, file in _register_files(folder):
            with file.open(encoding="utf-8", newline="") as f:
                reader = csv.reader(f)
                header = next(reader)
                columns = ", ".join(f'"{c}"' for c in header)
                with cur.copy(
                    f'COPY "{kind}" (version_id, recorded_at, fact_id, {columns}) FROM STDIN'
                    " (FORMAT text, NULL '')"
                ) as copy:
                    for i, cells in enumerate(reader, start=1):
                        copy.write_row((i, stamp, i, *cells))
                        rows += 1
        for sql in indexes:
            cur.execute(sql)
        con.commit()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"seconds": seconds, "cpu": cpu, "rows": rows}


def _child(args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    if args.child == "generate":
        result = _generate(folder, args.persons)
    elif args.child == "ours":
        result = _ours(
            args.url,
            folder,
            dt.date.fromisoformat(args.today),
            RECORDED_AT + dt.timedelta(days=args.later),
        )
    elif args.db == "sqlite":
        result = _floor_sqlite(args.url, folder, rebuild=args.child == "floor-rebuild")
    else:
        result = _floor_postgres(args.url, folder, rebuild=args.child == "floor-rebuild")
    print(json.dumps(result))
    return 0


# ------------------------------------------------------------------------------------------
# The parent: one child per method, its peak RSS from wait4
# ------------------------------------------------------------------------------------------


def _run(args: argparse.Namespace, what: str, *extra: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", what, "--db", args.db, "--folder"]
    command += [str(args.folder), "--persons", str(args.persons), *extra]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    out = child.stdout.read()
    child.stdout.close()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{what} failed (exit status {child.returncode})")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["rss_mib"] = usage.ru_maxrss / 1024
    result.setdefault("cpu", usage.ru_utime + usage.ru_stime)
    return result


def _settle(args: argparse.Namespace) -> None:
    """On PostgreSQL, write out the pages the previous method left (CHECKPOINT)."""
    if args.db != "postgres":
        return
    admin = sa.create_engine(os.environ["FAMPLAN_TEST_PG_URL"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("CHECKPOINT")
    admin.dispose()


def _count_rows(folder: Path) -> dict[str, int]:
    counts = {}
    for kind, file in _register_files(folder):
        with file.open(encoding="utf-8", newline="") as f:
            counts[kind] = sum(1 for _ in csv.reader(f)) - 1
    return counts


@contextlib.contextmanager
def _databases(args: argparse.Namespace, tmp: Path) -> Iterator[Iterator[str]]:
    """Fresh, migrated databases (SQLite files or PostgreSQL scratch schemas), one per call."""
    stack = contextlib.ExitStack()

    def fresh() -> Iterator[str]:
        n = 0
        while True:
            n += 1
            if args.db == "sqlite":
                url = f"sqlite:///{tmp / f'bench{n}.db'}"
            else:
                schema = _pg_schema(os.environ["FAMPLAN_TEST_PG_URL"])
                url = next(schema)
                stack.callback(next, schema, None)
            SqlStorage(url, migrate=True).close()
            yield url

    with stack:
        yield fresh()


def _line(name: str, result: dict[str, Any], persons: int, records: int, floor: float) -> str:
    seconds = result["seconds"]
    ratio = f"{seconds / floor:6.2f}" if floor else "     -"
    return (
        f"{name:<22} {seconds:8.2f} {result['cpu']:8.2f} {persons / seconds:>11,.0f}"
        f" {records / seconds:>11,.0f} {result['rss_mib']:>9,.0f} {ratio}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--persons", type=int, default=50_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--folder", type=Path, help="the register folder (made when missing)")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each method; best kept")
    parser.add_argument("--no-reimport", action="store_true", help="skip the re-import")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--today", help=argparse.SUPPRESS)
    parser.add_argument("--later", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args)
    if args.db == "postgres" and not os.environ.get("FAMPLAN_TEST_PG_URL"):
        print("FAMPLAN_TEST_PG_URL is not set", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="famplan-bench-") as tmp_name:
        tmp = Path(tmp_name)
        if args.folder is None:
            args.folder = tmp / "register"
        if (args.folder / "persons.csv").exists():
            print(f"register: reusing {args.folder}")
        else:
            made = _run(args, "generate")
            print(f"register: generated, {made['cpu']:.1f} s CPU, {made['rss_mib']:,.0f} MiB")
        from famplan_core.synthetic import SyntheticSpec

        today = SyntheticSpec().as_of.isoformat()
        counts = _count_rows(args.folder)
        records = sum(counts.values())
        persons = counts["persons"]
        print(f"files: {', '.join(f'{k} {n:,}' for k, n in counts.items())}; {records:,} records")

        results: dict[str, dict[str, Any]] = {}
        with _databases(args, tmp) as databases:
            last_ours = ""
            for _ in range(args.rounds):
                for what in ("floor-keep", "floor-rebuild", "ours"):
                    url = next(databases)
                    _settle(args)
                    extra = ["--url", url, "--today", today]
                    result = _run(args, what, *extra)
                    if what == "ours":
                        last_ours = url
                    best = results.get(what)
                    if best is None or result["seconds"] < best["seconds"]:
                        results[what] = result
                    print(f"  {what}: {result['seconds']:.2f} s", flush=True)
            if not args.no_reimport:
                extra = ["--url", last_ours, "--today", today, "--later", "31"]
                results["re-import"] = _run(args, "ours", *extra)

    ours = results["ours"]
    if ours["quarantined"] or ours["imported"] != records:
        print(f"WARNING: {ours['imported']:,} of {records:,} imported, {ours['quarantined']} bad")
    again = results.get("re-import")
    if again is not None and not again["changed_nothing"]:
        print("WARNING: the re-import changed something")
    floor_kind = (
        "floor-keep"
        if results["floor-keep"]["seconds"] <= results["floor-rebuild"]["seconds"]
        else "floor-rebuild"
    )
    floor = results[floor_kind]["seconds"]
    db = "SQLite executemany" if args.db == "sqlite" else "PostgreSQL COPY"
    print(f"\n{persons:,} persons, {records:,} records, {args.db}; floor = {db} ({floor_kind})")
    heads = ("wall s", "CPU s", "persons/s", "records/s", "RSS MiB", "ratio")
    widths = (8, 8, 11, 11, 9, 6)
    print(f"{'method':<22} " + " ".join(f"{h:>{w}}" for h, w in zip(heads, widths, strict=True)))
    for name in ("floor-keep", "floor-rebuild", "ours", "re-import"):
        if name in results:
            print(_line(name, results[name], persons, records, floor if name == "ours" else 0))
    print(
        f"ours / floor: {ours['seconds'] / floor:.2f} (wall), peak RSS {ours['rss_mib']:,.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
