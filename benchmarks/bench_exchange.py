"""Exchange benchmark: export and import of one 100,000-message batch between two townships.

Run on demand, e.g.::

    .venv/bin/python benchmarks/bench_exchange.py
    .venv/bin/python benchmarks/bench_exchange.py --messages 200000

Guguantun (371502110) holds N persons, every one with a resident ID number, whose hukou all
moved to Hanji (371502115) on 2026-03-15 (a hukou change dated at the birth, then the move).
The benchmark times, on SQLite:

* **export**: ``ExchangeService.export`` to Hanji: the N ``hukou_move`` messages derived from
  the register, each kept to its declared fields, the batch encoded (JSON Lines) with its
  manifest, N ledger rows and the outbox entry written in one unit of work, and the parcel
  sent to the folder drop;
* **import**: Hanji's ``ExchangeService.receive``: the parcel read and checked (checksums,
  format, ids), N messages checked and applied (N new persons and N hukou changes through the
  storage's bulk upsert, with their journal facts), N ledger rows, the receipt, in one unit of
  work, and the receipt sent;
* **replay**: the same parcel imported again (the stored receipt, nothing changed).

Target on SQLite: export < 60 s and import < 60 s at N = 100,000.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from famplan_core.exchange.hub import Hub
from famplan_core.exchange.service import ExchangeService
from famplan_core.exchange.transports import FolderTransport, read_parcel
from famplan_core.storage import SqlStorage
from famplan_core.synthetic import gb11643_check
from famplan_core.testing import PERSON_COLUMNS

G, H = "371502110", "371502115"
TODAY = dt.date(2026, 4, 10)


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def persons(n: int) -> list[tuple[str, ...]]:
    """N persons with distinct, valid ID numbers (birth dates 1940-2005, sequence digits)."""
    rows: list[tuple[str, ...]] = []
    base = dt.date(1940, 1, 1)
    for i in range(n):
        born = base + dt.timedelta(days=i % 23_000)
        sex = "1" if i % 2 == 0 else "2"
        seq = (i // 23_000) * 2 + (1 if sex == "1" else 2)
        body = f"371502{born:%Y%m%d}{seq:03d}"
        values = {
            "person_id": f"P{i:07d}",
            "citizen_id": body + gb11643_check(body),
            "name": f"姓名{i}",
            "sex": sex,
            "birth_date": born.isoformat(),
            "death_date": "",
            "ethnicity": "01",
            "marital_status": "20",
            "hukou_division": "371502115201",
            "hukou_type": "rural",
            "residence_division": "",
            "household_id": "",
            "relation_to_head": "",
        }
        rows.append(tuple(values[c] for c in PERSON_COLUMNS))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    n = args.messages
    root = Path(tempfile.mkdtemp(prefix="famplan-bench-exchange-"))
    clock = iter(dt.datetime(2026, 4, 10, 8) + dt.timedelta(minutes=m) for m in range(10_000))
    try:
        g_storage = SqlStorage(f"sqlite:///{root / 'g.db'}", migrate=True)
        h_storage = SqlStorage(f"sqlite:///{root / 'h.db'}", migrate=True)
        t = time.perf_counter()
        rows = persons(n)
        with g_storage.unit_of_work(actor="bench", recorded_at=next(clock)) as uow:
            uow.upsert_rows("persons", PERSON_COLUMNS, rows)
            uow.upsert_rows(
                "hukou_changes",
                ("person_id", "date", "hukou_division", "hukou_type"),
                [
                    row
                    for r in rows
                    for row in (
                        (r[0], r[4], "371502110001", "rural"),
                        (r[0], "2026-03-15", "371502115201", "rural"),
                    )
                ],
            )
        setup = time.perf_counter() - t
        g = ExchangeService(g_storage, division=G, transport=FolderTransport(root / "g"))
        h = ExchangeService(h_storage, division=H, transport=FolderTransport(root / "h"))
        hub = Hub({G: root / "g", H: root / "h"})

        t = time.perf_counter()
        summary = g.export(H, actor="bench", recorded_at=next(clock))
        export_s = time.perf_counter() - t
        assert summary.messages == {"hukou_move": n}, summary.messages
        assert summary.sent

        hub.step()
        (parcel_path,) = (root / "h" / "inbox").iterdir()
        size = sum(p.stat().st_size for p in parcel_path.iterdir())
        parcel = read_parcel(parcel_path)

        t = time.perf_counter()
        (outcome,) = h.receive(actor="bench", recorded_at=next(clock), today=TODAY)
        import_s = time.perf_counter() - t
        assert (outcome.status, outcome.applied, outcome.quarantined) == ("applied", n, 0), outcome

        t = time.perf_counter()
        again = h.import_parcel(parcel, actor="bench", recorded_at=next(clock), today=TODAY)
        replay_s = time.perf_counter() - t
        assert again.status == "replayed"

        with h_storage.reader() as reader:
            stored = len(reader.all_person_ids())
        assert stored == n
        g_storage.close()
        h_storage.close()
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(f"exchange benchmark, SQLite, {n:,} hukou_move messages ({size / 2**20:.1f} MiB batch)")
    print(f"  setup (register of {n:,} persons, {2 * n:,} hukou changes): {setup:6.1f} s")
    print(f"  export (derive, encode, ledger, outbox, send):   {export_s:6.1f} s  (target < 60 s)")
    print(f"  import (check, apply, facts, ledger, receipt):   {import_s:6.1f} s  (target < 60 s)")
    print(f"  replay of the same batch (stored receipt):       {replay_s:6.1f} s")
    print(f"  peak RSS: {peak_rss_mib():.0f} MiB")
    return 0 if export_s < 60 and import_s < 60 else 1


if __name__ == "__main__":
    sys.exit(main())
