"""A first load on PostgreSQL stores exactly what the row-by-kind path stores (R3).

Into an empty register on PostgreSQL, `import_register` stores rows while the files are
still being checked and takes out at the end the rows the checks across files set aside
(`famplan_core.storage.sql.FirstLoad`). SQLite stores through `upsert_rows`, kind by kind,
after every check. The same folder imported both ways must give the same register, the same
journal and the same quarantine; a first load that fails, whenever it fails, stores
nothing and leaves the schema whole.

Chunks are made small here (7 rows) so that a register of a few hundred persons spans many
of them, and rows set aside late (a repeated person_id, a row naming a bad household or a
bad person) fall in chunks already stored.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from famplan_core.errors import MalformedFileError
from famplan_core.exchange import reader
from famplan_core.exchange.importer import ImportSummary, import_register
from famplan_core.storage import SqlStorage
from famplan_core.storage.sql import _new_facts_sql
from famplan_core.storage.tables import RECORD_KINDS
from famplan_core.synthetic import SyntheticSpec, generate, write_register
from famplan_core.testing import write_synthetic

TODAY = dt.date(2026, 11, 1)
AT = dt.datetime(2026, 11, 2, 9)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seven rows per chunk: many chunks, and late-bad rows in chunks already sent."""
    monkeypatch.setattr(reader, "_SPILL_ROWS", 7)


def _import(url: str, folder: Path) -> tuple[ImportSummary, dict[str, Any]]:
    storage = SqlStorage(url, migrate=True)
    try:
        summary = import_register(storage, folder, today=TODAY, actor="clerk", recorded_at=AT)
        return summary, _contents(storage)
    finally:
        storage.close()


def _contents(storage: SqlStorage) -> dict[str, Any]:
    """Everything a user can see of the register: rows, journal, quarantine, audit counts."""
    found: dict[str, Any] = {}
    with storage.reader() as r:
        for kind in RECORD_KINDS:
            _columns, rows = r.export_rows(kind)
            found[kind] = sorted(rows)
        found["quarantine"] = sorted(
            (e.row.file, e.row.line, tuple(str(p) for p in e.row.problems))
            for e in r.list_quarantine()
        )
        found["audit"] = [
            (a.operation, a.summary["counts"], a.summary["facts"]) for a in r.list_audit()
        ]
        journal = r.connection.exec_driver_sql(
            "SELECT record_kind, kind, COALESCE(subject_id, ''), "
            "COALESCE(CAST(valid_date AS TEXT), ''), COALESCE(payload, '') FROM facts"
        )
        found["facts"] = sorted(tuple(row) for row in journal)
        orphans = 0
        for kind in RECORD_KINDS:
            orphans += r.connection.exec_driver_sql(
                f'SELECT COUNT(*) FROM "{kind}" v LEFT JOIN facts f ON f.fact_id = v.fact_id '
                "WHERE f.fact_id IS NULL"
            ).scalar_one()
        found["versions without a fact"] = orphans
        found["facts without a version"] = r.connection.exec_driver_sql(
            "SELECT COUNT(*) FROM facts f WHERE NOT EXISTS ("
            + " UNION ALL ".join(
                f'SELECT 1 FROM "{kind}" v WHERE v.fact_id = f.fact_id' for kind in RECORD_KINDS
            )
            + ")"
        ).scalar_one()
    return found


def _schema(url: str) -> dict[str, Any]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            indexes = sorted(
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
                )
            )
            constraints = sorted(
                (r[0], r[1])
                for r in conn.exec_driver_sql(
                    "SELECT conname, convalidated FROM pg_constraint c "
                    "JOIN pg_namespace n ON n.oid = c.connamespace "
                    "WHERE n.nspname = current_schema()"
                )
            )
    finally:
        engine.dispose()
    return {"indexes": indexes, "constraints": constraints}


