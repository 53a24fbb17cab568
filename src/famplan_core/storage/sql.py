"""The SQL storage (SQL 存储): SQLite or PostgreSQL behind the `Storage` port.

A `SqlUnitOfWork` is one transaction. It takes the database's write lock when it starts
(``BEGIN IMMEDIATE`` on SQLite, a transaction-level advisory lock on PostgreSQL), so units
of work that write are serialised and the storage can hand out row ids itself: bulk writes
then need no RETURNING, and the ids are dense and ordered like the journal. Its audit entry
is written in the same transaction, just before COMMIT.

Bulk writes go to the DBAPI in chunks of `CHUNK_ROWS` rows: ``executemany`` through
``exec_driver_sql`` on SQLite, ``COPY ... FROM STDIN`` on PostgreSQL. A first load into an
empty table drops the table's secondary indexes and builds them again after the load, which
is several times faster than maintaining them row by row.

Record times are stored in UTC without a zone: an aware `datetime` is converted, a naive one
is taken to be UTC already.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import itertools
import json
import operator
import queue
import sys
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self, cast

import sqlalchemy as sa
import sqlalchemy.exc

from famplan_core.errors import (
    AuditChainError,
    ConcurrencyError,
    ConfigurationError,
    Problem,
    RecordNotFoundError,
    StorageError,
)
from famplan_core.model.dates import completed_years
from famplan_core.model.frame import FactsFrame
from famplan_core.ports import (
    AuditEntry,
    CertificateView,
    ChildView,
    DisabilityView,
    HistoryEntry,
    ImportRecord,
    PersonAsOf,
    QuarantinedRow,
    QuarantineEntry,
    SourceFile,
    UnionView,
    UpsertSummary,
)
from famplan_core.storage.audit import (
    ACCEPT_BREAK,
    ANCHORED_TABLES,
    CHAIN_KEYED,
    CHAIN_PLAIN,
    GENESIS,
    Anchor,
    AuditKey,
    AuditReport,
    ChainProblem,
    StoredEntry,
    check_anchor,
    check_link,
    check_seal,
    create_key_file,
    entry_hash,
    read_key_file,
    verify_chain,
)
from famplan_core.storage.engine import BEGIN_MODE_OPTION, create_engine, is_sqlite
from famplan_core.storage.tables import RECORD_KINDS, REGISTER_TABLES, RecordKind

__all__ = [
    "CHUNK_ROWS",
    "FIRST_LOAD_ROWS",
    "FirstLoad",
    "SqlReader",
    "SqlStorage",
    "SqlUnitOfWork",
    "source_digest",
]

CHUNK_ROWS = 10_000
"""Rows written per DBAPI call in bulk upserts."""

FIRST_LOAD_ROWS = CHUNK_ROWS
"""An upsert into an empty table of at least this many rows rebuilds its indexes after."""

_PG_WRITE_LOCK = 0x46414D50  # "FAMP": the advisory lock held by a writing unit of work
_ENTRY_COLUMNS = "id, actor, recorded_at, operation, summary, prev_hash, hash, chain"
_UOW_TABLES = (
    "facts",
    "imports",
    "quarantine",
    "benefit_runs",
    "hardship_grants",
    "payment_rolls",
    "notices",
    "notice_publications",
    "exchange_batches",
    "exchange_messages",
    "exchange_outbox",
)
"""Tables whose rows name the unit of work (audit entry) that wrote them (``uow_id``)."""


def source_digest(sources: Iterable[SourceFile]) -> str:
    """The SHA-256 identifying a set of imported files, whatever their order.

    Args:
        sources: the files with their SHA-256 sums.
    """
    lines = sorted(f"{s.name}\t{s.sha256}" for s in sources)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _utc(t: dt.datetime) -> dt.datetime:
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return t


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _date(value: object) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _timestamp(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


_Fact = tuple[str, str, str, str]
"""A fact row before storage: kind, subject_id, valid_date, payload ("" is NULL).

