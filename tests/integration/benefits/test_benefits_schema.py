"""The benefit tables' migration (revision 0002): created, checked, dropped, created again."""

from __future__ import annotations

import re

import sqlalchemy as sa

from famplan_core.storage import SqlStorage, migrations
from famplan_core.storage import benefit_tables as bt
from famplan_core.storage.engine import create_engine
from famplan_core.storage.tables import metadata


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _ours(url: str, names: set[str]) -> list[object]:
    """The differences between the migrated schema and the code that concern our tables
    (the schema test of the storage checks the whole schema)."""
    ours = re.compile(r"\b(" + "|".join(sorted(names)) + r")\b")
    return [d for d in migrations.check(url) if ours.search(repr(d))]


def test_the_benefit_tables_migrate_down_and_up(storage_url: str) -> None:
    """The migration creates exactly the tables of benefit_tables.py on the register's
    metadata, and its downgrade drops them and nothing else."""
    benefit = {table.name for table in bt.BENEFIT_TABLES}
    assert benefit <= set(metadata.tables)
    SqlStorage(storage_url, migrate=True).close()
    assert benefit <= _tables(storage_url)
    assert _ours(storage_url, benefit) == []

    migrations.downgrade(storage_url, "0001")
    left = _tables(storage_url)
    assert not left & benefit
    assert {"persons", "facts", "audit"} <= left

    migrations.upgrade(storage_url)
    assert _ours(storage_url, benefit) == []
