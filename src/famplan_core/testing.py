"""Pytest plugin for plugin authors: fixtures and contract suites.

Loaded with ``-p famplan_core.testing`` (the project's ``addopts`` do so). It gives:

* fixtures for storage URLs: `sqlite_url` (a fresh file per test), `pg_url` (a fresh
  PostgreSQL schema per test, on the server named by ``FAMPLAN_TEST_PG_URL``; skipped when
  that is unset, failed when ``CI`` is set), and `storage_url`, parametrised over both;
* `StorageContract`: the storage contract suite. A storage plugin's test module subclasses
  it and provides a ``storage`` fixture yielding an empty, ready `famplan_core.ports.Storage`::

      class TestMyStorage(StorageContract):
          @pytest.fixture
          def storage(self, tmp_path):
              store = MyStorage(tmp_path / "db")
              yield store
              store.close()

* small builders of register rows (`person_row`, `PERSON_COLUMNS`) for writing tests;
* helpers for integration tests: `run_famplan` and `famplan_json` run the ``famplan``
  command as a user would, `Clock` (and the `clock` fixture) hands out increasing record
  times, and `write_synthetic` writes a synthetic register to a folder.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from famplan_core.errors import Problem, RecordNotFoundError, StorageError
from famplan_core.ports import QuarantinedRow, SourceFile, Storage
from famplan_core.storage.tables import RECORD_KINDS
from famplan_core.synthetic import SyntheticRegister, SyntheticSpec, generate, write_register

__all__ = [
    "PERSON_COLUMNS",
    "PG_URL_VARIABLE",
    "Clock",
    "StorageContract",
    "clock",
    "famplan_json",
    "person_row",
    "pg_url",
    "run_famplan",
    "sqlite_url",
    "storage_url",
    "write_synthetic",
]

PG_URL_VARIABLE = "FAMPLAN_TEST_PG_URL"
"""The environment variable naming the PostgreSQL server for the tests."""

PERSON_COLUMNS: tuple[str, ...] = RECORD_KINDS["persons"].columns
"""The columns of ``persons`` in the spec's order."""

T0 = dt.datetime(2025, 1, 1, 8, 0, 0)


def person_row(person_id: str, **cells: str) -> tuple[str, ...]:
    """A ``persons`` row as normalised text cells, with plausible defaults.

    Args:
        person_id: the person's id.
        **cells: cells to set, by column name (e.g. ``sex="2"``, ``death_date=""``).
    """
    defaults = {
        "person_id": person_id,
        "citizen_id": "",
        "name": f"姓名{person_id}",
        "sex": "1",
        "birth_date": "1960-01-01",
        "death_date": "",
        "ethnicity": "01",
        "marital_status": "20",
        "hukou_division": "371502110001",
        "hukou_type": "rural",
        "residence_division": "",
        "household_id": "",
        "relation_to_head": "",
    }
    unknown = set(cells) - set(defaults)
    if unknown:
        raise ValueError(f"unknown persons columns {sorted(unknown)}")
    defaults.update(cells)
    return tuple(defaults[c] for c in PERSON_COLUMNS)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A URL for a new SQLite file in the test's temporary folder."""
    return f"sqlite:///{tmp_path / 'famplan.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL for a new, empty PostgreSQL schema, dropped after the test.

    Skips the test when ``FAMPLAN_TEST_PG_URL`` is unset, and fails it when ``CI`` is set.
    """
    base = os.environ.get(PG_URL_VARIABLE)
    if not base:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_URL_VARIABLE} is not set, and CI needs the PostgreSQL tests")
        pytest.skip(f"{PG_URL_VARIABLE} is not set")
    schema = f"famplan_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage_url(request: pytest.FixtureRequest) -> str:
    """A fresh storage URL, once for SQLite and once for PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(name)
    return url


