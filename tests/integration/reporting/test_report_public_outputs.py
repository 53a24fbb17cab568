"""A public report of a real register, written by every registered renderer, leaks nobody.

The register's persons have citizen ID numbers and names; a public report is aggregates
only, with small village cells withheld. Every renderer found through the hooks writes the
whole report; the bytes (for a workbook, every part of the archive) are scanned for ID
numbers and for the register's names (spec R6).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from famplan_core.exchange.importer import import_register
from famplan_core.plugin_manager import PluginManager
from famplan_core.privacy import find_citizen_ids, find_values
from famplan_core.reporting import CORE_INDICATORS, Period, Report, render_report, run_report
from famplan_core.storage import SqlStorage
from famplan_core.synthetic import SyntheticSpec, generate, write_register

RENDERERS = PluginManager.assemble(environ={}).report_renderers()


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SqlStorage, Path]]:
    folder = tmp_path_factory.mktemp("public")
    write_register(generate(SyntheticSpec(persons=3000, seed=11)), folder / "register")
    storage = SqlStorage(f"sqlite:///{folder / 'famplan.db'}", migrate=True)
    import_register(
        storage,
        folder / "register",
        today=dt.date(2026, 11, 20),
        actor="clerk",
        recorded_at=dt.datetime(2026, 11, 20, 8),
    )
    yield storage, folder / "register" / "persons.csv"
    storage.close()


@pytest.fixture(scope="module")
def public(register: tuple[SqlStorage, Path]) -> Report:
    return run_report(
        register[0], CORE_INDICATORS, period=Period.parse("2025"), scope="371502110", public=True
    )


def _text(name: str, data: bytes) -> str:
    if data[:2] == b"PK":  # a zip archive (xlsx)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    return data.decode("utf-8-sig")


@pytest.mark.parametrize("renderer", sorted(RENDERERS))
def test_no_id_number_and_no_name_in_any_public_output(
    renderer: str, register: tuple[SqlStorage, Path], public: Report
) -> None:
    with register[1].open(encoding="utf-8", newline="") as f:
        persons = list(csv.DictReader(f))
    ids = [p["citizen_id"] for p in persons if p["citizen_id"]]
    names = [p["name"] for p in persons if len(p["name"]) >= 3]
    assert ids, "the synthetic register has citizen ID numbers to leak"
    out = io.BytesIO()
    render_report(RENDERERS[renderer](), public, out)
    text = _text(renderer, out.getvalue())
    assert "户籍人口" in text  # the output was read back as text
    assert not find_citizen_ids(text)
    assert not find_values(text, names)


def test_the_public_report_withholds_and_leaves_out(public: Report) -> None:
    assert public.public
    assert public.left_out == ("program_changes",)
    rates = next(t for t in public.tables if t.code == "vital_rates")
    assert any("不予公布" in note for note in rates.notes)
