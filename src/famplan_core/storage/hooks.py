"""The core's storage plugin: registers the SQL storage (SQLite and PostgreSQL) as ``sql``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from famplan_core.hookspecs import hookimpl
from famplan_core.storage.sql import SqlStorage

__all__ = ["FAMPLAN_API", "famplan_register_storage_backends"]

FAMPLAN_API = ">=1.0,<2"


@hookimpl
def famplan_register_storage_backends() -> Sequence[type[Any]]:
    """Register the SQL storage."""
    return [SqlStorage]