def run_famplan(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, actor: str = "clerk"
) -> subprocess.CompletedProcess[str]:
    """Run the ``famplan`` command in a subprocess, as a user would, and capture its output.

    The command sees the current environment without any ``FAMPLAN_*`` variable, then
    ``FAMPLAN_ACTOR`` set to `actor`, then `env`. A failing command does not raise: check
    ``returncode``.

    Args:
        *args: the command's arguments, e.g. ``"benefits", "run", "--month", "2026-11"``.
        cwd: the folder to run it in (usually a township's folder).
        env: further environment variables, set last (they may name ``FAMPLAN_*`` ones).
        actor: who the command acts as (``FAMPLAN_ACTOR``).

    Returns:
        The finished process, with ``stdout`` and ``stderr`` as text (UTF-8).
    """
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FAMPLAN_")}
    environment["FAMPLAN_ACTOR"] = actor
    environment.update(env or {})
    return subprocess.run(
        [str(Path(sys.executable).parent / "famplan"), *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )


def famplan_json(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Run ``famplan ... --json`` with `run_famplan`, assert it succeeded, parse its output.

    Args:
        *args: the command's arguments; ``--json`` is added after them.
        cwd: the folder to run it in.
        env: further environment variables, as for `run_famplan`.

    Returns:
        The JSON object the command printed.
    """
    done = run_famplan(*args, "--json", cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert isinstance(document, dict)
    return document


class Clock:
    """Increasing record times: the core never reads the clock, the tests hand it one.

    Each call returns the next time, one minute after the previous one.

    Args:
        start: the first time returned.
    """

    def __init__(self, start: dt.datetime = dt.datetime(2026, 11, 20, 8)) -> None:
        self._start = start
        self._ticks = itertools.count()

    def __call__(self) -> dt.datetime:
        """The next record time."""
        return self._start + dt.timedelta(minutes=next(self._ticks))

    def advance_to(self, moment: dt.datetime) -> None:
        """Move the clock on to `moment`, the next time returned; never back.

        Args:
            moment: a later time (one earlier than the next time is ignored).
        """
        upcoming = self._start + dt.timedelta(minutes=next(self._ticks))
        self._start, self._ticks = max(moment, upcoming), itertools.count()


@pytest.fixture
def clock() -> Clock:
    """A fresh `Clock` starting at 2026-11-20 08:00."""
    return Clock()


def write_synthetic(folder: Path, *, persons: int, seed: int) -> SyntheticRegister:
    """Generate a synthetic register and write its files to a folder.

    Args:
        folder: where to write the register's CSV files.
        persons: how many persons to generate.
        seed: the generator's seed.

    Returns:
        The generated register, with what was put in it on purpose.
    """
    register = generate(SyntheticSpec(persons=persons, seed=seed))
    write_register(register, folder)
    return register


def _t(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def _rows(storage: Storage, kind: str) -> list[tuple[str, ...]]:
    with storage.reader() as reader:
        _columns, rows = reader.export_rows(kind)
        return sorted(rows)


class StorageContract:
    """The storage contract suite: every `famplan_core.ports.Storage` passes these tests.

    Subclass it in a test module and provide a ``storage`` fixture yielding an empty,
    ready storage.
    """

    def test_upsert_counts_inserted_updated_unchanged(self, storage: Storage) -> None:
        """A new key is inserted, a different row updates, an identical row is unchanged."""
        with storage.unit_of_work(actor="clerk", recorded_at=_t(0)) as uow:
            first = uow.upsert_rows("persons", PERSON_COLUMNS, [person_row("a"), person_row("b")])
        with storage.unit_of_work(actor="clerk", recorded_at=_t(1)) as uow:
            second = uow.upsert_rows(
                "persons",
                PERSON_COLUMNS,
                [person_row("a"), person_row("b", name="改名"), person_row("c")],
            )
        assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
        assert (second.inserted, second.updated, second.unchanged) == (1, 1, 1)
        assert sorted(second.touched) == [("b",), ("c",)]
        assert [r[2] for r in _rows(storage, "persons")] == ["姓名a", "改名", "姓名c"]

    def test_export_round_trips_every_kind(self, storage: Storage) -> None:
        """What is stored is exported exactly, empty cells as ``""``, for every kind."""
        rows: dict[str, list[tuple[str, ...]]] = {
            "persons": [person_row("p", death_date="2020-02-29"), person_row("k", sex="2")],
            "households": [("h1", "371502110001", "=1+1 某村", "p")],
            "parent_child": [("p", "k", "adoptive", "2001-05-06")],
            "unions": [("p", "k", "1990-01-01", "2000-01-01", "divorce")],
            "hukou_changes": [("p", "1960-01-01", "371502110001", "rural")],
            "disabilities": [("k", "2", "", "2010-01-01", "")],
            "certificates": [("C1", "honour", "p", "k", "1995-01-01", "")],
            "enrolments": [("p", "rural_reward", "2021-01-01", "")],
        }
        with storage.unit_of_work(actor="clerk", recorded_at=_t(0)) as uow:
            for kind, kind_rows in rows.items():
                uow.upsert_rows(kind, RECORD_KINDS[kind].columns, kind_rows)
        for kind, kind_rows in rows.items():
            assert _rows(storage, kind) == sorted(kind_rows), kind

    def test_columns_left_out_keep_stored_values(self, storage: Storage) -> None:
        """A column missing from the input is empty for a new record, kept for a stored one."""
        with storage.unit_of_work(actor="clerk", recorded_at=_t(0)) as uow:
            uow.upsert_rows("persons", PERSON_COLUMNS, [person_row("a", household_id="h9")])
        columns = ("person_id", "name", "sex", "birth_date", "hukou_division", "hukou_type")
        with storage.unit_of_work(actor="clerk", recorded_at=_t(1)) as uow:
            summary = uow.upsert_rows(
                "persons",
                columns,
                [
                    ("a", "新名", "1", "1960-01-01", "371502110001", "rural"),
                    ("b", "乙", "2", "1970-01-01", "371502110001", "urban"),
                ],
            )
        assert (summary.inserted, summary.updated) == (1, 1)
        stored = {r[0]: r for r in _rows(storage, "persons")}
        assert stored["a"][PERSON_COLUMNS.index("household_id")] == "h9"
        assert stored["b"][PERSON_COLUMNS.index("household_id")] == ""

    def test_history_keeps_every_version_with_actor_and_changes(self, storage: Storage) -> None:
        """A correction keeps the earlier values: who, when, what changed (spec: re-import)."""
        with storage.unit_of_work(actor="clerk", recorded_at=_t(0)) as uow:
            uow.upsert_rows("persons", PERSON_COLUMNS, [person_row("a")])
        with storage.unit_of_work(actor="auditor", recorded_at=_t(5)) as uow:
            uow.upsert_rows("persons", PERSON_COLUMNS, [person_row("a", death_date="2024-12-01")])
        with storage.reader() as reader:
            history = reader.person_history("a")
            with pytest.raises(RecordNotFoundError):
                reader.person_history("nobody")
        assert [h.fact_kind for h in history] == ["person_registered", "death_recorded"]
        assert history[1].actor == "auditor"
        assert history[1].recorded_at == _t(5)
        assert history[1].changes == {"death_date": ("", "2024-12-01")}
        assert history[1].valid_date == dt.date(2024, 12, 1)

    def test_awkward_characters_are_stored_exactly(self, storage: Storage) -> None:
        """Tabs, line breaks, backslashes, quotes and 𠮷 survive a first load and a correction.

        Storage plugins that stream rows in a text format (PostgreSQL's COPY) must escape
        them; the correction's before/after goes through JSON, which adds backslashes.
        """
        awkward = ["a\tb", "line\nbreak", "cr\rhere", "back\\slash", '"quoted"', "𠮷䶮", "\\N"]
        first = [
            person_row(f"p{i}", name=text, household_id=f"h{i}") for i, text in enumerate(awkward)
        ]
        with storage.unit_of_work(actor="clerk", recorded_at=_t(0)) as uow:
            uow.upsert_rows("persons", PERSON_COLUMNS, first)
            uow.upsert_rows(
                "households",
                RECORD_KINDS["households"].columns,
                [(f"h{i}", "371502110001", f"{text}村", f"p{i}") for i, text in enumerate(awkward)],
            )
        assert _rows(storage, "persons") == sorted(first)
        corrected = [
            person_row(f"p{i}", name=text[::-1] + "\\\t", household_id=f"h{i}")
            for i, text in enumerate(awkward)
        ]
        with storage.unit_of_work(actor="clerk", recorded_at=_t(1)) as uow:
            summary = uow.upsert_rows("persons", PERSON_COLUMNS, corrected)
        assert summary.updated == len(awkward)
        assert _rows(storage, "persons") == sorted(corrected)
        assert [r[2] for r in _rows(storage, "households")] == [f"{t}村" for t in awkward]
        with storage.reader() as reader:
            for i, text in enumerate(awkward):
                change = reader.person_history(f"p{i}")[-1].changes
                assert change == {"name": (text, text[::-1] + "\\\t")}, text

    def test_failed_unit_of_work_writes_nothing(self, storage: Storage) -> None:
        """An exception inside a unit of work rolls back its rows and its audit entry."""
        with storage.unit_of_work(actor="clerk", recorded_at=_t(0)) as uow:
            uow.upsert_rows("persons", PERSON_COLUMNS, [person_row("a")])

        def fail() -> None:
            with storage.unit_of_work(actor="clerk", recorded_at=_t(1)) as uow:
                uow.upsert_rows(
                    "persons", PERSON_COLUMNS, [person_row("b"), person_row("a", sex="2")]
                )
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            fail()
        assert _rows(storage, "persons") == [person_row("a")]
        with storage.reader() as reader:
            assert len(reader.list_audit()) == 1
            assert len(reader.person_history("a")) == 1

    def test_one_audit_entry_per_unit_of_work_chained(self, storage: Storage) -> None:
        """Every committed unit of work leaves one audit entry; the hash chain checks."""
        for minute in range(3):
            with storage.unit_of_work(
                actor=f"clerk{minute}", recorded_at=_t(minute), operation="import"
            ) as uow:
                uow.upsert_rows("persons", PERSON_COLUMNS, [person_row(f"p{minute}")])
                uow.audit(source="test")
        with storage.reader() as reader:
            entries = reader.list_audit()
        assert [e.actor for e in entries] == ["clerk0", "clerk1", "clerk2"]
        assert all(e.operation == "import" for e in entries)
        assert entries[0].summary["counts"]["persons"]["inserted"] == 1
        assert entries[0].summary["source"] == "test"
        assert storage.verify_audit() == 3

    def test_record_time_never_goes_back(self, storage: Storage) -> None:
        """A unit of work recorded before the latest one is refused."""
        with storage.unit_of_work(actor="clerk", recorded_at=_t(10)):
            pass
        with (
            pytest.raises(StorageError, match="before"),
            storage.unit_of_work(actor="clerk", recorded_at=_t(9)),
        ):
            pass

    def test_repeated_key_and_unknown_kind_are_refused(self, storage: Storage) -> None:
        """One natural key twice in one upsert, or an unknown kind, is a StorageError."""
        with (
            pytest.raises(StorageError, match="more than once"),
            storage.unit_of_work(actor="clerk", recorded_at=_t(0)) as uow,
        ):
            uow.upsert_rows("persons", PERSON_COLUMNS, [person_row("a"), person_row("a")])
        with (
            pytest.raises(StorageError, match="unknown record kind"),
            storage.unit_of_work(actor="clerk", recorded_at=_t(0)) as uow,
        ):
            uow.upsert_rows("people", PERSON_COLUMNS, [])
        assert _rows(storage, "persons") == []

    def test_quarantine_is_kept_until_discarded(self, storage: Storage) -> None:
        """Bad rows are kept with every problem, listed, and discarded by a person."""
        bad = QuarantinedRow(
            file="persons.csv",
            line=7,
            kind="persons",
            raw={"person_id": "x", "sex": "１", "name": None},
            problems=(Problem(path="persons.csv:7:sex", value="１", message="not a code"),),
        )
        with storage.unit_of_work(actor="clerk", recorded_at=_t(0)) as uow:
            import_id = uow.record_import(
                [SourceFile(name="persons.csv", sha256="ab" * 32)], {"rows": 1}
            )
            ids = uow.record_quarantine([bad, bad], import_id=import_id)
        with storage.reader() as reader:
            listed = reader.list_quarantine()
        assert [e.id for e in listed] == ids
        assert listed[0].row == bad
        assert listed[0].import_id == import_id
        with storage.unit_of_work(actor="head", recorded_at=_t(1)) as uow:
            assert uow.discard_quarantine([ids[0]]) == 1
            assert uow.discard_quarantine([ids[0]]) == 0
            with pytest.raises(RecordNotFoundError):
                uow.discard_quarantine([999_999])
        with storage.reader() as reader:
            assert [e.id for e in reader.list_quarantine()] == [ids[1]]
            (gone,) = reader.list_quarantine(status="discarded")
        assert (gone.closed_by, gone.closed_at) == ("head", _t(1))

    def test_imports_are_found_by_their_files(self, storage: Storage) -> None:
        """The same files, in any order, find the earlier import."""
        from famplan_core.storage import source_digest

        files = [
            SourceFile(name="persons.csv", sha256="1" * 64),
            SourceFile(name="unions.csv", sha256="2" * 64),
        ]
        with storage.unit_of_work(actor="clerk", recorded_at=_t(0)) as uow:
            import_id = uow.record_import(files, {"persons": 3})
        with storage.reader() as reader:
            (found,) = reader.find_imports(source_digest(reversed(files)))
            assert reader.find_imports(source_digest(files[:1])) == []
        assert (found.id, found.actor, found.summary) == (import_id, "clerk", {"persons": 3})
        assert set(found.sources) == set(files)

    def test_person_ids(self, storage: Storage) -> None:
        """`known_person_ids` and `all_person_ids` see the stored persons."""
        with storage.unit_of_work(actor="clerk", recorded_at=_t(0)) as uow:
            uow.upsert_rows("persons", PERSON_COLUMNS, [person_row("a"), person_row("b")])
        with storage.reader() as reader:
            assert reader.known_person_ids(["a", "z", "a"]) == {"a"}
            assert reader.all_person_ids() == {"a", "b"}

    def test_household_ids(self, storage: Storage) -> None:
        """`known_household_ids` sees the stored households, not the persons' ids."""
        with storage.unit_of_work(actor="clerk", recorded_at=_t(0)) as uow:
            uow.upsert_rows("persons", PERSON_COLUMNS, [person_row("a", household_id="h1")])
            uow.upsert_rows(
                "households", RECORD_KINDS["households"].columns, [("h1", "371502110001", "", "a")]
            )
        with storage.reader() as reader:
            assert reader.known_household_ids(["h1", "h2", "a", "h1"]) == {"h1"}
            assert reader.known_household_ids([]) == set()

    def test_person_as_of(self, storage: Storage) -> None:
        """Hukou on D (R0.5), alive on D (R0.3), children (R0.4) and "as known at"."""
        with storage.unit_of_work(actor="clerk", recorded_at=_t(0)) as uow:
            uow.upsert_rows(
                "persons",
                PERSON_COLUMNS,
                [
                    person_row("m", sex="2", birth_date="1960-02-29", hukou_type="urban"),
                    person_row("c", birth_date="1990-01-01"),
                    person_row("s", birth_date="1985-01-01"),
                ],
            )
            uow.upsert_rows(
                "parent_child",
                ("parent_id", "child_id", "kind", "since"),
                [("m", "c", "birth", ""), ("m", "s", "step", "2000-01-01")],
            )
            uow.upsert_rows(
                "hukou_changes",
                ("person_id", "date", "hukou_division", "hukou_type"),
                [("m", "2000-03-15", "371502110002", "rural")],
            )
        with storage.unit_of_work(actor="clerk", recorded_at=_t(5)) as uow:
            uow.upsert_rows("persons", PERSON_COLUMNS, [person_row("c", death_date="2020-06-01")])
        with storage.reader() as reader:
            early = reader.person_as_of("m", dt.date(2000, 3, 1))
            late = reader.person_as_of("m", dt.date(2021, 2, 28))
            before = reader.person_as_of("m", dt.date(2021, 3, 1), known_at=_t(1))
            with pytest.raises(RecordNotFoundError):
                reader.person_as_of("m", dt.date(2021, 3, 1), known_at=T0 - dt.timedelta(1))
        assert (early.hukou_known, early.hukou_division) == (False, "")
        assert (late.hukou_division, late.hukou_type) == ("371502110002", "rural")
        assert late.age == 60  # born 29 Feb: 61 only from 1 March (R0.2)
        assert {(c.child_id, c.counts, c.alive) for c in late.children} == {
            ("c", True, False),
            ("s", False, True),
        }
        assert [c.alive for c in before.children if c.child_id == "c"] == [True]
        assert before.age == 61

    def test_facts_frame(self, storage: Storage) -> None:
        """The frame's columns for a small family (R0.3-R0.6, R3.4, R4.4, R0.10)."""
        with storage.unit_of_work(actor="clerk", recorded_at=_t(0)) as uow:
            uow.upsert_rows(
                "persons",
                PERSON_COLUMNS,
                [
                    person_row("f", birth_date="1960-05-01"),
                    person_row("m", sex="2", birth_date="1962-02-01"),
                    person_row("k", sex="2", birth_date="1990-01-01"),
                    person_row("a", birth_date="2010-06-01", hukou_division="110101001001"),
                    person_row("s", birth_date="1980-01-01", death_date="2025-01-01"),
                ],
            )
            uow.upsert_rows(
                "parent_child",
                ("parent_id", "child_id", "kind", "since"),
                [
                    ("f", "k", "birth", ""),
                    ("m", "k", "birth", ""),
                    ("f", "a", "adoptive", "2024-07-01"),
                    ("f", "s", "step", ""),
                ],
            )
            uow.upsert_rows(
                "disabilities",
                ("person_id", "grade", "category", "valid_from", "valid_to"),
                [
                    ("k", "3", "physical", "2020-01-01", "2025-01-01"),
                    ("k", "2", "mental", "2024-01-01", "2024-12-31"),
                ],
            )
            uow.upsert_rows(
                "certificates",
                ("certificate_id", "kind", "holder_id", "child_id", "issued_on", "revoked_on"),
                [
                    ("H1", "honour", "f", "k", "1995-01-01", ""),
                    ("H1", "honour", "m", "k", "1995-01-01", "2025-01-01"),
                ],
            )
        frame = storage.facts_frame(dt.date(2025, 1, 1), "371502")
        assert list(frame.person_id) == ["a", "f", "k", "m", "s"]
        f, k, m, s = (frame.row_of(x) for x in "fkms")
        assert not frame.alive[s]  # died on D itself (R0.3)
        assert frame.in_jurisdiction.tolist() == [False, True, True, True, True]
        assert (frame.ever_children[f], frame.ever_daughters[f]) == (2, 1)  # step never
        assert frame.only_child[m] == k
        assert frame.only_child_link[m] == 1
        assert frame.only_child_mother_birth_date[m] == np.datetime64("1962-02-01")
        assert frame.disability_grade[k] == 3  # the grade-2 certificate ended on 31 Dec
        assert frame.certificates.holder.tolist() == [f]  # m's was revoked on D
        assert frame.certificates.lapse_from[0] == np.datetime64("2025-01-01")
        earlier = storage.facts_frame(dt.date(2024, 6, 1), "371502")
        assert earlier.ever_children[f] == 1  # adopted on 1 July 2024
        assert earlier.only_child_mother_birth_date[f] == np.datetime64("1962-02-01")
        assert np.isnat(earlier.certificates.lapse_from).all()
        assert earlier.disability_grade[k] == 2