Its fact_id is given by its position: the first fact of an upsert's chunk has the chunk's
first id, and so on.
"""

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_BLOCK = 4096  # rows per write to the COPY stream


def _copy_escaped(cell: str) -> str:
    return cell.translate(_COPY_ESCAPES)


def _copy_constant(text: str) -> str:
    """Trusted text (ids, a record time) written into a `_copy_blocks` template."""
    if any(c in text for c in "{}\\\n\r"):
        raise ValueError(f"{text!r} cannot be written into a COPY template")
    return text


def _copy_blocks(
    template: str, columns: Sequence[Sequence[object]], free: Collection[int]
) -> Iterator[str]:
    """Columns as blocks of PostgreSQL COPY text format (NULL '': an empty cell is NULL).

    Line ``i`` is ``template.format(columns[0][i], columns[1][i], ...)``: the template
    has a ``{}`` per column, tabs between them and a line break at the end (with trusted
    constants, such as the record time, written into it). The columns numbered in `free`
    may hold any text; the others hold numbers. A block is made by the interpreter's own
    loops (``map`` over the columns) and checked as a whole: only when it shows a
    backslash, a carriage return, or more tabs or line breaks than the template accounts
    for is it made again with the free cells escaped. Per-row formatting in Python (or the
    driver's ``write_row``) was most of a million-person import's time.
    """
    fmt, tabs = template.format, template.count("\t")
    for start in range(0, len(columns[0]), _COPY_BLOCK):
        part = [c[start : start + _COPY_BLOCK] for c in columns]
        k = len(part[0])
        text = "".join(map(fmt, *part))
        if "\\" in text or "\r" in text or text.count("\n") != k or text.count("\t") != k * tabs:
            escaped = [
                map(_copy_escaped, cast(Sequence[str], c)) if i in free else c
                for i, c in enumerate(part)
            ]
            text = "".join(map(fmt, *escaped))
        yield text


def _q(name: str) -> str:
    return f'"{name}"'


@contextlib.contextmanager
def _database_errors(what: str) -> Iterator[None]:
    """Translate DBAPI failures into the storage branch of the error tree."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        message = str(exc.orig) if exc.orig is not None else str(exc)
        lowered = message.lower()
        if (
            "database is locked" in lowered
            or "could not serialize" in lowered
            or "deadlock detected" in lowered
            or "lock timeout" in lowered
        ):
            raise ConcurrencyError(
                f"{what}: another writer holds the register ({message})"
            ) from exc
        raise StorageError(f"{what}: {message}") from exc


class _Sql:
    """What differs between SQLite and PostgreSQL in the hand-written statements."""

    def __init__(self, connection: sa.Connection) -> None:
        self.sqlite = is_sqlite(connection)
        self.p = "?" if self.sqlite else "%s"

    def timestamp(self, t: dt.datetime) -> object:
        """A record time as a bind value (SQLAlchemy's text form on SQLite)."""
        return t.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else t

    def date_param(self) -> str:
        """A placeholder for a date given as ISO text."""
        return self.p if self.sqlite else f"CAST({self.p} AS DATE)"

    def days(self, expr: str) -> str:
        """An SQL expression for a date as days since 1970-01-01 (NULL stays NULL)."""
        if self.sqlite:
            return f"CAST(julianday({expr}) - 2440587.5 AS INTEGER)"
        return f"({expr} - DATE '1970-01-01')"


def _visible(alias: str, sql: _Sql, known_at: dt.datetime | None) -> tuple[str, list[object]]:
    """The predicate choosing the versions of a register table known at a record time."""
    if known_at is None:
        return f"{alias}.superseded_at IS NULL", []
    t = sql.timestamp(_utc(known_at))
    return (
        f"{alias}.recorded_at <= {sql.p} AND "
        f"({alias}.superseded_at IS NULL OR {alias}.superseded_at > {sql.p})",
        [t, t],
    )


class SqlReader:
    """Reads of the register inside one transaction of a `SqlStorage` (a snapshot).

    Args:
        storage: the storage.
        connection: the open connection, inside its transaction.
    """

    def __init__(self, storage: SqlStorage, connection: sa.Connection) -> None:
        self._storage = storage
        self._conn = connection
        self._sql = _Sql(connection)

    @property
    def connection(self) -> sa.Connection:
        """The SQLAlchemy connection of this snapshot (for set-based reads)."""
        return self._conn

    def _all(self, statement: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        with _database_errors("reading the register"):
            return [tuple(r) for r in self._conn.exec_driver_sql(statement, tuple(params))]

    # -- single-record reads ------------------------------------------------------------

    def person_history(self, person_id: str) -> list[HistoryEntry]:
        """Every version of every record about a person, oldest first.

        Args:
            person_id: the person.

        Raises:
            RecordNotFoundError: no such person is stored.
        """
        p = self._sql.p
        where_by_kind = {
            "persons": ("person_id",),
            "parent_child": ("parent_id", "child_id"),
            "unions": ("person_a", "person_b"),
            "hukou_changes": ("person_id",),
            "disabilities": ("person_id",),
            "certificates": ("holder_id", "child_id"),
            "enrolments": ("person_id",),
        }
        entries: list[HistoryEntry] = []
        found = False
        for kind_name, columns in where_by_kind.items():
            kind = RECORD_KINDS[kind_name]
            where = " OR ".join(f"t.{_q(c)} = {p}" for c in columns)
            cols = ", ".join(f"t.{_q(c)}" for c in kind.columns)
            rows = self._all(
                f"SELECT t.version_id, f.fact_id, f.kind, f.valid_date, a.recorded_at, a.actor, "
                f"{cols} FROM {_q(kind_name)} t JOIN facts f ON f.fact_id = t.fact_id "
                f"JOIN audit a ON a.id = f.uow_id WHERE {where} ORDER BY t.version_id",
                [person_id] * len(columns),
            )
            if kind_name == "persons" and rows:
                found = True
            previous: dict[tuple[str, ...], tuple[str, ...]] = {}
            key_idx = [kind.columns.index(c) for c in kind.key]
            for row in rows:
                values = tuple(_text(v) for v in row[6:])
                key = tuple(values[i] for i in key_idx)
                before = previous.get(key, ("",) * len(values))
                changes = {
                    c: (b, a)
                    for c, b, a in zip(kind.columns, before, values, strict=True)
                    if b != a
                }
                previous[key] = values
                entries.append(
                    HistoryEntry(
                        fact_id=int(row[1]),
                        fact_kind=str(row[2]),
                        record_kind=kind_name,
                        key=key,
                        valid_date=_date(row[3]),
                        recorded_at=_timestamp(row[4]),
                        actor=str(row[5]),
                        changes=changes,
                    )
                )
        if not found:
            raise RecordNotFoundError(f"person {person_id!r}: no such person is stored")
        entries.sort(key=lambda e: e.fact_id)
        return entries

    def _visible_rows(
        self, kind_name: str, where: str, params: Sequence[object], known_at: dt.datetime | None
    ) -> list[dict[str, str]]:
        kind = RECORD_KINDS[kind_name]
        vis, vis_params = _visible("t", self._sql, known_at)
        cols = ", ".join(f"t.{_q(c)}" for c in kind.columns)
        rows = self._all(
            f"SELECT {cols} FROM {_q(kind_name)} t WHERE ({where}) AND {vis} ORDER BY t.version_id",
            [*params, *vis_params],
        )
        return [dict(zip(kind.columns, map(_text, r), strict=True)) for r in rows]

    def person_as_of(
        self, person_id: str, d: dt.date, known_at: dt.datetime | None = None
    ) -> PersonAsOf:
        """The person as the register stood for date `d`, as known at `known_at`.

        Args:
            person_id: the person.
            d: the date of the view.
            known_at: use only what was recorded by then; None for the current versions.

        Raises:
            RecordNotFoundError: the person was not stored (by `known_at`).
        """
        p = self._sql.p
        found = self._visible_rows("persons", f"t.person_id = {p}", [person_id], known_at)
        if not found:
            raise RecordNotFoundError(
                f"person {person_id!r}: no such person is stored"
                + (f" as known at {known_at.isoformat()}" if known_at else "")
            )
        person = found[0]
        iso = d.isoformat()
        birth = dt.date.fromisoformat(person["birth_date"])
        death = _date(person["death_date"])
        changes = self._visible_rows("hukou_changes", f"t.person_id = {p}", [person_id], known_at)
        if not changes:
            division, htype = person["hukou_division"], person["hukou_type"]
        else:
            before = [c for c in changes if c["date"] <= iso]
            latest = max(before, key=lambda c: c["date"]) if before else None
            division = latest["hukou_division"] if latest else ""
            htype = latest["hukou_type"] if latest else ""
        unions = []
        for u in self._visible_rows(
            "unions", f"t.person_a = {p} OR t.person_b = {p}", [person_id] * 2, known_at
        ):
            if u["start"] > iso:
                continue
            end = _date(u["end"])
            unions.append(
                UnionView(
                    partner_id=u["person_b"] if u["person_a"] == person_id else u["person_a"],
                    start=dt.date.fromisoformat(u["start"]),
                    end=end,
                    end_reason=u["end_reason"],
                    in_force=end is None or end > d,
                )
            )
        children = []
        for link in self._visible_rows("parent_child", f"t.parent_id = {p}", [person_id], known_at):
            child = self._visible_rows(
                "persons", f"t.person_id = {p}", [link["child_id"]], known_at
            )
            if not child:
                continue
            c = child[0]
            since = (
                c["birth_date"] if link["kind"] == "birth" else (link["since"] or c["birth_date"])
            )
            if since > iso:
                continue
            children.append(
                ChildView(
                    child_id=link["child_id"],
                    link=link["kind"],
                    since=_date(since),
                    sex=c["sex"],
                    alive=_alive(c["birth_date"], c["death_date"], iso),
                    counts=link["kind"] in ("birth", "adoptive"),
                )
            )
        disabilities = [
            DisabilityView(
                grade=int(r["grade"]),
                category=r["category"],
                valid_from=dt.date.fromisoformat(r["valid_from"]),
                valid_to=_date(r["valid_to"]),
            )
            for r in self._visible_rows("disabilities", f"t.person_id = {p}", [person_id], known_at)
            if r["valid_from"] <= iso and (r["valid_to"] == "" or iso <= r["valid_to"])
        ]
        certificates = [
            CertificateView(
                certificate_id=r["certificate_id"],
                kind=r["kind"],
                child_id=r["child_id"],
                issued_on=dt.date.fromisoformat(r["issued_on"]),
                revoked_on=_date(r["revoked_on"]),
            )
            for r in self._visible_rows("certificates", f"t.holder_id = {p}", [person_id], known_at)
            if r["issued_on"] <= iso and (r["revoked_on"] == "" or r["revoked_on"] > iso)
        ]
        return PersonAsOf(
            person_id=person_id,
            date=d,
            known_at=known_at,
            name=person["name"],
            sex=person["sex"],
            birth_date=birth,
            death_date=death,
            alive=_alive(person["birth_date"], person["death_date"], iso),
            age=completed_years(birth, d),
            hukou_known=division != "",
            hukou_division=division,
            hukou_type=htype,
            unions=tuple(unions),
            children=tuple(children),
            disabilities=tuple(disabilities),
            certificates=tuple(certificates),
        )

    # -- bulk reads -------------------------------------------------------------------

    def export_rows(self, kind: str) -> tuple[tuple[str, ...], Iterator[tuple[str, ...]]]:
        """The current rows of a record kind as text, in the spec's column order.

        Consume the iterator before the snapshot ends.

        Args:
            kind: the record kind, e.g. ``persons``.

        Returns:
            The column names and an iterator of rows (``""`` for an empty cell).

        Raises:
            StorageError: an unknown record kind.
        """
        record = _record_kind(kind)
        cols = ", ".join(_q(c) for c in record.columns)
        order = ", ".join(_q(c) for c in record.key)
        with _database_errors(f"exporting {kind}"):
            result = self._conn.execution_options(
                stream_results=True, max_row_buffer=CHUNK_ROWS
            ).exec_driver_sql(
                f"SELECT {cols} FROM {_q(kind)} WHERE superseded_at IS NULL ORDER BY {order}"
            )

        def rows() -> Iterator[tuple[str, ...]]:
            with _database_errors(f"exporting {kind}"):
                for row in result:
                    yield tuple(map(_text, row))

        return record.columns, rows()

    def all_person_ids(self) -> set[str]:
        """The ids of every currently stored person."""
        return {
            r[0] for r in self._all("SELECT person_id FROM persons WHERE superseded_at IS NULL")
        }

    def known_person_ids(self, ids: Iterable[str]) -> set[str]:
        """Those of `ids` that name a currently stored person.

        Args:
            ids: person ids to look up.
        """
        return self._known("persons", "person_id", ids)

    def known_household_ids(self, ids: Iterable[str]) -> set[str]:
        """Those of `ids` that name a currently stored household.

        Args:
            ids: household ids to look up.
        """
        return self._known("households", "household_id", ids)

    def _known(self, table: str, column: str, ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        it = iter(set(ids))
        while chunk := list(itertools.islice(it, 5000)):
            marks = ", ".join([self._sql.p] * len(chunk))
            found.update(
                r[0]
                for r in self._all(
                    f"SELECT {column} FROM {table} WHERE superseded_at IS NULL "
                    f"AND {column} IN ({marks})",
                    chunk,
                )
            )
        return found

    def list_quarantine(self, *, status: str | None = "open") -> list[QuarantineEntry]:
        """Quarantined rows, oldest first.

        Args:
            status: only entries with this status; None for all.
        """
        where, params = ("", []) if status is None else (f"WHERE status = {self._sql.p}", [status])
        rows = self._all(
            "SELECT id, import_id, file, line, kind, raw, problems, status, recorded_at, "
            f"closed_at, closed_by FROM quarantine {where} ORDER BY id",
            params,
        )
        return [
            QuarantineEntry(
                id=int(r[0]),
                import_id=None if r[1] is None else int(r[1]),
                row=QuarantinedRow(
                    file=r[2],
                    line=r[3],
                    kind=r[4],
                    raw=json.loads(r[5]),
                    problems=tuple(Problem(**p) for p in json.loads(r[6])),
                ),
                status=r[7],
                recorded_at=_timestamp(r[8]),
                closed_at=None if r[9] is None else _timestamp(r[9]),
                closed_by=r[10] or "",
            )
            for r in rows
        ]

    def find_imports(self, source_digest: str) -> list[ImportRecord]:
        """Earlier imports of exactly the same files, oldest first.

        Args:
            source_digest: see `source_digest`.
        """
        rows = self._all(
            "SELECT id, recorded_at, actor, source_digest, sources, summary FROM imports "
            f"WHERE source_digest = {self._sql.p} ORDER BY id",
            [source_digest],
        )
        return [
            ImportRecord(
                id=int(r[0]),
                recorded_at=_timestamp(r[1]),
                actor=r[2],
                source_digest=r[3],
                sources=tuple(SourceFile(name=n, sha256=s) for n, s in json.loads(r[4])),
                summary=json.loads(r[5]),
            )
            for r in rows
        ]

    def list_audit(self) -> list[AuditEntry]:
        """The whole audit, oldest first."""
        return [
            AuditEntry(
                id=int(r[0]),
                actor=r[1],
                recorded_at=_timestamp(r[2]),
                operation=r[3],
                summary=json.loads(r[4]),
                hash=r[5],
            )
            for r in self._all(
                "SELECT id, actor, recorded_at, operation, summary, hash FROM audit ORDER BY id"
            )
        ]


def _stored_entry(row: Sequence[Any]) -> StoredEntry:
    return StoredEntry(
        id=int(row[0]),
        actor=str(row[1]),
        recorded_at=_timestamp(row[2]),
        operation=str(row[3]),
        summary=str(row[4]),
        prev_hash=str(row[5]),
        hash=str(row[6]),
        chain=int(row[7]),
    )


def _key_missing(entry: StoredEntry) -> ConfigurationError:
    return ConfigurationError(
        f"the audit is keyed (entry {entry.id} is sealed with the audit key), but the storage "
        "was opened without the key: open it through the deployment (famplan.toml names the "
        "key file) or pass audit_key= to SqlStorage"
    )


def _alive(birth: str, death: str, iso: str) -> bool:
    return birth <= iso and (death == "" or death > iso)


def _record_kind(kind: str) -> RecordKind:
    try:
        return RECORD_KINDS[kind]
    except KeyError:
        raise StorageError(
            f"unknown record kind {kind!r}; expected one of {', '.join(RECORD_KINDS)}"
        ) from None


_FACT_NAMES: dict[str, tuple[str, str | None]] = {
    "persons": ("person_registered", "birth_date"),
    "households": ("household_registered", None),
    "unions": ("union_started", "start"),
    "hukou_changes": ("hukou_changed", "date"),
    "disabilities": ("disability_certified", "valid_from"),
    "certificates": ("certificate_issued", "issued_on"),
    "enrolments": ("enrolment_recorded", "since"),
}
"""The fact a new record is, and the column holding the date it is valid from."""

_LINK_FACTS = {"birth": "child_linked", "adoptive": "adoption_recorded"}
"""The fact a new parent-child link is, by its kind (any other: `_OTHER_LINK_FACT`)."""
_OTHER_LINK_FACT = "step_child_linked"


def _new_fact_columns(
    record: RecordKind, column: Callable[[int], Sequence[str]], n: int
) -> list[Sequence[str]]:
    """The facts of `n` new records (e.g. ``person_registered`` on the birth date).

    Args:
        record: their kind.
        column: gives the records' cells of a column, by its position.
        n: how many records.

    Returns:
        The facts' kind, subject_id, valid_date and payload, column by column.
    """
    at = record.columns.index
    empty = [""] * n
    if record.name == "parent_child":
        links = column(at("kind"))
        kinds: Sequence[str] = list(map(_LINK_FACTS.get, links, itertools.repeat(_OTHER_LINK_FACT)))
        valid: str | None = "since"
    else:
        name, valid = _FACT_NAMES[record.name]
        kinds = [name] * n
    return [kinds, column(at(record.subject)), column(at(valid)) if valid else empty, empty]


def _new_facts_sql(record: RecordKind, uow_id: int, from_fact: int) -> str:
    """SQL writing the facts of a kind's version rows from a fact id on, as
    `_new_fact_columns` would."""
    valid: str | None
    if record.name == "parent_child":
        cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in _LINK_FACTS.items())
        kind, valid = f"CASE {_q('kind')} {cases} ELSE '{_OTHER_LINK_FACT}' END", "since"
    else:
        name, valid = _FACT_NAMES[record.name]
        kind = f"'{name}'"
    return (
        "INSERT INTO facts (fact_id, uow_id, record_kind, kind, subject_id, valid_date, payload) "
        f"SELECT fact_id, {uow_id}, '{record.name}', {kind}, {_q(record.subject)}, "
        f"{_q(valid) if valid else 'NULL'}, NULL FROM {_q(record.name)} "
        f"WHERE fact_id >= {from_fact}"
    )


def _column_of(rows: Sequence[Sequence[str]]) -> Callable[[int], list[str]]:
    """Gives the cells of a column of `rows`, by its position."""
    return lambda i: list(map(operator.itemgetter(i), rows))


_ENDINGS: dict[str, tuple[str, str]] = {
    "persons": ("death_date", "death_recorded"),
    "unions": ("end", "union_ended"),
    "certificates": ("revoked_on", "certificate_revoked"),
}


class SqlUnitOfWork(SqlReader):
    """One transaction of writes to a `SqlStorage`, with its audit entry.

    Open it with `SqlStorage.unit_of_work`; it commits when the ``with`` block ends
    normally and rolls back when it raises.

    Attributes:
        actor: who acts.
        recorded_at: the record time of everything written (UTC).
        id: the unit of work's id, which is also its audit entry's id.
    """

    def __init__(
        self,
        storage: SqlStorage,
        *,
        actor: str,
        recorded_at: dt.datetime,
        operation: str,
        over_break: bool = False,
    ) -> None:
        if not actor:
            raise StorageError("a unit of work needs an actor (who acts); got ''")
        self.actor = actor
        self.recorded_at = _utc(recorded_at)
        self.id = 0
        self._over_break = over_break
        self._head: StoredEntry | None = None
        self._storage = storage
        self._operation = operation
        self._details: dict[str, Any] = {}
        self._counts: dict[str, dict[str, int]] = {}
        self._facts = 0
        self._next_ids: dict[str, int] = {}
        self._context: contextlib.ExitStack | None = None

    # -- transaction ------------------------------------------------------------------

    def __enter__(self) -> Self:
        stack = contextlib.ExitStack()
        with _database_errors("starting a unit of work"):
            conn = stack.enter_context(
                self._storage.engine.connect().execution_options(**{BEGIN_MODE_OPTION: "IMMEDIATE"})
            )
            stack.enter_context(conn.begin())
            self._context = stack
            try:
                SqlReader.__init__(self, self._storage, conn)
                if not self._sql.sqlite:
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_WRITE_LOCK})")
                newest = [
                    _stored_entry(r)
                    for r in conn.exec_driver_sql(
                        f"SELECT {_ENTRY_COLUMNS} FROM audit ORDER BY id DESC LIMIT 2"
                    )
                ]
                if not self._over_break:
                    self._check_head(newest)
            except BaseException:
                stack.__exit__(None, None, None)
                raise
        last = newest[0] if newest else None
        if last is not None and last.recorded_at > self.recorded_at:
            stack.close()
            raise StorageError(
                f"record time {self.recorded_at.isoformat()} is before that of the latest "
                f"unit of work ({last.recorded_at.isoformat()}, audit entry {last.id}): "
                "the journal's record times never go back"
            )
        self._head = last
        self.id = (last.id if last is not None else 0) + 1
        return self

    def _check_head(self, newest: Sequence[StoredEntry]) -> None:
        """Refuse to chain onto a broken audit: O(1), the newest two entries and anchors.

        Checks that the newest entry follows the one before it with no gap, that both still
        match their hash (MAC), and that the newest payment roll and notice still find the
        audit entry that made them. A full check is `SqlStorage.verify_audit`.
        """
        key = self._storage.audit_key
        head = newest[0] if newest else None
        problem: ChainProblem | None = None
        if head is not None:
            if head.chain == CHAIN_KEYED and key is None:
                raise _key_missing(head)
            before = newest[1] if len(newest) > 1 else None
            if before is None and head.id != 1:
                problem = ChainProblem(
                    entry=1,
                    message=f"entries 1 to {head.id - 1} are missing: the audit starts at "
                    f"entry {head.id}",
                )
            else:
                # the entry before an accepting one may be the accepted break itself
                if before is not None and head.operation != ACCEPT_BREAK:
                    problem = check_seal(before, key)
                problem = problem or check_link(head, before, key)
        if problem is None:
            problem = self._check_newest_anchors(newest)
        if problem is not None:
            raise AuditChainError(problem)

    def _check_newest_anchors(self, newest: Sequence[StoredEntry]) -> ChainProblem | None:
        by_id = {e.id: e for e in newest}
        head = newest[0].id if newest else 0
        for table, key_column in ANCHORED_TABLES.items():
            row = self._conn.exec_driver_sql(
                f"SELECT {key_column}, uow_id, audit_hash FROM {table} "
                f"WHERE audit_hash IS NOT NULL ORDER BY {key_column} DESC LIMIT 1"
            ).first()
            if row is None:
                continue
            anchor = Anchor(table=table, row_id=int(row[0]), entry=int(row[1]), hash=str(row[2]))
            if anchor.entry < head - 1:
                continue  # its entry is not among the newest two: a full check sees it
            problem = check_anchor(anchor, by_id.get(anchor.entry), head)
            if problem is not None and anchor.ref not in self._accepted_anchors():
                return problem
        return None

    def _accepted_anchors(self) -> set[str]:
        """The anchors entries accepting a break list (read only when one is broken)."""
        p = self._sql.p
        refs: set[str] = set()
        for (summary,) in self._conn.exec_driver_sql(
            f"SELECT summary FROM audit WHERE operation = {p}", (ACCEPT_BREAK,)
        ):
            with contextlib.suppress(ValueError, AttributeError, TypeError):
                refs.update(str(r) for r in json.loads(summary).get("anchors", ()))
        return refs

    @property
    def audit_head(self) -> tuple[int, str] | None:
        """The audit entry this unit of work chains from (id and hash), None when it is the
        first."""
        return None if self._head is None else (self._head.id, self._head.hash)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._context = self._context, None
        if stack is None:
            return
        if exc_type is not None:
            stack.__exit__(exc_type, exc, tb)  # rolls back
            return
        try:
            with _database_errors("committing a unit of work"):
                self._write_audit()
        except BaseException as failure:
            stack.__exit__(type(failure), failure, failure.__traceback__)
            raise
        with _database_errors("committing a unit of work"):
            stack.__exit__(None, None, None)  # commits

    def _write_audit(self) -> None:
        summary = {**self._details, "counts": self._counts, "facts": self._facts}
        text = json.dumps(summary, ensure_ascii=False, sort_keys=True, default=str)
        prev = GENESIS if self._head is None else self._head.hash
        key = self._storage.audit_key
        chain = CHAIN_PLAIN if key is None else CHAIN_KEYED
        digest = entry_hash(
            chain, key, prev, self.id, self.actor, self.recorded_at, self._operation, text
        )
        p = self._sql.p
        self._conn.exec_driver_sql(
            "INSERT INTO audit (id, actor, recorded_at, operation, summary, prev_hash, hash, "
            f"chain) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})",
            (
                self.id,
                self.actor,
                self._sql.timestamp(self.recorded_at),
                self._operation,
                text,
                prev,
                digest,
                chain,
            ),
        )
        for table in ANCHORED_TABLES:
            # the rows this unit of work made record its entry: an index lookup each (rows
            # left by deleted entries of the same number keep the hash they recorded)
            self._conn.exec_driver_sql(
                f"UPDATE {table} SET audit_hash = {p} WHERE uow_id = {p} AND audit_hash IS NULL",
                (digest, self.id),
            )

    def audit(self, operation: str | None = None, **details: Any) -> None:
        """Describe this unit of work in its audit entry, written when it commits.

        Args:
            operation: what is done, e.g. ``import``; replaces the one given at the start.
            **details: JSON-able details added to the entry's summary.
        """
        if operation is not None:
            self._operation = operation
        self._details.update(details)

    def _ids(self, table: str, column: str, n: int) -> int:
        """Reserve `n` consecutive ids of a table; returns the first."""
        if table not in self._next_ids:
            row = self._conn.exec_driver_sql(f"SELECT MAX({column}) FROM {_q(table)}").first()
            self._next_ids[table] = (int(row[0]) if row and row[0] is not None else 0) + 1
        first = self._next_ids[table]
        self._next_ids[table] = first + n
        return first

    def _require_open(self) -> None:
        if self._context is None:
            raise StorageError("the unit of work is not open: use it in a `with` block")

    # -- register rows ----------------------------------------------------------------

    def upsert_rows(
        self, kind: str, columns: Sequence[str], rows: Iterable[Sequence[str]]
    ) -> UpsertSummary:
        """Store register rows: insert new records, supersede changed ones, skip the same.

        Args:
            kind: the record kind, e.g. ``persons``.
            columns: the columns of `rows`: every key column, in any order; a column left
                out is empty for a new record and keeps its stored value otherwise.
            rows: normalised text cells (``""`` for empty), one natural key at most once.

        Returns:
            The counts and the natural keys inserted or updated.

        Raises:
            StorageError: an unknown kind or column, a repeated key, or a database failure.
        """
        self._require_open()
        record = _record_kind(kind)
        columns = tuple(columns)
        unknown = [c for c in columns if c not in record.columns]
        if unknown or len(set(columns)) != len(columns):
            raise StorageError(
                f"{kind}: columns {list(columns)} must be distinct columns of "
                f"{list(record.columns)}" + (f"; unknown: {unknown}" if unknown else "")
            )
        missing_key = [c for c in record.key if c not in columns]
        if missing_key:
            raise StorageError(f"{kind}: the key column(s) {missing_key} are missing")
        with _database_errors(f"storing {kind}"):
            return self._upsert(record, columns, rows)

    def _upsert(
        self, record: RecordKind, columns: tuple[str, ...], rows: Iterable[Sequence[str]]
    ) -> UpsertSummary:
        conn, sql, p = self._conn, self._sql, self._sql.p
        name = record.name
        complete = columns == record.columns
        provided = [c in columns for c in record.columns]
        positions = [columns.index(c) if c in columns else -1 for c in record.columns]
        key_pos = [record.columns.index(c) for c in record.key]
        single_key = len(key_pos) == 1
        k0 = key_pos[0]
        empty_at_start = conn.exec_driver_sql(f"SELECT 1 FROM {_q(name)} LIMIT 1").first() is None
        rebuild: list[sa.Index] = []
        foreign_keys: list[sa.ForeignKeyConstraint] = []
        seen: set[object] = set()
        touched: list[tuple[str, ...]] = []
        inserted = updated = unchanged = 0
        iterator = iter(rows)
        first = True
        while True:
            chunk: list[Sequence[str]] = list(itertools.islice(iterator, CHUNK_ROWS))
            if not chunk:
                break
            if not complete:
                chunk = [tuple(r[i] if i >= 0 else "" for i in positions) for r in chunk]
            if first and empty_at_start and len(chunk) >= FIRST_LOAD_ROWS:
                rebuild = self._drop_indexes(name)
                foreign_keys = self._drop_foreign_keys(name)
            first = False
            keys: list[object] = (
                [r[k0] for r in chunk]
                if single_key
                else [tuple(r[i] for i in key_pos) for r in chunk]
            )
            before = len(seen)
            seen.update(keys)
            if len(seen) - before != len(keys):
                raise StorageError(
                    f"{name}: a natural key {record.key} is given more than "
                    "once in one upsert; give each record once"
                )
            changed: list[tuple[int, tuple[str, ...], tuple[str, ...], object]] = []
            if empty_at_start:
                new_rows = chunk
                new_keys = keys
            else:
                current = self._current_versions(record, keys)
                new_rows, new_keys = [], []
                for key, row in zip(keys, chunk, strict=True):
                    stored = current.get(key)
                    if stored is None:
                        new_rows.append(row)
                        new_keys.append(key)
                        continue
                    version_id, old = stored
                    if not complete:
                        row = tuple(
                            v if given else o
                            for v, o, given in zip(row, old, provided, strict=True)
                        )
                    if tuple(row) == old:
                        unchanged += 1
                    else:
                        changed.append((version_id, old, tuple(row), key))
            inserted += len(new_rows)
            updated += len(changed)
            done = new_keys + [c[3] for c in changed]
            touched.extend(
                cast(list[tuple[str, ...]], [(k,) for k in done] if single_key else done)
            )
            n = len(new_rows) + len(changed)
            if not n:
                continue
            fact_base = self._ids("facts", "fact_id", n)
            version_base = self._ids(name, "version_id", n)
            facts = _new_fact_columns(record, _column_of(new_rows), len(new_rows))
            if changed:
                corrections = [self._correction_fact(record, o, c) for _v, o, c, _k in changed]
                facts = [
                    [*f, *x] for f, x in zip(facts, zip(*corrections, strict=True), strict=True)
                ]
                conn.exec_driver_sql(
                    f"UPDATE {_q(name)} SET superseded_at = {p} WHERE version_id = {p}",
                    [(sql.timestamp(self.recorded_at), c[0]) for c in changed],
                )
            all_rows = new_rows if not changed else [*new_rows, *(c[2] for c in changed)]
            self._insert_facts(record, range(fact_base, fact_base + n), facts)
            self._insert_versions(
                record,
                range(version_base, version_base + n),
                range(fact_base, fact_base + n),
                all_rows,
            )
            self._facts += n
        if rebuild:
            self._create_indexes(rebuild)
        if foreign_keys:
            self._restore_foreign_keys(name, foreign_keys)
        counts = self._counts.setdefault(name, {"inserted": 0, "updated": 0, "unchanged": 0})
        counts["inserted"] += inserted
        counts["updated"] += updated
        counts["unchanged"] += unchanged
        return UpsertSummary(
            kind=name,
            inserted=inserted,
            updated=updated,
            unchanged=unchanged,
            touched=tuple(touched),
        )

    def _correction_fact(
        self, record: RecordKind, old: tuple[str, ...], new: tuple[str, ...]
    ) -> _Fact:
        names = record.columns
        changed = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
        payload = json.dumps(
            {
                "before": {names[i]: old[i] for i in changed},
                "after": {names[i]: new[i] for i in changed},
            },
            ensure_ascii=False,
            sort_keys=True,
        )
        kind = f"{record.noun}_corrected"
        valid = ""
        ending = _ENDINGS.get(record.name)
        if ending is not None:
            pos = names.index(ending[0])
            if old[pos] == "" and new[pos] != "":
                kind, valid = ending[1], new[pos]
        return (kind, new[names.index(record.subject)], valid, payload)

    def _current_versions(
        self, record: RecordKind, keys: Sequence[object]
    ) -> dict[object, tuple[int, tuple[str, ...]]]:
        sql, p = self._sql, self._sql.p
        cols = ", ".join(f"COALESCE(CAST({_q(c)} AS TEXT), '')" for c in record.columns)
        key_pos = [record.columns.index(c) for c in record.key]
        params: list[object]
        if not sql.sqlite:
            # PostgreSQL: one array parameter per key column, not one placeholder per value
            if len(record.key) == 1:
                where = f"{_q(record.key[0])} = ANY({p})"
                params = [list(keys)]
            else:
                arrays = ", ".join(
                    f"CAST({p} AS {'date' if c in record.dates else 'text'}[])" for c in record.key
                )
                where = (
                    f"({', '.join(_q(c) for c in record.key)}) IN (SELECT * FROM unnest({arrays}))"
                )
                params = [[k[i] for k in keys] for i in range(len(record.key))]  # type: ignore[index]
        elif len(record.key) == 1:
            marks = ", ".join([p] * len(keys))
            where = f"{_q(record.key[0])} IN ({marks})"
            params = list(keys)
        else:
            one = ", ".join(p for _c in record.key)
            where = (
                f"({', '.join(_q(c) for c in record.key)}) IN "
                f"(VALUES {', '.join([f'({one})'] * len(keys))})"
            )
            params = [v for k in keys for v in k]  # type: ignore[attr-defined]
        result = self._conn.exec_driver_sql(
            f"SELECT version_id, {cols} FROM {_q(record.name)} "
            f"WHERE superseded_at IS NULL AND {where}",
            tuple(params),
        )
        found: dict[object, tuple[int, tuple[str, ...]]] = {}
        for row in result.all():
            values = tuple(row[1:])
            key: object = (
                values[key_pos[0]] if len(key_pos) == 1 else tuple(values[i] for i in key_pos)
            )
            found[key] = (int(row[0]), values)
        return found

    def _insert_facts(
        self, record: RecordKind, fact_ids: Sequence[int], facts: Sequence[Sequence[str]]
    ) -> None:
        """Write facts given column by column: kind, subject_id, valid_date, payload."""
        conn, sql = self._conn, self._sql
        if sql.sqlite:
            p = sql.p
            conn.exec_driver_sql(
                "INSERT INTO facts (fact_id, uow_id, record_kind, kind, subject_id, valid_date, "
                f"payload) VALUES ({p}, {self.id}, '{record.name}', {p}, NULLIF({p}, ''), "
                f"NULLIF({p}, ''), NULLIF({p}, ''))",
                list(zip(fact_ids, *facts, strict=True)),
            )
            return
        self._copy(
            "COPY facts (fact_id, kind, subject_id, valid_date, payload, uow_id, record_kind) "
            "FROM STDIN (FORMAT text, NULL '')",
            _copy_blocks(
                "{}\t{}\t{}\t{}\t{}\t" + _copy_constant(f"{self.id}\t{record.name}") + "\n",
                [fact_ids, *facts],
                range(1, 5),
            ),
        )

    def _insert_versions(
        self,
        record: RecordKind,
        version_ids: Sequence[int],
        fact_ids: Sequence[int],
        rows: Sequence[Sequence[str]],
    ) -> None:
        """Write version rows (SQLite: as they are; PostgreSQL: see `_copy_versions`)."""
        conn, sql = self._conn, self._sql
        if not sql.sqlite:
            self._copy_versions(record, version_ids, fact_ids, list(zip(*rows, strict=True)))
            return
        names = ", ".join(_q(c) for c in record.columns)
        p = sql.p
        ts = sql.timestamp(self.recorded_at)
        marks = ", ".join([f"NULLIF({p}, '')"] * len(record.columns))
        conn.exec_driver_sql(
            f"INSERT INTO {_q(record.name)} (version_id, recorded_at, fact_id, {names}) "
            f"VALUES ({p}, '{ts}', {p}, {marks})",
            [(v, f, *r) for v, f, r in zip(version_ids, fact_ids, rows, strict=True)],
        )

    def _copy_versions(
        self,
        record: RecordKind,
        version_ids: Sequence[int],
        fact_ids: Sequence[int],
        columns: Sequence[Sequence[str]],
    ) -> None:
        """Write version rows given column by column (spec order) with COPY (PostgreSQL)."""
        with self._copy_stream(self._versions_copy(record)) as send:
            send(self._version_blocks(record, version_ids, fact_ids, columns))

    def _versions_copy(self, record: RecordKind) -> str:
        names = ", ".join(_q(c) for c in record.columns)
        return (
            f"COPY {_q(record.name)} (version_id, fact_id, recorded_at, {names}) "
            "FROM STDIN (FORMAT text, NULL '')"
        )

    def _version_blocks(
        self,
        record: RecordKind,
        version_ids: Sequence[int],
        fact_ids: Sequence[int],
        columns: Sequence[Sequence[str]],
    ) -> Iterator[str]:
        """COPY text of version rows, for `_versions_copy`."""
        ts = _copy_constant(self.recorded_at.isoformat(sep=" "))
        return _copy_blocks(
            "{}\t{}\t" + ts + "\t{}" * len(record.columns) + "\n",
            [version_ids, fact_ids, *columns],
            range(2, 2 + len(record.columns)),
        )

    def _copy(self, statement: str, blocks: Iterable[str]) -> None:
        """Send blocks of COPY text (see `_copy_blocks`) to PostgreSQL."""
        with self._copy_stream(statement) as send:
            send(blocks)

    @contextlib.contextmanager
    def _copy_stream(self, statement: str) -> Iterator[Callable[[Iterable[str]], None]]:
        """Open a COPY; yields a function that sends blocks of its text, as often as needed.

        The blocks are handed to a writer thread of the driver's, so that the next ones are
        made while these travel and the server reads them.
        """
        from psycopg.copy import QueuedLibpqWriter  # the PostgreSQL driver: an extra

        driver = self._conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor:
            writer = QueuedLibpqWriter(cursor)
            with cursor.copy(statement, writer=writer) as copy:

                def send(blocks: Iterable[str]) -> None:
                    for block in blocks:
                        copy.write(block)

                yield send

    def first_load(self) -> FirstLoad | None:
        """Start storing a whole register into an empty one while it is still being checked.

        Only on PostgreSQL (a server beside this process, with its own processor to do the
        storing on), only when every register table is empty. The rows go to the database
        as they are sent, in this unit of work; see `FirstLoad`.

        Returns:
            The load, or None where it does not apply: then use `upsert_rows`.
        """
        self._require_open()
        if self._sql.sqlite:
            return None
        with _database_errors("starting a first load"):
            for name in RECORD_KINDS:
                if self._conn.exec_driver_sql(f"SELECT 1 FROM {_q(name)} LIMIT 1").first():
                    return None
            return FirstLoad(self)

    def _drop_indexes(self, table_name: str) -> list[sa.Index]:
        table = REGISTER_TABLES[table_name]
        indexes = sorted(table.indexes, key=lambda i: str(i.name))
        for index in indexes:
            self._conn.exec_driver_sql(f"DROP INDEX {_q(str(index.name))}")
        return indexes

    def _create_indexes(self, indexes: list[sa.Index]) -> None:
        for index in indexes:
            index.create(self._conn)

    def _drop_foreign_keys(self, table_name: str) -> list[sa.ForeignKeyConstraint]:
        """On PostgreSQL, drop a table's foreign keys for a first load (checked once after).

        A per-row foreign-key trigger cost more than the COPY itself at a million rows;
        `_restore_foreign_keys` checks every row in one statement instead. SQLite keeps
        its foreign keys: it cannot drop them, and its check is cheap.
        """
        if is_sqlite(self._conn):
            return []
        self._conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
        table = REGISTER_TABLES[table_name]
        preparer = self._conn.dialect.identifier_preparer
        keys = sorted(table.foreign_key_constraints, key=lambda fk: str(fk.name))
        for fk in keys:
            self._conn.exec_driver_sql(
                f"ALTER TABLE {preparer.format_table(table)} "
                f"DROP CONSTRAINT {preparer.format_constraint(fk)}"
            )
        return keys

    def _restore_foreign_keys(self, table_name: str, keys: list[sa.ForeignKeyConstraint]) -> None:
        """Add the foreign keys back without checking, then check all rows at once."""
        table = REGISTER_TABLES[table_name]
        preparer = self._conn.dialect.identifier_preparer
        for fk in keys:
            name = preparer.format_constraint(fk)
            columns = ", ".join(preparer.quote(c) for c in fk.column_keys)
            referred = fk.elements[0].column.table
            referred_columns = ", ".join(preparer.quote(e.column.name) for e in fk.elements)
            target = preparer.format_table(table)
            self._conn.exec_driver_sql(
                f"ALTER TABLE {target} ADD CONSTRAINT {name} FOREIGN KEY ({columns}) "
                f"REFERENCES {preparer.format_table(referred)} ({referred_columns}) NOT VALID"
            )
            self._conn.exec_driver_sql(f"ALTER TABLE {target} VALIDATE CONSTRAINT {name}")

    # -- quarantine and imports --------------------------------------------------------

    def record_quarantine(
        self, rows: Iterable[QuarantinedRow], *, import_id: int | None = None
    ) -> list[int]:
        """Keep bad rows in quarantine.

        Args:
            rows: the rows with their problems.
            import_id: the import that found them.

        Returns:
            The new entries' ids.
        """
        self._require_open()
        items = list(rows)
        if not items:
            return []
        first = self._ids("quarantine", "id", len(items))
        p = self._sql.p
        ts = self._sql.timestamp(self.recorded_at)
        params = [
            (
                first + i,
                import_id,
                self.id,
                r.file,
                r.line,
                r.kind,
                json.dumps(dict(r.raw), ensure_ascii=False, sort_keys=True),
                json.dumps(
                    [{"path": x.path, "value": x.value, "message": x.message} for x in r.problems],
                    ensure_ascii=False,
                ),
                ts,
            )
            for i, r in enumerate(items)
        ]
        with _database_errors("quarantining rows"):
            self._conn.exec_driver_sql(
                "INSERT INTO quarantine (id, import_id, uow_id, file, line, kind, raw, problems, "
                f"status, recorded_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, 'open', "
                f"{p})",
                params,
            )
        counts = self._counts.setdefault("quarantine", {})
        counts["recorded"] = counts.get("recorded", 0) + len(items)
        return [first + i for i in range(len(items))]

    def _close_quarantine(self, ids: Iterable[int], status: str) -> int:
        self._require_open()
        wanted = sorted(set(ids))
        if not wanted:
            return 0
        p = self._sql.p
        closed = 0
        with _database_errors(f"marking quarantine entries {status}"):
            for start in range(0, len(wanted), 5000):
                chunk = wanted[start : start + 5000]
                marks = ", ".join([p] * len(chunk))
                found = {
                    int(r[0])
                    for r in self._conn.exec_driver_sql(
                        f"SELECT id FROM quarantine WHERE id IN ({marks})", tuple(chunk)
                    )
                }
                missing = [i for i in chunk if i not in found]
                if missing:
                    raise RecordNotFoundError(f"quarantine entries {missing}: no such entry")
                result = self._conn.exec_driver_sql(
                    f"UPDATE quarantine SET status = {p}, closed_at = {p}, closed_by = {p} "
                    f"WHERE status = 'open' AND id IN ({marks})",
                    (status, self._sql.timestamp(self.recorded_at), self.actor, *chunk),
                )
                closed += result.rowcount
        counts = self._counts.setdefault("quarantine", {})
        counts[status] = counts.get(status, 0) + closed
        return closed

    def discard_quarantine(self, ids: Iterable[int]) -> int:
        """Mark open quarantine entries discarded by the actor.

        Args:
            ids: entry ids.

        Returns:
            How many open entries were discarded.

        Raises:
            RecordNotFoundError: an id names no entry.
        """
        return self._close_quarantine(ids, "discarded")

    def resolve_quarantine(self, ids: Iterable[int]) -> int:
        """Mark open quarantine entries resolved (fixed and re-imported).

        Args:
            ids: entry ids.

        Returns:
            How many open entries were resolved.

        Raises:
            RecordNotFoundError: an id names no entry.
        """
        return self._close_quarantine(ids, "resolved")

    def record_import(self, sources: Sequence[SourceFile], summary: Mapping[str, Any]) -> int:
        """Record that a register was imported from these files.

        Args:
            sources: the files with their SHA-256 sums.
            summary: what the import did (JSON-able).

        Returns:
            The import's id.
        """
        self._require_open()
        import_id = self._ids("imports", "id", 1)
        p = self._sql.p
        with _database_errors("recording an import"):
            self._conn.exec_driver_sql(
                "INSERT INTO imports (id, uow_id, recorded_at, actor, source_digest, sources, "
                f"summary) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})",
                (
                    import_id,
                    self.id,
                    self._sql.timestamp(self.recorded_at),
                    self.actor,
                    source_digest(sources),
                    json.dumps([[s.name, s.sha256] for s in sources], ensure_ascii=False),
                    json.dumps(dict(summary), ensure_ascii=False, sort_keys=True, default=str),
                ),
            )
        self._details.setdefault("imports", []).append(import_id)
        return import_id


