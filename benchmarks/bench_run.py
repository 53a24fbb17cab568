"""Monthly run benchmark: `BenefitService.run` over a synthetic county, against two floors.

Run on demand, e.g.::

    .venv/bin/python benchmarks/bench_run.py --persons 1000000
    .venv/bin/python benchmarks/bench_run.py --persons 1000000 --db postgres

``--db postgres`` needs ``FAMPLAN_TEST_PG_URL`` (a scratch schema is created and dropped).

It generates a synthetic county (`famplan_core.synthetic`, split into townships of about
50,000 persons), writes it as register files and imports them (`import_register`), then
times, in the same run:

* the stored monthly run of every national program (`BenefitService.run`: the facts frame,
  evaluation, the facts record of every entitlement, storing them in one unit of work);
* floor (a): building the facts frame alone (`SqlStorage.facts_frame`);
* floor (b): the hand-written NumPy evaluation of the same rules over the frame's arrays
  already in memory (`bench_rules.floor`), which must give the same beneficiaries;
* a re-run over the unchanged register (nothing is stored), and the payment roll;
* the explanation of one decision (`BenefitService.explain`, median over several persons).

It prints seconds, the ratios of the run to both floors, and the peak RSS. Targets at a
million persons on SQLite: run < 15 s, explain < 0.2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench_import import _pg_schema, peak_rss_mib
from bench_rules import floor

from famplan_core.benefits import BenefitService
from famplan_core.exchange.importer import import_register
from famplan_core.programs import national_parameter_set, national_programs
from famplan_core.storage import SqlStorage
from famplan_core.synthetic import SyntheticSpec, generate, write_register

MONTH = dt.date(2026, 11, 1)
RECORDED_AT = dt.datetime(2026, 11, 20, 8, 0, 0)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--division", default="371502", help="a 6-digit county code")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--repeat", type=int, default=3, help="timings of each floor")
    args = parser.parse_args(argv)

    t = time.perf_counter()
    register = generate(SyntheticSpec(persons=args.persons, division=args.division))
    print(f"generated {register.counts['persons']:,} persons in {time.perf_counter() - t:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "register"
        write_register(register, folder)
        expected = register.expected
        del register
        contexts: list[Iterator[str]] = []
        if args.db == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'run.db'}"
        else:
            base = os.environ.get("FAMPLAN_TEST_PG_URL")
            if not base:
                print("FAMPLAN_TEST_PG_URL is not set", file=sys.stderr)
                return 2
            contexts.append(_pg_schema(base))
            url = next(contexts[0])
        storage = SqlStorage(url, migrate=True)
        t = time.perf_counter()
        summary = import_register(
            storage, folder, today=dt.date(2026, 11, 20), actor="bench", recorded_at=RECORDED_AT
        )
        print(f"imported {summary.imported:,} records in {time.perf_counter() - t:.1f} s")
        with storage.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()

        service = BenefitService(
            storage,
            programs={p.code: p for p in national_programs()},
            parameters=national_parameter_set(),
            division=args.division,
        )
        t = time.perf_counter()
        run = service.run(MONTH, actor="bench", recorded_at=RECORDED_AT + dt.timedelta(hours=1))
        t_run = time.perf_counter() - t
        entitled = sum(p.entitled for p in run.programs)
        print(
            f"stored run of {MONTH:%Y-%m}: {t_run:.2f} s, {entitled:,} entitlements stored "
            f"({', '.join(f'{p.program} {p.entitled:,}' for p in run.programs)})"
        )
        print(f"peak RSS after the run: {peak_rss_mib():,.0f} MiB")

        frames, floors = [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            frame = storage.facts_frame(MONTH, args.division)
            frames.append(time.perf_counter() - t)
            t = time.perf_counter()
            hand = floor(frame)
            floors.append(time.perf_counter() - t)
        for code, (rows, _fen) in hand.items():
            found = next(p for p in run.programs if p.program == code)
            assert found.entitled == len(rows), (code, found.entitled, len(rows))
            assert found.entitled == len(expected.eligible[code]), code
        t_frame, t_floor = statistics.median(frames), statistics.median(floors)
        print(
            f"floor (a), the facts frame alone: {t_frame:.2f} s; "
            f"ratio run / frame {t_run / t_frame:.2f}"
        )
        print(
            f"floor (b), hand-written NumPy rules over preloaded arrays: {t_floor:.4f} s; "
            f"ratio run / floor {t_run / t_floor:,.0f}"
        )

        t = time.perf_counter()
        again = service.run(MONTH, actor="bench", recorded_at=RECORDED_AT + dt.timedelta(hours=2))
        print(
            f"re-run, unchanged register: {time.perf_counter() - t:.3f} s ({again.message[:40]}...)"
        )
        t = time.perf_counter()
        roll = service.roll(MONTH, actor="bench", recorded_at=RECORDED_AT + dt.timedelta(hours=3))
        print(
            f"payment roll: {time.perf_counter() - t:.2f} s, {len(roll.lines):,} lines, "
            f"total {roll.total}"
        )

        people = [str(p) for ids in expected.eligible.values() for p in ids[:5].tolist()]
        times = []
        for person in people:
            for program in ("rural_reward", "special_assistance", "only_child_reward"):
                t = time.perf_counter()
                service.explain(person, program, MONTH)
                times.append(time.perf_counter() - t)
        print(
            f"explain one decision: median {statistics.median(times) * 1000:.1f} ms, "
            f"max {max(times) * 1000:.1f} ms over {len(times)}"
        )
        print(f"peak RSS: {peak_rss_mib():,.0f} MiB")
        storage.close()
        for context in contexts:
            for _ in context:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
