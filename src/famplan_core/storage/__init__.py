"""The SQL storage (SQL 存储): the register as versioned tables in SQLite or PostgreSQL.

`SqlStorage` implements the `famplan_core.ports.Storage` port; `build_facts_frame` builds
the facts frame set-based; `FirstLoad` stores a whole register into an empty one on
PostgreSQL while it is being checked; `migrations` upgrades and downgrades the schema (Alembic).
"""

from famplan_core.storage.engine import create_engine
from famplan_core.storage.frame import ages_on, build_facts_frame
from famplan_core.storage.migrations import downgrade, upgrade
from famplan_core.storage.sql import (
    FirstLoad,
    SqlReader,
    SqlStorage,
    SqlUnitOfWork,
    source_digest,
)
from famplan_core.storage.tables import RECORD_KINDS, RecordKind

__all__ = [
    "RECORD_KINDS",
    "FirstLoad",
    "RecordKind",
    "SqlReader",
    "SqlStorage",
    "SqlUnitOfWork",
    "ages_on",
    "build_facts_frame",
    "create_engine",
    "downgrade",
    "source_digest",
    "upgrade",
]
