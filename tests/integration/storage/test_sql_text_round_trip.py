"""Any text a register cell can hold is stored and read back exactly, on both databases.

PostgreSQL receives rows as COPY text, formatted by the storage itself: a tab, line break,
carriage return or backslash inside a value must be escaped, and a correction's
before/after (JSON, full of backslashes) must come back as it was. Hypothesis writes
arbitrary text (any Unicode but NUL and lone surrogates, which no database text type
holds; short enough for the column) as a first load and then as a correction, and reads both back.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from famplan_core.storage import SqlStorage
from famplan_core.testing import PERSON_COLUMNS, person_row

_ids = itertools.count()
_clock = itertools.count()

cell_text = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=90
)  # a name and its correction together fit the name column (200 characters)


def _now() -> dt.datetime:
    return dt.datetime(2025, 1, 1) + dt.timedelta(minutes=next(_clock))


@pytest.fixture
def storage(storage_url: str) -> Iterator[SqlStorage]:
    """One migrated storage for all the examples of a test."""
    store = SqlStorage(storage_url, migrate=True)
    yield store
    store.close()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(names=st.lists(cell_text, min_size=1, max_size=4), correction=cell_text)
def test_any_text_round_trips(storage: SqlStorage, names: list[str], correction: str) -> None:
    """Stored cells equal the given ones; the correction's history holds both values."""
    ids = [f"t{next(_ids)}" for _ in names]
    first = [person_row(pid, name=name) for pid, name in zip(ids, names, strict=True)]
    with storage.unit_of_work(actor="clerk", recorded_at=_now()) as uow:
        uow.upsert_rows("persons", PERSON_COLUMNS, first)
    fixed = person_row(ids[0], name=names[0] + correction)
    with storage.unit_of_work(actor="clerk", recorded_at=_now()) as uow:
        assert uow.upsert_rows("persons", PERSON_COLUMNS, [fixed]).updated == 1
    with storage.reader() as reader:
        _columns, rows = reader.export_rows("persons")
        stored = {r[0]: r for r in rows}
        history = reader.person_history(ids[0])
    assert stored[ids[0]] == fixed
    for pid, row in zip(ids[1:], first[1:], strict=True):
        assert stored[pid] == row
    assert history[-1].changes == {"name": (names[0], names[0] + correction)}