@pytest.mark.postgres
@pytest.mark.parametrize("seed", [3, 17])
def test_a_first_load_stores_what_the_kind_by_kind_path_stores(
    seed: int, tmp_path: Path, sqlite_url: str, pg_url: str
) -> None:
    """Same rows, journal, quarantine and counts as SQLite's path; every key checked."""
    folder = tmp_path / "register"
    write_register(generate(SyntheticSpec(persons=400, seed=seed, bad_rows=15)), folder)
    SqlStorage(pg_url, migrate=True).close()
    fresh = _schema(pg_url)
    assert all(valid for _name, valid in fresh["constraints"])
    slow, by_kind = _import(sqlite_url, folder)
    loading: list[tuple[str, str]] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        loading.append((threading.current_thread().name, statement))

    event.listen(sa.engine.Engine, "before_cursor_execute", note)
    try:
        fast, first_load = _import(pg_url, folder)
    finally:
        event.remove(sa.engine.Engine, "before_cursor_execute", note)
    # the first-load path ran, and took out rows found bad after they were stored
    journal_persons = _new_facts_sql(RECORD_KINDS["persons"], 1, 0).partition(" WHERE")[0]
    assert any(t == "famplan-first-load" and s.startswith(journal_persons) for t, s in loading)
    assert any(s.startswith('DELETE FROM "persons"') for _t, s in loading)
    assert fast.quarantined == slow.quarantined > 0
    assert [(k.kind, k.imported, k.quarantined) for k in fast.kinds] == [
        (k.kind, k.imported, k.quarantined) for k in slow.kinds
    ]
    assert first_load == by_kind
    assert first_load["versions without a fact"] == 0
    assert first_load["facts without a version"] == 0
    assert _schema(pg_url) == fresh


@pytest.mark.postgres
def test_a_malformed_file_after_rows_were_stored_leaves_nothing(
    tmp_path: Path, pg_url: str
) -> None:
    """persons.csv is read (and stored) before unions.csv, which is malformed: no trace."""
    folder = tmp_path / "register"
    write_synthetic(folder, persons=300, seed=5)
    SqlStorage(pg_url, migrate=True).close()
    before = _schema(pg_url)
    unions = folder / "unions.csv"
    unions.write_bytes(unions.read_bytes() + b'"never closed,\n')
    storage = SqlStorage(pg_url)
    try:
        with pytest.raises(MalformedFileError, match=r"unions\.csv"):
            import_register(storage, folder, today=TODAY, actor="clerk", recorded_at=AT)
        assert all(not rows for kind, rows in _contents(storage).items() if kind in RECORD_KINDS)
        assert _schema(pg_url) == before
        assert not [t for t in threading.enumerate() if t.name == "famplan-first-load"]
        assert sys.getswitchinterval() == pytest.approx(0.005)
        write_synthetic(folder, persons=300, seed=5)
        again = import_register(storage, folder, today=TODAY, actor="clerk", recorded_at=AT)
        assert again.imported > 300
    finally:
        storage.close()


class Injected(Exception):
    """The fault the test injects."""


@pytest.mark.postgres
@pytest.mark.parametrize("at", [1, 3, 6])
def test_a_database_failure_while_loading_leaves_nothing(
    at: int, tmp_path: Path, pg_url: str
) -> None:
    """Whichever statement of the loading thread fails, the import fails and stores nothing."""
    folder = tmp_path / "register"
    write_synthetic(folder, persons=200, seed=9)
    storage = SqlStorage(pg_url, migrate=True)
    before = _schema(pg_url)
    seen = 0

    def fail(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        nonlocal seen
        if threading.current_thread().name == "famplan-first-load":
            seen += 1
            if seen == at:
                raise Injected(statement)

    event.listen(storage.engine, "before_cursor_execute", fail)
    try:
        with pytest.raises(Injected):
            import_register(storage, folder, today=TODAY, actor="clerk", recorded_at=AT)
        event.remove(storage.engine, "before_cursor_execute", fail)
        assert seen == at
        assert all(not rows for kind, rows in _contents(storage).items() if kind in RECORD_KINDS)
        assert _schema(pg_url) == before
        assert sys.getswitchinterval() == pytest.approx(0.005)
    finally:
        storage.close()
