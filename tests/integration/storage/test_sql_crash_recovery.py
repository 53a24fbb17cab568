"""Exactly-once import after kill -9 (R2), on SQLite and PostgreSQL.

A child process imports 20,000 persons; it is killed with SIGKILL at a random moment
between 0.2 and 2 s, three times, and then run to the end. Each unit of work is all or
nothing, and a re-run stores only what is missing, so the register ends with exactly
20,000 persons, each once.
"""

from __future__ import annotations

import datetime as dt
import random
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from famplan_core.storage import SqlStorage

PERSONS = 20_000

CHILD = r"""
import datetime as dt, sys, time
from famplan_core.storage import SqlStorage
from famplan_core.testing import PERSON_COLUMNS, person_row

url, mode, run = sys.argv[1], sys.argv[2], int(sys.argv[3])
persons = [person_row(f"P{i:06d}") for i in range({persons})]
store = SqlStorage(url)
when = dt.datetime(2025, 1, 1) + dt.timedelta(hours=run)

def slow(rows):
    for i, row in enumerate(rows):
        if i % 1000 == 0:
            time.sleep(0.02)
        yield row

if mode == "single":
    with store.unit_of_work(actor="import", recorded_at=when, operation="import") as uow:
        uow.upsert_rows("persons", PERSON_COLUMNS, slow(persons))
else:
    for start in range(0, len(persons), 500):
        with store.unit_of_work(actor="import", recorded_at=when, operation="import") as uow:
            uow.upsert_rows("persons", PERSON_COLUMNS, persons[start:start + 500])
        time.sleep(0.03)
store.close()
print("done")
""".replace("{persons}", str(PERSONS))


def _run_child(url: str, mode: str, run: int, kill_after: float | None) -> bool:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, mode, str(run)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    if kill_after is None:
        _out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err.decode()
        return True
    time.sleep(kill_after)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=60)
    return child.returncode == 0


def _counts(url: str) -> tuple[int, int, int, int]:
    store = SqlStorage(url)
    try:
        with store.engine.connect() as conn:
            current = conn.exec_driver_sql(
                "SELECT COUNT(*), COUNT(DISTINCT person_id) FROM persons "
                "WHERE superseded_at IS NULL"
            ).one()
            versions = conn.exec_driver_sql("SELECT COUNT(*) FROM persons").scalar_one()
            facts = conn.exec_driver_sql("SELECT COUNT(*) FROM facts").scalar_one()
            if store.engine.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
                assert conn.exec_driver_sql("PRAGMA foreign_key_check").first() is None
        store.verify_audit()
        return int(current[0]), int(current[1]), int(versions), int(facts)
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["chunked", "single"])
def test_import_killed_then_rerun_stores_each_person_once(storage_url: str, mode: str) -> None:
    """R2: after SIGKILLs and a re-run: 20,000 persons, no duplicates, intact database."""
    SqlStorage(storage_url, migrate=True).close()
    rng = random.Random(f"{mode}-{sa.make_url(storage_url).get_backend_name()}")
    run = 0
    for _ in range(3):
        run += 1
        finished = _run_child(storage_url, mode, run, kill_after=rng.uniform(0.2, 2.0))
        current, distinct, versions, facts = _counts(storage_url)
        assert current == distinct == versions == facts
        unit = PERSONS if mode == "single" else 500
        assert current % unit == 0, f"a unit of work was half-written: {current} persons"
        if finished:
            break
    run += 1
    _run_child(storage_url, mode, run, kill_after=None)
    assert _counts(storage_url) == (PERSONS, PERSONS, PERSONS, PERSONS)
    store = SqlStorage(storage_url)
    with store.reader() as reader:
        audit = reader.list_audit()
    store.close()
    inserted = sum(e.summary["counts"].get("persons", {}).get("inserted", 0) for e in audit)
    assert inserted == PERSONS
    assert all(e.recorded_at <= dt.datetime(2025, 1, 2) for e in audit)
