"""Schema migrations of the SQL storage (Alembic), usable without an ``alembic.ini`` file.

The migration scripts ship inside the package; `config` builds the Alembic configuration in
code, with ``script_location`` found through `importlib.resources`. Each upgrade or
downgrade runs in one transaction, on SQLite too (the engine's transactional-DDL recipe), so
a failed migration leaves the schema as it was. SQLite migrations render in batch mode.

Examples:
    >>> from famplan_core.storage import migrations
    >>> migrations.upgrade("sqlite:///famplan.db")  # doctest: +SKIP
    >>> migrations.downgrade("sqlite:///famplan.db", "base")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib.resources
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from famplan_core.storage.engine import create_engine
from famplan_core.storage.tables import metadata

__all__ = [
    "check",
    "config",
    "current_revision",
    "downgrade",
    "head",
    "script_location",
    "upgrade",
    "upgrade_engine",
]


def script_location() -> str:
    """The folder holding ``env.py`` and the revision scripts."""
    return str(importlib.resources.files("famplan_core.storage") / "migrations")


def config(connection: sa.Connection | None = None, url: str | None = None) -> Config:
    """The Alembic configuration, built in code.

    Args:
        connection: run the migrations on this connection (inside its transaction).
        url: otherwise, the database URL.
    """
    cfg = Config()
    cfg.set_main_option("script_location", script_location())
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest revision of the schema."""
    revision = ScriptDirectory.from_config(config()).get_current_head()
    assert revision is not None
    return revision


def current_revision(engine: sa.engine.Engine) -> str | None:
    """The schema revision a database is at, or None for an empty database.

    Args:
        engine: the database.
    """
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _run(url: str | sa.engine.Engine, action: Any, revision: str) -> None:
    engine = create_engine(url) if not isinstance(url, sa.engine.Engine) else url
    try:
        with engine.begin() as connection:
            action(config(connection), revision)
    finally:
        if engine is not url:
            engine.dispose()


def upgrade_engine(engine: sa.engine.Engine, revision: str = "head") -> None:
    """Upgrade the schema of an engine's database, in one transaction.

    Args:
        engine: an engine from `famplan_core.storage.engine.create_engine`.
        revision: the target revision.
    """
    _run(engine, command.upgrade, revision)


def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade a database's schema, in one transaction (``famplan db upgrade``).

    Args:
        url: the storage URL.
        revision: the target revision.
    """
    _run(url, command.upgrade, revision)


def downgrade(url: str, revision: str) -> None:
    """Downgrade a database's schema, in one transaction (``base`` removes every table).

    Args:
        url: the storage URL.
        revision: the target revision, e.g. ``base``.
    """
    _run(url, command.downgrade, revision)


def check(url: str) -> list[Any]:
    """What differs between the database's schema and the tables of the code (as ``alembic
    check`` does); empty when the migrations create exactly the tables of `tables`.

    Args:
        url: the storage URL.
    """
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()
