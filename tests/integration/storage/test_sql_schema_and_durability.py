"""Migrations (R9), durability settings (R12) and the append-only audit (R7)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from famplan_core.errors import StorageError
from famplan_core.storage import SqlStorage, create_engine, downgrade, migrations, upgrade
from famplan_core.storage.engine import BUSY_TIMEOUT_MS
from famplan_core.storage.tables import metadata
from famplan_core.testing import PERSON_COLUMNS, person_row


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_creates_exactly_the_tables(storage_url: str) -> None:
    """R9: head → base → head passes, and the schema equals `tables.py` (no pending diff)."""
    upgrade(storage_url)
    assert _tables(storage_url) == {*metadata.tables, "alembic_version"}
    assert migrations.check(storage_url) == []
    downgrade(storage_url, "base")
    assert _tables(storage_url) == {"alembic_version"}
    upgrade(storage_url)
    assert migrations.check(storage_url) == []
    store = SqlStorage(storage_url)
    with store.unit_of_work(actor="clerk", recorded_at=dt.datetime(2025, 1, 1)) as uow:
        uow.upsert_rows("persons", PERSON_COLUMNS, [person_row("a")])
    store.close()


def test_storage_refuses_a_database_not_at_head(storage_url: str) -> None:
    """Opening an unmigrated database says to run the upgrade."""
    with pytest.raises(StorageError, match="famplan db upgrade"):
        SqlStorage(storage_url)


def test_sqlite_pragmas_on_every_new_connection(sqlite_url: str) -> None:
    """R12: WAL, synchronous FULL, foreign keys and a busy timeout on every connection."""
    upgrade(sqlite_url)
    engine = create_engine(sqlite_url, poolclass=sa.pool.NullPool)
    try:
        for _ in range(3):
            with engine.connect() as conn:
                read = {
                    name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                    for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
                }
                assert read == {
                    "journal_mode": "wal",
                    "synchronous": 2,
                    "foreign_keys": 1,
                    "busy_timeout": BUSY_TIMEOUT_MS,
                }
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_durability_settings(pg_url: str) -> None:
    """R12: the server flushes its WAL on commit."""
    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW fsync").scalar() == "on"
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
            assert conn.exec_driver_sql("SHOW full_page_writes").scalar() == "on"
    finally:
        engine.dispose()


@pytest.mark.parametrize("statement", ["UPDATE audit SET actor = 'x'", "DELETE FROM audit"])
def test_the_audit_refuses_update_and_delete(storage_url: str, statement: str) -> None:
    """R7: a trigger refuses changes to the audit, and the hash chain still checks."""
    store = SqlStorage(storage_url, migrate=True)
    with store.unit_of_work(actor="clerk", recorded_at=dt.datetime(2025, 1, 1)) as uow:
        uow.upsert_rows("persons", PERSON_COLUMNS, [person_row("a")])
    with store.engine.connect() as conn, pytest.raises(sa.exc.DatabaseError, match="append-only"):
        conn.exec_driver_sql(statement)
    assert store.verify_audit() == 1
    store.close()


def test_a_changed_audit_entry_breaks_the_chain(sqlite_url: str) -> None:
    """R7: tampering with a byte (here by dropping the trigger first) is detected."""
    store = SqlStorage(sqlite_url, migrate=True)
    for day in (1, 2):
        with store.unit_of_work(actor="clerk", recorded_at=dt.datetime(2025, 1, day)):
            pass
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER audit_no_update")
        conn.exec_driver_sql("UPDATE audit SET actor = 'mallory' WHERE id = 1")
    with pytest.raises(StorageError, match="hash chain"):
        store.verify_audit()
    store.close()