_SENT_AHEAD = 96
"""How many chunks a `FirstLoad` holds waiting for the database before `send` waits."""

_SWITCH_INTERVAL = 0.0005
"""Seconds between thread switches while a `FirstLoad` is sending rows."""

_Chunk = tuple[RecordKind, int, Sequence[Sequence[str]], frozenset[int]]


class FirstLoad:
    """A whole register stored into an empty one while its files are still being checked.

    Checking a register folder takes about as long as storing it; a first load (every
    register table empty, PostgreSQL) does both at once. The reader sends each chunk of
    rows as soon as the rows' own checks are done; a thread streams them to the database
    (one COPY per file) while the checks go on, the server working on its own processor,
    and when a file is done has the database write its facts. The checks across rows and
    files come last and may set more rows aside: `finish` takes those out again (with
    their facts), builds the indexes and checks the foreign keys, once per table.
    Everything is in the unit of work's transaction, so an import that fails stores
    nothing.

    Meanwhile the interpreter switches between threads every 0.5 ms instead of 5 ms, so
    that the writing thread gets its turn as soon as the server has taken a block (it is
    set back when the load is finished or abandoned).

    Row ``i`` of a kind (counted from 0 in file order, bad rows included) is stored as
    version ``i + 1`` of its table: a row is found again by its number alone.
    """

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow
        self._stored: dict[str, int] = {}
        self._held_back: dict[str, set[int]] = {}
        self._next_fact = uow._ids("facts", "fact_id", 0)
        self._indexes = {name: uow._drop_indexes(name) for name in RECORD_KINDS}
        self._foreign_keys = {name: uow._drop_foreign_keys(name) for name in RECORD_KINDS}
        self._queue: queue.Queue[_Chunk | None] = queue.Queue(maxsize=_SENT_AHEAD)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="famplan-first-load", daemon=True)
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, _SWITCH_INTERVAL))
        self._thread.start()

    def send(
        self, kind: str, first: int, columns: Sequence[Sequence[str]], held_back: Iterable[int]
    ) -> None:
        """Send a chunk of rows to be stored; it waits while the database is behind.

        Args:
            kind: the record kind.
            first: the number of the chunk's first row (rows are numbered from 0 in file
                order, bad rows included; a kind's chunks come in order).
            columns: the chunk's cells, column by column in spec order; not changed after.
            held_back: the numbers of the chunk's rows not to store (found bad already).

        Raises:
            StorageError: storing an earlier chunk failed, or the kind is unknown.
        """
        held = frozenset(held_back)
        self._held_back.setdefault(kind, set()).update(held)
        self._put((_record_kind(kind), first, columns, held))

    def finish(self, set_aside: Mapping[str, Iterable[int]]) -> dict[str, int]:
        """Wait for the rows sent, take out those set aside since, build indexes, check keys.

        Args:
            set_aside: for each kind, the numbers of every row found bad in the end.

        Returns:
            How many rows of each kind are stored.

        Raises:
            StorageError: the database failed, or a table's unique key is broken (two rows
                with one natural key that the checks let through).
        """
        self._stop()
        uow, conn = self._uow, self._uow._conn
        with _database_errors("finishing the first load"):
            for kind, held in self._held_back.items():
                late = sorted(i + 1 for i in set(set_aside.get(kind, ())) - held)
                if not late:
                    continue
                facts = conn.exec_driver_sql(
                    f"DELETE FROM {_q(kind)} WHERE version_id = ANY(%s) RETURNING fact_id",
                    (late,),
                ).all()
                conn.exec_driver_sql(
                    "DELETE FROM facts WHERE fact_id = ANY(%s)", ([f[0] for f in facts],)
                )
                self._stored[kind] -= len(facts)
            for indexes in self._indexes.values():
                uow._create_indexes(indexes)
            # Each check probes the journal's primary key row by row: hashing the whole
            # journal again for each table took twice as long.
            conn.exec_driver_sql("SET LOCAL enable_hashjoin = off")
            for name, keys in self._foreign_keys.items():
                uow._restore_foreign_keys(name, keys)
            conn.exec_driver_sql("SET LOCAL enable_hashjoin = on")
        for name in RECORD_KINDS:
            uow._next_ids.pop(name, None)
        uow._next_ids["facts"] = self._next_fact
        for kind, n in self._stored.items():
            counts = uow._counts.setdefault(kind, {"inserted": 0, "updated": 0, "unchanged": 0})
            counts["inserted"] += n
            uow._facts += n
        return dict(self._stored)

    def abandon(self) -> None:
        """Stop storing (the unit of work is about to roll back); a failure is dropped."""
        with contextlib.suppress(Exception):
            self._stop()

    def _put(self, item: _Chunk | None) -> None:
        while True:
            if self._failure is not None or not self._thread.is_alive():
                self._thread.join()
                self._raise_failure()
                if item is None:
                    return
                raise StorageError("the first load has stopped; nothing more can be stored")
            try:
                self._queue.put(item, timeout=0.2)
            except queue.Full:
                continue
            return

    def _stop(self) -> None:
        try:
            self._put(None)
            self._thread.join()
        finally:
            sys.setswitchinterval(self._switch_interval)
        self._raise_failure()

    def _raise_failure(self) -> None:
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    def _work(self) -> None:
        try:
            with _database_errors("storing the register"):
                item = self._queue.get()
                while item is not None:
                    record, from_fact = item[0], self._next_fact
                    # one COPY for each file: the reader goes file by file
                    with self._uow._copy_stream(self._uow._versions_copy(record)) as send:
                        while item is not None and item[0].name == record.name:
                            self._store(send, *item)
                            item = self._queue.get()
                    self._journal(record, from_fact)
        except BaseException as failure:  # raised again in the sending thread
            self._failure = failure

    def _journal(self, record: RecordKind, from_fact: int) -> None:
        """Journal the rows just streamed (fact ids from `from_fact` on), while the next
        file is being read.

        The facts are made from the stored versions by the database (a new record's fact
        holds nothing its version does not), which leaves this process more time for the
        checks. The indexes wait for `finish`: two rows with one key are both stored until
        the checks across rows set them aside, and the server builds indexes fastest when
        it has every processor to itself.
        """
        uow = self._uow
        uow._conn.exec_driver_sql(_new_facts_sql(record, uow.id, from_fact))

    def _store(
        self,
        send: Callable[[Iterable[str]], None],
        record: RecordKind,
        first: int,
        columns: Sequence[Sequence[str]],
        held: frozenset[int],
    ) -> None:
        n = len(columns[0])
        versions: Sequence[int] = range(first + 1, first + 1 + n)
        if held:
            keep = [first + j not in held for j in range(n)]
            columns = [list(itertools.compress(c, keep)) for c in columns]
            versions = list(itertools.compress(versions, keep))
            n = len(versions)
        if not n:
            return
        facts = range(self._next_fact, self._next_fact + n)
        self._next_fact += n
        send(self._uow._version_blocks(record, versions, facts, columns))
        self._stored[record.name] = self._stored.get(record.name, 0) + n


