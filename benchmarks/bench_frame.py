"""Facts frame benchmark: `build_facts_frame` over a synthetic register.

Run on demand, e.g.::

    .venv/bin/python benchmarks/bench_frame.py --persons 1000000 --db sqlite

It builds a register of families (parents, children by birth, some adoptions and step
links, hukou changes, disability and honour certificates), imports it, then times the frame
for one date (median of `--repeat` runs, current versions and "as known at"). It prints
persons/s, peak RSS and the ratio to the floor measured in the same run: a plain
``SELECT`` of the persons' columns into NumPy arrays with the DBAPI cursor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_import import _pg_schema, peak_rss_mib

from famplan_core.storage import SqlStorage, build_facts_frame
from famplan_core.storage.tables import RECORD_KINDS

RECORDED_AT = dt.datetime(2025, 7, 1, 9, 0, 0)
DATE = dt.date(2025, 7, 1)


def register(n: int, seed: int = 7) -> dict[str, list[tuple[str, ...]]]:
    """About `n` persons in families, with links, hukou changes and certificates."""
    rng = random.Random(seed)
    rows: dict[str, list[tuple[str, ...]]] = {k: [] for k in RECORD_KINDS}
    count = 0

    def person(sex: str, birth: dt.date, death: str = "") -> str:
        nonlocal count
        pid = f"P{count:08d}"
        village = 1 + count % 500
        division = f"371502{110 + village // 25:03d}{village % 25:03d}"
        rows["persons"].append(
            (
                pid,
                "",
                f"姓名{count}",
                sex,
                birth.isoformat(),
                death,
                "01",
                "20",
                division,
                "rural" if rng.random() < 0.63 else "urban",
                "",
                "",
                "",
            )
        )
        count += 1
        return pid

    certificate = 0
    while count < n:
        father_birth = dt.date(
            1935 + rng.randrange(60), 1 + rng.randrange(12), 1 + rng.randrange(28)
        )
        mother_birth = father_birth + dt.timedelta(days=rng.randrange(-1500, 1500))
        father = person("1", father_birth, "2020-03-01" if rng.random() < 0.05 else "")
        mother = person("2", mother_birth)
        children = []
        for _ in range(rng.choice((0, 1, 1, 1, 2, 2, 3))):
            birth = mother_birth + dt.timedelta(days=365 * 22 + rng.randrange(365 * 13))
            if birth > DATE:
                continue
            child = person(rng.choice("12"), birth)
            children.append((child, birth))
            kind = "adoptive" if rng.random() < 0.03 else "birth"
            since = (birth + dt.timedelta(days=400)).isoformat() if kind == "adoptive" else ""
            rows["parent_child"].append((father, child, kind, since))
            rows["parent_child"].append((mother, child, kind, since))
            if rng.random() < 0.02:
                rows["disabilities"].append(
                    (child, str(1 + rng.randrange(4)), "physical", "2015-01-01", "")
                )
        if rng.random() < 0.01 and children:
            rows["parent_child"].append(
                (father, children[0][0] if len(children) > 1 else mother, "step", "")
            )
        if rng.random() < 0.1:
            rows["hukou_changes"].append((father, "2010-05-01", rows["persons"][-1][8], "urban"))
        if len(children) == 1 and rng.random() < 0.5:
            certificate += 1
            issued = (children[0][1] + dt.timedelta(days=300)).isoformat()
            for holder in (father, mother):
                rows["certificates"].append(
                    (f"C{certificate:07d}", "honour", holder, children[0][0], issued, "")
                )
    return rows


def _floor(storage: SqlStorage) -> float:
    start = time.perf_counter()
    with storage.reader() as reader:
        cursor = reader.connection.connection.cursor()
        cursor.execute(
            "SELECT person_id, hukou_division FROM persons "
            "WHERE superseded_at IS NULL ORDER BY person_id"
        )
        texts = cursor.fetchall()
        person_id = np.array([t[0] for t in texts], dtype=object)
        del texts
        cursor.execute(
            "SELECT CAST(sex AS INTEGER), birth_date FROM persons "
            "WHERE superseded_at IS NULL ORDER BY person_id"
        )
        rows = cursor.fetchall()
        sex = np.array([r[0] for r in rows], dtype=np.int8)
        birth = np.array([str(r[1]) for r in rows], dtype="datetime64[D]")
        cursor.close()
    assert len(person_id) == len(sex) == len(birth)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    t = time.perf_counter()
    data = register(args.persons)
    sizes = ", ".join(f"{k} {len(v):,}" for k, v in data.items() if v)
    print(f"generated {sizes} in {time.perf_counter() - t:.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        contexts = []
        if args.db == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'frame.db'}"
        else:
            base = os.environ.get("FAMPLAN_TEST_PG_URL")
            if not base:
                print("FAMPLAN_TEST_PG_URL is not set", file=sys.stderr)
                return 2
            contexts.append(_pg_schema(base))
            url = next(contexts[0])
        storage = SqlStorage(url, migrate=True)
        t = time.perf_counter()
        with storage.unit_of_work(actor="bench", recorded_at=RECORDED_AT) as uow:
            for kind, kind_rows in data.items():
                if kind_rows:
                    uow.upsert_rows(kind, RECORD_KINDS[kind].columns, kind_rows)
        print(f"imported in {time.perf_counter() - t:.2f} s")
        del data
        if args.db == "sqlite":
            with storage.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
        else:
            with storage.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
        floors, times, known = [], [], []
        for _ in range(args.repeat):
            floors.append(_floor(storage))
            t = time.perf_counter()
            frame = build_facts_frame(storage, DATE, "371502")
            times.append(time.perf_counter() - t)
            t = time.perf_counter()
            build_facts_frame(storage, DATE, "371502", known_at=RECORDED_AT)
            known.append(time.perf_counter() - t)
        n = len(frame)
        best = statistics.median(times)
        floor = statistics.median(floors)
        print(
            f"frame of {n:,} persons ({len(frame.certificates):,} certificates, "
            f"{int((frame.ever_children > 0).sum()):,} parents): median {best:.2f} s "
            f"({n / best:,.0f} persons/s); as known at: {statistics.median(known):.2f} s"
        )
        print(f"floor (persons columns into numpy): {floor:.2f} s; ratio {best / floor:.2f}")
        print(f"peak RSS: {peak_rss_mib():,.0f} MiB")
        storage.close()
        for context in contexts:
            for _ in context:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
