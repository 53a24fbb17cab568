"""Pieces of the SQL storage that need no database: ages, URLs, record kinds, digests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from famplan_core.errors import ConfigurationError
from famplan_core.model.facts import (
    Certificate,
    DisabilityCertificate,
    Enrolment,
    HukouChange,
    ParentChild,
    Union,
)
from famplan_core.model.people import Household, Person
from famplan_core.ports import SourceFile
from famplan_core.storage import RECORD_KINDS, ages_on, create_engine, migrations, source_digest
from famplan_core.storage.tables import REGISTER_TABLES, metadata


def test_ages_on_counts_completed_years_and_leap_day_births() -> None:
    """R0.2: completed years; a 29 February birth ages on 1 March in non-leap years."""
    births = np.array(
        ["2000-02-29", "2000-03-01", "1990-12-31", "2030-01-01"], dtype="datetime64[D]"
    )
    assert ages_on(births, dt.date(2021, 2, 28)).tolist() == [20, 20, 30, -1]
    assert ages_on(births, dt.date(2021, 3, 1)).tolist() == [21, 21, 30, -1]
    assert ages_on(births, dt.date(2024, 2, 29)).tolist() == [24, 23, 33, -1]
    assert ages_on(births, dt.date(2000, 2, 29)).tolist() == [0, -1, 9, -1]


def test_ages_on_agrees_with_a_loop() -> None:
    """The vectorised ages equal the textbook formula over many dates."""
    rng = np.random.default_rng(1)
    births = (np.datetime64("1920-01-01") + rng.integers(0, 40_000, 2_000)).astype("datetime64[D]")
    for d in (dt.date(2023, 2, 28), dt.date(2024, 2, 29), dt.date(2025, 3, 1)):
        expected = []
        for b in births.astype(dt.date):
            expected.append(
                -1 if b > d else d.year - b.year - ((d.month, d.day) < (b.month, b.day))
            )
        assert ages_on(births, d).tolist() == expected


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "mysql://x@y/z",
        "postgresql+psycopg2://x@y/z",
        "sqlite+pysqlcipher:///x.db",
    ],
)
def test_unsupported_urls_are_configuration_errors(url: str) -> None:
    """Only a SQLite file or PostgreSQL through psycopg 3 are accepted, saying why."""
    with pytest.raises(ConfigurationError, match="storage URL"):
        create_engine(url)


def test_record_kinds_match_the_model_and_the_tables() -> None:
    """The storage keeps exactly the spec's columns of every record class, in order."""
    classes = (
        Person,
        Household,
        ParentChild,
        Union,
        HukouChange,
        DisabilityCertificate,
        Certificate,
        Enrolment,
    )
    assert {c.KIND: c.COLUMNS for c in classes} == {k: r.columns for k, r in RECORD_KINDS.items()}
    for name, kind in RECORD_KINDS.items():
        table = REGISTER_TABLES[name]
        assert set(kind.key) <= set(kind.required) <= set(kind.columns)
        assert [c.name for c in table.columns][1 : 1 + len(kind.columns)] == list(kind.columns)
        assert {i.name for i in table.indexes} >= {f"uq_{name}_current", f"ix_{name}_key"}
    # Features (benefits, exchange) add their own tables to the same metadata; each checks
    # its own. The register and its journal are always there.
    assert {*RECORD_KINDS, "audit", "facts", "imports", "quarantine"} <= set(metadata.tables)


def test_source_digest_ignores_order_but_not_content() -> None:
    """Re-import detection: the same files in any order give the same digest."""
    a = SourceFile(name="persons.csv", sha256="a" * 64)
    b = SourceFile(name="unions.csv", sha256="b" * 64)
    assert source_digest([a, b]) == source_digest([b, a])
    assert source_digest([a]) != source_digest([a, b])
    assert source_digest([SourceFile(name="persons.csv", sha256="c" * 64)]) != source_digest([a])


def test_migrations_ship_inside_the_package() -> None:
    """The Alembic scripts are found without an alembic.ini, from the package."""
    location = Path(migrations.script_location())
    assert (location / "env.py").is_file()
    shipped = sorted(p.name for p in (location / "versions").glob("v[0-9]*_*.py"))
    assert shipped, "no migration scripts were found inside the package"
    assert migrations.head() == shipped[-1][1:5]  # v0002_benefit_runs.py is revision 0002
    assert migrations.config().get_main_option("script_location") == str(location)
