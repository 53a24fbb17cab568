"""All or nothing under injected faults (R3): fail at the k-th SQL statement, for every k.

SQLite's own "fail at step N, for every N" loop, on SQLAlchemy's ``before_cursor_execute``
event: whichever statement of a unit of work fails, no table changes and no audit entry is
written. (Rows sent with PostgreSQL's COPY pass no SQLAlchemy event; the statements around
them do.)
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from famplan_core.errors import Problem
from famplan_core.ports import QuarantinedRow, SourceFile
from famplan_core.storage import SqlStorage
from famplan_core.storage.tables import RECORD_KINDS, metadata
from famplan_core.testing import PERSON_COLUMNS, person_row


class Injected(Exception):
    """The fault the test injects."""


@pytest.fixture
def storage(storage_url: str) -> Iterator[SqlStorage]:
    """A storage holding a small register."""
    store = SqlStorage(storage_url, migrate=True)
    with store.unit_of_work(actor="clerk", recorded_at=dt.datetime(2025, 1, 1)) as uow:
        uow.upsert_rows("persons", PERSON_COLUMNS, [person_row(f"p{i}") for i in range(30)])
        uow.upsert_rows(
            "parent_child", RECORD_KINDS["parent_child"].columns, [("p0", "p1", "birth", "")]
        )
    yield store
    store.close()


def _digest(store: SqlStorage) -> str:
    h = hashlib.sha256()
    with store.engine.connect() as conn:
        for name in sorted(metadata.tables):
            for row in conn.exec_driver_sql(f'SELECT * FROM "{name}" ORDER BY 1'):
                h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def _operation(store: SqlStorage, minute: int) -> None:
    when = dt.datetime(2025, 2, 1) + dt.timedelta(minutes=minute)
    with store.unit_of_work(actor="clerk", recorded_at=when, operation="import") as uow:
        import_id = uow.record_import([SourceFile(name="persons.csv", sha256="f" * 64)], {})
        uow.upsert_rows(
            "persons",
            PERSON_COLUMNS,
            [
                person_row("p0", death_date="2025-01-05"),
                person_row("p1", sex="2"),
                person_row("p2"),
                person_row("new"),
            ],
        )
        uow.upsert_rows(
            "parent_child",
            RECORD_KINDS["parent_child"].columns,
            [("p0", "new", "adoptive", "2025-01-02")],
        )
        uow.record_quarantine(
            [
                QuarantinedRow(
                    file="persons.csv",
                    line=3,
                    kind="persons",
                    raw={"person_id": "x"},
                    problems=(Problem(path="persons.csv:3", value="", message="bad"),),
                )
            ],
            import_id=import_id,
        )
        uow.discard_quarantine([])


def test_a_fault_at_any_statement_changes_nothing(storage: SqlStorage) -> None:
    """R3: for k = 1, 2, ... a failure at statement k leaves every table as it was; the
    loop ends when the operation runs through without reaching statement k."""
    before = _digest(storage)
    k = 0
    while True:
        k += 1
        calls = 0

        def fail_at_k(*_args: Any, k: int = k) -> None:
            nonlocal calls
            calls += 1
            if calls == k:
                raise Injected(f"statement {k}")

        event.listen(storage.engine, "before_cursor_execute", fail_at_k)
        failure: BaseException | None = None
        try:
            _operation(storage, k)
        except (Injected, sa.exc.StatementError) as exc:
            failure = exc
        finally:
            event.remove(storage.engine, "before_cursor_execute", fail_at_k)
        if failure is None:
            break
        assert f"statement {k}" in str(failure)
        assert _digest(storage) == before, f"a fault at statement {k} left changes"
    assert k > 8, "the operation ran fewer statements than expected"
    assert _digest(storage) != before
    assert storage.verify_audit() == 2
