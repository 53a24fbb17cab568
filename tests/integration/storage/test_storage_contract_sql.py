"""The SQL storage passes the storage contract suite, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from famplan_core.storage import SqlStorage
from famplan_core.testing import StorageContract


class TestSqlStorageContract(StorageContract):
    """`SqlStorage` against the contract, once per database."""

    @pytest.fixture
    def storage(self, storage_url: str) -> Iterator[SqlStorage]:
        """A migrated, empty SQL storage."""
        store = SqlStorage(storage_url, migrate=True)
        yield store
        store.close()
