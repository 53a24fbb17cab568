"""The SQL tables of the register (登记表), its fact journal, the audit, quarantine and imports.

Every register record kind of the register file format (spec v1) is a *versioned* table:
a row is one version of one record, found by the record's natural key. Nothing is
overwritten: a correction supersedes the current version (sets its ``superseded_at``) and
inserts a new one, and the fact that caused it is written to the ``facts`` journal. The
current view is ``superseded_at IS NULL``; the view "as known at T" is
``recorded_at <= T AND (superseded_at IS NULL OR superseded_at > T)``.

Columns of a version row:

* ``version_id``: primary key, assigned by the storage (never by the database, so that bulk
  writes need no RETURNING);
* the spec's columns, typed: dates as ``DATE``, the disability grade as a small integer,
  everything else as text; an empty cell is ``NULL``;
* ``recorded_at``: when the version was recorded (UTC, naive);
* ``superseded_at``: when a later version replaced it, ``NULL`` while current;
* ``fact_id``: the journal entry that created the version (a foreign key: the fact is
  written first).

``facts.uow_id``, ``imports.uow_id`` and ``quarantine.uow_id`` name the audit entry of their
unit of work, which is written last, just before COMMIT, in the same transaction; they are
not declared as foreign keys, because a pending (deferred) check per row makes SQLite search
the child tables on every later insert and keeps PostgreSQL from building indexes in the
transaction. The audit's append-only trigger and its hash chain protect those entries.

Per table, one partial unique index on the natural key over the current versions
(``uq_<table>_current``) and one plain index on the natural key over all versions
(``ix_<table>_key``, for history and "as known at" reads).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import sqlalchemy as sa

from famplan_core.model.register_kinds import REGISTER_COLUMNS

__all__ = [
    "JOURNAL_TABLES",
    "RECORD_KINDS",
    "REGISTER_TABLES",
    "RecordKind",
    "audit",
    "facts",
    "imports",
    "metadata",
    "quarantine",
]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
"""The `MetaData` holding every table of the SQL storage (named constraints, for Alembic)."""

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""Primary keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite."""

TEXT_ID = 200
"""Longest identifier or free text the register format allows (spec: 200 characters)."""


@attrs.frozen(kw_only=True)
class RecordKind:
    """One record kind of the register file format, as the storage keeps it.

    Attributes:
        name: the file and table name, e.g. ``persons``.
        columns: the spec's columns, in the spec's order.
        key: the columns of the natural key (a subset of `columns`, in key order).
        required: the columns the spec requires (NOT NULL), the key among them.
        dates: the columns holding dates.
        integers: the columns holding small integers.
        subject: the column naming the person a fact about this record concerns.
        noun: the word used in fact kinds, e.g. ``person`` gives ``person_registered``.
    """

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    required: frozenset[str]
    dates: frozenset[str] = frozenset()
    integers: frozenset[str] = frozenset()
    subject: str
    noun: str


RECORD_KINDS: Mapping[str, RecordKind] = {
    k.name: k
    for k in (
        RecordKind(
            name="persons",
            columns=REGISTER_COLUMNS["persons"],
            key=("person_id",),
            dates=frozenset({"birth_date", "death_date"}),
            subject="person_id",
            noun="person",
            required=frozenset(
                {"person_id", "name", "sex", "birth_date", "hukou_division", "hukou_type"}
            ),
        ),
        RecordKind(
            name="households",
            columns=REGISTER_COLUMNS["households"],
            key=("household_id",),
            subject="head_person_id",
            noun="household",
            required=frozenset({"household_id", "division"}),
        ),
        RecordKind(
            name="parent_child",
            columns=REGISTER_COLUMNS["parent_child"],
            key=("parent_id", "child_id", "kind"),
            dates=frozenset({"since"}),
            subject="parent_id",
            noun="link",
            required=frozenset({"parent_id", "child_id", "kind"}),
        ),
        RecordKind(
            name="unions",
            columns=REGISTER_COLUMNS["unions"],
            key=("person_a", "person_b", "start"),
            dates=frozenset({"start", "end"}),
            subject="person_a",
            noun="union",
            required=frozenset({"person_a", "person_b", "start"}),
        ),
        RecordKind(
            name="hukou_changes",
            columns=REGISTER_COLUMNS["hukou_changes"],
            key=("person_id", "date"),
            dates=frozenset({"date"}),
            subject="person_id",
            noun="hukou_change",
            required=frozenset({"person_id", "date", "hukou_division", "hukou_type"}),
        ),
        RecordKind(
            name="disabilities",
            columns=REGISTER_COLUMNS["disabilities"],
            key=("person_id", "valid_from"),
            dates=frozenset({"valid_from", "valid_to"}),
            integers=frozenset({"grade"}),
            subject="person_id",
            noun="disability",
            required=frozenset({"person_id", "grade", "valid_from"}),
        ),
        RecordKind(
            name="certificates",
            columns=REGISTER_COLUMNS["certificates"],
            key=("certificate_id", "holder_id"),
            dates=frozenset({"issued_on", "revoked_on"}),
            subject="holder_id",
            noun="certificate",
            required=frozenset({"certificate_id", "kind", "holder_id", "issued_on"}),
        ),
        RecordKind(
            name="enrolments",
            columns=REGISTER_COLUMNS["enrolments"],
            key=("person_id", "program"),
            dates=frozenset({"since"}),
            subject="person_id",
            noun="enrolment",
            required=frozenset({"person_id", "program", "since"}),
        ),
    )
}
"""Every record kind of the register file format, by name, in the spec's order."""