class SqlStorage:
    """The register in a SQL database: a SQLite file or PostgreSQL (psycopg 3).

    Args:
        url: ``sqlite:///famplan.db`` or ``postgresql+psycopg://user@host/db``.
        migrate: bring the schema to the newest revision first (Alembic); otherwise a
            schema that is not at the newest revision is refused.
        audit_key: the deployment's audit key: audit entries are then sealed with
            HMAC-SHA256 (see `famplan_core.storage.audit`). Without it they are sealed with
            an unkeyed SHA-256, and an audit already keyed can be neither written nor fully
            verified. A `Township` passes the key its ``famplan.toml`` names.
        **engine_options: passed on to `sqlalchemy.create_engine`.

    Raises:
        ConfigurationError: the URL names no supported database.
        StorageError: the schema is not at the newest revision (run ``famplan db upgrade``).
    """

    PLUGIN_NAME = "sql"

    def __init__(
        self,
        url: str | sa.URL,
        *,
        migrate: bool = False,
        audit_key: AuditKey | None = None,
        **engine_options: Any,
    ) -> None:
        from famplan_core.storage import migrations

        self.audit_key = audit_key
        self.engine = create_engine(url, **engine_options)
        self.url = self.engine.url.render_as_string(hide_password=True)
        try:
            if migrate:
                migrations.upgrade_engine(self.engine)
            else:
                found, wanted = migrations.current_revision(self.engine), migrations.head()
                if found != wanted:
                    raise StorageError(
                        f"the database {self.url} is at schema revision {found or 'none'}, "
                        f"expected {wanted}: run 'famplan db upgrade'"
                    )
        except BaseException:
            self.engine.dispose()
            raise

    def __repr__(self) -> str:
        return f"SqlStorage({self.url!r})"

    def unit_of_work(
        self, *, actor: str, recorded_at: dt.datetime, operation: str = "write"
    ) -> SqlUnitOfWork:
        """Open a unit of work: one transaction and one audit entry.

        Args:
            actor: who acts (staff member or system).
            recorded_at: the record time (the core never reads the clock).
            operation: what is done, for the audit, e.g. ``import``.

        Raises:
            StorageError: `recorded_at` is before the latest unit of work's (on entering).
            AuditChainError: the audit is broken at its head (on entering): nothing is
                written until an officer accepts the break (`accept_audit_break`).
            ConfigurationError: the audit is keyed and the storage has no key (on entering).
        """
        return SqlUnitOfWork(self, actor=actor, recorded_at=recorded_at, operation=operation)

    @contextlib.contextmanager
    def reader(self) -> Iterator[SqlReader]:
        """Open a read-only snapshot of the register (one transaction)."""
        with _database_errors("opening a snapshot"), self.engine.connect() as conn:
            if not is_sqlite(conn):
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield SqlReader(self, conn)

    def facts_frame(
        self, d: dt.date, division: str, known_at: dt.datetime | None = None
    ) -> FactsFrame:
        """The facts frame of every stored person for date `d` (R0.1-R0.6, R0.10).

        Args:
            d: the evaluation date.
            division: the deployment's division code (prefix of the 12-digit codes).
            known_at: use only what was recorded by then; None for the current versions.
        """
        from famplan_core.storage.frame import build_facts_frame

        return build_facts_frame(self, d, division, known_at)

    def open_audit_key(self, path: Path) -> bool:
        """Seal this storage's audit entries with the key in `path`, made there if missing.

        A missing key file is made (owner-only, 0600) only while the audit holds no keyed
        entry: its ``keyed_from`` is then the next entry, so every entry written from now on
        is keyed and the plain entries before stay verifiable as they are. A keyed audit
        whose key file is missing is refused: a new key could not verify it.

        Args:
            path: the key file (``[audit] key_file`` in `famplan.toml`).

        Returns:
            Whether the key file was made now.

        Raises:
            ConfigurationError: the key file is missing and the audit is keyed, or it is
                not a key file.
        """
        try:
            self.audit_key = read_key_file(path)
            return False
        except FileNotFoundError:
            pass
        with self.reader() as reader:
            keyed = reader._all(f"SELECT MIN(id) FROM audit WHERE chain = {CHAIN_KEYED}")
            newest = reader._all("SELECT MAX(id) FROM audit")
        if keyed and keyed[0][0] is not None:
            raise ConfigurationError(
                f"the audit key file {path} is missing, but the audit of {self.url} is keyed "
                f"from entry {keyed[0][0]} on: restore the key file from its backup (or name "
                "it with [audit] key_file in famplan.toml); a new key cannot verify the audit"
            )
        head = int(newest[0][0]) if newest and newest[0][0] is not None else 0
        key = AuditKey.generate(keyed_from=head + 1)
        try:
            create_key_file(path, key)
        except FileExistsError:  # made meanwhile by another process
            self.audit_key = read_key_file(path)
            return False
        self.audit_key = key
        return True

    def audit_head(self) -> tuple[int, str] | None:
        """The newest audit entry's id and hash (None for an empty audit)."""
        with self.reader() as reader:
            row = reader._all("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")
        return (int(row[0][0]), str(row[0][1])) if row else None

    def audit_report(self, anchors: Iterable[tuple[int, str]] = ()) -> AuditReport:
        """Check the whole audit chain and every anchor, and say what was found.

        Every entry is checked against the one before it and its own hash (MAC, with the
        key); every payment roll and notice against the audit entry it recorded; and each
        of `anchors` (an entry id and hash from a roll or report someone holds).

        Args:
            anchors: further ``(entry id, hash)`` pairs that the audit must still hold.

        Raises:
            ConfigurationError: the audit is keyed and the storage has no key.
        """
        with self.reader() as reader:
            entries = [
                _stored_entry(r)
                for r in reader._all(f"SELECT {_ENTRY_COLUMNS} FROM audit ORDER BY id")
            ]
            found: list[Anchor] = []
            for table, key_column in ANCHORED_TABLES.items():
                what = "payment roll" if table == "payment_rolls" else "notice"
                for row_id, uow_id, digest, month in reader._all(
                    f"SELECT {key_column}, uow_id, audit_hash, month FROM {table} "
                    f"WHERE audit_hash IS NOT NULL ORDER BY {key_column}"
                ):
                    month_text = _text(month)[:7]
                    found.append(
                        Anchor(
                            table=table,
                            row_id=int(row_id),
                            entry=int(uow_id),
                            hash=str(digest),
                            label=f"{what} {row_id} ({month_text})",
                        )
                    )
            recorded = {}
            for table in _UOW_TABLES:
                newest = reader._all(f"SELECT MAX(uow_id) FROM {_q(table)}")
                if newest and newest[0][0] is not None:
                    recorded[table] = int(newest[0][0])
        if self.audit_key is None:
            keyed = next((e for e in entries if e.chain == CHAIN_KEYED), None)
            if keyed is not None:
                raise _key_missing(keyed)
        given = [
            Anchor(
                table="anchor",
                row_id=n,
                entry=int(entry),
                hash=str(digest),
                label=f"the anchor {entry}:{digest} given",
            )
            for n, (entry, digest) in enumerate(anchors, start=1)
        ]
        return verify_chain(entries, [*found, *given], self.audit_key, recorded)

    def verify_audit(self, anchors: Iterable[tuple[int, str]] = ()) -> int:
        """Check the audit's chain and anchors (see `audit_report`).

        Args:
            anchors: further ``(entry id, hash)`` pairs that the audit must still hold.

        Returns:
            The number of entries checked.

        Raises:
            AuditChainError: an entry was changed, removed or inserted, the chain was
                computed again without the key, or a roll or notice finds its entry gone;
                the error names the first bad entry.
            ConfigurationError: the audit is keyed and the storage has no key.
        """
        report = self.audit_report(anchors)
        if report.problem is not None:
            raise AuditChainError(report.problem)
        return report.checked

    def accept_audit_break(
        self, *, actor: str, recorded_at: dt.datetime, reason: str
    ) -> AuditReport:
        """Accept a broken audit and go on writing: an audited override.

        Writes one entry (operation ``audit-accept-break``) chained to the audit as it now
        stands, recording the first bad entry, the broken anchors, what is wrong and the
        reason. Later verifications report the break as accepted and check everything
        from that entry on; writes are allowed again.

        Args:
            actor: who accepts it.
            recorded_at: the record time.
            reason: why the office goes on (required: what happened, who was told).

        Returns:
            The verification that found the break (before the accepting entry).

        Raises:
            ValidationError: the reason is empty.
            StorageError: the audit is intact: there is nothing to accept.
            ConfigurationError: the audit is keyed and the storage has no key.
        """
        from famplan_core.errors import ValidationError

        if not reason.strip():
            raise ValidationError.single(
                "--reason", reason, "say why the office goes on over a broken audit"
            )
        report = self.audit_report()
        if report.ok:
            raise StorageError(
                f"the audit is intact ({report.checked} entries checked): there is no break "
                "to accept"
            )
        head = report.head[0] if report.head is not None else 0
        first_bad = next(
            (p.entry for p in report.problems if p.anchor is None and p.entry <= head), None
        )
        with self.reader() as reader:
            max_uow = max(
                (
                    int(r[0][0])
                    for t in _UOW_TABLES
                    if (r := reader._all(f"SELECT MAX(uow_id) FROM {_q(t)}")) and r[0][0]
                ),
                default=0,
            )
        with SqlUnitOfWork(
            self, actor=actor, recorded_at=recorded_at, operation=ACCEPT_BREAK, over_break=True
        ) as uow:
            uow.audit(
                reason=reason.strip(),
                first_bad=first_bad,
                anchors=[p.anchor for p in report.problems if p.anchor is not None],
                max_uow=max_uow,
                problems=[p.message for p in report.problems],
                head=None if uow.audit_head is None else list(uow.audit_head),
            )
        return report

    def close(self) -> None:
        """Release the storage's connections."""
        self.engine.dispose()
