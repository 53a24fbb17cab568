"""Engines for the SQL storage: a SQLite file (the embedded default) or PostgreSQL.

Every SQLite connection is set up the same way when it opens:

* ``journal_mode=WAL``: readers never block the writer;
* ``synchronous=FULL``: every commit survives a power cut, not only a crash of the
  program (with WAL, NORMAL may lose the last commits on power loss; a benefit register
  would rather pay the ~1 ms per commit);
* ``foreign_keys=ON`` and ``busy_timeout`` (30 s), so a second writer waits rather than
  failing at once;
* ``cache_size`` of 64 MiB and ``temp_store=MEMORY``, for bulk imports and facts frames.

SQLite connections run in the driver's autocommit mode and SQLAlchemy emits ``BEGIN``
itself (the SQLAlchemy recipe for transactional DDL and savepoints on pysqlite), so a
failed migration rolls back whole and a writing unit of work can take the write lock at
once with ``BEGIN IMMEDIATE``.

A new SQLite file is created owner-only (``0600``) before SQLite opens it, so its ``-wal``
and ``-shm`` files, which SQLite gives the database file's permissions, are owner-only
too; an existing file that other users may read is reported with a
`~famplan_core.errors.LoosePermissionsWarning`.

PostgreSQL URLs use psycopg 3: ``postgresql+psycopg://user@host:port/database``. A
password in the URL is never shown: `display_url` masks it wherever a URL is printed, and
`hide_password` takes it out of a driver's message.
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from famplan_core.errors import ConfigurationError
from famplan_core.files import create_private_file, warn_if_loose

__all__ = [
    "BEGIN_MODE_OPTION",
    "BUSY_TIMEOUT_MS",
    "SQLITE_PRAGMAS",
    "create_engine",
    "display_url",
    "hide_password",
    "is_sqlite",
]

BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite connection waits for another writer before failing, in milliseconds."""

SQLITE_PRAGMAS: tuple[tuple[str, str], ...] = (
    ("journal_mode", "WAL"),
    ("synchronous", "FULL"),
    ("foreign_keys", "ON"),
    ("busy_timeout", str(BUSY_TIMEOUT_MS)),
    ("cache_size", "-65536"),
    ("temp_store", "MEMORY"),
)
"""The pragmas set on every new SQLite connection, in order."""

BEGIN_MODE_OPTION = "famplan_sqlite_begin"
"""Execution option naming the SQLite ``BEGIN`` mode of a connection (e.g. ``IMMEDIATE``)."""


def is_sqlite(engine: sa.engine.Engine | sa.engine.Connection) -> bool:
    """Whether an engine or connection talks to SQLite.

    Args:
        engine: the engine or connection.
    """
    return engine.dialect.name == "sqlite"


def display_url(url: str | sa.URL) -> str:
    """A storage URL fit to print: its password, if any, shown as ``***``.

    >>> display_url("postgresql+psycopg://famplan:s3cret@db.example/famplan")
    'postgresql+psycopg://famplan:***@db.example/famplan'

    Args:
        url: the URL.
    """
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError, TypeError):
        # Not a URL SQLAlchemy reads: hide whatever stands between "user:" and "@".
        text = url if isinstance(url, str) else repr(url)
        return re.sub(r"(//[^/@:]*:)[^@/]*@", r"\1***@", text)


def hide_password(text: str, url: str | sa.URL) -> str:
    """`text` with the password of `url` (as written, or URL-decoded) replaced by ``***``.

    A driver's error may quote the connection string; what famplan shows never does.

    Args:
        text: a message, e.g. a driver's error.
        url: the storage URL whose password must not be shown.
    """
    try:
        password = sa.make_url(url).password
    except (sa.exc.ArgumentError, ValueError, TypeError):
        password = None
    if not password:
        return text
    secret = str(password)
    for form in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}:
        text = text.replace(form, "***")
    return text


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # autocommit: SQLAlchemy emits BEGIN
    cursor = dbapi_connection.cursor()
    try:
        for name, value in SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {name}={value}")
    finally:
        cursor.close()


def _on_sqlite_begin(connection: sa.engine.Connection) -> None:
    mode = connection.get_execution_options().get(BEGIN_MODE_OPTION, "")
    connection.exec_driver_sql(f"BEGIN {mode}".strip())


def _prepare_sqlite_file(url: sa.URL) -> None:
    """Create the database file owner-only before SQLite does; warn when it is loose."""
    if url.query.get("uri") or not url.database or url.database.startswith("file:"):
        return  # a URI filename: SQLite parses it; leave it to SQLite
    path = Path(url.database)
    if not path.parent.is_dir():
        return  # SQLite reports the missing folder itself
    # A database kept elsewhere behind a symbolic link is the office's choice: SQLite
    # follows it; only a missing file is created here, and never through a link.
    if path.exists() or path.is_symlink() or not create_private_file(path):
        warn_if_loose(path, "database")


def create_engine(url: str | sa.URL, **kwargs: Any) -> sa.engine.Engine:
    """Create the engine for a storage URL, set up as this module describes.

    Args:
        url: ``sqlite:///path/to/famplan.db`` or ``postgresql+psycopg://user@host/db``.
        **kwargs: passed on to `sqlalchemy.create_engine`.

    Raises:
        ConfigurationError: the URL names another database, an in-memory SQLite database
            (it would vanish with its connection) or a driver other than psycopg 3.
    """
    try:
        parsed = sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise ConfigurationError(
            f"storage URL {display_url(url)!r} cannot be read ({hide_password(str(exc), url)});"
            " expected e.g. 'sqlite:///famplan.db' or 'postgresql+psycopg://user@host/db'"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ConfigurationError(
                f"storage URL {parsed.render_as_string()!r}: an in-memory SQLite database "
                "cannot hold a register; name a file, e.g. 'sqlite:///famplan.db'"
            )
        if parsed.get_driver_name() not in ("pysqlite", ""):
            raise ConfigurationError(
                f"storage URL {parsed.render_as_string()!r}: only the standard library's "
                "sqlite3 driver is supported, e.g. 'sqlite:///famplan.db'"
            )
        _prepare_sqlite_file(parsed)
        engine = sa.create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            raise ConfigurationError(
                f"storage URL {parsed.render_as_string()!r}: PostgreSQL is reached through "
                "psycopg 3, e.g. 'postgresql+psycopg://famplan@localhost/famplan'"
            )
        try:
            import psycopg  # noqa: F401  (SQLAlchemy imports it on its own; say how to get it)
        except ImportError:
            raise ConfigurationError(
                f"storage URL {parsed.render_as_string()!r}: PostgreSQL needs the psycopg "
                "driver, which is not installed; install it with "
                "pip install 'famplan-core[postgres]'"
            ) from None
        return sa.create_engine(parsed, **kwargs)
    raise ConfigurationError(
        f"storage URL {parsed.render_as_string()!r}: expected a SQLite file "
        "('sqlite:///famplan.db') or PostgreSQL ('postgresql+psycopg://user@host/db')"
    )