_TEXT_LENGTHS: dict[str, int] = {
    "sex": 2,
    "ethnicity": 2,
    "marital_status": 2,
    "relation_to_head": 2,
    "hukou_type": 8,
    "hukou_division": 12,
    "residence_division": 12,
    "division": 12,
    "citizen_id": 18,
    "kind": 20,
    "end_reason": 20,
    "category": 40,
    "program": 60,
}

_EXTRA_INDEXES: dict[str, tuple[str, ...]] = {
    "parent_child": ("child_id",),
    "unions": ("person_b",),
    "certificates": ("holder_id",),
}


def _column_type(kind: RecordKind, name: str) -> sa.types.TypeEngine[Any]:
    if name in kind.dates:
        return sa.Date()
    if name in kind.integers:
        return sa.SmallInteger()
    return sa.String(_TEXT_LENGTHS.get(name, TEXT_ID))


def _versioned_table(kind: RecordKind) -> sa.Table:
    columns: list[sa.Column[object]] = [
        sa.Column("version_id", Id, primary_key=True, autoincrement=False)
    ]
    columns += [
        sa.Column(name, _column_type(kind, name), nullable=name not in kind.required)
        for name in kind.columns
    ]
    columns += [
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("superseded_at", sa.DateTime(), nullable=True),
        sa.Column(
            "fact_id",
            Id,
            sa.ForeignKey("facts.fact_id"),
            nullable=False,
        ),
    ]
    table = sa.Table(kind.name, metadata, *columns)
    key_columns = [table.c[name] for name in kind.key]
    sa.Index(
        f"uq_{kind.name}_current",
        *key_columns,
        unique=True,
        sqlite_where=table.c.superseded_at.is_(None),
        postgresql_where=table.c.superseded_at.is_(None),
    )
    sa.Index(f"ix_{kind.name}_key", *key_columns)
    for name in _EXTRA_INDEXES.get(kind.name, ()):
        sa.Index(f"ix_{kind.name}_{name}", table.c[name])
    return table


audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=False),
    sa.Column("actor", sa.String(TEXT_ID), nullable=False),
    sa.Column("recorded_at", sa.DateTime(), nullable=False),
    sa.Column("operation", sa.String(100), nullable=False),
    sa.Column("summary", sa.Text(), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("chain", sa.SmallInteger(), nullable=False, server_default=sa.text("1")),
    sa.Index("ix_audit_operation", "operation"),
)
"""One entry per committed unit of work, append-only (a trigger refuses UPDATE and DELETE).

``summary`` is JSON: the operation's details and the counts of what changed. ``hash``
seals ``prev_hash`` and the entry, so that a changed byte breaks the chain: an unkeyed
SHA-256 when ``chain`` is 1, an HMAC-SHA256 with the deployment's audit key when it is 2
(see `famplan_core.storage.audit`).
"""

facts = sa.Table(
    "facts",
    metadata,
    sa.Column("fact_id", Id, primary_key=True, autoincrement=False),
    sa.Column("uow_id", Id, nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("record_kind", sa.String(20), nullable=False),
    sa.Column("subject_id", sa.String(TEXT_ID), nullable=True),
    sa.Column("valid_date", sa.Date(), nullable=True),
    sa.Column("payload", sa.Text(), nullable=True),
)
"""The journal: one fact per change, e.g. ``person_registered`` or ``death_recorded``.

``valid_date`` is when it happened (the birth, the death, the start of a union ...);
the record time and the actor are those of the unit of work (``uow_id`` → ``audit``).
``payload`` is JSON ``{"before": {...}, "after": {...}}`` of the changed fields of a
correction; NULL for a new record, whose values are its version row.
"""

imports = sa.Table(
    "imports",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=False),
    sa.Column("uow_id", Id, nullable=False),
    sa.Column("recorded_at", sa.DateTime(), nullable=False),
    sa.Column("actor", sa.String(TEXT_ID), nullable=False),
    sa.Column("source_digest", sa.String(64), nullable=False, index=True),
    sa.Column("sources", sa.Text(), nullable=False),
    sa.Column("summary", sa.Text(), nullable=False),
)
"""One row per register import: its source files' SHA-256 sums, so re-import is detectable."""

quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=False),
    sa.Column(
        "import_id",
        Id,
        sa.ForeignKey("imports.id"),
        nullable=True,
    ),
    sa.Column("uow_id", Id, nullable=False),
    sa.Column("file", sa.String(TEXT_ID), nullable=False),
    sa.Column("line", sa.Integer(), nullable=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("raw", sa.Text(), nullable=False),
    sa.Column("problems", sa.Text(), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("recorded_at", sa.DateTime(), nullable=False),
    sa.Column("closed_at", sa.DateTime(), nullable=True),
    sa.Column("closed_by", sa.String(TEXT_ID), nullable=True),
    sa.CheckConstraint("status IN ('open', 'discarded', 'resolved')", name="status"),
    sa.Index("ix_quarantine_status", "status"),
)
"""Bad rows kept with every reason found, until resolved or discarded by a person."""

REGISTER_TABLES: Mapping[str, sa.Table] = {
    name: _versioned_table(kind) for name, kind in RECORD_KINDS.items()
}
"""The versioned table of each record kind, by kind name."""

JOURNAL_TABLES: tuple[sa.Table, ...] = (audit, facts, imports, quarantine)
"""The tables besides the register's: the audit, the fact journal, imports and quarantine."""

# The benefit tables share this metadata: one schema, one Alembic history, one check.
from famplan_core.storage import benefit_tables as _benefit_tables  # noqa: E402, F401
from famplan_core.storage import exchange_tables as _exchange_tables  # noqa: E402, F401
from famplan_core.storage import notice_tables as _notice_tables  # noqa: E402, F401
