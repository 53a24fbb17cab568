"""The streaming reader gives the same answer whatever its chunk sizes (rows cross chunks)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from famplan_core.exchange import reader
from famplan_core.synthetic import SyntheticSpec, generate, write_register


def _reading(folder: Path) -> tuple[object, ...]:
    got = reader.read_register(folder, today=dt.date(2026, 11, 29))
    return (
        {kind: list(table.rows) for kind, table in got.tables.items()},
        [(q.file, q.line, dict(q.cells), q.problems) for q in got.quarantine],
        [str(w) for w in got.warnings],
    )


def test_tiny_chunks_give_the_same_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_register(generate(SyntheticSpec(persons=400, seed=5, bad_rows=15)), tmp_path / "reg")
    expected = _reading(tmp_path / "reg")
    monkeypatch.setattr(reader, "_SPILL_ROWS", 7)
    monkeypatch.setattr(reader, "_CHECK_ROWS", 5)
    assert _reading(tmp_path / "reg") == expected


def test_an_import_with_tiny_chunks_stores_the_same_register(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from famplan_core.exchange.importer import import_register
    from famplan_core.storage import SqlStorage
    from famplan_core.storage.tables import RECORD_KINDS

    write_register(generate(SyntheticSpec(persons=400, seed=5, bad_rows=15)), tmp_path / "reg")

    def stored(name: str) -> tuple[object, ...]:
        storage = SqlStorage(f"sqlite:///{tmp_path / name}", migrate=True)
        summary = import_register(
            storage,
            tmp_path / "reg",
            today=dt.date(2026, 11, 29),
            actor="t",
            recorded_at=dt.datetime(2026, 11, 29, tzinfo=dt.UTC),
        )
        with storage.reader() as snapshot:
            rows = {kind: sorted(snapshot.export_rows(kind)[1]) for kind in RECORD_KINDS}
            bad = sorted((e.row.file, e.row.line) for e in snapshot.list_quarantine())
        storage.close()
        return rows, bad, summary.imported, summary.quarantined

    expected = stored("default.db")
    monkeypatch.setattr(reader, "_SPILL_ROWS", 7)
    monkeypatch.setattr(reader, "_CHECK_ROWS", 5)
    assert stored("tiny.db") == expected
